// attn-fwd's measurement on the GPU: allocation with memory accounting, the checked first run,
// and event timing (see attn_fwd_gpu.h).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdio>
#include <stdexcept>

#include "experiments/attention/attn-fwd/attn_fwd_gpu.h"
#include "experiments/attention/common/cuda_util.cuh"

namespace attn::fwd {
namespace device {
// Defined in tiled_kernel_fp16.cu and tiled_kernel_bf16.cu (explicit instantiations).
template <typename T>
void LaunchTiled(const DeviceProblem& p, TiledLayout layout, float* lse);
}  // namespace device

namespace {

// Free memory left beside a variant's allocation for the context, the kernels' local memory and
// allocation rounding; a score matrix that would cut into it is reported as skipped.
constexpr int64_t kHeadroomBytes = int64_t{512} << 20;

std::string Gib(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f GiB", static_cast<double>(bytes) / (int64_t{1} << 30));
  return text;
}

}  // namespace

void LaunchTiledAttention(const DeviceProblem& p, TiledLayout layout, float* lse) {
  if (p.dtype == DType::kF16) {
    device::LaunchTiled<__half>(p, layout, lse);
  } else {
    device::LaunchTiled<__nv_bfloat16>(p, layout, lse);
  }
}

std::vector<GpuVariantRun> RunOnGpu(const Inputs& in, const std::vector<Variant>& variants,
                                    const GpuOptions& opt) {
  const Shape& shape = in.shape;
  const int64_t baseline = DeviceMemoryUsedBytes();
  DeviceBuffer<uint16_t> q(in.q_bits), k(in.k_bits), v(in.v_bits), o(in.q_bits.size());
  const DeviceProblem problem{q.get(), k.get(), v.get(), o.get(), shape, in.dtype};

  std::vector<GpuVariantRun> runs;
  for (Variant variant : variants) {
    GpuVariantRun run;
    run.variant = variant;
    const bool naive = variant == Variant::kNaive;
    const int64_t need = naive ? NaiveExtraBytes(shape) : TiledExtraBytes(shape);
    size_t free_bytes = 0, total_bytes = 0;
    ATTN_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    const std::string what = naive ? "the fp32 score matrix" : "the log-sum-exp vector";
    if (need + kHeadroomBytes > static_cast<int64_t>(free_bytes)) {
      run.skipped = true;
      run.skip_reason = what + " needs " + Gib(need) + " but the device has " +
                        Gib(static_cast<int64_t>(free_bytes)) + " free of " +
                        Gib(static_cast<int64_t>(total_bytes)) + " (" + Gib(kHeadroomBytes) +
                        " kept as headroom)";
      runs.push_back(std::move(run));
      continue;
    }
    const int64_t before = DeviceMemoryUsedBytes();
    DeviceBuffer<float> extra;
    try {
      extra = DeviceBuffer<float>(static_cast<size_t>(need) / sizeof(float));
    } catch (const std::runtime_error& e) {
      cudaGetLastError();  // an out-of-memory error is not sticky; clear it for the next variant
      run.skipped = true;
      run.skip_reason = what + " (" + Gib(need) + ") could not be allocated: " + e.what();
      runs.push_back(std::move(run));
      continue;
    }
    const int64_t after = DeviceMemoryUsedBytes();
    run.extra_bytes_measured = after - before;
    run.peak_bytes_measured = after - baseline;

    const auto launch = [&] {
      if (naive) {
        LaunchNaiveAttention(problem, extra.get());
      } else {
        LaunchTiledAttention(problem, opt.layout, extra.get());
      }
    };
    // The checked run: outputs poisoned (0xff bytes are NaN in fp16, bf16 and fp32), so anything
    // the kernel leaves unwritten fails the comparison.
    o.Poison();
    if (!naive) extra.Poison();
    launch();
    ATTN_CUDA_CHECK(cudaDeviceSynchronize());
    run.out = o.Download();
    if (!naive) run.lse = extra.Download();

    if (opt.reps > 0) {
      const Timing t = TimeKernel(opt.warmup, opt.reps, launch);
      run.median_ms = t.median_ms;
      run.min_ms = t.min_ms;
      run.max_ms = t.max_ms;
      run.reps = t.reps;
    }
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace attn::fwd
