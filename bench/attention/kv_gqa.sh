#!/usr/bin/env bash
# kv-gqa on a GPU host: the correctness check first (nothing is timed if it fails), then the
# MHA / GQA / MQA decode sweep.
#
# Usage: bench/attention/kv_gqa.sh BIN_DIR OUT_DIR [extra kv-gqa flags, e.g. --batch 8]
#   BIN_DIR  where the kv-gqa binary is (build/bin, or build-attn/bin for the stand-alone build)
#   OUT_DIR  receives kv_gqa_check.json, kv_gqa.json and gpu.txt (nvidia-smi's view)
# Builds nothing. Exit status: that of the first failing step.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check_then_benchmark kv-gqa "$@"

python3 - "$CHECK_JSON" "$RUN_JSON" <<'PY'
import json, sys

check, run = (json.load(open(p)) for p in sys.argv[1:3])
dev, s, cfg = run["device"], run["summary"], run["config"]
cs = check["summary"]
print(f"\ndevice: {dev.get('name')} (cc {dev.get('compute_capability')}, {dev.get('sm_count')} SMs, "
      f"driver {dev.get('driver')}, runtime {dev.get('runtime')})")
print(f"peak {s['peak_bandwidth_gbs']:.0f} GB/s ({dev.get('peak_bandwidth_source')}), "
      f"device-to-device copy {s['copy_bandwidth_gbs']:.0f} GB/s")
print(f"check: {cs['check_cases']} cases passed, worst rel L2 {cs['check_worst_rel_l2']:.2e} "
      f"(bound {cs['check_bound']:.0e}; fp16-P rounding alone {cs['check_worst_p_rounding_rel_l2']:.2e})")
print(f"\n{cfg['q_heads']} query heads, head dim {cfg['head_dim']}, batch {cfg['batch']}, layout {cfg['layout']}, "
      f"median of {cfg['reps']} samples of `steps` back-to-back steps, rotating over `copies` copies of the cache")
print(f"{'context':>8} {'variant':<7} {'kv':>3} {'ms':>9} {'MiB read':>9} {'GB/s':>7} {'%peak':>6} {'%copy':>6} "
      f"{'splits x tokens':>16} {'blocks':>7} {'copies':>6} {'steps':>5} {'MHA/this':>8}")
mha = {r["context"]: r["time_ms"] for r in run["results"] if r["variant"] == "mha"}
for r in run["results"]:
    speedup = f"{mha[r['context']] / r['time_ms']:.2f}" if r["context"] in mha else ""
    print(f"{r['context']:>8} {r['variant']:<7} {r['kv_heads']:>3} {r['time_ms']:9.4f} "
          f"{r['bytes_read'] / 2**20:9.1f} {r['gbs']:7.0f} {100 * r['fraction_of_peak']:6.1f} "
          f"{100 * r['fraction_of_copy']:6.1f} {str(r['num_splits']) + ' x ' + str(r['tokens_per_split']):>16} "
          f"{r['thread_blocks']:>7} {r['cache_instances']:>6} {r['steps_per_sample']:>5} {speedup:>8}")
print(f"\nheadline (context {s['context']}):",
      ", ".join(f"{k} = {v:.2f}" for k, v in s.items() if k.startswith("speedup_") and not isinstance(v, dict)))
print(f"spot checks rel L2 <= {s['spot_check_rel_l2_max']:.2e} (bound {s['spot_check_bound']:.0e})")
PY
