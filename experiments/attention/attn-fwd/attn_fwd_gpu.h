// GPU side of attn-fwd, declared in plain C++ so that main.cc compiles without the CUDA toolkit.
// Implemented by naive_kernels.cu, tiled_kernel_*.cu and gpu_run.cu, which are built and linked
// only when nvcc is found (AHUB_HAVE_CUDA); call nothing here otherwise.
//
// Supported: fp16 and bf16 inputs, head dims 64 and 128, any sequence length >= 1, causal or not.
// Layout [batch*heads][seq][head_dim]; all launches go to the default stream. C++17, as the .cu
// files are.
// Errors: CUDA failures throw std::runtime_error naming the call and place.
// Thread-safety: uses the calling thread's current device.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "experiments/attention/attn-fwd/attention_cpu.h"

namespace attn::fwd {

// Device pointers (void*, as this header is plain C++) to `dtype` elements.
struct DeviceProblem {
  const void* q = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
  void* o = nullptr;
  Shape shape;
  DType dtype = DType::kF16;
};

// Tiled kernel block shapes: `warps` warps of `warp_rows` query rows each (16: the warp keeps its
// Q fragments in registers; 32: two m-tiles share every K/V fragment read from shared memory and
// Q is re-read from shared memory), K/V tiles of `block_n` keys, `stages` K/V tiles in shared
// memory at once (cp.async runs stages - 1 tiles ahead).
struct TiledLayout {
  int warps = 4;
  int warp_rows = 16;
  int block_n = 64;
  int stages = 2;
  int BlockM() const { return warps * warp_rows; }
  bool operator==(const TiledLayout& o) const {
    return warps == o.warps && warp_rows == o.warp_rows && block_n == o.block_n &&
           stages == o.stages;
  }
};
// The layouts built; the first, the fastest measured on an H100 (README.md), is the default. The
// others are kept for comparison: 16 rows per warp with Q in registers, and 8 warps with 3 stages.
inline constexpr TiledLayout kTiledLayouts[] = {{4, 32, 32, 2}, {4, 16, 64, 2}, {8, 16, 64, 3}};

// "4x16/64/2": warps x rows per warp / keys per K/V tile / stages.
inline std::string TiledLayoutName(const TiledLayout& l) {
  return std::to_string(l.warps) + "x" + std::to_string(l.warp_rows) + "/" +
         std::to_string(l.block_n) + "/" + std::to_string(l.stages);
}
inline std::string TiledLayoutsBuilt() {
  std::string text;
  for (const TiledLayout& l : kTiledLayouts)
    text += (text.empty() ? "" : ", ") + TiledLayoutName(l);
  return text;
}

// The three naive kernels (scores, row softmax, P.V); `scores` has room for NaiveExtraBytes.
void LaunchNaiveAttention(const DeviceProblem& p, float* scores);

// The tiled online-softmax kernel with one of kTiledLayouts; `lse` gets the batch_heads*seq
// per-row log-sum-exps (may be null).
void LaunchTiledAttention(const DeviceProblem& p, TiledLayout layout, float* lse);

struct GpuOptions {
  TiledLayout layout;
  int warmup = 3;
  int reps = 20;
};

struct GpuVariantRun {
  Variant variant = Variant::kTiled;
  bool skipped = false;
  std::string skip_reason;
  double median_ms = 0, min_ms = 0, max_ms = 0;
  int reps = 0;
  int64_t extra_bytes_measured = -1;  // cudaMemGetInfo delta across the variant's own allocation
  int64_t peak_bytes_measured = -1;   // the same, from before Q, K, V, O were allocated
  std::vector<uint16_t> out;          // output bits of the first (checked) run
  std::vector<float> lse;             // tiled only
};

// Uploads the inputs once; for each variant allocates its extra memory (the naive score matrix is
// skipped, with the reason, when it does not fit), poisons the output, runs once and downloads the
// output for checking, then times `reps` runs after `warmup`.
std::vector<GpuVariantRun> RunOnGpu(const Inputs& in, const std::vector<Variant>& variants,
                                    const GpuOptions& opt);

}  // namespace attn::fwd
