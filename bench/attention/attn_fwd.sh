#!/usr/bin/env bash
# attn-fwd on the GPU: correctness first, then naive vs tiled at issue 6's benchmark shape and over
# the sequence sweep, then PyTorch's scaled_dot_product_attention at the same shapes, and a table
# with the tiled kernel's throughput over SDPA's.
#
# Usage: bench/attention/attn_fwd.sh BIN_DIR OUT_DIR
# Builds nothing (BIN_DIR holds attn-fwd). Environment overrides (defaults in brackets):
#   SEQS [1024,2048,4096,8192]  REPS [20]  LAYOUT [attn-fwd's default]  PYTHON [python3]
#   SWEEP ["fp16:128 fp16:64 bf16:128 bf16:64"]  type:head-dim pairs of the sweep
#
# Steps, in this order:
#  1. attn-fwd --check: both versions against the float64 CPU reference at small sizes (both
#     types, head dims, masks); nothing is timed if it fails;
#  2. the issue's shape (fp16, head dim 128, seq 4096, batch*heads 32, non-causal), then SDPA at
#     that shape right after it, so the two are measured in the same run on the same GPU;
#  3. the sweep: each type:head-dim pair over SEQS, non-causal and causal;
#  4. SDPA over the same sweep, when PYTHON imports torch with CUDA;
#  5. a table: per case naive and tiled ms, speed-up, tiled and SDPA TFLOP/s, tiled/SDPA.
# Every JSON document lands in OUT_DIR (check.json, issue_shape.json, sdpa_issue_shape.json,
# sweep_<type>_d<dim>.json, sdpa_<type>_d<dim>.json).
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 BIN_DIR OUT_DIR" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin="$1/attn-fwd"
out="$2"
seqs="${SEQS:-1024,2048,4096,8192}"
reps="${REPS:-20}"
python="${PYTHON:-python3}"
sweep="${SWEEP:-fp16:128 fp16:64 bf16:128 bf16:64}"
layout=()
[[ -n "${LAYOUT:-}" ]] && layout=(--layout "$LAYOUT")

if [[ ! -x "$bin" ]]; then
  echo "$0: no attn-fwd at '$bin'; build it first (ninja attn-fwd)" >&2
  exit 2
fi
mkdir -p "$out"

have_torch=0
if "$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  have_torch=1
else
  echo "attn_fwd.sh: $python has no torch with CUDA; SDPA baseline skipped" >&2
fi

# 1. Correctness before timing.
"$bin" --check --out "$out/check.json"
echo "check passed"

# 2. The issue's shape, and SDPA right after it.
"$bin" --dtype fp16 --head-dim 128 --seqs 4096 --batch-heads 32 --mask none --reps "$reps" "${layout[@]}" \
  --out "$out/issue_shape.json"
if [[ $have_torch == 1 ]]; then
  "$python" "$here/sdpa_baseline.py" --dtype fp16 --head-dim 128 --seqs 4096 --batch-heads 32 --mask none \
    --reps "$reps" --out "$out/sdpa_issue_shape.json"
fi

# 3-4. The sweep.
for pair in $sweep; do
  dtype="${pair%%:*}"
  dim="${pair##*:}"
  "$bin" --dtype "$dtype" --head-dim "$dim" --seqs "$seqs" --batch-heads 32 --mask both --reps "$reps" \
    "${layout[@]}" --out "$out/sweep_${dtype}_d${dim}.json"
  if [[ $have_torch == 1 ]]; then
    "$python" "$here/sdpa_baseline.py" --dtype "$dtype" --head-dim "$dim" --seqs "$seqs" --batch-heads 32 \
      --mask both --reps "$reps" --out "$out/sdpa_${dtype}_d${dim}.json"
  fi
done

# 5. The table.
"$python" - "$out" <<'EOF'
import glob, json, os, sys
out = sys.argv[1]
def load(p):
    return json.load(open(p)) if os.path.exists(p) else None
def sdpa_index(doc):
    idx = {}
    for r in (doc or {}).get("results", []):
        auto = r["backends"].get("auto", {})
        best = max((b.get("tflops", 0) for b in r["backends"].values()), default=0)
        idx[(r["dtype"], r["head_dim"], r["causal"], r["seq"])] = (auto.get("tflops"), best, r.get("auto_backend"))
    return idx
pairs = [("issue_shape.json", "sdpa_issue_shape.json")]
for p in sorted(glob.glob(os.path.join(out, "sweep_*.json"))):
    name = os.path.basename(p)
    pairs.append((name, name.replace("sweep_", "sdpa_")))
check = load(os.path.join(out, "check.json"))
if check:
    s = check["summary"]
    print(f"check: {s['cases']} cases passed; max rel L2 fp16 {s['max_rel_l2_error']['fp16']:.2e} "
          f"(bound {s['rel_l2_bound']['fp16']:.2e}), bf16 {s['max_rel_l2_error']['bf16']:.2e} "
          f"(bound {s['rel_l2_bound']['bf16']:.2e})")
dev = None
print(f"{'case':34s} {'naive ms':>9s} {'tiled ms':>9s} {'speedup':>7s} {'tiled TF':>8s} {'SDPA TF':>8s} "
      f"{'tiled/SDPA':>10s} {'best SDPA':>9s} {'rel L2':>8s}")
for ours, theirs in pairs:
    doc = load(os.path.join(out, ours))
    if not doc:
        continue
    dev = dev or doc["device"].get("name")
    idx = sdpa_index(load(os.path.join(out, theirs)))
    rows = {}
    for r in doc["results"]:
        rows.setdefault((r["dtype"], r["head_dim"], r["causal"], r["seq"]), {})[r["variant"]] = r
    for key, v in rows.items():
        dt, d, causal, seq = key
        naive, tiled = v.get("naive"), v.get("tiled")
        nms = "skipped" if not naive or naive["skipped"] else f"{naive['time_ms']['median']:.3f}"
        tms = f"{tiled['time_ms']['median']:.3f}"
        sp = "" if nms == "skipped" else f"{naive['time_ms']['median'] / tiled['time_ms']['median']:.2f}"
        auto, best, backend = idx.get(key, (None, None, None))
        ratio = f"{tiled['tflops'] / auto:.2f}" if auto else ""
        tag = ("issue " if ours == "issue_shape.json" else "") + f"{dt} d{d} {'causal' if causal else 'full'} {seq}"
        err = max(x["error"]["rel_l2"] or float("inf") for x in v.values() if not x["skipped"])
        print(f"{tag:34s} {nms:>9s} {tms:>9s} {sp:>7s} {tiled['tflops']:8.1f} "
              f"{(f'{auto:.1f}' if auto else '-'):>8s} {ratio:>10s} {(f'{best:.1f}' if best else '-'):>9s} {err:8.1e}")
print(f"device: {dev}; SDPA TF is PyTorch's default choice, best SDPA the fastest forced backend")
EOF
