#!/usr/bin/env bash
# Installs what AttentionHub needs on a fresh Debian 12 machine: Debian packages through apt
# (only those missing) and the npm packages of tests/ and web/. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libssl-dev
  libsqlite3-dev libgit2-dev libarchive-dev libcpp-httplib-dev libpugixml-dev
  libgtest-dev libgmock-dev
  bubblewrap wrk curl
  chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Tools that may come from elsewhere (Node.js from NodeSource bundles npm, which conflicts with
# Debian's npm package): ask apt only when the command itself is missing.
[ -x /usr/bin/python3 ] || missing+=(python3)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# JavaScript packages, each pinned by its package-lock.json: ajv for the schema conformance test,
# playwright-core for the browser tests (driving Debian's chromium above), and the charting
# library that the hub embeds into its pages (web/).
for dir in tests/schema tests/web web; do
  if [ -f "$dir/package-lock.json" ] && { [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; }; then
    echo "install-deps: npm ci in $dir" >&2
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    touch "$dir/node_modules"
  fi
done
