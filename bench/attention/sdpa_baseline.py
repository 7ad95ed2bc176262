#!/usr/bin/env python3
"""PyTorch scaled_dot_product_attention at attn-fwd's shapes: the baseline of issue 6's target.

For each mask and sequence length, times torch.nn.functional.scaled_dot_product_attention with
CUDA events (warm-up runs, then the median of --reps runs; min and max beside it) with PyTorch's
own backend choice ("auto", the baseline) and, for context, with each fused backend forced
(flash, efficient, cudnn) where this PyTorch has it. Inputs are standard normal in the given type,
shaped [1, batch*heads, seq, head_dim]: the same memory layout as attn-fwd's
[batch*heads][seq][head_dim]. TFLOP/s count 4*N*N*d*BH, halved for causal, as attn-fwd does.

Prints one JSON document, or writes it to --out. Exit status 1 without a CUDA device or torch.
"""
import argparse
import json
import statistics
import sys


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dtype", choices=["fp16", "bf16"], default="fp16")
    p.add_argument("--head-dim", type=int, choices=[64, 128], default=128)
    p.add_argument("--seqs", default="1024,2048,4096,8192", help="comma-separated sequence lengths")
    p.add_argument("--batch-heads", type=int, default=32)
    p.add_argument("--mask", choices=["none", "causal", "both"], default="none")
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--backends", default="auto,flash,efficient,cudnn",
                   help="comma-separated: auto (PyTorch's choice) and forced backends")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--spin-ms", type=float, default=500,
                   help="untimed SDPA calls for this long before the first timing, so the GPU has left "
                        "its idle clocks (an H100 idles near 345 MHz)")
    p.add_argument("--out", default="-")
    return p.parse_args()


def flops(seq, d, bh, causal):
    full = 4.0 * seq * seq * d * bh
    return full / 2 if causal else full


def backend_context(torch, name):
    """A context manager forcing one backend, or None when this PyTorch cannot force it."""
    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
    except ImportError:  # PyTorch < 2.3
        if name == "cudnn":
            return None
        flags = {"flash": dict(enable_flash=True, enable_math=False, enable_mem_efficient=False),
                 "efficient": dict(enable_flash=False, enable_math=False, enable_mem_efficient=True)}
        return torch.backends.cuda.sdp_kernel(**flags[name])
    member = {"flash": "FLASH_ATTENTION", "efficient": "EFFICIENT_ATTENTION",
              "cudnn": "CUDNN_ATTENTION"}[name]
    if not hasattr(SDPBackend, member):
        return None
    return sdpa_kernel(getattr(SDPBackend, member))


def auto_choice(torch, q, k, v, causal):
    """The backend PyTorch's dispatcher picks for these inputs (a private API: best effort)."""
    try:
        from torch.nn.attention import SDPBackend
        return SDPBackend(torch._fused_sdp_choice(q, k, v, None, 0.0, causal)).name.lower()
    except Exception:  # noqa: BLE001 - informational only
        return None


def time_call(torch, fn, warmup, reps):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    ms = []
    for _ in range(reps):
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        ms.append(start.elapsed_time(stop))
    return {"median": statistics.median(ms), "min": min(ms), "max": max(ms), "reps": reps}


def spin(torch, fn, ms):
    """Keeps the GPU busy for about `ms` milliseconds of wall time."""
    import time
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        for _ in range(10):
            fn()
        torch.cuda.synchronize()


def main():
    args = parse_args()
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        print(f"sdpa_baseline.py: PyTorch is not installed: {e}", file=sys.stderr)
        return 1
    if not torch.cuda.is_available():
        print("sdpa_baseline.py: no CUDA device visible to PyTorch", file=sys.stderr)
        return 1
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}[args.dtype]
    masks = {"none": [False], "causal": [True], "both": [False, True]}[args.mask]
    seqs = [int(s) for s in args.seqs.split(",") if s]
    backends = [b for b in args.backends.split(",") if b]
    gen = torch.Generator(device="cuda").manual_seed(args.seed)
    props = torch.cuda.get_device_properties(0)
    results = []
    for causal in masks:
        for seq in seqs:
            shape = (1, args.batch_heads, seq, args.head_dim)
            q, k, v = (torch.randn(shape, device="cuda", dtype=dtype, generator=gen) for _ in range(3))
            row = {"seq": seq, "batch_heads": args.batch_heads, "head_dim": args.head_dim,
                   "dtype": args.dtype, "causal": causal,
                   "flops": flops(seq, args.head_dim, args.batch_heads, causal),
                   "auto_backend": auto_choice(torch, q, k, v, causal), "backends": {}}

            def call():
                return F.scaled_dot_product_attention(q, k, v, is_causal=causal)

            if not results:
                spin(torch, call, args.spin_ms)

            for name in backends:
                entry = {}
                try:
                    if name == "auto":
                        entry["time_ms"] = time_call(torch, call, args.warmup, args.reps)
                    else:
                        ctx = backend_context(torch, name)
                        if ctx is None:
                            entry["error"] = "this PyTorch cannot force the backend"
                        else:
                            with ctx:
                                entry["time_ms"] = time_call(torch, call, args.warmup, args.reps)
                except RuntimeError as e:  # a backend refusing the shape or type
                    entry["error"] = str(e).splitlines()[0][:300]
                if "time_ms" in entry:
                    entry["tflops"] = row["flops"] / (entry["time_ms"]["median"] * 1e-3) / 1e12
                row["backends"][name] = entry
                print(f"sdpa: {args.dtype} d={args.head_dim} seq={seq} {'causal' if causal else 'full  '} "
                      f"{name:9s} " + (f"{entry['time_ms']['median']:8.3f} ms {entry['tflops']:6.1f} TFLOP/s"
                                       if "time_ms" in entry else entry["error"]), file=sys.stderr)
            results.append(row)
            del q, k, v
    doc = {"experiment": "sdpa-baseline",
           "device": {"name": props.name, "sm_count": props.multi_processor_count,
                      "torch": torch.__version__, "cuda": torch.version.cuda,
                      "cudnn": torch.backends.cudnn.version()},
           "config": vars(args), "results": results}
    text = json.dumps(doc, indent=2) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        with open(args.out, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
