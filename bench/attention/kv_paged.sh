#!/usr/bin/env bash
# kv-paged on a GPU host: the correctness check first (nothing is timed if it fails), then the
# benchmark (memory waste on the seeded workload, paged vs contiguous decode bandwidth).
#
# Usage: bench/attention/kv_paged.sh BIN_DIR OUT_DIR [extra kv-paged flags, e.g. --contexts 32768]
#   BIN_DIR  where the kv-paged binary is (build/bin, or build-attn/bin for the stand-alone build)
#   OUT_DIR  receives kv_paged_check.json, kv_paged.json and gpu.txt (nvidia-smi's view)
# Builds nothing. Exit status: that of the first failing step.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check_then_benchmark kv-paged "$@"

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

work = next(r for r in run["results"] if r["part"] == "workload")
print(f"\nmemory waste, time-averaged over {s['replay_steps']} decode steps: {work['preset']} workload, "
      f"{work['requests']} requests (seed {work['seed']}), mean prompt {work['mean_prompt_len']:.0f}, "
      f"output {work['mean_output_len']:.0f}, final {work['mean_final_len']:.0f} tokens; "
      f"{work['requests_with_prefix']} with a {work['prefix_len']}-token system prompt; "
      f"concurrency {cfg['concurrency']}, block {cfg['block_size']}, max_len {cfg['max_len']}")
for r in run["results"]:
    if r["part"] == "memory":
        print(f"  {r['policy']:<22} waste {100 * r['waste']:6.2f} %")
print(f"  prefix sharing saves {100 * s['prefix_sharing_saving']:.1f} % of the paged memory "
      f"(peak {100 * s['prefix_sharing_saving_peak']:.1f} %), {s['cow_copies']} copy-on-write copies")

print(f"\ndecode: {cfg['q_heads']} query heads / {cfg['kv_heads']} KV heads, head dim {cfg['head_dim']}, "
      f"block {cfg['block_size']} tokens (scattered ids), median of {cfg['reps']} samples of `steps` "
      f"back-to-back steps, rotating over `copies` copies of the cache")
print(f"{'context':>8} {'batch':>5} {'layout':<10} {'ms':>9} {'GB/s':>7} {'%peak':>6} {'%copy':>6} "
      f"{'splits x tokens':>16} {'blocks/SM':>9} {'copies':>6} {'steps':>5} {'paged/contig':>12}")
for r in run["results"]:
    if r["part"] != "decode":
        continue
    ratio = f"{r['paged_over_contiguous_time']:.3f}" if "paged_over_contiguous_time" in r else ""
    print(f"{r['context']:>8} {r['batch']:>5} {r['layout']:<10} {r['time_ms']:9.4f} {r['gbs']:7.0f} "
          f"{100 * r['fraction_of_peak']:6.1f} {100 * r['fraction_of_copy']:6.1f} "
          f"{str(r['num_splits']) + ' x ' + str(r['tokens_per_split']):>16} {r['blocks_per_sm']:>9} "
          f"{r['cache_instances']:>6} {r['steps_per_sample']:>5} {ratio:>12}")
print(f"\nheadline (context {s['decode_context']}, batch {s['decode_batch']}, "
      f"{s['decode_kv_bytes'] / 2**30:.2f} GiB K+V per step): paged {s['paged_bandwidth_gbs']:.0f} GB/s = "
      f"{100 * s['paged_bandwidth_fraction_of_peak']:.1f} % of peak, "
      f"{100 * s['paged_bandwidth_fraction_of_copy']:.1f} % of copy; "
      f"paged/contiguous time {s['paged_over_contiguous_time']:.3f} (worst over contexts "
      f"{s['paged_over_contiguous_time_max']:.3f}); outputs identical: {s['outputs_identical']}; "
      f"spot checks rel L2 <= {s['spot_check_rel_l2_max']:.2e}")
print(f"targets: paged >= 60 % of peak: {'met' if s['paged_bandwidth_fraction_of_peak'] >= 0.6 else 'NOT met'}; "
      f"paged within 15 % of contiguous: {'met' if s['paged_over_contiguous_time'] <= 1.15 else 'NOT met'}")
PY
