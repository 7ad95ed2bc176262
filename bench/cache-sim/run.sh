#!/usr/bin/env bash
# Throughput of cache-sim per policy, against the plain-Python reference of the same policies.
#
# Usage: bench/cache-sim/run.sh [CACHE_SIM_BINARY]        (default build/bin/cache-sim)
# Builds nothing. Environment overrides (defaults in brackets):
#   ZIPF_S [1.1]  CATALOG [1000000]  REQUESTS [10000000]  CAPACITY [10000]  SEED [42]
#   PY_REQUESTS [REQUESTS]  requests replayed by the Python reference: the same stream as
#                          cache-sim by default (about 80 s for the six policies); a smaller
#                          value replays a prefix (the generator draws sequentially, so R' < R
#                          gives the first R') and adds cache-sim's rate on that prefix
#   POLICIES [lru,lfu,lfu-forget,fifo,sieve,opt]  REPEAT [5] (cache-sim runs; best is kept)
#   PY_REPEAT [3] (reference.py runs; best is kept, as for cache-sim)  PYTHON [python3]
#
# Steps, in this order:
#  1. check: cache-sim and reference.py on the PY_REQUESTS stream must report identical hit
#     counts for every policy; the benchmark stops otherwise (nothing is timed before this);
#  2. time cache-sim on the full stream REPEAT times and the reference PY_REPEAT times, keeping
#     each policy's best replay time (both report their own per-policy replay times, excluding
#     workload generation, and both are best-of-N so that neither side gets the luckier run). Both
#     sides are timed in CPU seconds of the simulating thread: on a shared machine wall time
#     also counts the time a process waits for a core, which swung results by 2x;
#  3. print one table: hit rate, cache-sim and Python Mreq/s and their ratio.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="${1:-build/bin/cache-sim}"
zipf_s="${ZIPF_S:-1.1}"
catalog="${CATALOG:-1000000}"
requests="${REQUESTS:-10000000}"
capacity="${CAPACITY:-10000}"
seed="${SEED:-42}"
py_requests="${PY_REQUESTS:-$requests}"
policies="${POLICIES:-lru,lfu,lfu-forget,fifo,sieve,opt}"
repeat="${REPEAT:-5}"
py_repeat="${PY_REPEAT:-3}"
python="${PYTHON:-python3}"

if [[ ! -x "$bin" ]]; then
  echo "run.sh: no cache-sim binary at '$bin'; build it first (cmake --build build --target cache-sim)" >&2
  exit 2
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

workload=(--zipf-s "$zipf_s" --catalog "$catalog" --seed "$seed")
echo "workload: Zipf s=$zipf_s, catalog $catalog, capacity $capacity, seed $seed;" \
  "cache-sim $requests requests, Python reference $py_requests"

# 1. Correctness before timing.
"$bin" "${workload[@]}" --requests "$py_requests" --capacity "$capacity" --policies "$policies" \
  --out "$work/prefix.json"
"$python" "$here/reference.py" simulate "${workload[@]}" --requests "$py_requests" \
  --capacity "$capacity" --policies "$policies" > "$work/python-1.json"
"$python" - "$work/prefix.json" "$work/python-1.json" <<'EOF'
import json, sys

ours, python = (json.load(open(p)) for p in sys.argv[1:3])
policies = ours["policies"]
ours_hits, py_hits = ours["runs"][0]["hits"], python["runs"][0]["hits"]
bad = [p for p in policies if ours_hits[p] != py_hits[p]]
for p in bad:
    print(f"MISMATCH {p}: cache-sim {ours_hits[p]} hits, reference.py {py_hits[p]}", file=sys.stderr)
if bad:
    sys.exit(1)
print(f"check: identical hit counts for {', '.join(policies)} on {python['requests']} requests")
EOF

# 2. Timing on the full stream (and on Python's prefix, when it replays one). The reference's
#    further runs alternate with cache-sim's: this machine's speed drifts by up to 1.5x over
#    minutes, and best-of-N on both sides should sample the same spells.
for i in $(seq "$(( repeat > py_repeat ? repeat : py_repeat ))"); do
  if (( i > 1 && i <= py_repeat )); then
    "$python" "$here/reference.py" simulate "${workload[@]}" --requests "$py_requests" \
      --capacity "$capacity" --policies "$policies" > "$work/python-$i.json"
  fi
  (( i <= repeat )) || continue
  "$bin" "${workload[@]}" --requests "$requests" --capacity "$capacity" --policies "$policies" \
    --out "$work/full-$i.json"
  if [[ "$py_requests" != "$requests" ]]; then
    "$bin" "${workload[@]}" --requests "$py_requests" --capacity "$capacity" \
      --policies "$policies" --out "$work/prefix-$i.json"
  fi
done

# 3. Report.
"$python" - "$work" "$repeat" "$py_repeat" <<'EOF'
import json, sys

work, repeat, py_repeat = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
load = lambda name: json.load(open(f"{work}/{name}"))
python = load("python-1.json")
policies = list(python["runs"][0]["hits"])
full_requests = load("full-1.json")["workload"]["requests"]

def best(kind):
    runs = [load(f"{kind}-{i}.json") for i in range(1, repeat + 1)]
    requests = runs[0]["workload"]["requests"]
    return runs[0], {p: requests / min(r["runs"][0]["cpu_seconds"][p] for r in runs) for p in policies}

full, full_rate = best("full")
py_requests = python["requests"]
py_runs = [load(f"python-{i}.json") for i in range(1, py_repeat + 1)]
py_rate = {p: py_requests / min(r["runs"][0]["cpu_seconds"][p] for r in py_runs) for p in policies}
print(f"stream generation: {full['workload_seconds']:.2f} s for {full_requests} requests (not timed below)")
print()
print("rates in millions of requests per CPU-second of the simulating thread")
if py_requests == full_requests:
    print(f"{'policy':<11} {'hit %':>7} {'cache-sim':>10} {'python':>8} {'speed-up':>9}")
    for p in policies:
        print(f"{p:<11} {full['runs'][0]['hit_rate_pct'][p]:7.2f} {full_rate[p] / 1e6:10.1f} "
              f"{py_rate[p] / 1e6:8.3f} {full_rate[p] / py_rate[p]:8.0f}x")
else:
    _, prefix_rate = best("prefix")
    print(f"{'policy':<11} {'hit %':>7} {'cache-sim':>10} {'cache-sim':>10} {'python':>8} {'speed-up':>9}")
    print(f"{'':<11} {'(full)':>7} {'full':>10} {'prefix':>10} {'prefix':>8} {'prefix':>9}")
    for p in policies:
        print(f"{p:<11} {full['runs'][0]['hit_rate_pct'][p]:7.2f} {full_rate[p] / 1e6:10.1f} "
              f"{prefix_rate[p] / 1e6:10.1f} {py_rate[p] / 1e6:8.3f} {prefix_rate[p] / py_rate[p]:8.0f}x")
EOF
