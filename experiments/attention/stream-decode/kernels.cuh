// The CUDA kernels of one stream-decode step, as launch functions (internal to this folder;
// gpu_model.cu strings them together). Every launcher checks its launch (ATTN_CHECK_LAUNCH) and
// enqueues on `stream` only, so a step can be captured in a CUDA graph.
//
// Tensors are row-major fp16 (`half`) unless noted. Shapes the kernels rely on (checked by
// ValidateConfigForGpu and by the launchers): head_dim 64; d_model and ffn multiples of 128.
// Thread-safety: as the CUDA runtime.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstddef>

#include "experiments/attention/stream-decode/cache_layout.h"

namespace attn::stream::gpu {

inline constexpr int kHeadDim = 64;

// The stream's position on the device. Kernels of a step read `t`, the index of the token being
// consumed; the step's last kernel advances it, so a captured graph replays as the next token.
struct StreamState {
  long long t;
};

// ---- linear layers (linear.cu) ----
enum class GemmEpilogue { kStore, kAddResidual, kSilu };
// C[m][n] = epilogue(A[m][k] . W[n][k]^T) on tensor cores (WMMA, fp32 accumulation); with
// kAddResidual, C = residual + product (residual may alias C). k % 32 == 0, n % 64 == 0.
// The tile (128x128 or 64x64) is chosen from the block count against `sm_count`.
void LaunchGemm(GemmEpilogue epilogue, const half* a, const half* w, half* c, const half* residual,
                int m, int n, int k, int sm_count, cudaStream_t stream);
// Opts the GEMM kernels into more than 48 KiB of shared memory; once, before any capture.
void ConfigureGemm();

// y = W x for one row x (decode), W [n][k] streamed with 16-byte loads; when `norm_gain` is set
// x is first RMS-normalised (and rounded to fp16, as the unfused path would store it).
enum class GemvOut {
  kStore,        // out[n] = y
  kAddResidual,  // out[n] = residual[n] + y (may alias)
  kSilu,         // out[n] = SiLU(y)
  kLogits,       // logits[n] = y (fp32)
  kQkvToCache,   // y = [q | k | v]: q to `q`, k and v into the cache slot of token state->t
};
struct GemvArgs {
  const half* w = nullptr;
  const half* x = nullptr;
  const half* norm_gain = nullptr;
  float norm_eps = 0;
  int n = 0, k = 0;
  half* out = nullptr;
  const half* residual = nullptr;
  float* logits = nullptr;
  half* q = nullptr;
  half* k_cache = nullptr;  // [slots][d_model], this layer
  half* v_cache = nullptr;
  const StreamState* state = nullptr;
  CacheLayout layout;
  int d_model = 0;
};
void LaunchGemv(GemvOut out, const GemvArgs& args, cudaStream_t stream);

// ---- attention (attention.cu) ----
// Sink + window decode for one layer: the query `q` ([d_model], RoPE not yet applied) of token
// state->t against every occupied slot of the cache after its admission, keys rotated to their
// cache positions on the fly (rope: [positions][32] of (cos, sin)). Split over chunks of slots,
// then combined; partial_o holds heads * DecodeChunks(capacity) * 64 floats, partial_ml twice
// that over 64. Writes out[d_model].
int DecodeChunks(int capacity);
void LaunchDecodeAttention(const half* q, const half* k_cache, const half* v_cache,
                           const StreamState* state, CacheLayout layout, const float2* rope,
                           int heads, int d_model, float* partial_o, float* partial_ml, half* out,
                           cudaStream_t stream);
// Causal attention of a prefill: qkv [rows][3 * d_model] (Q and K already rotated), out
// [rows][d_model]. Tensor-core tiles of 64 queries x 64 keys with an online softmax.
void LaunchPrefillAttention(const half* qkv, int rows, int heads, int d_model, half* out,
                            cudaStream_t stream);
void ConfigurePrefillAttention();

// ---- the rest of a step (step_kernels.cu) ----
// out[r] = embedding of token (t - rows + 1 + r), read from the ring (ring[i % ring_size] = token
// i).
void LaunchEmbed(const half* table, const int* ring, int ring_size, const StreamState* state,
                 int rows, int d_model, half* out, cudaStream_t stream);
void LaunchRmsNorm(const half* x, const half* gain, half* y, int rows, int d_model, float eps,
                   cudaStream_t stream);
// RoPE in place on the Q and K parts of qkv [rows][3 * d_model], row r at position r.
void LaunchRope(half* qkv, int rows, int d_model, const float2* rope, cudaStream_t stream);
// Greedy next token: ring[(t + 1) % ring_size] = argmax(logits) (lowest index on ties); t += 1.
void LaunchArgmaxAdvance(const float* logits, int vocab, int* ring, int ring_size,
                         StreamState* state, cudaStream_t stream);

}  // namespace attn::stream::gpu
