#!/usr/bin/env bash
# End-to-end cost of `ahub verify` on a seed package (load, sandbox, simulate, judge, report),
# beside the bare cost of the experiment itself run outside the sandbox, in one command.
# Usage: bench/verify/run.sh [RUNS] [PACKAGE]   (after `make build`)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-10}
pkg=${2:-packages/cache-admission-zipfian}
bin=build/bin

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
time_runs() {  # prints one wall time in seconds per run
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1 || { echo "bench: failed: $*" >&2; exit 1; }
    t1=$(date +%s.%N)
    awk -v a="$t1" -v b="$t0" 'BEGIN {print a - b}'
  done
}

verify=$(time_runs "$bin/ahub" verify --json "$pkg" | median)
# The experiment's own command, outside any sandbox, as the baseline.
tmp=$(mktemp -d)
# The first experiment's command, read from the manifest's flow list (may span lines).
mapfile -t cmd < <(python3 - "$pkg/package.yaml" "$tmp" <<'PY'
import csv, re, sys
text = open(sys.argv[1]).read()
flow = re.search(r"command:\s*\[(.*?)\]", text, re.S).group(1)
for word in next(csv.reader([" ".join(flow.split())], skipinitialspace=True)):
    print(word.replace("{out}", sys.argv[2]))
PY
)
cmd[0]=$bin/${cmd[0]}
bare=$(time_runs "${cmd[@]}" | median)
rm -rf "$tmp"
printf 'ahub verify %s (median of %d): %.3f s\n' "$pkg" "$runs" "$verify"
printf 'the experiment alone, no sandbox:          %.3f s\n' "$bare"
awk -v v="$verify" -v b="$bare" 'BEGIN {printf "verification overhead:                     %.3f s (%.2fx)\n", v - b, v / b}'
