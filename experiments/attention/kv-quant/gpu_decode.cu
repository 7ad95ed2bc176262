// Decode attention (one query token per head) over a KIVI 2-bit cache and over an fp16 cache,
// flash-decoding style: a split kernel gives each (split of the context, head) pair one thread
// block that writes a softmax partial (max, sum, unnormalised output), and a combine kernel
// merges a head's partials. Both caches are read with 16-byte loads, a warp covering 512
// contiguous bytes per load instruction; the work per byte is small, so both are meant to run
// at memory bandwidth, and the 2-bit cache wins by reading about a fifth of the bytes.
//
// The KIVI split kernel reads packed codes and dequantizes in registers. Two choices keep its
// arithmetic near one FMA per code, which is what lets it keep up with memory:
//  1. Dequantization is folded into the dot products (as reference.h's model spells out):
//     keys: q . (code x s + z) over a group's channels = sum_c (q_c s_c) code_c + sum_c q_c z_c,
//     with q_c s_c and the bias computed once per key group of G tokens per thread block;
//     values: sum_t p_t (code x s_t + z_t) = sum_t (p_t s_t) code + sum_t p_t z_t per value group.
//  2. A code becomes an FMA operand with one AND: bits 2i..2i+1 of a word with sign and exponent
//     bits clear are the subnormal float code x 2^(2i) x 2^-149, so the FMA's other operand
//     carries the factor 2^(149 - 2i) (split between it and a final rescale so nothing overflows;
//     all such factors are powers of two, so the products are the exact ones). These FMAs use
//     __fmaf_ieee_rn, which keeps subnormals even if this file is built with -ftz=true.
// The residual window's fp16 rows are extra splits of the same kernel, run by the fp16 path.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "experiments/attention/common/cuda_util.cuh"
#include "experiments/attention/kv-quant/gpu_decode.h"
#include "experiments/attention/kv-quant/layout.h"

namespace attn::kvquant {
namespace {

constexpr int kHeadDim = 128;
constexpr int kThreads = 128;  // == kHeadDim: steps that go channel by channel use one thread each
constexpr int kWarps = kThreads / 32;
constexpr unsigned kFullMask = 0xffffffffu;
static_assert(kThreads == kHeadDim, "per-channel steps assume one thread per channel");

constexpr int kCodeRowPieces = kHeadDim / 64;   // 16-byte pieces (64 codes) in a row of codes
constexpr int kHalfRowPieces = kHeadDim / 8;    // 16-byte pieces (8 fp16) in an fp16 row
constexpr int kKeyParamBlocks = kHeadDim / 16;  // blocks of 16 channels (64 bytes of parameters)

// Exponents of the power-of-two factors of note 2 in the file comment. A subnormal code operand
// is code x 2^(2i - kSubnormalExp).
constexpr int kSubnormalExp = 149;
// Key dot products accumulate at 2^-54 of their value: (q s) x 2^(149 - 54 - 2i) stays below
// 2^127 for any fp16 q and scale (|q s| < 2^32), and 2^-54 leaves far more than fp32's range.
constexpr int kKeyAccExp = 54;
constexpr int kKeyQtExp = kSubnormalExp - kKeyAccExp;  // qt_c = q_c s_c 2^(95 - 2i)
// Value weights p s are carried as p s 2^100 (p <= 1, |s| < 2^16: no overflow); the products
// land at 2^(2i - 49) of their value and are scaled back per channel at the end.
constexpr int kValueWeightExp = 100;
constexpr int kValueOutExp = kSubnormalExp - kValueWeightExp;  // out_c = acc_c 2^(49 - 2i)

__device__ __forceinline__ float Pow2(int e) { return __int_as_float((e + 127) << 23); }

// Code i (0..7) of the low 16 bits of `word`, as the subnormal code x 2^(2i) x 2^-149.
__device__ __forceinline__ float CodeAsSubnormal(uint32_t word, int i) {
  return __uint_as_float(word & (3u << (2 * i)));
}

__device__ __forceinline__ float HalfLow(uint32_t w) {
  return __half2float(__ushort_as_half(static_cast<unsigned short>(w & 0xffffu)));
}
__device__ __forceinline__ float HalfHigh(uint32_t w) {
  return __half2float(__ushort_as_half(static_cast<unsigned short>(w >> 16)));
}

__device__ __forceinline__ void Unpack8(uint4 raw, float (&out)[8]) {
  const uint32_t w[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    out[2 * j] = HalfLow(w[j]);
    out[2 * j + 1] = HalfHigh(w[j]);
  }
}

// ---- block-wide reductions and the split's softmax -------------------------------------------

__device__ __forceinline__ float WarpMax(float x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(kFullMask, x, o));
  return x;
}

__device__ __forceinline__ float WarpSum(float x) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(kFullMask, x, o);
  return x;
}

// The block's max (or sum) of x, in every thread. `scratch` holds kWarps floats; the leading
// barrier lets consecutive calls share it, and the calls double as barriers for the caller.
__device__ float BlockReduce(float x, float* scratch, bool max) {
  x = max ? WarpMax(x) : WarpSum(x);
  __syncthreads();
  if ((threadIdx.x & 31) == 0) scratch[threadIdx.x >> 5] = x;
  __syncthreads();
  float r = scratch[0];
#pragma unroll
  for (int w = 1; w < kWarps; ++w) r = max ? fmaxf(r, scratch[w]) : r + scratch[w];
  return r;
}

// Scores (base 2) of tokens [0, n) to weights 2^(s - m) in place; returns (m, sum of weights).
// The caller has made the scores visible (a barrier); the weights are visible on return.
__device__ float2 SoftmaxInPlace(float* score, int n, float* scratch) {
  float m = -INFINITY;
  for (int i = threadIdx.x; i < n; i += kThreads) m = fmaxf(m, score[i]);
  m = BlockReduce(m, scratch, true);
  float l = 0;
  for (int i = threadIdx.x; i < n; i += kThreads) {
    const float p = exp2f(score[i] - m);
    score[i] = p;
    l += p;
  }
  l = BlockReduce(l, scratch, false);
  return make_float2(m, l);
}

// ---- fp16 split: the baseline kernel, and the residual window of the KIVI kernel -------------

struct Fp16Shared {
  float score[kFp16SplitTokens];
  float red[kWarps][kHeadDim];
  float scratch[kWarps];
};

// Attention partial of rows [0, n) of fp16 keys k and values v ([n][kHeadDim], as 16-byte
// pieces). Lanes 0-15 of a warp read one row, lanes 16-31 the next: 8 channels per lane.
__device__ void Fp16Split(const __half* q, const uint4* k, const uint4* v, int n, float q_scale,
                          float* out_o, float* out_ml, Fp16Shared& sm) {
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int slot = lane >> 4;   // which of the warp's two rows
  const int piece = lane & 15;  // channels 8 * piece .. 8 * piece + 7
  constexpr int kStep = 2 * kWarps;
  constexpr int kUnroll = 8;  // 8 loads of 16 bytes in flight per lane

  float qv[8];
  Unpack8(*reinterpret_cast<const uint4*>(q + 8 * piece), qv);
#pragma unroll
  for (int e = 0; e < 8; ++e) qv[e] *= q_scale;

  for (int base = 2 * warp; base < n; base += kStep * kUnroll) {  // uniform per warp
    uint4 rows[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int tok = base + u * kStep + slot;
      rows[u] = tok < n ? __ldg(k + static_cast<int64_t>(tok) * kHalfRowPieces + piece)
                        : make_uint4(0, 0, 0, 0);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      float kv[8];
      Unpack8(rows[u], kv);
      float s = 0;
#pragma unroll
      for (int e = 0; e < 8; ++e) s = fmaf(qv[e], kv[e], s);
#pragma unroll
      for (int o = 8; o > 0; o >>= 1) s += __shfl_xor_sync(kFullMask, s, o);  // within 16 lanes
      const int tok = base + u * kStep + slot;
      if (piece == 0 && tok < n) sm.score[tok] = s;
    }
  }
  __syncthreads();
  const float2 ml = SoftmaxInPlace(sm.score, n, sm.scratch);

  float acc[8] = {};
  for (int base = 2 * warp; base < n; base += kStep * kUnroll) {
    uint4 rows[kUnroll];
    float p[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int tok = base + u * kStep + slot;
      const bool valid = tok < n;
      rows[u] = valid ? __ldg(v + static_cast<int64_t>(tok) * kHalfRowPieces + piece)
                      : make_uint4(0, 0, 0, 0);
      p[u] = valid ? sm.score[tok] : 0.0f;
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      float vv[8];
      Unpack8(rows[u], vv);
#pragma unroll
      for (int e = 0; e < 8; ++e) acc[e] = fmaf(p[u], vv[e], acc[e]);
    }
  }
#pragma unroll
  for (int e = 0; e < 8; ++e) acc[e] += __shfl_xor_sync(kFullMask, acc[e], 16);
  if (slot == 0) {
#pragma unroll
    for (int e = 0; e < 8; ++e) sm.red[warp][8 * piece + e] = acc[e];
  }
  __syncthreads();
  float o = 0;
#pragma unroll
  for (int w = 0; w < kWarps; ++w) o += sm.red[w][tid];
  out_o[tid] = o;
  if (tid == 0) {
    out_ml[0] = ml.x;
    out_ml[1] = ml.y;
  }
}

// ---- KIVI split -------------------------------------------------------------------------------

template <int G>
struct KiviShared {
  static constexpr int kGroups = kQuantSplitTokens / G;
  // A lane's 64 channels, padded by 16 bytes so that the two halves of a row (read at the same
  // time by the two lanes of a token) start in different shared-memory banks.
  static constexpr int kHalfStride = 64 + 4;
  float q[kHeadDim];
  float score[kQuantSplitTokens];
  float bias_part[kGroups][kKeyParamBlocks];
  float bias[kGroups];
  float scratch[kWarps];
  union alignas(16) {                    // read and written as float4
    float qt[kGroups][2 * kHalfStride];  // keys: q_c s_c 2^(95 - 2i) per group and channel
    float red[kWarps][32][kHalfStride];  // values: each lane's 64 channel sums
  } u;
};

template <int G>
union SplitShared {
  KiviShared<G> kivi;
  Fp16Shared fp16;
};

struct KiviParams {
  const __half* q;           // [heads][kHeadDim]
  const uint4* k_codes;      // [heads][quantized][kCodeRowPieces]
  const uint32_t* k_params;  // [heads][quantized / G][kHeadDim] (scale | zero << 16)
  const uint4* v_codes;      // [heads][quantized][kCodeRowPieces]
  const uint32_t* v_params;  // [heads][quantized][kHeadDim / G]
  const uint4* k_residual;   // [heads][residual][kHalfRowPieces]
  const uint4* v_residual;
  float* partial_o;   // [heads][splits][kHeadDim]
  float* partial_ml;  // [heads][splits][2]
  int64_t quantized;
  int64_t residual;
  int quant_splits;
  int splits;
  float q_scale;
};

// Partial dot product of one token's 64 key codes (one 16-byte piece) with qt (64 floats).
__device__ __forceinline__ float DotCodes(uint4 codes, const float* qt) {
  const uint32_t w[4] = {codes.x, codes.y, codes.z, codes.w};
  float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const float4* q4 = reinterpret_cast<const float4*>(qt + 16 * j);
    const float4 a = q4[0], b = q4[1], c = q4[2], d = q4[3];
    const float lo[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};  // channels 16j + 0..7
    const float hi[8] = {c.x, c.y, c.z, c.w, d.x, d.y, d.z, d.w};  // channels 16j + 8..15
    const uint32_t wl = w[j], wh = w[j] >> 16;
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      acc[j] = __fmaf_ieee_rn(lo[i], CodeAsSubnormal(wl, i), acc[j]);
      acc[j] = __fmaf_ieee_rn(hi[i], CodeAsSubnormal(wh, i), acc[j]);
    }
  }
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

// acc[c] += weight of c's group x code, for one token's 64 value codes.
template <int kLaneGroups>
__device__ __forceinline__ void AccumulateCodes(uint4 codes, const float (&weight)[kLaneGroups],
                                                float (&acc)[64]) {
  constexpr int kGroupChannels = 64 / kLaneGroups;
  const uint32_t w[4] = {codes.x, codes.y, codes.z, codes.w};
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const uint32_t wl = w[j], wh = w[j] >> 16;
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const int c = 16 * j + i;
      acc[c] = __fmaf_ieee_rn(weight[c / kGroupChannels], CodeAsSubnormal(wl, i), acc[c]);
      acc[c + 8] =
          __fmaf_ieee_rn(weight[(c + 8) / kGroupChannels], CodeAsSubnormal(wh, i), acc[c + 8]);
    }
  }
}

// Attention partial of quantized tokens [t0, t0 + n), n a multiple of G. Each token's 128 codes
// are two 16-byte pieces read by two neighbouring lanes: a warp takes 16 tokens per load.
template <int G>
__device__ void QuantSplit(const KiviParams& p, int64_t head, int split, float* out_o,
                           float* out_ml, KiviShared<G>& sm) {
  using Shared = KiviShared<G>;
  constexpr int kRowGroups = kHeadDim / G;           // value groups in a row
  constexpr int kLaneGroups = G >= 64 ? 1 : 64 / G;  // value groups in a lane's 64 channels
  constexpr int kStep = 16 * kWarps;                 // tokens per block step
  constexpr int kUnroll = 4;                         // 4 loads of 16 bytes in flight per lane
  static_assert(G % 16 == 0, "a warp's 16 tokens must share one key group");
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int half = lane & 1;   // which 64 channels of the token
  const int slot = lane >> 1;  // which of the warp's 16 tokens
  const int64_t t0 = static_cast<int64_t>(split) * kQuantSplitTokens;
  const int n = static_cast<int>(min(static_cast<int64_t>(kQuantSplitTokens), p.quantized - t0));
  const int groups = n / G;

  sm.q[tid] = __half2float(p.q[head * kHeadDim + tid]) * p.q_scale;
  __syncthreads();

  // 1. The query folded into each key group's scales (qt) and zero points (bias), once per block.
  const uint4* kp = reinterpret_cast<const uint4*>(p.k_params) +
                    (head * (p.quantized / G) + t0 / G) * (kHeadDim / 4);
  for (int item = tid; item < groups * kKeyParamBlocks; item += kThreads) {
    const int g = item / kKeyParamBlocks, block = item % kKeyParamBlocks;
    float bias = 0;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const uint4 raw = __ldg(kp + g * (kHeadDim / 4) + block * 4 + j);
      const uint32_t words[4] = {raw.x, raw.y, raw.z, raw.w};
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int c = block * 16 + j * 4 + e;  // c % 8 == (4j + e) % 8, known at compile time
        sm.u.qt[g][(c / 64) * Shared::kHalfStride + c % 64] =
            sm.q[c] * HalfLow(words[e]) * Pow2(kKeyQtExp - 2 * ((4 * j + e) % 8));
        bias = fmaf(sm.q[c], HalfHigh(words[e]), bias);
      }
    }
    sm.bias_part[g][block] = bias;
  }
  __syncthreads();
  if (tid < groups) {
    float b = 0;
#pragma unroll
    for (int k = 0; k < kKeyParamBlocks; ++k) b += sm.bias_part[tid][k];
    sm.bias[tid] = b;
  }
  __syncthreads();

  // 2. Scores, base 2.
  const uint4* kc = p.k_codes + (head * p.quantized + t0) * kCodeRowPieces;
  for (int base = 16 * warp; base < n; base += kStep * kUnroll) {  // uniform per warp
    uint4 codes[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int tok = base + u * kStep + slot;
      codes[u] = tok < n ? __ldg(kc + tok * kCodeRowPieces + half) : make_uint4(0, 0, 0, 0);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int tok = base + u * kStep + slot;
      const int g = min(tok, n - 1) / G;
      float s = DotCodes(codes[u], &sm.u.qt[g][half * Shared::kHalfStride]);
      s += __shfl_xor_sync(kFullMask, s, 1);
      if (half == 0 && tok < n) sm.score[tok] = fmaf(s, Pow2(kKeyAccExp), sm.bias[g]);
    }
  }
  __syncthreads();
  const float2 ml = SoftmaxInPlace(sm.score, n, sm.scratch);

  // 3. Values: each lane sums its 64 channels over its tokens.
  const uint4* vc = p.v_codes + (head * p.quantized + t0) * kCodeRowPieces;
  const uint32_t* vp = p.v_params + (head * p.quantized + t0) * kRowGroups + (64 * half) / G;
  float acc[64] = {};
  float zero_sum[kLaneGroups] = {};
  for (int base = 16 * warp; base < n; base += kStep * kUnroll) {
    uint4 codes[kUnroll];
    uint32_t prm[kUnroll][kLaneGroups];
    float w[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int tok = base + u * kStep + slot;
      const bool valid = tok < n;
      codes[u] = valid ? __ldg(vc + tok * kCodeRowPieces + half) : make_uint4(0, 0, 0, 0);
      if constexpr (kLaneGroups == 2) {
        const uint2 two =
            valid ? __ldg(reinterpret_cast<const uint2*>(vp + tok * kRowGroups)) : make_uint2(0, 0);
        prm[u][0] = two.x;
        prm[u][1] = two.y;
      } else {
        prm[u][0] = valid ? __ldg(vp + tok * kRowGroups) : 0u;
      }
      w[u] = valid ? sm.score[tok] : 0.0f;
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      float weight[kLaneGroups];
#pragma unroll
      for (int j = 0; j < kLaneGroups; ++j) {
        weight[j] = w[u] * Pow2(kValueWeightExp) * HalfLow(prm[u][j]);
        zero_sum[j] = fmaf(w[u], HalfHigh(prm[u][j]), zero_sum[j]);
      }
      AccumulateCodes<kLaneGroups>(codes[u], weight, acc);
    }
  }
  // Undo the per-position factor, add the zero points' share, and sum the 64 lanes per channel.
  // (red shares storage with qt, whose last reads were before the softmax's barriers.)
  float4* red = reinterpret_cast<float4*>(sm.u.red[warp][lane]);
#pragma unroll
  for (int c = 0; c < 64; c += 4) {
    float r[4];
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      r[e] = fmaf(acc[c + e], Pow2(kValueOutExp - 2 * ((c + e) % 8)),
                  zero_sum[(c + e) / (64 / kLaneGroups)]);
    }
    red[c / 4] = make_float4(r[0], r[1], r[2], r[3]);
  }
  __syncthreads();
  const int h = tid / 64, c = tid % 64;
  float o = 0;
#pragma unroll
  for (int wp = 0; wp < kWarps; ++wp) {
#pragma unroll
    for (int s = 0; s < 16; ++s) o += sm.u.red[wp][2 * s + h][c];
  }
  out_o[tid] = o;
  if (tid == 0) {
    out_ml[0] = ml.x;
    out_ml[1] = ml.y;
  }
}

// grid (splits, heads): splits [0, quant_splits) read the quantized prefix, the rest the window.
template <int G>
__global__ void __launch_bounds__(kThreads, 4) KiviDecodeKernel(KiviParams p) {
  __shared__ SplitShared<G> sm;
  const int split = blockIdx.x;
  const int64_t head = blockIdx.y;
  float* out_o = p.partial_o + (head * p.splits + split) * kHeadDim;
  float* out_ml = p.partial_ml + (head * p.splits + split) * 2;
  if (split < p.quant_splits) {
    QuantSplit<G>(p, head, split, out_o, out_ml, sm.kivi);
  } else {
    const int64_t r0 = static_cast<int64_t>(split - p.quant_splits) * kFp16SplitTokens;
    const int n = static_cast<int>(min(static_cast<int64_t>(kFp16SplitTokens), p.residual - r0));
    const int64_t row = head * p.residual + r0;
    Fp16Split(p.q + head * kHeadDim, p.k_residual + row * kHalfRowPieces,
              p.v_residual + row * kHalfRowPieces, n, p.q_scale, out_o, out_ml, sm.fp16);
  }
}

struct Fp16Params {
  const __half* q;  // [heads][kHeadDim]
  const uint4* k;   // [heads][tokens][kHalfRowPieces]
  const uint4* v;
  float* partial_o;   // [heads][splits][kHeadDim]
  float* partial_ml;  // [heads][splits][2]
  int64_t tokens;
  int splits;
  float q_scale;
};

__global__ void __launch_bounds__(kThreads, 4) Fp16DecodeKernel(Fp16Params p) {
  __shared__ Fp16Shared sm;
  const int split = blockIdx.x;
  const int64_t head = blockIdx.y;
  const int64_t t0 = static_cast<int64_t>(split) * kFp16SplitTokens;
  const int n = static_cast<int>(min(static_cast<int64_t>(kFp16SplitTokens), p.tokens - t0));
  const int64_t row = head * p.tokens + t0;
  Fp16Split(p.q + head * kHeadDim, p.k + row * kHalfRowPieces, p.v + row * kHalfRowPieces, n,
            p.q_scale, p.partial_o + (head * p.splits + split) * kHeadDim,
            p.partial_ml + (head * p.splits + split) * 2, sm);
}

// One block per head, one thread per channel: out = sum_s o_s 2^(m_s - m) / sum_s l_s 2^(m_s - m).
__global__ void __launch_bounds__(kHeadDim)
    CombineKernel(const float* partial_o, const float* partial_ml, int splits, float* out) {
  const int64_t head = blockIdx.x;
  const int c = threadIdx.x;
  const float* ml = partial_ml + head * splits * 2;
  float m = -INFINITY;
  for (int s = 0; s < splits; ++s) m = fmaxf(m, ml[2 * s]);
  float l = 0, o = 0;
  for (int s = 0; s < splits; ++s) {
    const float w = exp2f(ml[2 * s] - m);
    l = fmaf(ml[2 * s + 1], w, l);
    o = fmaf(partial_o[(head * splits + s) * kHeadDim + c], w, o);
  }
  out[head * kHeadDim + c] = o / l;
}

// ---- host side ----------------------------------------------------------------------------

float QueryScale() {
  return static_cast<float>(1.4426950408889634 / std::sqrt(static_cast<double>(kHeadDim)));
}

template <typename T>
void CopyToDevice(T* dst, const T* src, int64_t count) {
  if (count > 0)
    ATTN_CUDA_CHECK(
        cudaMemcpy(dst, src, static_cast<size_t>(count) * sizeof(T), cudaMemcpyHostToDevice));
}

void CheckHeads(int64_t heads, size_t caches, const std::vector<uint16_t>& queries) {
  if (heads < 1 || heads > 65535)
    throw std::runtime_error("GPU decode: heads must be 1..65535 (grid y)");
  if (caches == 0) throw std::runtime_error("GPU decode: no caches");
  if (queries.size() != static_cast<size_t>(heads) * kHeadDim) {
    throw std::runtime_error("GPU decode: queries must be heads x head_dim fp16 values");
  }
}

// Runs `launch` once on poisoned output, downloads and checks it, then times it when asked.
template <typename Launch>
void RunAndTime(const Launch& launch, DeviceBuffer<float>& out, const GpuRunOptions& options,
                GpuDecodeResult* result) {
  out.Poison();
  launch();
  ATTN_CUDA_CHECK(cudaDeviceSynchronize());
  result->output = out.Download();
  if (options.check_before_timing) options.check_before_timing(result->output);
  if (options.time) {
    const Timing t = TimeKernel(options.warmup, options.reps, launch);
    ATTN_CUDA_CHECK(cudaDeviceSynchronize());
    result->timed = true;
    result->median_ms = t.median_ms;
    result->min_ms = t.min_ms;
    result->max_ms = t.max_ms;
    result->reps = t.reps;
  }
}

template <int G>
GpuDecodeResult RunKivi(const KiviBatchView& b, int64_t heads, const std::vector<uint16_t>& queries,
                        const GpuRunOptions& options) {
  const int64_t nq = b.quantized, nr = b.residual;
  const int64_t code_words = nq * (kHeadDim / kCodesPerWord);
  const int64_t key_param_words = nq / G * kHeadDim;  // one (scale, zero) pair per uint32
  const int64_t value_param_words = nq * (kHeadDim / G);
  const int64_t residual_halves = nr * kHeadDim;

  DeviceBuffer<uint32_t> k_codes(heads * code_words), v_codes(heads * code_words);
  DeviceBuffer<uint32_t> k_params(heads * key_param_words), v_params(heads * value_param_words);
  DeviceBuffer<uint16_t> k_res(heads * residual_halves), v_res(heads * residual_halves);
  for (int64_t h = 0; h < heads; ++h) {
    const KiviHeadView& c = b.caches[static_cast<size_t>(h) % b.caches.size()];
    CopyToDevice(k_codes.get() + h * code_words, c.key_codes, code_words);
    CopyToDevice(v_codes.get() + h * code_words, c.value_codes, code_words);
    CopyToDevice(k_params.get() + h * key_param_words,
                 reinterpret_cast<const uint32_t*>(c.key_params), key_param_words);
    CopyToDevice(v_params.get() + h * value_param_words,
                 reinterpret_cast<const uint32_t*>(c.value_params), value_param_words);
    CopyToDevice(k_res.get() + h * residual_halves, c.key_residual, residual_halves);
    CopyToDevice(v_res.get() + h * residual_halves, c.value_residual, residual_halves);
  }
  DeviceBuffer<uint16_t> q(queries);
  const KiviSplitPlan plan = PlanKiviSplits(nq, nr);
  DeviceBuffer<float> partial_o(static_cast<size_t>(heads) * plan.splits() * kHeadDim);
  DeviceBuffer<float> partial_ml(static_cast<size_t>(heads) * plan.splits() * 2);
  DeviceBuffer<float> out(static_cast<size_t>(heads) * kHeadDim);
  partial_o.Poison();
  partial_ml.Poison();

  KiviParams p{};
  p.q = reinterpret_cast<const __half*>(q.get());
  p.k_codes = reinterpret_cast<const uint4*>(k_codes.get());
  p.k_params = k_params.get();
  p.v_codes = reinterpret_cast<const uint4*>(v_codes.get());
  p.v_params = v_params.get();
  p.k_residual = reinterpret_cast<const uint4*>(k_res.get());
  p.v_residual = reinterpret_cast<const uint4*>(v_res.get());
  p.partial_o = partial_o.get();
  p.partial_ml = partial_ml.get();
  p.quantized = nq;
  p.residual = nr;
  p.quant_splits = plan.quant_splits;
  p.splits = plan.splits();
  p.q_scale = QueryScale();
  const dim3 grid(static_cast<unsigned>(plan.splits()), static_cast<unsigned>(heads));
  auto launch = [&] {
    KiviDecodeKernel<G><<<grid, kThreads>>>(p);
    ATTN_CHECK_LAUNCH();
    CombineKernel<<<static_cast<unsigned>(heads), kHeadDim>>>(partial_o.get(), partial_ml.get(),
                                                              plan.splits(), out.get());
    ATTN_CHECK_LAUNCH();
  };

  GpuDecodeResult r;
  r.splits = plan.splits();
  r.device_bytes = static_cast<int64_t>(k_codes.bytes() + v_codes.bytes() + k_params.bytes() +
                                        v_params.bytes() + k_res.bytes() + v_res.bytes());
  r.bytes_read = r.device_bytes + static_cast<int64_t>(q.bytes());
  RunAndTime(launch, out, options, &r);
  return r;
}

}  // namespace

std::string KiviGpuSupports(int head_dim, int group_size) {
  if (head_dim != kHeadDim) {
    return "the kernels are built for head_dim " + std::to_string(kHeadDim) + ", not " +
           std::to_string(head_dim);
  }
  if (group_size != 32 && group_size != 64 && group_size != 128) {
    return "the KIVI kernel is built for group sizes 32, 64 and 128, not " +
           std::to_string(group_size);
  }
  return "";
}

GpuDecodeResult RunKiviDecodeGpu(const KiviBatchView& batch, int64_t heads,
                                 const std::vector<uint16_t>& queries,
                                 const GpuRunOptions& options) {
  if (const std::string e = KiviGpuSupports(batch.head_dim, batch.group_size); !e.empty()) {
    throw std::runtime_error("RunKiviDecodeGpu: " + e);
  }
  CheckHeads(heads, batch.caches.size(), queries);
  if (batch.quantized % batch.group_size != 0 || batch.quantized + batch.residual < 1) {
    throw std::runtime_error(
        "RunKiviDecodeGpu: need >= 1 token and a quantized prefix of whole groups");
  }
  switch (batch.group_size) {
    case 32:
      return RunKivi<32>(batch, heads, queries, options);
    case 64:
      return RunKivi<64>(batch, heads, queries, options);
    default:
      return RunKivi<128>(batch, heads, queries, options);
  }
}

GpuDecodeResult RunFp16DecodeGpu(const Fp16BatchView& batch, int64_t heads,
                                 const std::vector<uint16_t>& queries,
                                 const GpuRunOptions& options) {
  if (batch.head_dim != kHeadDim) {
    throw std::runtime_error("RunFp16DecodeGpu: the kernels are built for head_dim " +
                             std::to_string(kHeadDim));
  }
  CheckHeads(heads, batch.caches.size(), queries);
  if (batch.tokens < 1) throw std::runtime_error("RunFp16DecodeGpu: need >= 1 token");
  const int64_t halves = batch.tokens * kHeadDim;
  DeviceBuffer<uint16_t> k(heads * halves), v(heads * halves);
  for (int64_t h = 0; h < heads; ++h) {
    const Fp16HeadView& c = batch.caches[static_cast<size_t>(h) % batch.caches.size()];
    CopyToDevice(k.get() + h * halves, c.k, halves);
    CopyToDevice(v.get() + h * halves, c.v, halves);
  }
  DeviceBuffer<uint16_t> q(queries);
  const int splits = Fp16Splits(batch.tokens);
  DeviceBuffer<float> partial_o(static_cast<size_t>(heads) * splits * kHeadDim);
  DeviceBuffer<float> partial_ml(static_cast<size_t>(heads) * splits * 2);
  DeviceBuffer<float> out(static_cast<size_t>(heads) * kHeadDim);
  partial_o.Poison();
  partial_ml.Poison();

  Fp16Params p{};
  p.q = reinterpret_cast<const __half*>(q.get());
  p.k = reinterpret_cast<const uint4*>(k.get());
  p.v = reinterpret_cast<const uint4*>(v.get());
  p.partial_o = partial_o.get();
  p.partial_ml = partial_ml.get();
  p.tokens = batch.tokens;
  p.splits = splits;
  p.q_scale = QueryScale();
  const dim3 grid(static_cast<unsigned>(splits), static_cast<unsigned>(heads));
  auto launch = [&] {
    Fp16DecodeKernel<<<grid, kThreads>>>(p);
    ATTN_CHECK_LAUNCH();
    CombineKernel<<<static_cast<unsigned>(heads), kHeadDim>>>(partial_o.get(), partial_ml.get(),
                                                              splits, out.get());
    ATTN_CHECK_LAUNCH();
  };

  GpuDecodeResult r;
  r.splits = splits;
  r.device_bytes = static_cast<int64_t>(k.bytes() + v.bytes());
  r.bytes_read = r.device_bytes + static_cast<int64_t>(q.bytes());
  RunAndTime(launch, out, options, &r);
  return r;
}

}  // namespace attn::kvquant
