// The tiled online-softmax attention kernel (FlashAttention-2 forward) on mma.sync tensor cores.
//
// One block owns kBlockM = kWarps * kWarpRows query rows of one head. Each warp owns kWarpRows of
// them (16 or 32: one or two 16-row m-tiles) and keeps their running max, running sum and output
// accumulators in registers for the whole kernel; with one m-tile also their Q fragments, with two
// it re-reads Q from shared memory per tile and in exchange every K/V fragment it reads from
// shared memory feeds two MMAs. The block streams K/V tiles of kBlockN keys through kStages
// shared-memory stages filled with cp.async, kStages - 1 tiles ahead, one barrier per tile. Per
// tile a warp computes S = Q K^T (fp32), masks it (sequence end; causal diagonal), updates the
// running max, rescales what it had accumulated, turns S into P = exp2(S * scale * log2e - max) in
// registers and accumulates P V. The score matrix never leaves registers; the only extra memory is
// the per-row log-sum-exp. Under a causal mask a block stops at the tile holding its last row and
// each warp skips the tiles wholly above its own rows.
//
// attention_cpu.cc's TiledAttentionCpu is this algorithm in the same order on the CPU.
// Included by tiled_kernel_fp16.cu and tiled_kernel_bf16.cu, one instantiation set each, so the
// two compile in parallel.
#pragma once

#include <cmath>

#include "experiments/attention/attn-fwd/attn_fwd_gpu.h"
#include "experiments/attention/attn-fwd/mma_tile.cuh"
#include "experiments/attention/common/cuda_util.cuh"

namespace attn::fwd::device {

template <typename T, int D, int kWarps, int kMTiles, int kBlockN_, int kStages_>
struct TiledConfig {
  static constexpr int kWarpRows = 16 * kMTiles;  // query rows per warp
  static constexpr int kBlockM = kWarpRows * kWarps;
  static constexpr int kBlockN = kBlockN_;
  static constexpr int kThreads = 32 * kWarps;
  static constexpr int kStages = kStages_;  // K/V tiles in shared memory at once
  // Two m-tiles leave no registers for swizzled addresses: their tiles use padded rows.
  using Rows = SmemRows<D, (kMTiles > 1)>;
  static constexpr int kQBytes = Rows::Bytes(kBlockM);
  static constexpr int kKvTileBytes = Rows::Bytes(kBlockN);
  static constexpr int kSmemBytes = kQBytes + 2 * kStages * kKvTileBytes;  // Q, K stages, V stages
  // 4 warps: two blocks per SM (so one block's loads and barrier overlap the other's MMAs);
  // 8 warps: one. Either way up to 255 registers per thread, which the accumulators need.
  static constexpr int kMinBlocksPerSm = kWarps <= 4 ? 2 : 1;
};

template <typename T, int D, int kWarps, int kMTiles, int kBlockN_, int kStages_>
__global__ void __launch_bounds__(
    32 * kWarps, (TiledConfig<T, D, kWarps, kMTiles, kBlockN_, kStages_>::kMinBlocksPerSm))
    TiledAttentionKernel(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                         T* __restrict__ o, float* __restrict__ lse, int seq, int causal,
                         float scale, float scale_log2) {
  using Cfg = TiledConfig<T, D, kWarps, kMTiles, kBlockN_, kStages_>;
  using Rows = typename Cfg::Rows;
  constexpr int kBlockM = Cfg::kBlockM, kBlockN = Cfg::kBlockN, kThreads = Cfg::kThreads;
  constexpr int kWarpRows = Cfg::kWarpRows, kStages = Cfg::kStages;
  constexpr float kNegInf = -INFINITY;

  extern __shared__ __align__(128) unsigned char smem[];
  T* const q_smem = reinterpret_cast<T*>(smem);
  const uint32_t q_tile = SharedAddress(smem);
  const uint32_t k_tiles = q_tile + Cfg::kQBytes;  // stage s at + s * kKvTileBytes
  const uint32_t v_tiles = k_tiles + kStages * Cfg::kKvTileBytes;

  const int tid = static_cast<int>(threadIdx.x), lane = tid % 32, warp = tid / 32;
  // Causal blocks differ in work (later rows see more keys): hand out the heavy ones first so
  // the light ones fill the tail of the grid.
  const int q_block =
      causal ? static_cast<int>(gridDim.x - 1 - blockIdx.x) : static_cast<int>(blockIdx.x);
  const int q0 = q_block * kBlockM;
  const int64_t head = static_cast<int64_t>(blockIdx.y) * seq * D;
  const T* qh = q + head;
  const T* kh = k + head;
  const T* vh = v + head;
  const int n_tiles =
      causal ? (min(q0 + kBlockM, seq) - 1) / kBlockN + 1 : (seq + kBlockN - 1) / kBlockN;
  auto load_kv = [&](int tile, int stage) {
    LoadTileAsync<T, Rows, kBlockN, kThreads>(k_tiles + stage * Cfg::kKvTileBytes, kh,
                                              tile * kBlockN, seq, tid);
    LoadTileAsync<T, Rows, kBlockN, kThreads>(v_tiles + stage * Cfg::kKvTileBytes, vh,
                                              tile * kBlockN, seq, tid);
  };

  // Pipeline: one cp.async group per tile (Q rides with tile 0), kStages - 1 tiles ahead; one
  // group is committed per iteration even when there is nothing left to load, so "tile t has
  // landed" is always "at most kStages - 2 groups still pending".
  LoadTileAsync<T, Rows, kBlockM, kThreads>(q_tile, qh, q0, seq, tid);
#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < n_tiles) load_kv(s, s);
    CpAsyncCommit();
  }
  CpAsyncWait<kStages - 2>();  // Q and tile 0 have landed
  __syncthreads();

  const int w0 = warp * kWarpRows;        // the warp's first row within the block
  const int row_lo = q0 + w0 + lane / 4;  // this thread's rows: row_lo + 16*mt + {0, 8}
  const int warp_last_row = q0 + w0 + kWarpRows - 1;
  // With one m-tile the warp keeps its Q fragments in registers for the whole kernel; with more
  // it re-reads them from shared memory for each tile (the registers hold the accumulators).
  uint32_t q_frag[D / 16][4];
  if constexpr (kMTiles == 1) LoadRowFragments<Rows>(q_frag, q_tile, w0, lane);

  float acc[kMTiles][D / 8][4];
  float row_max[kMTiles][2],
      row_sum[kMTiles][2];  // row_sum: this thread's share; the quad adds up at the end
#pragma unroll
  for (int mt = 0; mt < kMTiles; ++mt) {
#pragma unroll
    for (int i = 0; i < D / 8; ++i)
      acc[mt][i][0] = acc[mt][i][1] = acc[mt][i][2] = acc[mt][i][3] = 0.0f;
    row_max[mt][0] = row_max[mt][1] = kNegInf;
    row_sum[mt][0] = row_sum[mt][1] = 0.0f;
  }

  int read_stage = 0, write_stage = kStages - 1;
  for (int t = 0; t < n_tiles; ++t) {
    CpAsyncWait<kStages - 2>();  // this thread's copies of tile t have landed
    // One barrier per tile: after it every thread's copies of tile t are visible, and every warp
    // has finished tile t-1, whose stage (write_stage) the next load may therefore overwrite.
    __syncthreads();
    if (t + kStages - 1 < n_tiles) load_kv(t + kStages - 1, write_stage);
    CpAsyncCommit();

    const int n0 = t * kBlockN;
    if (!causal || n0 <= warp_last_row) {
      const uint32_t stage = read_stage * Cfg::kKvTileBytes;
      float s[kMTiles][kBlockN / 8][4];
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt) {
#pragma unroll
        for (int i = 0; i < kBlockN / 8; ++i)
          s[mt][i][0] = s[mt][i][1] = s[mt][i][2] = s[mt][i][3] = 0.0f;
      }
      if constexpr (kMTiles == 1) {
        MmaRowsTimesTileT<T, Rows, kBlockN>(s[0], q_frag, k_tiles + stage, lane);
      } else {
        MmaSharedRowsTimesTileT<T, Rows, kBlockN, kMTiles>(s, q_tile, w0, k_tiles + stage, lane);
      }

      // Mask keys past the sequence end and, under the causal mask, keys after the query.
      if (n0 + kBlockN > seq || (causal && n0 + kBlockN - 1 > q0 + w0)) {
#pragma unroll
        for (int mt = 0; mt < kMTiles; ++mt) {
#pragma unroll
          for (int nt = 0; nt < kBlockN / 8; ++nt) {
#pragma unroll
            for (int e = 0; e < 4; ++e) {
              const int col = n0 + nt * 8 + 2 * (lane % 4) + (e & 1);
              const int row = row_lo + 16 * mt + (e / 2) * 8;
              if (col >= seq || (causal && col > row)) s[mt][nt][e] = kNegInf;
            }
          }
        }
      }

      // Online softmax. The max is kept unscaled; exponents are taken as
      // exp2(s * scale * log2e - max * scale * log2e), one FFMA and one MUFU.EX2 per element.
      uint32_t p_frag[kMTiles][kBlockN / 16]
                     [4];  // P as A fragments: n-tiles 2kk, 2kk+1 form k-step kk
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt) {
        float alpha[2], max_scaled[2];
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          float mx = row_max[mt][r];
#pragma unroll
          for (int nt = 0; nt < kBlockN / 8; ++nt)
            mx = fmaxf(mx, fmaxf(s[mt][nt][2 * r], s[mt][nt][2 * r + 1]));
          mx = QuadMax(mx);
          // A row with nothing visible yet keeps max -inf; exponents against 0 then give 0, not
          // NaN.
          max_scaled[r] = mx == kNegInf ? 0.0f : mx * scale_log2;
          alpha[r] = Exp2(row_max[mt][r] * scale_log2 - max_scaled[r]);  // 0 on the first tile
          row_max[mt][r] = mx;
        }
        float tile_sum[2] = {0.0f, 0.0f};
#pragma unroll
        for (int nt = 0; nt < kBlockN / 8; ++nt) {
#pragma unroll
          for (int r = 0; r < 2; ++r) {
            const float p0 = Exp2(fmaf(s[mt][nt][2 * r], scale_log2, -max_scaled[r]));
            const float p1 = Exp2(fmaf(s[mt][nt][2 * r + 1], scale_log2, -max_scaled[r]));
            tile_sum[r] += p0 + p1;
            p_frag[mt][nt / 2][(nt % 2) * 2 + r] = Mma<T>::Pack(p0, p1);
          }
        }
#pragma unroll
        for (int r = 0; r < 2; ++r) row_sum[mt][r] = row_sum[mt][r] * alpha[r] + tile_sum[r];
#pragma unroll
        for (int i = 0; i < D / 8; ++i) {
          acc[mt][i][0] *= alpha[0];
          acc[mt][i][1] *= alpha[0];
          acc[mt][i][2] *= alpha[1];
          acc[mt][i][3] *= alpha[1];
        }
      }
      MmaRowTilesTimesTile<T, Rows, kBlockN, kMTiles>(acc, p_frag, v_tiles + stage, lane);
    }
    read_stage = read_stage + 1 == kStages ? 0 : read_stage + 1;
    write_stage = write_stage + 1 == kStages ? 0 : write_stage + 1;
  }
  CpAsyncWait<0>();  // only empty groups remain; leave nothing in flight

  // Epilogue: normalise, write the log-sum-exp, and stage the output tile through this warp's own
  // Q rows in shared memory (no other warp reads them) so global stores are 16 bytes wide.
#pragma unroll
  for (int mt = 0; mt < kMTiles; ++mt) {
    float inv[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const float l = QuadSum(row_sum[mt][r]);
      inv[r] = l > 0.0f ? 1.0f / l : 0.0f;
      const int row = row_lo + 16 * mt + 8 * r;
      if (lse != nullptr && lane % 4 == 0 && row < seq) {
        lse[static_cast<int64_t>(blockIdx.y) * seq + row] =
            l > 0.0f ? row_max[mt][r] * scale + logf(l) : kNegInf;
      }
    }
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt) {
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        const int local_row = w0 + 16 * mt + lane / 4 + 8 * r;
        *reinterpret_cast<uint32_t*>(q_smem + Rows::Offset(local_row, dt) + 2 * (lane % 4)) =
            Mma<T>::Pack(acc[mt][dt][2 * r] * inv[r], acc[mt][dt][2 * r + 1] * inv[r]);
      }
    }
  }
  __syncwarp();
  constexpr int kChunksPerRow = D / 8;
  T* const oh = o + head;
#pragma unroll
  for (int i = 0; i < kWarpRows * kChunksPerRow / 32; ++i) {
    const int chunk = lane + 32 * i;
    const int r = chunk / kChunksPerRow, c = chunk % kChunksPerRow;
    const int row = q0 + w0 + r;
    if (row < seq) {
      *reinterpret_cast<uint4*>(oh + static_cast<int64_t>(row) * D + c * 8) =
          *reinterpret_cast<const uint4*>(q_smem + Rows::Offset(w0 + r, c));
    }
  }
}

template <typename T, int D, int kWarps, int kMTiles, int kBlockN, int kStages>
void LaunchTiledConfig(const DeviceProblem& p, float* lse) {
  using Cfg = TiledConfig<T, D, kWarps, kMTiles, kBlockN, kStages>;
  auto* kernel = TiledAttentionKernel<T, D, kWarps, kMTiles, kBlockN, kStages>;
  // Above 48 KB a block's dynamic shared memory must be opted into, once per kernel.
  static const bool configured = [&] {
    ATTN_CUDA_CHECK(
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kSmemBytes));
    return true;
  }();
  (void)configured;
  const int seq = static_cast<int>(p.shape.seq);
  // The same float values the CPU mirror uses (attention_cpu.cc).
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));
  const float scale_log2 = static_cast<float>(scale * 1.4426950408889634);
  const dim3 grid((seq + Cfg::kBlockM - 1) / Cfg::kBlockM,
                  static_cast<unsigned>(p.shape.batch_heads));
  kernel<<<grid, Cfg::kThreads, Cfg::kSmemBytes>>>(
      static_cast<const T*>(p.q), static_cast<const T*>(p.k), static_cast<const T*>(p.v),
      static_cast<T*>(p.o), lse, seq, p.shape.causal ? 1 : 0, scale, scale_log2);
  ATTN_CHECK_LAUNCH();
}

template <typename T, int D>
void LaunchTiledHeadDim(const DeviceProblem& p, TiledLayout layout, float* lse) {
  // One line per entry of kTiledLayouts.
  if (layout == TiledLayout{4, 32, 32, 2}) return LaunchTiledConfig<T, D, 4, 2, 32, 2>(p, lse);
  if (layout == TiledLayout{4, 16, 64, 2}) return LaunchTiledConfig<T, D, 4, 1, 64, 2>(p, lse);
  if (layout == TiledLayout{8, 16, 64, 3}) return LaunchTiledConfig<T, D, 8, 1, 64, 3>(p, lse);
  throw std::runtime_error("tiled attention: layout " + TiledLayoutName(layout) +
                           " is not built; built (warps x rows / keys): " + TiledLayoutsBuilt());
}

template <typename T>
void LaunchTiled(const DeviceProblem& p, TiledLayout layout, float* lse) {
  if (p.shape.head_dim == 64) return LaunchTiledHeadDim<T, 64>(p, layout, lse);
  if (p.shape.head_dim == 128) return LaunchTiledHeadDim<T, 128>(p, layout, lse);
  throw std::runtime_error("tiled attention: head dim " + std::to_string(p.shape.head_dim) +
                           " is not built; accepted: 64 or 128");
}

}  // namespace attn::fwd::device
