#!/usr/bin/env bash
# stream-decode on a GPU: per-token cost of StreamingLLM's attention-sink + window decoding vs
# sliding-window re-computation, on the randomly initialised 4 x 1024 model.
#
# Usage: bench/attention/stream_decode.sh BIN_DIR OUT_DIR
#   BIN_DIR  holds the built stream-decode (e.g. build/bin); this script builds nothing.
#   OUT_DIR  receives the JSON documents (created if missing).
# Environment (defaults in brackets):
#   WINDOWS [256,512,1024,2048,4096]  REPS [50]  WARMUP [5]  SUSTAINED [100]  SEED [1]
#   STREAM_LAUNCH [1]  also run with --launch stream (kernels launched one by one instead of one
#                      CUDA graph per token) to show what the graphs save; 0 skips it.
#
# Steps, in this order (each stops the script on failure, exit status of stream-decode):
#  1. stream-decode --check: the tiny model's GPU decode and recompute steps against the CPU
#     reference (logits rel L2 <= 1e-2) -> OUT_DIR/stream_decode_check.json;
#  2. the benchmark (it re-runs that check and, per window, checks the two methods against each
#     other on the same tokens before timing) -> OUT_DIR/stream_decode.json;
#  3. optionally the same with --launch stream -> OUT_DIR/stream_decode_stream_launch.json;
#  4. a table of the per-token times and speedups.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 BIN_DIR OUT_DIR" >&2
  exit 2
fi
bin="$1/stream-decode"
out="$2"
windows="${WINDOWS:-256,512,1024,2048,4096}"
reps="${REPS:-50}"
warmup="${WARMUP:-5}"
sustained="${SUSTAINED:-100}"
seed="${SEED:-1}"
stream_launch="${STREAM_LAUNCH:-1}"

if [[ ! -x "$bin" ]]; then
  echo "$0: no stream-decode binary at '$bin'; build it first (cmake --build build --target stream-decode)" >&2
  exit 2
fi
mkdir -p "$out"
if command -v nvidia-smi > /dev/null; then nvidia-smi -L; fi

common=(--windows "$windows" --reps "$reps" --warmup "$warmup" --sustained "$sustained" --seed "$seed")

echo "== 1. correctness: $bin --check"
"$bin" --check --seed "$seed" --out "$out/stream_decode_check.json"
echo "   passed -> $out/stream_decode_check.json"

echo "== 2. benchmark: $bin ${common[*]}"
"$bin" "${common[@]}" --out "$out/stream_decode.json"
echo "   -> $out/stream_decode.json"

if [[ "$stream_launch" != 0 ]]; then
  echo "== 3. benchmark without CUDA graphs: $bin ${common[*]} --launch stream"
  "$bin" "${common[@]}" --launch stream --out "$out/stream_decode_stream_launch.json"
  echo "   -> $out/stream_decode_stream_launch.json"
fi

echo "== 4. results"
if ! command -v python3 > /dev/null; then
  echo "(python3 not found: the summaries as written)"
  for f in "$out"/stream_decode*.json; do echo "$f"; grep -A40 '"summary"' "$f"; done
  exit 0
fi
python3 - "$out" <<'PY'
import json, os, sys

out = sys.argv[1]
load = lambda name: json.load(open(os.path.join(out, name)))
check, bench = load("stream_decode_check.json"), load("stream_decode.json")
stream_path = os.path.join(out, "stream_decode_stream_launch.json")
stream = json.load(open(stream_path)) if os.path.exists(stream_path) else None

dev = bench["device"]
print(f"GPU: {dev.get('name')} (driver {dev.get('driver')}, runtime {dev.get('runtime')}, "
      f"peak {dev.get('peak_bandwidth_gbs', 0):.0f} GB/s from {dev.get('peak_bandwidth_source')})")
m = bench["config"]["model"]
print(f"model: {m['layers']} layers, d_model {m['d_model']}, {m['heads']} heads of {m['head_dim']}, "
      f"MLP {m['ffn']}, vocab {m['vocab']}, {m['parameters'] / 1e6:.1f} M parameters; "
      f"sinks {bench['config']['sinks']}; launch {bench['config']['launch']}")
cs = check["summary"]
print(f"check: passed={cs['passed']}, max logits rel L2 {cs['max_rel_l2']:.2e} "
      f"(bound {cs['bound']:.0e}; fp32-vs-fp16 reference {cs['fp32_reference_rel_l2_max']:.2e})")
print()
head = (f"{'window':>6} {'sink+win':>9} {'recompute':>10} {'speedup':>8} {'sustained':>9} "
        f"{'decode':>8} {'% peak':>7} {'recomp':>8} {'attn':>7} {'gemm':>7} {'cross':>8}")
print(head)
print(f"{'':>6} {'ms/token':>9} {'ms/token':>10} {'':>8} {'speedup':>9} "
      f"{'GB/s':>8} {'bw':>7} {'TFLOP/s':>8} {'TFLOP/s':>7} {'TFLOP/s':>7} {'rel L2':>8}")
for r in bench["results"]:
    s, c = r["sink_window"], r["recompute"]
    print(f"{r['window']:>6} {s['ms_per_token']:9.4f} {c['ms_per_token']:10.4f} {r['speedup']:7.1f}x "
          f"{r['sustained_speedup']:8.1f}x {s['achieved_gbs']:8.0f} {100 * s['fraction_of_peak_bandwidth']:6.1f}% "
          f"{c['achieved_tflops']:8.1f} {c['attention_tflops']:7.1f} {c['gemm_up_tflops']:7.1f} "
          f"{r['cross_check']['error']['rel_l2']:8.1e}")
sm = bench["summary"]
w2k = sm.get("speedup_w2048")
print()
print(f"speedup at window 2048: {w2k:.1f}x" if w2k is not None else "speedup at window 2048: not measured")
print(f"speedup range: {sm['speedup_min']:.1f}x .. {sm['speedup_max']:.1f}x (max at window {sm['speedup_max_window']})")
if stream:
    print()
    print("without CUDA graphs (--launch stream), ms per token:")
    print(f"{'window':>6} {'sink+win':>9} {'recompute':>10} {'speedup':>8}   (graph: sink+win, recompute)")
    graph = {r["window"]: r for r in bench["results"]}
    for r in stream["results"]:
        g = graph.get(r["window"])
        ref = f"{g['sink_window']['ms_per_token']:.4f}, {g['recompute']['ms_per_token']:.4f}" if g else "-"
        print(f"{r['window']:>6} {r['sink_window']['ms_per_token']:9.4f} {r['recompute']['ms_per_token']:10.4f} "
              f"{r['speedup']:7.1f}x   ({ref})")
PY
