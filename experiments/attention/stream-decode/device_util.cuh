// Small device helpers the stream-decode kernels share: asynchronous 16-byte copies into shared
// memory (cp.async, sm_80+) and packing of eight fp16 values. Included from .cu files only.
#pragma once

#include <cuda_fp16.h>

#include <cstdint>

namespace attn::stream::gpu {

// Copies 16 bytes global -> shared without staging in registers; with `valid` false the
// destination is zero-filled instead (the source is then not read), which pads ragged tiles.
__device__ inline void CpAsync16(void* smem, const void* gmem, bool valid) {
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  const int src_bytes = valid ? 16 : 0;
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(gmem),
               "r"(src_bytes));
}
__device__ inline void CpAsyncCommit() { asm volatile("cp.async.commit_group;\n" ::); }
// Waits until at most `kPending` committed groups are still in flight.
template <int kPending>
__device__ inline void CpAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

// Eight fp16 values in one 16-byte word.
union Half8 {
  uint4 raw;
  half2 h2[4];
};

__device__ inline void Unpack8(uint4 raw, float* out) {
  Half8 u;
  u.raw = raw;
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 f = __half22float2(u.h2[i]);
    out[2 * i] = f.x;
    out[2 * i + 1] = f.y;
  }
}

__device__ inline uint4 Pack8(const float* in) {
  Half8 u;
#pragma unroll
  for (int i = 0; i < 4; ++i) u.h2[i] = __floats2half2_rn(in[2 * i], in[2 * i + 1]);
  return u.raw;
}

__device__ inline float WarpSum(float v) {
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

}  // namespace attn::stream::gpu
