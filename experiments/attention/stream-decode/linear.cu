// Linear layers of the step: a tensor-core GEMM for the baseline's prefill (many rows) and a
// bandwidth-bound GEMV for decode (one row), each with its epilogue fused.
//
// The GEMM is WMMA (m16n16k16, fp16 in, fp32 accumulate) on shared-memory tiles filled by a
// three-stage cp.async pipeline; a decode step instead reads each weight once and does two
// FLOPs per weight, so tensor cores would idle there and the GEMV streams the weights with
// 16-byte loads, one warp per output row.
#include <mma.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "experiments/attention/common/cuda_util.cuh"
#include "experiments/attention/stream-decode/device_util.cuh"
#include "experiments/attention/stream-decode/kernels.cuh"

namespace attn::stream::gpu {
namespace {

namespace wmma = nvcuda::wmma;

// Block tile kBM x kBN, k-slices of 32, kWarpsM x kWarpsN warps each owning a sub-tile.
template <int kBM_, int kBN_, int kWarpsM_, int kWarpsN_>
struct GemmTile {
  static constexpr int kBM = kBM_, kBN = kBN_, kWarpsM = kWarpsM_, kWarpsN = kWarpsN_;
  static constexpr int kBK = 32;
  static constexpr int kStages = 3;
  // +8 halves (16 bytes) per row: consecutive rows start 4 banks apart, so the 16-byte reads
  // of a WMMA fragment load hit distinct banks; rows stay 32-byte aligned for WMMA.
  static constexpr int kLd = kBK + 8;
  static constexpr int kLdC = kBN + 4;  // fp32 staging of the accumulators for the epilogue
  static constexpr int kThreads = kWarpsM * kWarpsN * 32;
  static constexpr int kWarpTileM = kBM / kWarpsM, kWarpTileN = kBN / kWarpsN;
  static constexpr int kFragsM = kWarpTileM / 16, kFragsN = kWarpTileN / 16;
  static constexpr size_t kPipeBytes = size_t{kStages} * (kBM + kBN) * kLd * sizeof(half);
  static constexpr size_t kEpilogueBytes = size_t{kBM} * kLdC * sizeof(float);
  static constexpr size_t kSmemBytes = kPipeBytes > kEpilogueBytes ? kPipeBytes : kEpilogueBytes;
};
using LargeTile = GemmTile<128, 128, 2, 4>;  // 8 warps of 64 x 32
using SmallTile = GemmTile<64, 64, 2, 2>;    // 4 warps of 32 x 32, for few rows

template <class Tile, GemmEpilogue kEpilogue>
__global__ void __launch_bounds__(Tile::kThreads)
    GemmKernel(const half* __restrict__ a, const half* __restrict__ w, half* c,
               const half* residual, int m, int n, int k) {
  constexpr int kBM = Tile::kBM, kBN = Tile::kBN, kBK = Tile::kBK, kLd = Tile::kLd;
  constexpr int kChunksPerRow = kBK / 8;  // 16-byte chunks per tile row
  extern __shared__ __align__(128) unsigned char smem[];
  half* a_tiles = reinterpret_cast<half*>(smem);
  half* w_tiles = a_tiles + Tile::kStages * kBM * kLd;

  const int m0 = blockIdx.y * kBM, n0 = blockIdx.x * kBN;
  const int warp = threadIdx.x / 32;
  const int warp_m = warp / Tile::kWarpsN, warp_n = warp % Tile::kWarpsN;

  // Rows past m or n are zero-filled (their source address is clamped but not read).
  auto load_stage = [&](int stage, int k0) {
    half* as = a_tiles + stage * kBM * kLd;
    half* ws = w_tiles + stage * kBN * kLd;
    for (int i = threadIdx.x; i < kBM * kChunksPerRow; i += Tile::kThreads) {
      const int r = i / kChunksPerRow, col = (i % kChunksPerRow) * 8;
      const bool ok = m0 + r < m;
      CpAsync16(as + r * kLd + col, a + static_cast<size_t>(ok ? m0 + r : 0) * k + k0 + col, ok);
    }
    for (int i = threadIdx.x; i < kBN * kChunksPerRow; i += Tile::kThreads) {
      const int r = i / kChunksPerRow, col = (i % kChunksPerRow) * 8;
      const bool ok = n0 + r < n;
      CpAsync16(ws + r * kLd + col, w + static_cast<size_t>(ok ? n0 + r : 0) * k + k0 + col, ok);
    }
  };

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[Tile::kFragsM][Tile::kFragsN];
#pragma unroll
  for (int i = 0; i < Tile::kFragsM; ++i) {
#pragma unroll
    for (int j = 0; j < Tile::kFragsN; ++j) wmma::fill_fragment(acc[i][j], 0.0f);
  }

  const int k_tiles = k / kBK;
  // Prologue: stages 0 .. kStages-2 in flight. One commit per stage, even an empty one, so
  // that "group i holds k-tile i" stays true for the waits below.
  for (int s = 0; s < Tile::kStages - 1; ++s) {
    if (s < k_tiles) load_stage(s, s * kBK);
    CpAsyncCommit();
  }
  for (int kt = 0; kt < k_tiles; ++kt) {
    CpAsyncWait<Tile::kStages - 2>();  // k-tile kt has landed (for this thread) ...
    __syncthreads();                   // ... for every thread, and k-tile kt-1 is consumed
    const int next = kt + Tile::kStages - 1;
    if (next < k_tiles) load_stage(next % Tile::kStages, next * kBK);  // reuses kt-1's stage
    CpAsyncCommit();

    const half* as = a_tiles + (kt % Tile::kStages) * kBM * kLd;
    const half* ws = w_tiles + (kt % Tile::kStages) * kBN * kLd;
#pragma unroll
    for (int kk = 0; kk < kBK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> fa[Tile::kFragsM];
      // W is [n][k] row-major, i.e. W^T (k x n) column-major: exactly WMMA's col_major B.
      wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::col_major> fb[Tile::kFragsN];
#pragma unroll
      for (int i = 0; i < Tile::kFragsM; ++i) {
        wmma::load_matrix_sync(fa[i], as + (warp_m * Tile::kWarpTileM + i * 16) * kLd + kk, kLd);
      }
#pragma unroll
      for (int j = 0; j < Tile::kFragsN; ++j) {
        wmma::load_matrix_sync(fb[j], ws + (warp_n * Tile::kWarpTileN + j * 16) * kLd + kk, kLd);
      }
#pragma unroll
      for (int i = 0; i < Tile::kFragsM; ++i) {
#pragma unroll
        for (int j = 0; j < Tile::kFragsN; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
      }
    }
  }
  CpAsyncWait<0>();
  __syncthreads();  // the pipeline's shared memory now stages the fp32 accumulators

  float* cs = reinterpret_cast<float*>(smem);
#pragma unroll
  for (int i = 0; i < Tile::kFragsM; ++i) {
#pragma unroll
    for (int j = 0; j < Tile::kFragsN; ++j) {
      float* dst = cs + (warp_m * Tile::kWarpTileM + i * 16) * Tile::kLdC +
                   warp_n * Tile::kWarpTileN + j * 16;
      wmma::store_matrix_sync(dst, acc[i][j], Tile::kLdC, wmma::mem_row_major);
    }
  }
  __syncthreads();

  // Epilogue: 8 consecutive outputs per thread, one 16-byte store.
  for (int i = threadIdx.x; i < kBM * (kBN / 8); i += Tile::kThreads) {
    const int r = i / (kBN / 8), col = (i % (kBN / 8)) * 8;
    const int gr = m0 + r, gc = n0 + col;
    if (gr >= m || gc >= n) continue;
    float v[8];
    const float4* src = reinterpret_cast<const float4*>(cs + r * Tile::kLdC + col);
    const float4 lo = src[0], hi = src[1];
    v[0] = lo.x, v[1] = lo.y, v[2] = lo.z, v[3] = lo.w, v[4] = hi.x, v[5] = hi.y, v[6] = hi.z,
    v[7] = hi.w;
    const size_t at = static_cast<size_t>(gr) * n + gc;
    if constexpr (kEpilogue == GemmEpilogue::kAddResidual) {
      float res[8];
      Unpack8(*reinterpret_cast<const uint4*>(residual + at), res);
#pragma unroll
      for (int e = 0; e < 8; ++e) v[e] += res[e];
    } else if constexpr (kEpilogue == GemmEpilogue::kSilu) {
#pragma unroll
      for (int e = 0; e < 8; ++e) v[e] = v[e] / (1.0f + __expf(-v[e]));
    }
    *reinterpret_cast<uint4*>(c + at) = Pack8(v);
  }
}

template <class Tile, GemmEpilogue kEpilogue>
void LaunchGemmTile(const half* a, const half* w, half* c, const half* residual, int m, int n,
                    int k, cudaStream_t stream) {
  const dim3 grid((n + Tile::kBN - 1) / Tile::kBN, (m + Tile::kBM - 1) / Tile::kBM);
  GemmKernel<Tile, kEpilogue>
      <<<grid, Tile::kThreads, Tile::kSmemBytes, stream>>>(a, w, c, residual, m, n, k);
  ATTN_CHECK_LAUNCH();
}

template <class Tile>
void LaunchGemmEpilogue(GemmEpilogue e, const half* a, const half* w, half* c, const half* residual,
                        int m, int n, int k, cudaStream_t stream) {
  switch (e) {
    case GemmEpilogue::kStore:
      return LaunchGemmTile<Tile, GemmEpilogue::kStore>(a, w, c, residual, m, n, k, stream);
    case GemmEpilogue::kAddResidual:
      return LaunchGemmTile<Tile, GemmEpilogue::kAddResidual>(a, w, c, residual, m, n, k, stream);
    case GemmEpilogue::kSilu:
      return LaunchGemmTile<Tile, GemmEpilogue::kSilu>(a, w, c, residual, m, n, k, stream);
  }
}

template <class Tile>
void AllowSmem() {
  ATTN_CUDA_CHECK(cudaFuncSetAttribute(GemmKernel<Tile, GemmEpilogue::kStore>,
                                       cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(Tile::kSmemBytes)));
  ATTN_CUDA_CHECK(cudaFuncSetAttribute(GemmKernel<Tile, GemmEpilogue::kAddResidual>,
                                       cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(Tile::kSmemBytes)));
  ATTN_CUDA_CHECK(cudaFuncSetAttribute(GemmKernel<Tile, GemmEpilogue::kSilu>,
                                       cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(Tile::kSmemBytes)));
}

// ---- GEMV ----
constexpr int kGemvWarps = 8;  // one output row per warp
constexpr int kGemvThreads = kGemvWarps * 32;

template <GemvOut kOut>
__global__ void __launch_bounds__(kGemvThreads) GemvKernel(GemvArgs p) {
  extern __shared__ __align__(
      128) unsigned char smem[];             // one declaration per file: same alignment as the GEMM
  half* xs = reinterpret_cast<half*>(smem);  // the (normalised) input row, p.k values
  __shared__ float warp_sums[kGemvWarps];
  __shared__ float inv_rms;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

  if (p.norm_gain != nullptr) {
    // RMSNorm fused in: every block recomputes the norm of the row (d_model values from L2),
    // cheaper than a separate launch and a round trip through global memory.
    float sum2 = 0;
    for (int i = threadIdx.x * 8; i < p.k; i += kGemvThreads * 8) {
      float x[8];
      Unpack8(*reinterpret_cast<const uint4*>(p.x + i), x);
#pragma unroll
      for (int e = 0; e < 8; ++e) sum2 += x[e] * x[e];
    }
    sum2 = WarpSum(sum2);
    if (lane == 0) warp_sums[warp] = sum2;
    __syncthreads();
    if (threadIdx.x == 0) {
      float total = 0;
      for (int i = 0; i < kGemvWarps; ++i) total += warp_sums[i];
      inv_rms = rsqrtf(total / static_cast<float>(p.k) + p.norm_eps);
    }
    __syncthreads();
    const float inv = inv_rms;
    for (int i = threadIdx.x * 8; i < p.k; i += kGemvThreads * 8) {
      float x[8], g[8];
      Unpack8(*reinterpret_cast<const uint4*>(p.x + i), x);
      Unpack8(*reinterpret_cast<const uint4*>(p.norm_gain + i), g);
#pragma unroll
      for (int e = 0; e < 8; ++e) x[e] = x[e] * inv * g[e];
      *reinterpret_cast<uint4*>(xs + i) = Pack8(x);
    }
  } else {
    for (int i = threadIdx.x * 8; i < p.k; i += kGemvThreads * 8) {
      *reinterpret_cast<uint4*>(xs + i) = *reinterpret_cast<const uint4*>(p.x + i);
    }
  }
  __syncthreads();

  const int row = blockIdx.x * kGemvWarps + warp;
  if (row >= p.n) return;
  const half* w_row = p.w + static_cast<size_t>(row) * p.k;
  float acc = 0;
#pragma unroll 4
  for (int i = lane * 8; i < p.k; i += 32 * 8) {
    float wv[8], xv[8];
    Unpack8(__ldg(reinterpret_cast<const uint4*>(w_row + i)), wv);
    Unpack8(*reinterpret_cast<const uint4*>(xs + i), xv);
#pragma unroll
    for (int e = 0; e < 8; ++e) acc = fmaf(wv[e], xv[e], acc);
  }
  acc = WarpSum(acc);
  if (lane != 0) return;

  if constexpr (kOut == GemvOut::kStore) {
    p.out[row] = __float2half_rn(acc);
  } else if constexpr (kOut == GemvOut::kAddResidual) {
    p.out[row] = __float2half_rn(acc + __half2float(p.residual[row]));
  } else if constexpr (kOut == GemvOut::kSilu) {
    p.out[row] = __float2half_rn(acc / (1.0f + __expf(-acc)));
  } else if constexpr (kOut == GemvOut::kLogits) {
    p.logits[row] = acc;
  } else {  // kQkvToCache
    const int slot = WriteSlot(p.layout, p.state->t);
    const half value = __float2half_rn(acc);
    if (row < p.d_model) {
      p.q[row] = value;
    } else if (row < 2 * p.d_model) {
      p.k_cache[static_cast<size_t>(slot) * p.d_model + (row - p.d_model)] = value;
    } else {
      p.v_cache[static_cast<size_t>(slot) * p.d_model + (row - 2 * p.d_model)] = value;
    }
  }
}

template <GemvOut kOut>
void LaunchGemvOut(const GemvArgs& args, cudaStream_t stream) {
  const int blocks = (args.n + kGemvWarps - 1) / kGemvWarps;
  const size_t smem = static_cast<size_t>(args.k) * sizeof(half);
  GemvKernel<kOut><<<blocks, kGemvThreads, smem, stream>>>(args);
  ATTN_CHECK_LAUNCH();
}

}  // namespace

void ConfigureGemm() {
  AllowSmem<LargeTile>();
  AllowSmem<SmallTile>();
}

void LaunchGemm(GemmEpilogue epilogue, const half* a, const half* w, half* c, const half* residual,
                int m, int n, int k, int sm_count, cudaStream_t stream) {
  if (k % LargeTile::kBK != 0 || n % SmallTile::kBN != 0 || m < 1) {
    throw std::invalid_argument("LaunchGemm: m " + std::to_string(m) + ", n " + std::to_string(n) +
                                ", k " + std::to_string(k) +
                                "; accepted: m >= 1, n % 64 == 0, k % 32 == 0");
  }
  // The large tile does twice the work per byte of shared memory, but with fewer blocks than
  // SMs most of the GPU would idle; then the small tile's four times as many blocks win.
  const long long large_blocks = static_cast<long long>((m + LargeTile::kBM - 1) / LargeTile::kBM) *
                                 ((n + LargeTile::kBN - 1) / LargeTile::kBN);
  if (n % LargeTile::kBN == 0 && large_blocks >= sm_count) {
    LaunchGemmEpilogue<LargeTile>(epilogue, a, w, c, residual, m, n, k, stream);
  } else {
    LaunchGemmEpilogue<SmallTile>(epilogue, a, w, c, residual, m, n, k, stream);
  }
}

void LaunchGemv(GemvOut out, const GemvArgs& args, cudaStream_t stream) {
  if (args.k % 8 != 0 || args.n < 1) {
    throw std::invalid_argument("LaunchGemv: n " + std::to_string(args.n) + ", k " +
                                std::to_string(args.k) + "; accepted: n >= 1, k % 8 == 0");
  }
  switch (out) {
    case GemvOut::kStore:
      return LaunchGemvOut<GemvOut::kStore>(args, stream);
    case GemvOut::kAddResidual:
      return LaunchGemvOut<GemvOut::kAddResidual>(args, stream);
    case GemvOut::kSilu:
      return LaunchGemvOut<GemvOut::kSilu>(args, stream);
    case GemvOut::kLogits:
      return LaunchGemvOut<GemvOut::kLogits>(args, stream);
    case GemvOut::kQkvToCache:
      return LaunchGemvOut<GemvOut::kQkvToCache>(args, stream);
  }
}

}  // namespace attn::stream::gpu
