// The small kernels of a step: embedding gather, RMSNorm and RoPE for the baseline's prefill
// (decode fuses its norms into the GEMVs and its RoPE into attention), and the greedy argmax
// that appends the next token and advances the stream on the device.
#include <cmath>

#include "experiments/attention/common/cuda_util.cuh"
#include "experiments/attention/stream-decode/device_util.cuh"
#include "experiments/attention/stream-decode/kernels.cuh"

namespace attn::stream::gpu {
namespace {

constexpr int kRowThreads = 128;
constexpr int kNormWarps = 8;  // one row per warp
constexpr int kRopeThreads = 256;
constexpr int kArgmaxThreads = 1024;

__global__ void __launch_bounds__(kRowThreads)
    EmbedKernel(const half* __restrict__ table, const int* __restrict__ ring, int ring_size,
                const StreamState* state, int rows, int d_model, half* __restrict__ out) {
  const int row = blockIdx.x;
  const long long index = state->t - rows + 1 + row;  // >= 0: the host keeps the window full
  const long long slot = ((index % ring_size) + ring_size) % ring_size;
  const int token = ring[slot];
  const uint4* src = reinterpret_cast<const uint4*>(table + static_cast<size_t>(token) * d_model);
  uint4* dst = reinterpret_cast<uint4*>(out + static_cast<size_t>(row) * d_model);
  for (int i = threadIdx.x; i < d_model / 8; i += kRowThreads) dst[i] = src[i];
}

__global__ void __launch_bounds__(kNormWarps * 32)
    RmsNormKernel(const half* __restrict__ x, const half* __restrict__ gain, half* __restrict__ y,
                  int rows, int d_model, float eps) {
  const int row = blockIdx.x * kNormWarps + threadIdx.x / 32, lane = threadIdx.x % 32;
  if (row >= rows) return;
  const half* xr = x + static_cast<size_t>(row) * d_model;
  float sum2 = 0;
  for (int i = lane * 8; i < d_model; i += 32 * 8) {
    float v[8];
    Unpack8(*reinterpret_cast<const uint4*>(xr + i), v);
#pragma unroll
    for (int e = 0; e < 8; ++e) sum2 += v[e] * v[e];
  }
  const float inv = rsqrtf(WarpSum(sum2) / static_cast<float>(d_model) + eps);
  for (int i = lane * 8; i < d_model; i += 32 * 8) {
    float v[8], g[8];
    Unpack8(*reinterpret_cast<const uint4*>(xr + i), v);
    Unpack8(*reinterpret_cast<const uint4*>(gain + i), g);
#pragma unroll
    for (int e = 0; e < 8; ++e) v[e] = v[e] * inv * g[e];
    *reinterpret_cast<uint4*>(y + static_cast<size_t>(row) * d_model + i) = Pack8(v);
  }
}

// One thread per (row, pair) of Q and of K: d_model pairs per row.
__global__ void __launch_bounds__(kRopeThreads)
    RopeKernel(half* qkv, int rows, int d_model, const float2* __restrict__ rope) {
  const long long i = static_cast<long long>(blockIdx.x) * kRopeThreads + threadIdx.x;
  if (i >= static_cast<long long>(rows) * d_model) return;
  const int row = static_cast<int>(i / d_model), p = static_cast<int>(i % d_model);
  const int half_pairs = d_model / 2;
  const int part = p / half_pairs;  // 0: Q, 1: K
  const int pair = p % half_pairs;
  const int head = pair / (kHeadDim / 2), j = pair % (kHeadDim / 2);
  half2* at = reinterpret_cast<half2*>(qkv + static_cast<size_t>(row) * 3 * d_model +
                                       part * d_model + head * kHeadDim + 2 * j);
  const float2 x = __half22float2(*at);
  const float2 cs = rope[static_cast<size_t>(row) * (kHeadDim / 2) + j];
  *at = __floats2half2_rn(x.x * cs.x - x.y * cs.y, x.x * cs.y + x.y * cs.x);
}

// The better of two (value, index) candidates: larger value, then lower index.
__device__ inline void Better(float& v, int& i, float ov, int oi) {
  if (ov > v || (ov == v && oi < i)) {
    v = ov;
    i = oi;
  }
}

__global__ void __launch_bounds__(kArgmaxThreads)
    ArgmaxAdvanceKernel(const float* __restrict__ logits, int vocab, int* ring, int ring_size,
                        StreamState* state) {
  __shared__ float best_v[kArgmaxThreads / 32];
  __shared__ int best_i[kArgmaxThreads / 32];
  float v = -INFINITY;
  int idx = vocab;  // "none yet": loses every tie against a real index
  for (int i = threadIdx.x; i < vocab; i += kArgmaxThreads) Better(v, idx, logits[i], i);
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) {
    Better(v, idx, __shfl_xor_sync(0xffffffffu, v, offset),
           __shfl_xor_sync(0xffffffffu, idx, offset));
  }
  const int warp = threadIdx.x / 32;
  if (threadIdx.x % 32 == 0) {
    best_v[warp] = v;
    best_i[warp] = idx;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 1; w < kArgmaxThreads / 32; ++w) Better(v, idx, best_v[w], best_i[w]);
    const long long t = state->t;
    ring[(t + 1) % ring_size] =
        idx < vocab ? idx : 0;  // all-NaN logits: token 0 (the check fails on NaN)
    state->t = t + 1;
  }
}

}  // namespace

void LaunchEmbed(const half* table, const int* ring, int ring_size, const StreamState* state,
                 int rows, int d_model, half* out, cudaStream_t stream) {
  EmbedKernel<<<rows, kRowThreads, 0, stream>>>(table, ring, ring_size, state, rows, d_model, out);
  ATTN_CHECK_LAUNCH();
}

void LaunchRmsNorm(const half* x, const half* gain, half* y, int rows, int d_model, float eps,
                   cudaStream_t stream) {
  RmsNormKernel<<<(rows + kNormWarps - 1) / kNormWarps, kNormWarps * 32, 0, stream>>>(
      x, gain, y, rows, d_model, eps);
  ATTN_CHECK_LAUNCH();
}

void LaunchRope(half* qkv, int rows, int d_model, const float2* rope, cudaStream_t stream) {
  const long long threads = static_cast<long long>(rows) * d_model;
  RopeKernel<<<static_cast<unsigned>((threads + kRopeThreads - 1) / kRopeThreads), kRopeThreads, 0,
               stream>>>(qkv, rows, d_model, rope);
  ATTN_CHECK_LAUNCH();
}

void LaunchArgmaxAdvance(const float* logits, int vocab, int* ring, int ring_size,
                         StreamState* state, cudaStream_t stream) {
  ArgmaxAdvanceKernel<<<1, kArgmaxThreads, 0, stream>>>(logits, vocab, ring, ring_size, state);
  ATTN_CHECK_LAUNCH();
}

}  // namespace attn::stream::gpu
