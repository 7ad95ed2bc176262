#!/usr/bin/env bash
# Durable ingestion of small packages: for each way of sending (one keep-alive connection, then
# CLIENTS at once) starts a fresh `ahub serve --no-seed` on a free loopback port with an author
# token, and lets hub-bench-ingest POST PACKAGES small declared-only packages to it (no
# experiments, so no verification job), checking that every answer is a 201 and every package
# reads back. Then once more with claims whose metrics are shared between packages, so the hub
# compares them for tensions on every submission. Prints packages/s, latency percentiles and the
# 1-minute load average at the start of each run. Last, sequentially into a hub that already holds
# 100,000 packages (written by hub-bench-fill, when it is built). Builds nothing.
#
# The per-token rate limit (`ahub serve --rate`, default 20 requests/s, burst 60) is raised for
# these runs: it is a policy against one token flooding the hub, and at its default it alone
# would cap one author at 20 submissions a second whatever the hub can do.
#
# SERVE_WRAPPER="CMD ARGS" runs the server under a command (`env LD_PRELOAD=...`, `taskset -c 1`)
# that must exec it in place.
#
# Usage: bench/ingest/run.sh [BUILD_DIR] [PACKAGES] [CLIENTS]
#        (defaults: build 500 4; build `ahub` and `hub-bench-ingest` in BUILD_DIR first)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
packages=${2:-500}
clients=${3:-4}
bin=$build/bin
unlimited=1000000  # requests/s and burst for the bench token
large=100000       # packages already in the store for the large-store run

for b in ahub hub-bench-ingest; do
  [[ -x $bin/$b ]] || { echo "bench: $bin/$b is missing; build it: cmake --build $build --target $b" >&2; exit 2; }
done

tmp=$(mktemp -d)
server=
stop_server() {
  if [[ -n $server ]]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  server=
}
trap 'stop_server; rm -rf "$tmp"' EXIT
fail() { echo "bench: $*" >&2; exit 1; }

# One run on a fresh hub: run NAME CLIENTS PREFILLED [hub-bench-ingest options...]; PREFILLED
# synthetic packages are written into the store first (hub-bench-fill).
run() {
  local name=$1 n_clients=$2 prefilled=$3 data=$tmp/$1 base token
  shift 3
  if ((prefilled > 0)); then
    "$bin/hub-bench-fill" --data "$data" --packages "$prefilled" | sed -n 1p
  fi
  token=$("$bin/ahub" token create --data "$data" --role author --name bench 2>/dev/null)
  ${SERVE_WRAPPER:-} "$bin/ahub" serve --data "$data" --no-seed --listen 127.0.0.1:0 --rate "$unlimited" \
    --rate-burst "$unlimited" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  server=$!
  for _ in $(seq 300); do
    grep -q 'serving http' "$tmp/$name.out" && break
    kill -0 "$server" 2>/dev/null || fail "ahub serve exited: $(cat "$tmp/$name.err")"
    sleep 0.1
  done
  base=$(grep -o 'http://[^ ]*' "$tmp/$name.out") || fail "ahub serve did not start"
  echo "== $name: 1-min load $(cut -d' ' -f1 /proc/loadavg)"
  "$bin/hub-bench-ingest" --url "$base" --token "$token" --packages "$packages" \
    --clients "$n_clients" --prefix "$name" "$@" || fail "$name: not every submission was acknowledged"
  stop_server
}

echo "machine: $(nproc) cores; $(uptime); data in $tmp ($(df -T "$tmp" | awk 'NR == 2 {print $2}'))"
run sequential 1 0
run concurrent "$clients" 0
run shared-metrics 1 0 --shared-metrics
if [[ -x $bin/hub-bench-fill ]]; then
  run large-store 1 "$large"
else
  echo "== large-store: skipped ($bin/hub-bench-fill is not built)"
fi
echo "after: $(uptime)"
