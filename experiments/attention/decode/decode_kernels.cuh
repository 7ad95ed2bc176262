// Split-KV decode attention (flash-decoding) with tensor-core mma, over a contiguous or a paged
// KV cache. The launch code is decode_gpu.cu; README.md has the design and its figures.
//
// One thread block per (split, KV head, sequence):
//   1. (paged) copy the split's slice of the block table to shared memory, so the copy loop
//      never waits on a dependent global load;
//   2. stream the split's K and V rows through a 3-stage cp.async pipeline of 64-token tiles:
//      each row is head_dim * 2 bytes, copied as 16-byte chunks by consecutive threads, so a warp
//      reads 512 contiguous bytes (two rows; in the paged layout a block of one KV head is 4 KiB
//      contiguous). Rows past the split are zero-filled, never read;
//   3. each warp owns one m16 tile of the group's query heads (rows past the group are zero)
//      and a quarter (or half, for groups over 16) of each tile's tokens: S = q K^T with
//      mma.m16n8k16 (K fragments by ldmatrix), online softmax in fp32, O += P V (P rounded to
//      fp16, V fragments by ldmatrix.trans). K/V bytes are read from DRAM once per KV head
//      whatever the group size, and the tensor cores keep even group 32 bandwidth-bound;
//   4. the warps' partial (max, sum, O) are merged through shared memory; with one split the
//      result is the output, otherwise a normalised partial and its log2-sum-exp go to a
//      workspace that CombineSplitsKernel merges.
#pragma once

#include <cstdint>

#include "experiments/attention/decode/ptx_ops.cuh"
#include "experiments/attention/decode/split_plan.h"

namespace attn::decode::kernels {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kStages = 3;
// Block-table entries a paged thread block keeps in shared memory (8 KiB); bounds a split's
// length to (kMaxTableEntries - 2) * block_size tokens.
constexpr int kMaxTableEntries = 2048;
constexpr int kMaxGroup = 32;  // two m16 tiles of query heads per KV head

template <int kHeadDim>
struct TileShape {
  static constexpr int kChunksPerRow = kHeadDim / 8;             // 16-byte chunks per K/V row
  static constexpr int kRowsPerPass = kThreads / kChunksPerRow;  // rows one copy pass covers
  static constexpr int kPasses = kTileTokens / kRowsPerPass;     // copy passes per tile
  static constexpr int kTileElems = kTileTokens * kHeadDim;      // halves of K (or V) per tile
  static constexpr int kStageBytes = 2 * kTileElems * 2;         // K and V
  static constexpr int kPipelineBytes = kStages * kStageBytes;
  // The in-block combine reuses the pipeline buffers: each warp's O tile plus (max, sum) rows.
  static constexpr int kCombineBytes = kWarps * 16 * (kHeadDim + 2) * 4;
  static_assert(kTileTokens % kRowsPerPass == 0, "a tile is whole copy passes");
  static_assert(kCombineBytes <= kPipelineBytes, "the combine fits in the pipeline buffers");
};

struct SplitParams {
  const __half* q;  // [batch][n_q_heads][head_dim]
  const __half* k;  // contiguous [batch][n_kv_heads][max_len][head_dim] or the paged pool
  const __half* v;
  const int32_t* seq_lens;      // [batch]
  const int32_t* block_tables;  // paged: [batch][max_blocks_per_seq]
  float* out;                   // [batch][n_q_heads][head_dim]
  float* part_o;                // [batch][n_q_heads][num_splits][head_dim], normalised partials
  float* part_lse;              // [batch][n_q_heads][num_splits], log2 of each partial's sum
  int64_t max_len;              // contiguous: rows per (sequence, KV head)
  int n_q_heads;
  int n_kv_heads;
  int group;
  int max_blocks_per_seq;
  int block_shift;  // log2(block_size)
  int num_splits;
  int tokens_per_split;
  float scale_log2;  // softmax scale 1/sqrt(head_dim) times log2(e): exp2 replaces exp
};

// Element offset of 16-byte chunk `chunk` of tile row `row`. The chunk index is XORed with
// row % 8 so that the 8 rows an ldmatrix reads at one column, 256 bytes apart, hit 8 different
// bank groups instead of one.
template <int kHeadDim>
__device__ __forceinline__ int SwizzledOffset(int row, int chunk) {
  return (row * TileShape<kHeadDim>::kChunksPerRow + (chunk ^ (row & 7))) * 8;
}

template <int kHeadDim, int kMTiles, bool kPaged>
__global__ void __launch_bounds__(kThreads) DecodeSplitKernel(const SplitParams p) {
  using Tile = TileShape<kHeadDim>;
  constexpr int kKSteps = kHeadDim / 16;                      // k16 steps of q K^T
  constexpr int kNTiles = kHeadDim / 8;                       // n8 tiles of P V
  constexpr int kSlices = kWarps / kMTiles;                   // warps sharing one m16 tile
  constexpr int kChunksPerWarp = kTileTokens / 16 / kSlices;  // 16-token chunks per warp per tile
  static_assert(kTileTokens % (16 * kSlices) == 0, "every warp gets whole 16-token chunks");

  extern __shared__ __align__(128) unsigned char smem[];
  __half* const stages = reinterpret_cast<__half*>(smem);
  int32_t* const table = reinterpret_cast<int32_t*>(smem + Tile::kPipelineBytes);

  const int split = blockIdx.x;
  const int kv_head = blockIdx.y;
  const int seq = blockIdx.z;
  const int len = p.seq_lens[seq];
  const int start = split * p.tokens_per_split;
  // Past the sequence's end: the combine never reads this split. With one split the block
  // always runs, so an empty sequence still gets its (zero) output.
  if (p.num_splits > 1 && start >= len) return;
  const int end = min(len, start + p.tokens_per_split);
  const int n_tiles = end > start ? (end - start + kTileTokens - 1) / kTileTokens : 0;

  int first_block = 0;
  if constexpr (kPaged) {
    first_block = start >> p.block_shift;
    const int entries = end > start ? ((end - 1) >> p.block_shift) - first_block + 1 : 0;
    const int32_t* src =
        p.block_tables + static_cast<int64_t>(seq) * p.max_blocks_per_seq + first_block;
    for (int i = threadIdx.x; i < entries; i += kThreads) table[i] = src[i];
    __syncthreads();
  }

  // K/V of this (sequence, KV head): contiguous rows from k_src, or pool rows via the table.
  const int64_t head_offset =
      kPaged ? 0 : (static_cast<int64_t>(seq) * p.n_kv_heads + kv_head) * p.max_len * kHeadDim;
  const __half* const k_src = p.k + head_offset;
  const __half* const v_src = p.v + head_offset;

  const int copy_chunk = threadIdx.x % Tile::kChunksPerRow;
  const int copy_row = threadIdx.x / Tile::kChunksPerRow;
  auto issue_tile = [&](int tile) {
    __half* const sk = stages + (tile % kStages) * 2 * Tile::kTileElems;
    __half* const sv = sk + Tile::kTileElems;
    const int tile_start = start + tile * kTileTokens;
#pragma unroll
    for (int i = 0; i < Tile::kPasses; ++i) {
      const int row = copy_row + i * Tile::kRowsPerPass;
      const int t = tile_start + row;
      const bool valid = t < end;
      int64_t src = 0;  // any readable address: a zero-filling copy reads nothing
      if (valid) {
        if constexpr (kPaged) {
          const int64_t block = table[(t >> p.block_shift) - first_block];
          const int64_t slot = t & ((1 << p.block_shift) - 1);
          src = (((block * p.n_kv_heads + kv_head) << p.block_shift) + slot) * kHeadDim;
        } else {
          src = static_cast<int64_t>(t) * kHeadDim;
        }
        src += copy_chunk * 8;
      }
      const int dst = SwizzledOffset<kHeadDim>(row, copy_chunk);
      CopyChunkAsync(SharedAddress(sk + dst), k_src + src, valid);
      CopyChunkAsync(SharedAddress(sv + dst), v_src + src, valid);
    }
  };

  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const int frag_row = lane / 4;  // mma fragment coordinates: row (groupID) ...
  const int frag_col = lane % 4;  // ... and pair of columns (thread in group)
  const int m_tile = warp % kMTiles;
  const int slice = warp / kMTiles;

  // q of the m16 tile as mma A fragments: registers {row r, k lo}, {row r+8, k lo},
  // {row r, k hi}, {row r+8, k hi} per k16 step; query heads past the group are zero rows.
  uint32_t q_frag[kKSteps][4];
  {
    const int64_t group_base =
        (static_cast<int64_t>(seq) * p.n_q_heads + static_cast<int64_t>(kv_head) * p.group) *
        kHeadDim;
    const int h_lo = m_tile * 16 + frag_row;
    const int h_hi = h_lo + 8;
#pragma unroll
    for (int ks = 0; ks < kKSteps; ++ks) {
      const int col = ks * 16 + frag_col * 2;
      auto pair = [&](int h, int c) -> uint32_t {
        if (h >= p.group) return 0u;
        return *reinterpret_cast<const uint32_t*>(p.q + group_base + h * kHeadDim + c);
      };
      q_frag[ks][0] = pair(h_lo, col);
      q_frag[ks][1] = pair(h_hi, col);
      q_frag[ks][2] = pair(h_lo, col + 8);
      q_frag[ks][3] = pair(h_hi, col + 8);
    }
  }

  // Online-softmax state for rows frag_row and frag_row + 8 of the m16 tile. row_sum is this
  // thread's share (its columns); the quad's four shares are added at the end.
  float o[kNTiles][4];
#pragma unroll
  for (int n = 0; n < kNTiles; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.f;
  float row_max[2] = {-INFINITY, -INFINITY};
  float row_sum[2] = {0.f, 0.f};

  // Lane roles in the ldmatrix calls: lanes 8i..8i+7 address matrix i's 8 rows.
  const int ld_matrix = lane / 8;
  const int ld_row = lane % 8;

#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < n_tiles) issue_tile(s);
    CommitCopies();  // empty groups too, so the wait count below is the same every iteration
  }

  for (int tile = 0; tile < n_tiles; ++tile) {
    WaitCopies<kStages - 2>();  // this tile has landed (for this thread's copies) ...
    __syncthreads();  // ... and everyone's; also everyone is done with the stage refilled next
    if (tile + kStages - 1 < n_tiles) issue_tile(tile + kStages - 1);
    CommitCopies();

    const __half* const sk = stages + (tile % kStages) * 2 * Tile::kTileElems;
    const uint32_t sk_addr = SharedAddress(sk);
    const uint32_t sv_addr = SharedAddress(sk + Tile::kTileElems);
    const int tile_start = start + tile * kTileTokens;

#pragma unroll
    for (int c = 0; c < kChunksPerWarp; ++c) {
      const int row0 = (slice * kChunksPerWarp + c) * 16;  // the chunk's first row in the tile
      if (tile_start + row0 >= end) break;                 // warp-uniform

      // S = q K^T for the chunk's 16 tokens, two n8 tiles. ldmatrix matrices: (tokens 0-7,
      // d lo), (tokens 0-7, d hi), (tokens 8-15, d lo), (tokens 8-15, d hi): K rows are
      // exactly the column-major B operand.
      float s[2][4] = {{0.f, 0.f, 0.f, 0.f}, {0.f, 0.f, 0.f, 0.f}};
      {
        const int k_row = row0 + (ld_matrix / 2) * 8 + ld_row;
#pragma unroll
        for (int ks = 0; ks < kKSteps; ++ks) {
          uint32_t b[4];
          LoadMatrices(b, sk_addr + 2 * SwizzledOffset<kHeadDim>(k_row, 2 * ks + ld_matrix % 2));
          Mma16816(s[0], q_frag[ks], b[0], b[1]);
          Mma16816(s[1], q_frag[ks], b[2], b[3]);
        }
      }

      // Scale into the log2 domain and mask tokens past the split's end.
#pragma unroll
      for (int nt = 0; nt < 2; ++nt) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int t = tile_start + row0 + nt * 8 + frag_col * 2 + (e & 1);
          s[nt][e] = t < end ? s[nt][e] * p.scale_log2 : -INFINITY;
        }
      }

      // Online softmax (accumulator element e of an n8 tile is row frag_row + 8 * (e / 2)).
      float alpha[2];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        float m = fmaxf(fmaxf(s[0][2 * r], s[0][2 * r + 1]), fmaxf(s[1][2 * r], s[1][2 * r + 1]));
        m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, 1));
        m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, 2));
        const float m_new = fmaxf(row_max[r], m);
        // A row that has seen only masked tokens keeps max -inf; exponents are then taken
        // relative to 0, so exp2(-inf - -inf) never makes a NaN.
        const float m_ref = m_new == -INFINITY ? 0.f : m_new;
        alpha[r] = exp2f(row_max[r] - m_ref);
        row_max[r] = m_new;
        float sum = 0.f;
#pragma unroll
        for (int nt = 0; nt < 2; ++nt) {
#pragma unroll
          for (int e = 2 * r; e < 2 * r + 2; ++e) {
            s[nt][e] = exp2f(s[nt][e] - m_ref);
            sum += s[nt][e];
          }
        }
        row_sum[r] = row_sum[r] * alpha[r] + sum;
      }
#pragma unroll
      for (int n = 0; n < kNTiles; ++n) {
        o[n][0] *= alpha[0];
        o[n][1] *= alpha[0];
        o[n][2] *= alpha[1];
        o[n][3] *= alpha[1];
      }

      // P as the A operand: the two n8 score tiles are its k lo / k hi halves.
      const uint32_t p_frag[4] = {PackHalves(s[0][0], s[0][1]), PackHalves(s[0][2], s[0][3]),
                                  PackHalves(s[1][0], s[1][1]), PackHalves(s[1][2], s[1][3])};

      // O += P V. ldmatrix.trans matrices: (tokens 0-7, d lo), (tokens 8-15, d lo),
      // (tokens 0-7, d hi), (tokens 8-15, d hi): transposed V rows are the B operand.
      {
        const int v_row = row0 + (ld_matrix % 2) * 8 + ld_row;
#pragma unroll
        for (int dp = 0; dp < kHeadDim / 16; ++dp) {
          uint32_t b[4];
          LoadMatricesTransposed(
              b, sv_addr + 2 * SwizzledOffset<kHeadDim>(v_row, 2 * dp + ld_matrix / 2));
          Mma16816(o[2 * dp], p_frag, b[0], b[1]);
          Mma16816(o[2 * dp + 1], p_frag, b[2], b[3]);
        }
      }
    }
  }

  // Merge the warps that share an m16 tile through shared memory (the pipeline buffers, free
  // once every copy has landed and every warp has left the loop).
  WaitCopies<0>();
  __syncthreads();
  float* const part = reinterpret_cast<float*>(smem);  // [kWarps][16][kHeadDim]
  float* const stats = part + kWarps * 16 * kHeadDim;  // [kWarps][16] x (max, sum)
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    row_sum[r] += __shfl_xor_sync(0xffffffffu, row_sum[r], 1);
    row_sum[r] += __shfl_xor_sync(0xffffffffu, row_sum[r], 2);
  }
  {
    float* const mine = part + warp * 16 * kHeadDim;
#pragma unroll
    for (int n = 0; n < kNTiles; ++n) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        mine[(frag_row + 8 * (e / 2)) * kHeadDim + n * 8 + frag_col * 2 + (e & 1)] = o[n][e];
      }
    }
    if (frag_col == 0) {
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        stats[(warp * 16 + frag_row + 8 * r) * 2] = row_max[r];
        stats[(warp * 16 + frag_row + 8 * r) * 2 + 1] = row_sum[r];
      }
    }
  }
  __syncthreads();

  const int rows = min(p.group, kMTiles * 16);
  for (int idx = threadIdx.x; idx < rows * kHeadDim; idx += kThreads) {
    const int head = idx / kHeadDim;  // query head within the group
    const int col = idx % kHeadDim;
    const int tile_row = head % 16;
    float m = -INFINITY;
    for (int w = head / 16; w < kWarps; w += kMTiles) m = fmaxf(m, stats[(w * 16 + tile_row) * 2]);
    float sum = 0.f, acc = 0.f;
    if (m != -INFINITY) {
      for (int w = head / 16; w < kWarps; w += kMTiles) {
        const float weight = exp2f(stats[(w * 16 + tile_row) * 2] - m);
        sum += stats[(w * 16 + tile_row) * 2 + 1] * weight;
        acc += part[(w * 16 + tile_row) * kHeadDim + col] * weight;
      }
    }
    const float value = sum > 0.f ? acc / sum : 0.f;
    const int64_t bh =
        static_cast<int64_t>(seq) * p.n_q_heads + static_cast<int64_t>(kv_head) * p.group + head;
    if (p.num_splits == 1) {
      p.out[bh * kHeadDim + col] = value;
    } else {
      p.part_o[(bh * p.num_splits + split) * kHeadDim + col] = value;
      if (col == 0) p.part_lse[bh * p.num_splits + split] = sum > 0.f ? m + log2f(sum) : -INFINITY;
    }
  }
}

// One thread block of head_dim threads per (sequence, query head): weights each valid split's
// normalised partial by 2^(lse - max lse).
template <int kHeadDim>
__global__ void __launch_bounds__(kHeadDim) CombineSplitsKernel(const SplitParams p) {
  const int64_t bh = blockIdx.x;
  const int len = p.seq_lens[bh / p.n_q_heads];
  const int splits = min(p.num_splits, (len + p.tokens_per_split - 1) / p.tokens_per_split);
  const float* lse = p.part_lse + bh * p.num_splits;
  float m = -INFINITY;
  for (int s = 0; s < splits; ++s) m = fmaxf(m, lse[s]);
  float sum = 0.f, acc = 0.f;
  if (m != -INFINITY) {
    for (int s = 0; s < splits; ++s) {
      const float weight = exp2f(lse[s] - m);
      sum += weight;
      acc += weight * p.part_o[(bh * p.num_splits + s) * kHeadDim + threadIdx.x];
    }
  }
  p.out[bh * kHeadDim + threadIdx.x] = sum > 0.f ? acc / sum : 0.f;
}

}  // namespace attn::decode::kernels
