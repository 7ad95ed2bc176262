# Sourced by the bench/attention/<family>.sh scripts of the single-program families:
#   check_then_benchmark PROGRAM BIN_DIR OUT_DIR [benchmark flags...]
# checks its arguments (exit 2 on misuse), records the GPU's clocks in OUT_DIR/gpu.txt, runs
# `PROGRAM --check` (OUT_DIR/<name>_check.json; the script stops there if it fails: set -e),
# then the benchmark with the extra flags (OUT_DIR/<name>.json), <name> being PROGRAM with '-'
# as '_'. Sets CHECK_JSON and RUN_JSON for the script's table. Without python3 (which prints the
# table) it says where the figures are and ends the script with status 0.
check_then_benchmark() {
  local program=$1
  if [[ $# -lt 3 ]]; then
    echo "usage: $0 BIN_DIR OUT_DIR [$program flags...]" >&2
    exit 2
  fi
  local bin="$2/$program" out=$3 name=${1//-/_}
  shift 3
  if [[ ! -x "$bin" ]]; then
    echo "$(basename "$0"): no $program binary at '$bin'; build it first (cmake --build build --target $program)" >&2
    exit 2
  fi
  mkdir -p "$out"
  # Clocks and memory state at the start: a throttled or busy GPU explains a low figure.
  if command -v nvidia-smi > /dev/null; then
    nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.sm,clocks.max.sm,clocks.mem,clocks.max.mem,temperature.gpu,power.draw,utilization.gpu \
      --format=csv | tee "$out/gpu.txt"
  fi
  CHECK_JSON="$out/${name}_check.json"
  RUN_JSON="$out/$name.json"
  echo "== $program --check"
  "$bin" --check --out "$CHECK_JSON"
  echo "== $program $*"
  local start
  start=$(date +%s)
  "$bin" "$@" --out "$RUN_JSON"
  echo "benchmark took $(($(date +%s) - start)) s; JSON: $RUN_JSON"
  if ! command -v python3 > /dev/null; then
    echo "(no python3: the figures are in $RUN_JSON, under \"summary\")"
    exit 0
  fi
}
