// Device building blocks shared by attn-fwd's kernels: swizzled shared-memory tiles filled with
// cp.async, ldmatrix fragment loads, and the m16n8k16 tensor-core MMA for fp16 and bf16.
//
// Fragment layouts (PTX ISA, mma.m16n8k16 with .f16/.bf16 inputs and .f32 accumulators), with
// g = lane / 4 and t = lane % 4:
//   A 16x16 (row-major): reg0 = A[g][2t..2t+1], reg1 = A[g+8][2t..], reg2 = A[g][8+2t..],
//                        reg3 = A[g+8][8+2t..]
//   B 16x8  (col-major): reg0 = B[2t..2t+1][g], reg1 = B[8+2t..][g]
//   C 16x8  (f32):       c0,c1 = C[g][2t..2t+1], c2,c3 = C[g+8][2t..]
// C's layout over two adjacent n-tiles equals A's layout over one 16-wide k-step, which is what
// lets the softmax probabilities P go from the S accumulators straight into the P.V MMA.
// Included from .cu files only.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

namespace attn::fwd::device {

// Tiles are [rows][D] in shared memory, stored as 16-byte chunks of 8 elements. ldmatrix reads one
// chunk from each of 8 consecutive rows; rows of 128 or 256 bytes would put all 8 in the same 4
// banks, so the rows are spread one of two ways:
//  - swizzled (kPadded false): the chunk index is XORed with the row's low 3 bits; no extra bytes,
//    but every (row, chunk) address pattern needs its own register or an XOR;
//  - padded (kPadded true): each row is 16 bytes longer, so consecutive rows start 4 banks apart;
//    addresses are base + immediate, which saves the registers the two-m-tile kernel lacks, at
//    6% (head dim 128) or 12% (64) more shared memory.
template <int D, bool kPadded>
struct SmemRows {
  static constexpr int kD = D;
  static constexpr int kRowElems = kPadded ? D + 8 : D;
  static constexpr int Bytes(int rows) { return rows * kRowElems * 2; }
  // Element offset of chunk `chunk` (columns 8*chunk..+7) of row `row`.
  static __device__ __forceinline__ int Offset(int row, int chunk) {
    if constexpr (kPadded) {
      return row * kRowElems + (chunk << 3);
    } else {
      return row * D + ((chunk ^ (row & 7)) << 3);
    }
  }
};

__device__ __forceinline__ uint32_t SharedAddress(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16 bytes global -> shared, bypassing L1; with `valid` false nothing is read and the 16 bytes
// are zero-filled (rows past the sequence end must read as zeros, not as stale data).
__device__ __forceinline__ void CpAsync16(uint32_t dst, const void* src, bool valid) {
  const int src_bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src),
               "r"(src_bytes)
               : "memory");
}
__device__ __forceinline__ void CpAsyncCommit() {
  asm volatile("cp.async.commit_group;\n" ::: "memory");
}
// Waits until at most `kPending` of this thread's committed groups are still in flight.
template <int kPending>
__device__ __forceinline__ void CpAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending) : "memory");
}

// Rows [row0, row0 + kRows) of a [seq][D] matrix into a swizzled shared tile, rows >= seq as zeros.
// Consecutive threads take consecutive 16-byte chunks: each warp reads 512 contiguous bytes.
template <typename T, typename Rows, int kRows, int kThreads>
__device__ __forceinline__ void LoadTileAsync(uint32_t tile, const T* matrix, int row0, int seq,
                                              int tid) {
  constexpr int D = Rows::kD;
  constexpr int kChunksPerRow = D / 8;
  constexpr int kChunks = kRows * kChunksPerRow;
  static_assert(kChunks % kThreads == 0, "every thread copies the same number of chunks");
#pragma unroll
  for (int i = 0; i < kChunks / kThreads; ++i) {
    const int chunk = tid + i * kThreads;
    const int r = chunk / kChunksPerRow, c = chunk % kChunksPerRow;
    const bool valid = row0 + r < seq;
    const T* src = matrix + static_cast<int64_t>(valid ? row0 + r : 0) * D + c * 8;
    CpAsync16(tile + Rows::Offset(r, c) * 2, src, valid);
  }
}

// Four 8x8 b16 matrices; lanes 8i..8i+7 give the row addresses of matrix i, register i receives
// matrix i (plain: lane holds row lane/4, columns 2*(lane%4)..+1; .trans: the transpose).
__device__ __forceinline__ void LdMatrixX4(uint32_t (&r)[4], uint32_t address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
}
__device__ __forceinline__ void LdMatrixX4Trans(uint32_t (&r)[4], uint32_t address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
}

template <typename T>
struct Mma;

template <>
struct Mma<__half> {
  // d += a * b, fp32 accumulate.
  static __device__ __forceinline__ void Run(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                             uint32_t b1) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
        "{%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
  // Two floats as a packed pair, `lo` in the low half (the lower column index), rounded to nearest.
  static __device__ __forceinline__ uint32_t Pack(float lo, float hi) {
    const __half2 h = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&h);
  }
};

template <>
struct Mma<__nv_bfloat16> {
  static __device__ __forceinline__ void Run(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                             uint32_t b1) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
        "{%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
  static __device__ __forceinline__ uint32_t Pack(float lo, float hi) {
    const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const uint32_t*>(&h);
  }
};

// 2^x on the special-function unit (ex2.approx: 2 ulp; -inf gives +0, which masking relies on).
__device__ __forceinline__ float Exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

// Reductions over the 4 lanes that share an accumulator row (lanes 4g..4g+3).
__device__ __forceinline__ float QuadMax(float x) {
  x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 1));
  return fmaxf(x, __shfl_xor_sync(0xffffffffu, x, 2));
}
__device__ __forceinline__ float QuadSum(float x) {
  x += __shfl_xor_sync(0xffffffffu, x, 1);
  return x + __shfl_xor_sync(0xffffffffu, x, 2);
}

// A fragments of a warp's 16 rows (starting at tile row `row0`) for all D/16 k-steps, from a
// swizzled [rows][D] tile. Matrix i of each x4 is (rows row0 + 8*(i%2).., chunk 2*ks + i/2).
template <typename Rows>
__device__ __forceinline__ void LoadRowFragments(uint32_t (&frag)[Rows::kD / 16][4], uint32_t tile,
                                                 int row0, int lane) {
#pragma unroll
  for (int ks = 0; ks < Rows::kD / 16; ++ks) {
    LdMatrixX4(frag[ks], tile + Rows::Offset(row0 + lane % 16, 2 * ks + lane / 16) * 2);
  }
}

// acc[16 x kCols] += A (16 x D, fragments) * tile^T, tile = rows [0, kCols) of a swizzled [.][D]
// tile (the K tile: a row-major K is the column-major B that mma wants). One x4 covers two
// n-tiles of 8 keys for one k-step: matrix i is (keys 8*(i/2).., chunk 2*ks + i%2).
template <typename T, typename Rows, int kCols, int D = Rows::kD>
__device__ __forceinline__ void MmaRowsTimesTileT(float (&acc)[kCols / 8][4],
                                                  const uint32_t (&a)[D / 16][4], uint32_t tile,
                                                  int lane) {
#pragma unroll
  for (int ks = 0; ks < D / 16; ++ks) {
#pragma unroll
    for (int np = 0; np < kCols / 16; ++np) {
      uint32_t b[4];
      LdMatrixX4(
          b,
          tile + Rows::Offset(np * 16 + lane % 8 + (lane / 16) * 8, 2 * ks + (lane / 8) % 2) * 2);
      Mma<T>::Run(acc[2 * np], a[ks], b[0], b[1]);
      Mma<T>::Run(acc[2 * np + 1], a[ks], b[2], b[3]);
    }
  }
}

// The same product for kMTiles m-tiles of 16 rows at once, so that every B fragment read from
// shared memory feeds kMTiles MMAs (half the ldmatrix traffic per MMA with two). The A rows come
// from a shared tile (rows a_row0 + 16*mt): with more than 16 rows a warp has no registers to keep
// its Q fragments in.
template <typename T, typename Rows, int kCols, int kMTiles, int D = Rows::kD>
__device__ __forceinline__ void MmaSharedRowsTimesTileT(float (&acc)[kMTiles][kCols / 8][4],
                                                        uint32_t a_tile, int a_row0, uint32_t tile,
                                                        int lane) {
#pragma unroll
  for (int ks = 0; ks < D / 16; ++ks) {
    uint32_t a[kMTiles][4];
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt) {
      LdMatrixX4(a[mt],
                 a_tile + Rows::Offset(a_row0 + 16 * mt + lane % 16, 2 * ks + lane / 16) * 2);
    }
#pragma unroll
    for (int np = 0; np < kCols / 16; ++np) {
      uint32_t b[4];
      LdMatrixX4(
          b,
          tile + Rows::Offset(np * 16 + lane % 8 + (lane / 16) * 8, 2 * ks + (lane / 8) % 2) * 2);
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt) {
        Mma<T>::Run(acc[mt][2 * np], a[mt], b[0], b[1]);
        Mma<T>::Run(acc[mt][2 * np + 1], a[mt], b[2], b[3]);
      }
    }
  }
}

// acc[mt] (16 x D) += P[mt] (16 x kRows, fragments) * tile for kMTiles m-tiles, tile = rows
// [0, kRows) of a [.][D] shared tile (the V tile, row-major, so ldmatrix.trans). One x4 covers one
// 16-key k-step for two 8-wide column tiles: matrix i is (keys 16*kk + 8*(i%2).., chunk 2*dp +
// i/2).
template <typename T, typename Rows, int kRows, int kMTiles, int D = Rows::kD>
__device__ __forceinline__ void MmaRowTilesTimesTile(float (&acc)[kMTiles][D / 8][4],
                                                     const uint32_t (&p)[kMTiles][kRows / 16][4],
                                                     uint32_t tile, int lane) {
#pragma unroll
  for (int kk = 0; kk < kRows / 16; ++kk) {
#pragma unroll
    for (int dp = 0; dp < D / 16; ++dp) {
      uint32_t b[4];
      LdMatrixX4Trans(b, tile + Rows::Offset(kk * 16 + lane % 16, 2 * dp + lane / 16) * 2);
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt) {
        Mma<T>::Run(acc[mt][2 * dp], p[mt][kk], b[0], b[1]);
        Mma<T>::Run(acc[mt][2 * dp + 1], p[mt][kk], b[2], b[3]);
      }
    }
  }
}

}  // namespace attn::fwd::device
