// The naive attention forward: three kernels with the fp32 score matrix S (batch*heads x N x N)
// materialised in device memory between them, as standard attention does with its library GEMMs:
//   1. scores:  S = scale * Q K^T on tensor cores (the same mma.sync/ldmatrix tiles as the tiled
//               kernel), causal entries above the diagonal set to -inf;
//   2. softmax: each row of S replaced in place by its softmax (fp32);
//   3. P.V:     O = P V on tensor cores, P rounded to the input type as it is read.
// The kernels are tiled and vectorised so that the comparison with the tiled kernel measures the
// cost of the score matrix's round trips through memory, not a slow matrix product. Under a causal
// mask tiles wholly above the diagonal are neither computed, written nor read.
#include <cmath>

#include "experiments/attention/attn-fwd/attn_fwd_gpu.h"
#include "experiments/attention/attn-fwd/mma_tile.cuh"
#include "experiments/attention/common/cuda_util.cuh"

namespace attn::fwd {
namespace device {
namespace {

constexpr float kNegInf = -INFINITY;

// Scores: a block of 4 warps computes a 64 x 128 tile of S (each warp 16 rows x 128 keys).
constexpr int kScoreWarps = 4;
constexpr int kScoreRows = 16 * kScoreWarps;
constexpr int kScoreCols = 128;

template <typename T, int D>
constexpr int ScoreSmemBytes() {
  return (kScoreRows + kScoreCols) * D * static_cast<int>(sizeof(T));
}

template <typename T, int D>
__global__ void __launch_bounds__(32 * kScoreWarps)
    NaiveScoresKernel(const T* __restrict__ q, const T* __restrict__ k, float* __restrict__ scores,
                      int64_t ld, int seq, int causal, float scale) {
  const int q0 = static_cast<int>(blockIdx.y) * kScoreRows;
  const int k0 = static_cast<int>(blockIdx.x) * kScoreCols;
  if (causal && k0 > min(q0 + kScoreRows, seq) - 1) return;  // wholly above the diagonal

  extern __shared__ __align__(128) unsigned char smem[];
  const uint32_t q_tile = SharedAddress(smem);
  const uint32_t k_tile = q_tile + kScoreRows * D * sizeof(T);
  const int tid = static_cast<int>(threadIdx.x), lane = tid % 32, w0 = (tid / 32) * 16;
  const int64_t head = static_cast<int64_t>(blockIdx.z) * seq * D;
  using Rows = SmemRows<D, false>;
  LoadTileAsync<T, Rows, kScoreRows, 32 * kScoreWarps>(q_tile, q + head, q0, seq, tid);
  LoadTileAsync<T, Rows, kScoreCols, 32 * kScoreWarps>(k_tile, k + head, k0, seq, tid);
  CpAsyncCommit();
  CpAsyncWait<0>();
  __syncthreads();

  uint32_t q_frag[D / 16][4];
  LoadRowFragments<Rows>(q_frag, q_tile, w0, lane);
  float s[kScoreCols / 8][4];
#pragma unroll
  for (int i = 0; i < kScoreCols / 8; ++i) s[i][0] = s[i][1] = s[i][2] = s[i][3] = 0.0f;
  MmaRowsTimesTileT<T, Rows, kScoreCols>(s, q_frag, k_tile, lane);

  // Each thread holds pairs of adjacent columns: one 8-byte store each, four lanes filling a
  // 32-byte sector. `ld` is a multiple of 4, so col + 1 < ld whenever col < seq.
  float* const head_scores = scores + static_cast<int64_t>(blockIdx.z) * seq * ld;
#pragma unroll
  for (int nt = 0; nt < kScoreCols / 8; ++nt) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int row = q0 + w0 + lane / 4 + 8 * r;
      const int col = k0 + nt * 8 + 2 * (lane % 4);
      if (row >= seq || col >= seq) continue;
      float2 value = make_float2(s[nt][2 * r] * scale, s[nt][2 * r + 1] * scale);
      if (causal && col > row) value.x = kNegInf;
      if (causal && col + 1 > row) value.y = kNegInf;
      *reinterpret_cast<float2*>(head_scores + static_cast<int64_t>(row) * ld + col) = value;
    }
  }
}

// Softmax: one block per row, 16-byte loads. Pass 1 keeps a running (max, sum) per thread and
// combines them across the block; pass 2 re-reads the row (from L2: the block just read it) and
// writes P in place. Entries past the visible length are written as 0 within the last vector.
constexpr int kSoftmaxThreads = 256;

struct MaxSum {
  float max;
  float sum;
};

__device__ __forceinline__ MaxSum Combine(MaxSum a, MaxSum b) {
  const float m = fmaxf(a.max, b.max);
  if (m == kNegInf) return {kNegInf, 0.0f};
  return {m, a.sum * __expf(a.max - m) + b.sum * __expf(b.max - m)};
}

// One element into a running (max, sum): one exponential per element.
__device__ __forceinline__ void Accumulate(MaxSum& a, float x) {
  if (x > a.max) {
    a.sum = a.sum * __expf(a.max - x) + 1.0f;  // exp(-inf) = 0 for the first element
    a.max = x;
  } else if (x > kNegInf) {
    a.sum += __expf(x - a.max);
  }
}

__global__ void __launch_bounds__(kSoftmaxThreads)
    NaiveSoftmaxKernel(float* __restrict__ scores, int64_t ld, int seq, int causal) {
  const int row = static_cast<int>(blockIdx.x);
  float* const p = scores + (static_cast<int64_t>(blockIdx.y) * seq + row) * ld;
  const int len = causal ? row + 1 : seq;
  MaxSum part = {kNegInf, 0.0f};
  for (int j = static_cast<int>(threadIdx.x) * 4; j < len; j += kSoftmaxThreads * 4) {
    const float4 x4 = *reinterpret_cast<const float4*>(p + j);
    const float x[4] = {x4.x, x4.y, x4.z, x4.w};
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      if (j + e < len) Accumulate(part, x[e]);
    }
  }
  // Across the warp, then across the block's warps through shared memory.
#pragma unroll
  for (int offset = 16; offset > 0; offset /= 2) {
    const MaxSum other = {__shfl_xor_sync(0xffffffffu, part.max, offset),
                          __shfl_xor_sync(0xffffffffu, part.sum, offset)};
    part = Combine(part, other);
  }
  __shared__ MaxSum warp_parts[kSoftmaxThreads / 32];
  if (threadIdx.x % 32 == 0) warp_parts[threadIdx.x / 32] = part;
  __syncthreads();
  MaxSum total = warp_parts[0];
#pragma unroll
  for (int w = 1; w < kSoftmaxThreads / 32; ++w) total = Combine(total, warp_parts[w]);
  const float inv = 1.0f / total.sum;

  for (int j = static_cast<int>(threadIdx.x) * 4; j < len; j += kSoftmaxThreads * 4) {
    float4 x4 = *reinterpret_cast<const float4*>(p + j);
    x4.x = j + 0 < len ? __expf(x4.x - total.max) * inv : 0.0f;
    x4.y = j + 1 < len ? __expf(x4.y - total.max) * inv : 0.0f;
    x4.z = j + 2 < len ? __expf(x4.z - total.max) * inv : 0.0f;
    x4.w = j + 3 < len ? __expf(x4.w - total.max) * inv : 0.0f;
    *reinterpret_cast<float4*>(p + j) = x4;
  }
}

// P.V: a block of 4 warps owns 64 query rows and all D output columns. V tiles of 64 keys go
// through two cp.async stages; each thread reads its P fragment (fp32 pairs, 8-byte loads) for
// the next tile straight from global memory into registers while the current tile is multiplied.
constexpr int kPvWarps = 4;
constexpr int kPvRows = 16 * kPvWarps;
constexpr int kPvBlockN = 64;

template <typename T, int D>
constexpr int PvSmemBytes() {
  return 2 * kPvBlockN * D * static_cast<int>(sizeof(T));
}

// The thread's P values for one tile in A-fragment order: [k-step][register] pairs of columns.
struct PTile {
  float2 v[kPvBlockN / 16][4];
};

// Fragment register i of k-step kk holds row (lane/4 + 8*(i%2)), columns
// n0 + 16*kk + 8*(i/2) + 2*(lane%4) + {0,1}; entries the row cannot see read as 0.
__device__ __forceinline__ void LoadPTile(PTile& tile, const float* const (&rows)[2],
                                          const int (&visible)[2], int n0, int lane) {
#pragma unroll
  for (int kk = 0; kk < kPvBlockN / 16; ++kk) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const int r = i % 2;
      const int col = n0 + 16 * kk + 8 * (i / 2) + 2 * (lane % 4);
      float2 value = make_float2(0.0f, 0.0f);
      if (col + 1 < visible[r]) {
        value = *reinterpret_cast<const float2*>(rows[r] + col);
      } else if (col < visible[r]) {
        value.x = rows[r][col];
      }
      tile.v[kk][i] = value;
    }
  }
}

template <typename T, int D>
__global__ void __launch_bounds__(32 * kPvWarps)
    NaivePvKernel(const float* __restrict__ probs, int64_t ld, const T* __restrict__ v,
                  T* __restrict__ o, int seq, int causal) {
  extern __shared__ __align__(128) unsigned char smem[];
  const uint32_t v_tiles = SharedAddress(smem);
  constexpr uint32_t kStageBytes = kPvBlockN * D * sizeof(T);
  const int tid = static_cast<int>(threadIdx.x), lane = tid % 32, w0 = (tid / 32) * 16;
  const int q0 = static_cast<int>(blockIdx.x) * kPvRows;
  const int64_t head = static_cast<int64_t>(blockIdx.y) * seq * D;
  const T* vh = v + head;
  const int n_tiles =
      causal ? (min(q0 + kPvRows, seq) - 1) / kPvBlockN + 1 : (seq + kPvBlockN - 1) / kPvBlockN;

  const float* rows[2];
  int visible[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int row = q0 + w0 + lane / 4 + 8 * r;
    const bool valid = row < seq;
    rows[r] = probs + (static_cast<int64_t>(blockIdx.y) * seq + (valid ? row : 0)) * ld;
    visible[r] = !valid ? 0 : causal ? row + 1 : seq;
  }

  using Rows = SmemRows<D, false>;
  LoadTileAsync<T, Rows, kPvBlockN, 32 * kPvWarps>(v_tiles, vh, 0, seq, tid);
  CpAsyncCommit();
  PTile next;
  LoadPTile(next, rows, visible, 0, lane);

  float acc[1][D / 8][4];  // one 16-row m-tile per warp
#pragma unroll
  for (int i = 0; i < D / 8; ++i) acc[0][i][0] = acc[0][i][1] = acc[0][i][2] = acc[0][i][3] = 0.0f;

  for (int t = 0; t < n_tiles; ++t) {
    uint32_t p_frag[1][kPvBlockN / 16][4];
#pragma unroll
    for (int kk = 0; kk < kPvBlockN / 16; ++kk) {
#pragma unroll
      for (int i = 0; i < 4; ++i) p_frag[0][kk][i] = Mma<T>::Pack(next.v[kk][i].x, next.v[kk][i].y);
    }
    if (t + 1 < n_tiles) {
      LoadTileAsync<T, Rows, kPvBlockN, 32 * kPvWarps>(v_tiles + ((t + 1) & 1) * kStageBytes, vh,
                                                       (t + 1) * kPvBlockN, seq, tid);
      CpAsyncCommit();
      LoadPTile(next, rows, visible, (t + 1) * kPvBlockN, lane);
      CpAsyncWait<1>();
    } else {
      CpAsyncWait<0>();
    }
    __syncthreads();
    MmaRowTilesTimesTile<T, Rows, kPvBlockN, 1>(acc, p_frag, v_tiles + (t & 1) * kStageBytes, lane);
    __syncthreads();
  }

  // P rows already sum to 1: store the accumulators as they are.
#pragma unroll
  for (int dt = 0; dt < D / 8; ++dt) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int row = q0 + w0 + lane / 4 + 8 * r;
      if (row < seq) {
        *reinterpret_cast<uint32_t*>(o + head + static_cast<int64_t>(row) * D + dt * 8 +
                                     2 * (lane % 4)) =
            Mma<T>::Pack(acc[0][dt][2 * r], acc[0][dt][2 * r + 1]);
      }
    }
  }
}

template <typename T, int D>
void LaunchNaiveConfig(const DeviceProblem& p, float* scores) {
  static const bool configured = [] {
    ATTN_CUDA_CHECK(cudaFuncSetAttribute(NaiveScoresKernel<T, D>,
                                         cudaFuncAttributeMaxDynamicSharedMemorySize,
                                         ScoreSmemBytes<T, D>()));
    ATTN_CUDA_CHECK(cudaFuncSetAttribute(
        NaivePvKernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize, PvSmemBytes<T, D>()));
    return true;
  }();
  (void)configured;
  const int seq = static_cast<int>(p.shape.seq);
  const unsigned heads = static_cast<unsigned>(p.shape.batch_heads);
  const int64_t ld = ScoreRowStride(seq);
  const int causal = p.shape.causal ? 1 : 0;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  const auto* q = static_cast<const T*>(p.q);
  const auto* k = static_cast<const T*>(p.k);
  const auto* v = static_cast<const T*>(p.v);

  const dim3 score_grid((seq + kScoreCols - 1) / kScoreCols, (seq + kScoreRows - 1) / kScoreRows,
                        heads);
  NaiveScoresKernel<T, D><<<score_grid, 32 * kScoreWarps, ScoreSmemBytes<T, D>()>>>(
      q, k, scores, ld, seq, causal, scale);
  ATTN_CHECK_LAUNCH();
  NaiveSoftmaxKernel<<<dim3(seq, heads), kSoftmaxThreads>>>(scores, ld, seq, causal);
  ATTN_CHECK_LAUNCH();
  NaivePvKernel<T, D>
      <<<dim3((seq + kPvRows - 1) / kPvRows, heads), 32 * kPvWarps, PvSmemBytes<T, D>()>>>(
          scores, ld, v, static_cast<T*>(p.o), seq, causal);
  ATTN_CHECK_LAUNCH();
}

template <typename T>
void LaunchNaive(const DeviceProblem& p, float* scores) {
  if (p.shape.head_dim == 64) return LaunchNaiveConfig<T, 64>(p, scores);
  if (p.shape.head_dim == 128) return LaunchNaiveConfig<T, 128>(p, scores);
  throw std::runtime_error("naive attention: head dim " + std::to_string(p.shape.head_dim) +
                           " is not built; accepted: 64 or 128");
}

}  // namespace
}  // namespace device

void LaunchNaiveAttention(const DeviceProblem& p, float* scores) {
  if (p.dtype == DType::kF16) {
    device::LaunchNaive<__half>(p, scores);
  } else {
    device::LaunchNaive<__nv_bfloat16>(p, scores);
  }
}

}  // namespace attn::fwd
