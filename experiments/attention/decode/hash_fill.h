// Benchmark inputs computed from (seed, element index) alone, so a kernel fills gigabytes of
// KV cache on the device in milliseconds and the host recomputes any element of it for a spot
// check against the CPU reference. Compiled by both g++ and nvcc; pure functions.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define ATTN_HOST_DEVICE __host__ __device__
#else
#define ATTN_HOST_DEVICE
#endif

namespace attn::decode {

// Streams of the same seed, so K, V and q differ.
enum class HashStream : uint64_t { kKey = 1, kValue = 2, kQuery = 3 };

// A value in [-1, 1) on a grid of 2^-10: k / 1024 for an 11-bit k, exactly representable in fp16,
// so the device's and the host's conversions to fp16 agree whatever their rounding.
ATTN_HOST_DEVICE inline float HashUnitValue(uint64_t seed, HashStream stream, uint64_t index) {
  // SplitMix64's finaliser over a (seed, stream, index) mix.
  uint64_t z = index + (seed * 4 + static_cast<uint64_t>(stream)) * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  const int k = static_cast<int>(z >> 53) - 1024;  // 11 random bits, -1024..1023
  return static_cast<float>(k) * (1.0f / 1024.0f);
}

// The benchmark's q is 4x the unit value (k / 256, still exact in fp16): scores q.k / sqrt(d)
// then spread over about +-1.3 rather than +-0.3, so the softmax is not flat and a kernel that
// pairs a token's K with another token's V shows in the spot check.
inline constexpr float kBenchQueryScale = 4.0f;

}  // namespace attn::decode
