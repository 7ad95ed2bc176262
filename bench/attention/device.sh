#!/usr/bin/env bash
# Builds the attention experiments on a GPU machine and runs each family's correctness check and
# benchmark (bench/attention/<family>.sh), then, when an ahub build was carried along, verifies the
# GPU packages through the real sandbox. Used on the device machine, where the hub's own
# dependencies are missing, so only experiments/attention is configured (as a top-level project).
#
# usage: bench/attention/device.sh OUT_DIR [FAMILY...]     (FAMILY: attn_fwd kv_paged kv_gqa ...)
# env:   NLOHMANN_DIR  directory holding nlohmann/json.hpp (default: .devdeps)
#        AHUB_CARRY    directory with bin/ahub, bin/bwrap and lib/ built elsewhere (optional)
set -u
final=${1:?usage: device.sh OUT_DIR [FAMILY...]}
shift
# Details go to a work folder; OUT_DIR receives only all.tgz (the device tool returns few files).
out=$(mktemp -d /tmp/attn-out.XXXXXX)
families=("$@")
if [ ${#families[@]} -eq 0 ]; then families=(attn_fwd kv_paged kv_gqa kv_quant stream_decode); fi
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${ATTN_BUILD:-/tmp/attn-build}
mkdir -p "$final"

echo "== host"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.memory --format=csv,noheader || true
nvcc --version | tail -1
python3 -c 'import torch; print("torch", torch.__version__, torch.version.cuda)' 2>/dev/null || echo "torch: none"

echo "== build"
start=$(date +%s)
cmake -S "$root/experiments/attention" -B "$build" -G Ninja \
  -DNLOHMANN_INCLUDE="${NLOHMANN_DIR:-$root/.devdeps}" >"$out/cmake.log" 2>&1 || { tail -30 "$out/cmake.log"; exit 1; }
ninja -C "$build" -j"$(nproc)" >"$out/build.log" 2>&1 || { grep -E "error|Error" -A3 "$out/build.log" | head -60; exit 1; }
echo "built in $(( $(date +%s) - start )) s: $(ls "$build/bin" | tr '\n' ' ')"

status=0
for fam in "${families[@]}"; do
  script="$root/bench/attention/$fam.sh"
  [ -f "$script" ] || { echo "== $fam: no $script"; continue; }
  echo "== $fam"
  mkdir -p "$out/$fam"
  if ! bash "$script" "$build/bin" "$out/$fam" >"$out/$fam.log" 2>&1; then
    echo "FAILED (exit $?)"; status=1
  fi
  tail -25 "$out/$fam.log"
done

if [ -n "${AHUB_CARRY:-}" ] && [ -x "$AHUB_CARRY/bin/ahub" ]; then
  echo "== ahub verify (sandboxed, GPU passthrough)"
  cp "$build"/bin/* "$AHUB_CARRY/bin/"
  for pkg in "$root"/packages/*; do
    grep -q "gpu: true" "$pkg/package.yaml" 2>/dev/null || continue
    name=$(basename "$pkg")
    PATH="$AHUB_CARRY/bin:$PATH" LD_LIBRARY_PATH="$AHUB_CARRY/lib" \
      "$AHUB_CARRY/bin/ahub" verify "$pkg" --json >"$out/verify-$name.json" 2>"$out/verify-$name.err"
    echo "$name: exit $?"
    tail -5 "$out/verify-$name.err"
  done
fi

# The device tool returns at most 8 files: pack the details into one archive.
tar czf "$final/all.tgz" -C "$out" .
exit $status
