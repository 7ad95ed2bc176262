#!/usr/bin/env bash
# kv-quant on a GPU machine: the correctness check, then the benchmark (KIVI 2-bit cache vs fp16
# decode at 32k context, batch 8 x 32 heads, head dim 128, G = 32, 64, 128, R = 128).
#
# usage: bench/attention/kv_quant.sh BIN_DIR OUT_DIR [kv-quant flags for the benchmark...]
#   BIN_DIR   folder holding the kv-quant program
#   OUT_DIR   receives kv_quant_check.json and kv_quant.json
# Extra flags go to the benchmark run only (e.g. --context 65536, --outlier-kind scale).
# Exit status: 0 done; 1 the check or the benchmark failed (the program's message is printed);
# 2 usage error. Nothing is timed unless the check passed; the benchmark also compares its own
# output with the CPU reference before timing.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
check_then_benchmark kv-quant "$@"

python3 - "$CHECK_JSON" "$RUN_JSON" <<'EOF'
import json, sys

check = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
cs = check["summary"]
print(f"check: {cs['cases']} cases passed, worst max_abs {cs['worst_max_abs']:.2e}, "
      f"worst rel_l2 {cs['worst_rel_l2']:.2e} (bound {check['config']['bound']})")
dev, cfg = doc["device"], doc["config"]
print(f"device: {dev.get('name', dev.get('kind'))}, peak {dev.get('peak_bandwidth_gbs', 0):.0f} GB/s; "
      f"batch {cfg['batch']} x {cfg['heads']} heads, context {cfg['context']}, head dim {cfg['head_dim']}, "
      f"R {cfg['residual']}, outliers {cfg['inputs']['outlier_kind']}")
print(f"{'cache':<12}{'B/token':>9}{'vs fp16':>9}{'out err':>9}{'tok-key':>9}"
      f"{'ms':>9}{'GB/s':>8}{'%peak':>7}{'speedup':>9}")
for r in doc["results"]:
    t = r.get("timing", {})
    ms = t.get("decode_ms", {}).get("median")
    name = "fp16" if r["cache"] == "fp16" else f"2bit G={r['group_size']}"
    if r["cache"] == "fp16":
        bpt, ratio, err, tok = r["bytes_per_token"], 1.0, None, None
    else:
        bpt, ratio = r["bytes_per_token"]["at_context"], r["bytes_ratio_vs_fp16"]
        err = r["output_error_vs_fp16"]["rel_l2"]
        tok = r["per_token_keys_output_error_vs_fp16"]["rel_l2"]
    cell = lambda v, f: format(v, f) if v is not None else "-"
    print(f"{name:<12}{bpt:>9.1f}{ratio:>9.3f}{cell(err, '9.3f'):>9}{cell(tok, '9.3f'):>9}"
          f"{cell(ms, '9.3f'):>9}{cell(t.get('gbs'), '8.0f'):>8}"
          f"{cell(100 * t['fraction_of_peak_bandwidth'] if 'fraction_of_peak_bandwidth' in t else None, '7.1f'):>7}"
          f"{cell(r.get('decode_speedup_vs_fp16'), '9.2f'):>9}")
print("out err: rel L2 of the attention output vs fp16 (keys per channel); tok-key: the same with keys per token")
print("summary:", json.dumps(doc["summary"], sort_keys=True))
EOF
