#!/usr/bin/env bash
# The hub's read API at scale: fills a fresh store with PACKAGES synthetic packages
# (hub-bench-fill), serves it with `ahub serve --no-seed` on a free loopback port, checks the
# pages it is about to time, then runs wrk with the same settings against GET /healthz (the
# baseline) and five read routes, each twice:
#   cached    the same target again and again, as wrk does: after the first request the hub
#             answers from its read cache (valid until the next committed write);
#   uncached  a nonce query parameter makes every target new (nocache.lua), so every request
#             runs the SQL and builds the JSON, as the first request after a write does.
# Prints requests/s, p99 latency, the ratio to /healthz and the 1-minute load average at the
# start of each run. wrk's timeout is 30 s, so that slow answers are measured, not dropped.
# WRK_LOG=FILE keeps wrk's full output; SERVE_WRAPPER="CMD ARGS" runs the server under a command
# (`env LD_PRELOAD=...`, `taskset -c 1`) that must exec it in place. Builds nothing.
#
# Usage: bench/api/run.sh [BUILD_DIR] [PACKAGES] [DURATION]
#        (defaults: build 100000 10s; build `ahub` and `hub-bench-fill` in BUILD_DIR first)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
packages=${2:-100000}
duration=${3:-10s}
bin=$build/bin
wrk_args=(-t2 -c32 "-d$duration" --timeout 30s --latency)
category=cs.DC   # about 7 % of the packages have it as their primary category
query=speculative  # a mid-frequency word of the synthetic titles and summaries

for b in ahub hub-bench-fill; do
  [[ -x $bin/$b ]] || { echo "bench: $bin/$b is missing; build it: cmake --build $build --target $b" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
command -v jq >/dev/null || { echo "bench: jq is not installed (apt-get install jq)" >&2; exit 2; }

tmp=$(mktemp -d)
server=
cleanup() {
  if [[ -n $server ]]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
load() { cut -d' ' -f1 /proc/loadavg; }
fail() { echo "bench: $*" >&2; exit 1; }

echo "machine: $(nproc) cores; $(uptime)"
"$bin/hub-bench-fill" --data "$tmp/data" --packages "$packages"
sync  # the fill's dirty pages (~465 MB for 100,000 packages) are written back before any timing
${SERVE_WRAPPER:-} "$bin/ahub" serve --data "$tmp/data" --no-seed --listen 127.0.0.1:0 >"$tmp/serve.out" 2>"$tmp/serve.err" &
server=$!
for _ in $(seq 300); do
  grep -q 'serving http' "$tmp/serve.out" && break
  kill -0 "$server" 2>/dev/null || fail "ahub serve exited: $(cat "$tmp/serve.err")"
  sleep 0.1
done
base=$(grep -o 'http://[^ ]*' "$tmp/serve.out") || fail "ahub serve did not start: $(cat "$tmp/serve.err")"

# --- check what is about to be timed
get() { curl -fsS "$base$1" || fail "GET $1 failed"; }
first=$(get /api/v1/packages)
jq -e --argjson n "$packages" '.total == $n and (.items | length) == 20 and .next_cursor != null and
  ([.items[].score] | . == (sort | reverse))' <<<"$first" >/dev/null ||
  fail "the first page is not 20 of $packages packages ranked by score"
cursor=$(jq -r .next_cursor <<<"$first")
second=$(get "/api/v1/packages?cursor=$cursor")
jq -e --argjson first "$first" '(.items | length) == 20 and
  ([.items[].id] - [$first.items[].id] | length) == 20 and
  .items[0].score <= ($first.items | last | .score)' <<<"$second" >/dev/null ||
  fail "the second page does not continue the first"
by_category=$(get "/api/v1/packages?category=$category")
jq -e --arg c "$category" '.total > 0 and all(.items[]; .primary_category == $c)' <<<"$by_category" >/dev/null ||
  fail "the category page holds other categories"
by_query=$(get "/api/v1/packages?q=$query")
jq -e --argjson n "$packages" '.total > 0 and .total < $n and (.items | length) == 20' <<<"$by_query" >/dev/null ||
  fail "the q=$query page matched nothing or everything"
one=$(jq -r '.items[7].id' <<<"$second")
jq -e --arg id "$one" '.id == $id and (.claims | length) >= 1 and .manifest.format == "ahub/1"' \
  <<<"$(get "/api/v1/packages/$one")" >/dev/null || fail "GET /api/v1/packages/$one is not that package"
echo "checked: first page of $packages ranked; second page continues it; category=$category" \
  "matches $(jq .total <<<"$by_category"); q=$query matches $(jq .total <<<"$by_query")"

# --- time
# One wrk run; prints "REQ_PER_S P99_MS LOAD" (p99 in ms whatever unit wrk chose).
measure() {
  local url=$1 script=${2:-} load_at out
  local -a extra=()
  [[ -n $script ]] && extra=(-s "$script")
  # Warm-up: one request fills the read cache (32 at once on a cold cache would each compute the
  # page), then wrk warms connections, threads and the page cache.
  [[ -z $script ]] && curl -fsS -o /dev/null "$url"
  wrk -t2 -c32 -d2s --timeout 30s "${extra[@]}" "$url" >/dev/null
  load_at=$(load)
  out=$(wrk "${wrk_args[@]}" "${extra[@]}" "$url")
  if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
    fail "wrk saw errors on $url: $(grep -E 'Non-2xx|Socket errors' <<<"$out")"
  fi
  [[ -n ${WRK_LOG:-} ]] && { echo "== $url"; echo "$out"; } >>"$WRK_LOG"
  awk -v load="$load_at" '
    /Requests\/sec:/ { rps = $2 }
    $1 == "99%" {
      v = $2; unit = v; sub(/^[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
      p99 = unit == "us" ? v / 1000 : unit == "s" ? v * 1000 : unit == "m" ? v * 60000 : v
    }
    END { printf "%s %.2f %s\n", rps, p99, load }' <<<"$out"
}

declare -a names=(
  "/healthz (baseline)"
  "ranked first page"
  "second page (cursor)"
  "category=$category"
  "q=$query"
  "GET /packages/$one"
)
declare -a paths=(
  /healthz
  /api/v1/packages
  "/api/v1/packages?cursor=$cursor"
  "/api/v1/packages?category=$category"
  "/api/v1/packages?q=$query"
  "/api/v1/packages/$one"
)
echo "wrk ${wrk_args[*]} on loopback; ahub serve --threads 32 (default); $packages packages"
echo "load: the 1-minute load average when the run started (it includes this benchmark's own"
echo "threads from the run before; the uncached runs come last because they load the machine most)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
row() { printf '%-26s %11.1f %9.2f %8s %6s\n' "$@"; }
printf '%-26s %11s %9s %8s %6s\n' "cached (one target)" "req/s" "p99 ms" "x hz" load
read -r hz_rps hz_p99 hz_load < <(measure "$base/healthz")
row "${names[0]}" "$hz_rps" "$hz_p99" "1.000" "$hz_load"
for i in 1 2 3 4 5; do
  read -r rps p99 at < <(measure "$base${paths[$i]}")
  row "${names[$i]}" "$rps" "$p99" "$(ratio "$rps" "$hz_rps")" "$at"
done
read -r rps p99 at < <(measure "$base/healthz")
row "/healthz again" "$rps" "$p99" "$(ratio "$rps" "$hz_rps")" "$at"
printf '%-26s %11s %9s %8s %6s\n' "uncached (nocache.lua)" "req/s" "p99 ms" "x hz" load
for i in 1 2 3 4 5; do
  read -r rps p99 at < <(measure "$base${paths[$i]}" bench/api/nocache.lua)
  row "${names[$i]}" "$rps" "$p99" "$(ratio "$rps" "$hz_rps")" "$at"
done
echo "after: $(uptime)"
