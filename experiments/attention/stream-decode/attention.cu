// Attention of the two methods.
//
// Decode (sink + window): one query per head against up to sinks + window cached keys. The
// cache's slots are split into chunks of 64 so that heads x chunks blocks fill the GPU
// (flash-decoding); each block leaves an unnormalised partial output with its max and sum, and a
// second kernel combines them. Keys are stored before RoPE and rotated here to their current cache
// position, which is how StreamingLLM re-assigns positions after every eviction.
//
// Prefill (re-computation): causal attention over the window, FlashAttention-style: a block owns
// 64 queries of one head, walks the key tiles up to the diagonal with double-buffered cp.async
// loads, computes S = QK^T and O += PV on tensor cores (WMMA) and keeps the online-softmax state
// per row. The running output stays in shared memory in fp32 because WMMA does not expose which
// row an accumulator element belongs to, so it cannot be rescaled in registers.
#include <mma.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "experiments/attention/common/cuda_util.cuh"
#include "experiments/attention/stream-decode/device_util.cuh"
#include "experiments/attention/stream-decode/kernels.cuh"

namespace attn::stream::gpu {
namespace {

namespace wmma = nvcuda::wmma;

constexpr float kLog2e = 1.4426950408889634f;
constexpr int kPairs = kHeadDim / 2;  // RoPE (cos, sin) entries per position

// ---- decode ----
constexpr int kDecodeChunk = 64;     // cache slots per block
constexpr int kDecodeThreads = 128;  // 16 groups of 8 lanes; a group reads one 128-byte key row
constexpr int kDecodeGroups = kDecodeThreads / 8;

// Rotates the four (even, odd) pairs held in v[0..7] (pairs 4*sub .. 4*sub+3 of the head).
__device__ inline void RotatePairs(float* v, const float2* rope_row, int sub) {
#pragma unroll
  for (int p = 0; p < 4; ++p) {
    const float2 cs = rope_row[4 * sub + p];
    const float x0 = v[2 * p], x1 = v[2 * p + 1];
    v[2 * p] = x0 * cs.x - x1 * cs.y;
    v[2 * p + 1] = x0 * cs.y + x1 * cs.x;
  }
}

__global__ void __launch_bounds__(kDecodeThreads)
    DecodePartialKernel(const half* __restrict__ q, const half* __restrict__ k_cache,
                        const half* __restrict__ v_cache, const StreamState* state,
                        CacheLayout layout, const float2* __restrict__ rope, int d_model,
                        int chunks, float* partial_o, float* partial_ml) {
  __shared__ float weights[kDecodeChunk];  // scores, then exp(score - max)
  __shared__ float sums[kDecodeGroups][kHeadDim];
  const int chunk = blockIdx.x, head = blockIdx.y;
  const int group = threadIdx.x / 8, sub = threadIdx.x % 8;  // sub owns dims 8*sub .. 8*sub+7
  const CacheView view = ViewAfter(layout, state->t + 1);    // the current token is admitted
  const int capacity = layout.capacity();

  // The query at the last cache position, pre-scaled so that exp2 gives the softmax.
  float qv[8];
  Unpack8(*reinterpret_cast<const uint4*>(q + head * kHeadDim + 8 * sub), qv);
  RotatePairs(qv, rope + static_cast<size_t>(QueryPosition(view)) * kPairs, sub);
  const float scale = rsqrtf(static_cast<float>(kHeadDim)) * kLog2e;
#pragma unroll
  for (int e = 0; e < 8; ++e) qv[e] *= scale;

  const int slot0 = chunk * kDecodeChunk;
  for (int j = group; j < kDecodeChunk; j += kDecodeGroups) {
    const int slot = slot0 + j;
    const int pos = slot < capacity ? PositionOf(view, slot) : -1;  // the same for the 8 lanes
    float dot = 0;
    if (pos >= 0) {
      float kv[8];
      Unpack8(*reinterpret_cast<const uint4*>(k_cache + static_cast<size_t>(slot) * d_model +
                                              head * kHeadDim + 8 * sub),
              kv);
      RotatePairs(kv, rope + static_cast<size_t>(pos) * kPairs, sub);
#pragma unroll
      for (int e = 0; e < 8; ++e) dot = fmaf(qv[e], kv[e], dot);
    }
    // Sum over the 8 lanes of the group (lanes 8g .. 8g+7 of the warp).
    dot += __shfl_xor_sync(0xffffffffu, dot, 4);
    dot += __shfl_xor_sync(0xffffffffu, dot, 2);
    dot += __shfl_xor_sync(0xffffffffu, dot, 1);
    if (sub == 0) weights[j] = pos >= 0 ? dot : -INFINITY;
  }
  __syncthreads();
  float m = -INFINITY;
  for (int j = 0; j < kDecodeChunk; ++j) m = fmaxf(m, weights[j]);
  __syncthreads();  // everyone has read the scores before they become weights
  if (threadIdx.x < kDecodeChunk) {
    const float s = weights[threadIdx.x];
    weights[threadIdx.x] = s == -INFINITY ? 0.0f : exp2f(s - m);
  }
  __syncthreads();
  float l = 0;
  for (int j = 0; j < kDecodeChunk; ++j) l += weights[j];

  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int j = group; j < kDecodeChunk; j += kDecodeGroups) {
    const float p = weights[j];
    if (p == 0.0f) continue;  // empty slots (never read: they may hold garbage) or underflow
    float vv[8];
    Unpack8(*reinterpret_cast<const uint4*>(v_cache + static_cast<size_t>(slot0 + j) * d_model +
                                            head * kHeadDim + 8 * sub),
            vv);
#pragma unroll
    for (int e = 0; e < 8; ++e) acc[e] = fmaf(p, vv[e], acc[e]);
  }
#pragma unroll
  for (int e = 0; e < 8; ++e) sums[group][8 * sub + e] = acc[e];
  __syncthreads();
  const size_t at = static_cast<size_t>(head) * chunks + chunk;
  if (threadIdx.x < kHeadDim) {
    float o = 0;
    for (int g = 0; g < kDecodeGroups; ++g) o += sums[g][threadIdx.x];
    partial_o[at * kHeadDim + threadIdx.x] = o;
  }
  if (threadIdx.x == 0) {
    partial_ml[at * 2] = m;
    partial_ml[at * 2 + 1] = l;
  }
}

__global__ void __launch_bounds__(kHeadDim)
    DecodeCombineKernel(const float* __restrict__ partial_o, const float* __restrict__ partial_ml,
                        int chunks, half* out) {
  const int head = blockIdx.x, d = threadIdx.x;
  const float* ml = partial_ml + static_cast<size_t>(head) * chunks * 2;
  float m = -INFINITY;
  for (int c = 0; c < chunks; ++c) {
    if (ml[2 * c + 1] > 0) m = fmaxf(m, ml[2 * c]);
  }
  float num = 0, den = 0;
  for (int c = 0; c < chunks; ++c) {
    if (ml[2 * c + 1] <= 0) continue;  // a chunk of empty slots
    const float w = exp2f(ml[2 * c] - m);
    num += w * partial_o[(static_cast<size_t>(head) * chunks + c) * kHeadDim + d];
    den += w * ml[2 * c + 1];
  }
  out[head * kHeadDim + d] = __float2half_rn(num / den);  // den > 0: the query's own key is held
}

// ---- prefill ----
constexpr int kTile = 64;             // queries per block and keys per step
constexpr int kPrefillThreads = 128;  // 4 warps x 16 query rows
constexpr int kLdh = kHeadDim + 8;    // fp16 row pitch (144 bytes: conflict-free, 32-byte aligned)
constexpr int kLdf = kTile + 4;       // fp32 row pitch
constexpr size_t kHalfTileBytes = size_t{kTile} * kLdh * sizeof(half);
constexpr size_t kFloatTileBytes = size_t{kTile} * kLdf * sizeof(float);
// Q, K x2, V x2, S (scores, then PV), P, O.
constexpr size_t kQOffset = 0;
constexpr size_t kKOffset = kQOffset + kHalfTileBytes;
constexpr size_t kVOffset = kKOffset + 2 * kHalfTileBytes;
constexpr size_t kSOffset = kVOffset + 2 * kHalfTileBytes;
constexpr size_t kPOffset = kSOffset + kFloatTileBytes;
constexpr size_t kOOffset = kPOffset + kHalfTileBytes;
constexpr size_t kPrefillSmemBytes = kOOffset + kFloatTileBytes;
static_assert(kKOffset % 128 == 0 && kSOffset % 128 == 0 && kPOffset % 128 == 0 &&
                  kOOffset % 128 == 0,
              "shared-memory regions must stay aligned for WMMA and cp.async");

using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major>;
using FragBCol = wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::col_major>;
using FragBRow = wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::row_major>;
using FragC = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;

__global__ void __launch_bounds__(kPrefillThreads)
    PrefillAttentionKernel(const half* __restrict__ qkv, int rows, int d_model,
                           half* __restrict__ out) {
  extern __shared__ __align__(128) unsigned char smem[];
  half* qs = reinterpret_cast<half*>(smem + kQOffset);
  half* ks = reinterpret_cast<half*>(smem + kKOffset);
  half* vs = reinterpret_cast<half*>(smem + kVOffset);
  float* ss = reinterpret_cast<float*>(smem + kSOffset);
  half* ps = reinterpret_cast<half*>(smem + kPOffset);
  float* os = reinterpret_cast<float*>(smem + kOOffset);

  // The last query tiles have the most key tiles: schedule them first.
  const int q_tile = gridDim.x - 1 - blockIdx.x;
  const int head = blockIdx.y;
  const int q0 = q_tile * kTile;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int ld = 3 * d_model;
  const half* q_base = qkv + head * kHeadDim;
  const half* k_base = qkv + d_model + head * kHeadDim;
  const half* v_base = qkv + 2 * d_model + head * kHeadDim;

  // 64 rows x 8 chunks of 16 bytes; rows past `rows` are zero-filled.
  auto load_tile = [&](half* dst, const half* base, int row0) {
    for (int i = threadIdx.x; i < kTile * (kHeadDim / 8); i += kPrefillThreads) {
      const int r = i / (kHeadDim / 8), col = (i % (kHeadDim / 8)) * 8;
      const bool ok = row0 + r < rows;
      CpAsync16(dst + r * kLdh + col, base + static_cast<size_t>(ok ? row0 + r : 0) * ld + col, ok);
    }
  };
  load_tile(qs, q_base, q0);
  load_tile(ks, k_base, 0);
  load_tile(vs, v_base, 0);
  CpAsyncCommit();

  // Each lane owns half of one query row of its warp: row `r`, columns 2c + half_col.
  const int r = warp * 16 + lane / 2, half_col = lane % 2;
  const int query = q0 + r;
  for (int c = 0; c < kHeadDim / 2; ++c) os[r * kLdf + 2 * c + half_col] = 0;
  float row_max = -INFINITY, row_sum = 0;
  const float scale = rsqrtf(static_cast<float>(kHeadDim)) * kLog2e;

  const int key_tiles = q_tile + 1;  // causal: up to the diagonal tile
  FragA q_frags[kHeadDim / 16];      // this warp's 16 query rows, loaded once (first iteration)
  for (int kt = 0; kt < key_tiles; ++kt) {
    const int buf = kt & 1;
    if (kt + 1 < key_tiles) {  // prefetch the next K, V tile into the other buffer
      load_tile(ks + (buf ^ 1) * kTile * kLdh, k_base, (kt + 1) * kTile);
      load_tile(vs + (buf ^ 1) * kTile * kLdh, v_base, (kt + 1) * kTile);
      CpAsyncCommit();
      CpAsyncWait<1>();
    } else {
      CpAsyncWait<0>();
    }
    __syncthreads();
    const half* k_tile = ks + buf * kTile * kLdh;
    const half* v_tile = vs + buf * kTile * kLdh;
    if (kt == 0) {
#pragma unroll
      for (int kk = 0; kk < kHeadDim / 16; ++kk) {
        wmma::load_matrix_sync(q_frags[kk], qs + warp * 16 * kLdh + kk * 16, kLdh);
      }
    }

    // S = Q K^T for this warp's 16 rows. K is [key][dim] row-major = K^T column-major.
    for (int j = 0; j < kTile / 16; ++j) {
      FragC acc;
      wmma::fill_fragment(acc, 0.0f);
#pragma unroll
      for (int kk = 0; kk < kHeadDim / 16; ++kk) {
        FragBCol fb;
        wmma::load_matrix_sync(fb, k_tile + j * 16 * kLdh + kk * 16, kLdh);
        wmma::mma_sync(acc, q_frags[kk], fb, acc);
      }
      wmma::store_matrix_sync(ss + warp * 16 * kLdf + j * 16, acc, kLdf, wmma::mem_row_major);
    }
    __syncwarp();

    // Online softmax over this tile's 64 keys (two lanes per row).
    float s[kTile / 2];
    float tile_max = -INFINITY;
#pragma unroll
    for (int c = 0; c < kTile / 2; ++c) {
      const int key = kt * kTile + 2 * c + half_col;
      const float v = ss[r * kLdf + 2 * c + half_col] * scale;
      s[c] = key > query || key >= rows ? -INFINITY : v;
      tile_max = fmaxf(tile_max, s[c]);
    }
    tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
    const float new_max = fmaxf(row_max, tile_max);
    // Key 0 is visible to every row, so new_max is finite from the first tile on.
    const float alpha = exp2f(row_max - new_max);
    float tile_sum = 0;
#pragma unroll
    for (int c = 0; c < kTile / 2; ++c) {
      const float p = s[c] == -INFINITY ? 0.0f : exp2f(s[c] - new_max);
      ps[r * kLdh + 2 * c + half_col] = __float2half_rn(p);
      tile_sum += p;
    }
    tile_sum += __shfl_xor_sync(0xffffffffu, tile_sum, 1);
    row_sum = row_sum * alpha + tile_sum;
    row_max = new_max;
    __syncwarp();

    // PV for this warp's rows, staged in S's rows (the scores are consumed).
    FragA p_frags[kTile / 16];
#pragma unroll
    for (int kk = 0; kk < kTile / 16; ++kk) {
      wmma::load_matrix_sync(p_frags[kk], ps + warp * 16 * kLdh + kk * 16, kLdh);
    }
    for (int j = 0; j < kHeadDim / 16; ++j) {
      FragC acc;
      wmma::fill_fragment(acc, 0.0f);
#pragma unroll
      for (int kk = 0; kk < kTile / 16; ++kk) {
        FragBRow fb;
        wmma::load_matrix_sync(fb, v_tile + kk * 16 * kLdh + j * 16, kLdh);
        wmma::mma_sync(acc, p_frags[kk], fb, acc);
      }
      wmma::store_matrix_sync(ss + warp * 16 * kLdf + j * 16, acc, kLdf, wmma::mem_row_major);
    }
    __syncwarp();
#pragma unroll
    for (int c = 0; c < kHeadDim / 2; ++c) {
      const int at = r * kLdf + 2 * c + half_col;
      os[at] = os[at] * alpha + ss[at];
    }
    __syncthreads();  // every warp is done with this K, V buffer before it is refilled
  }

  if (query < rows) {
    const float inv = 1.0f / row_sum;
    half* dst = out + static_cast<size_t>(query) * d_model + head * kHeadDim;
    for (int c = 0; c < kHeadDim / 2; ++c) {
      dst[2 * c + half_col] = __float2half_rn(os[r * kLdf + 2 * c + half_col] * inv);
    }
  }
}

}  // namespace

int DecodeChunks(int capacity) { return (capacity + kDecodeChunk - 1) / kDecodeChunk; }

void LaunchDecodeAttention(const half* q, const half* k_cache, const half* v_cache,
                           const StreamState* state, CacheLayout layout, const float2* rope,
                           int heads, int d_model, float* partial_o, float* partial_ml, half* out,
                           cudaStream_t stream) {
  const int chunks = DecodeChunks(layout.capacity());
  DecodePartialKernel<<<dim3(chunks, heads), kDecodeThreads, 0, stream>>>(
      q, k_cache, v_cache, state, layout, rope, d_model, chunks, partial_o, partial_ml);
  ATTN_CHECK_LAUNCH();
  DecodeCombineKernel<<<heads, kHeadDim, 0, stream>>>(partial_o, partial_ml, chunks, out);
  ATTN_CHECK_LAUNCH();
}

void ConfigurePrefillAttention() {
  ATTN_CUDA_CHECK(cudaFuncSetAttribute(PrefillAttentionKernel,
                                       cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(kPrefillSmemBytes)));
}

void LaunchPrefillAttention(const half* qkv, int rows, int heads, int d_model, half* out,
                            cudaStream_t stream) {
  if (rows < 1 || d_model != heads * kHeadDim) {
    throw std::invalid_argument("LaunchPrefillAttention: rows " + std::to_string(rows) +
                                ", d_model " + std::to_string(d_model) + ", heads " +
                                std::to_string(heads) +
                                "; accepted: rows >= 1, d_model = heads x 64");
  }
  const dim3 grid((rows + kTile - 1) / kTile, heads);
  PrefillAttentionKernel<<<grid, kPrefillThreads, kPrefillSmemBytes, stream>>>(qkv, rows, d_model,
                                                                               out);
  ATTN_CHECK_LAUNCH();
}

}  // namespace attn::stream::gpu
