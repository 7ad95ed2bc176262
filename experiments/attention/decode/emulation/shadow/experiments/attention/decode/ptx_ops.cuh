// CPU stand-in for decode/ptx_ops.cuh, found first on the emulator's include path so that
// decode_kernels.cuh compiles as plain C++ (see decode/emulation/emulate_kernels.cc). Each CUDA
// thread is a std::thread; warp-collective operations (ldmatrix, mma, shuffles) meet at a
// per-warp barrier and read the other lanes' operands, following the PTX ISA's fragment layouts:
//   ldmatrix .m8n8.x4: lanes 8i..8i+7 address matrix i's rows; lane l receives matrix i's row
//     l / 4, columns 2 (l % 4) and + 1 (.trans: column l / 4, rows 2 (l % 4) and + 1);
//   mma.m16n8k16 .row.col f16 -> f32, groupID g = l / 4, t = l % 4:
//     A regs {a0 a1} (g, 2t..), {a2 a3} (g + 8, 2t..), {a4 a5} (g, 2t + 8..), {a6 a7} (g + 8, 2t
//     + 8..); B regs {b0 b1} (k = 2t.., n = g), {b2 b3} (k = 2t + 8.., n = g); C/D    c0 c1 (g,
//     2t..), c2 c3 (g + 8, 2t..); the low half of a register is the lower index.
// cp.async copies at once (the emulation has no asynchrony, so it cannot find pipeline races).
// Thread blocks run one at a time, so one shared-memory array serves them all.
#pragma once

#include <barrier>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "experiments/attention/common/half.h"

struct __half {
  uint16_t bits;
};
inline __half __float2half_rn(float f) { return {attn::FloatToHalfBits(f)}; }
inline unsigned short __half_as_ushort(__half h) { return h.bits; }
inline int min(int a, int b) { return a < b ? a : b; }

struct EmulatedDim3 {
  unsigned x = 0, y = 0, z = 0;
};
inline thread_local EmulatedDim3 threadIdx, blockIdx;

namespace attn::decode::emulation {

constexpr int kMaxWarps = 32;

// Operands a warp-collective operation exchanges; two sets used alternately, so a lane that
// races ahead to the next operation never overwrites what a slower lane still reads.
struct Warp {
  std::barrier<> arrive{32};
  uint32_t u[2][32][8];
  float f[2][32][8];
};

struct Block {
  explicit Block(int threads) : sync(threads) {}
  std::barrier<> sync;
  Warp warps[kMaxWarps];
};

struct Lane {
  Block* block = nullptr;
  int warp = 0;
  int lane = 0;
  int op = 0;  // warp-collective operations so far: picks the operand set
};
inline thread_local Lane self;

inline Warp& MyWarp() { return self.block->warps[self.warp]; }
inline int NextSet() { return self.op++ & 1; }

[[noreturn]] inline void Fail(const char* what, unsigned value) {
  std::fprintf(stderr, "emulated PTX: %s (%u)\n", what, value);
  std::abort();
}

}  // namespace attn::decode::emulation

inline void __syncthreads() { attn::decode::emulation::self.block->sync.arrive_and_wait(); }

inline float __shfl_xor_sync(unsigned, float v, int lane_mask) {
  using namespace attn::decode::emulation;
  Warp& w = MyWarp();
  const int set = NextSet();
  w.f[set][self.lane][0] = v;
  w.arrive.arrive_and_wait();
  return w.f[set][self.lane ^ lane_mask][0];
}

namespace attn::decode::kernels {

alignas(128) inline unsigned char smem[228 * 1024];

inline uint32_t SharedAddress(const void* p) {
  const auto* c = static_cast<const unsigned char*>(p);
  if (c < smem || c >= smem + sizeof(smem)) emulation::Fail("address outside shared memory", 0);
  return static_cast<uint32_t>(c - smem);
}

inline void CopyChunkAsync(uint32_t dst, const void* src, bool valid) {
  if (dst % 16 != 0 || dst + 16 > sizeof(smem)) emulation::Fail("cp.async destination", dst);
  if (valid) {
    std::memcpy(smem + dst, src, 16);
  } else {
    std::memset(smem + dst, 0, 16);
  }
}

inline void CommitCopies() {}

template <int kPending>
inline void WaitCopies() {}

inline uint16_t HalfAt(uint32_t addr, int index) {
  uint16_t v;
  std::memcpy(&v, smem + addr + 2 * index, 2);
  return v;
}

inline uint32_t Pair(uint16_t lo, uint16_t hi) { return lo | (static_cast<uint32_t>(hi) << 16); }

inline void LoadMatrices(uint32_t (&r)[4], uint32_t addr) {
  using namespace emulation;
  if (addr % 16 != 0) Fail("ldmatrix row address not 16-byte aligned", addr);
  Warp& w = MyWarp();
  const int set = NextSet();
  w.u[set][self.lane][0] = addr;
  w.arrive.arrive_and_wait();
  const int row = self.lane / 4, col = 2 * (self.lane % 4);
  for (int i = 0; i < 4; ++i) {
    const uint32_t row_addr = w.u[set][8 * i + row][0];
    r[i] = Pair(HalfAt(row_addr, col), HalfAt(row_addr, col + 1));
  }
}

inline void LoadMatricesTransposed(uint32_t (&r)[4], uint32_t addr) {
  using namespace emulation;
  if (addr % 16 != 0) Fail("ldmatrix row address not 16-byte aligned", addr);
  Warp& w = MyWarp();
  const int set = NextSet();
  w.u[set][self.lane][0] = addr;
  w.arrive.arrive_and_wait();
  const int col = self.lane / 4, row = 2 * (self.lane % 4);
  for (int i = 0; i < 4; ++i) {
    r[i] = Pair(HalfAt(w.u[set][8 * i + row][0], col), HalfAt(w.u[set][8 * i + row + 1][0], col));
  }
}

inline float LowHalf(uint32_t x) { return HalfBitsToFloat(static_cast<uint16_t>(x & 0xffff)); }
inline float HighHalf(uint32_t x) { return HalfBitsToFloat(static_cast<uint16_t>(x >> 16)); }

inline void Mma16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  using namespace emulation;
  Warp& w = MyWarp();
  const int set = NextSet();
  for (int i = 0; i < 4; ++i) {
    w.u[set][self.lane][i] = a[i];
    w.f[set][self.lane][i] = d[i];
  }
  w.u[set][self.lane][4] = b0;
  w.u[set][self.lane][5] = b1;
  w.arrive.arrive_and_wait();
  auto element = [](uint32_t reg, int k) { return k % 2 ? HighHalf(reg) : LowHalf(reg); };
  auto A = [&](int row, int k) {
    return element(w.u[set][(row % 8) * 4 + (k % 8) / 2][(row >= 8 ? 1 : 0) + (k >= 8 ? 2 : 0)], k);
  };
  auto B = [&](int k, int col) {
    return element(w.u[set][col * 4 + (k % 8) / 2][k >= 8 ? 5 : 4], k);
  };
  auto C = [&](int row, int col) {
    return w.f[set][(row % 8) * 4 + col / 2][(row >= 8 ? 2 : 0) + col % 2];
  };
  const int g = self.lane / 4, t = self.lane % 4;
  const int rows[4] = {g, g, g + 8, g + 8};
  const int cols[4] = {2 * t, 2 * t + 1, 2 * t, 2 * t + 1};
  for (int e = 0; e < 4; ++e) {
    double sum = C(rows[e], cols[e]);
    for (int k = 0; k < 16; ++k) sum += static_cast<double>(A(rows[e], k)) * B(k, cols[e]);
    d[e] = static_cast<float>(sum);
  }
}

inline uint32_t PackHalves(float lo, float hi) {
  return Pair(FloatToHalfBits(lo), FloatToHalfBits(hi));
}

}  // namespace attn::decode::kernels
