// Host-side fp16 / bf16 rounding, bit-exact with the device's round-to-nearest-even conversions.
//
// The CPU references read the same rounded inputs the GPU kernels read, so their difference is
// the kernel's arithmetic alone. Header-only; pure functions, safe from any thread.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace attn {

enum class DType { kF16, kBF16 };

inline std::string_view DTypeName(DType t) { return t == DType::kF16 ? "fp16" : "bf16"; }

inline uint32_t FloatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

inline float BitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// IEEE binary16, round to nearest even; overflow to infinity, NaN kept quiet.
inline uint16_t FloatToHalfBits(float f) {
  const uint32_t x = FloatBits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<uint16_t>(sign | (abs > 0x7f800000u ? 0x7e00u : 0x7c00u));
  if (abs >= 0x47800000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65536: infinity
  if (abs < 0x38800000u) {  // subnormal half (or zero): scale so the float adder rounds for us
    const float magic = BitsFloat(0x3f000000u);  // 0.5: 2^-24 * 2^23
    const float v = BitsFloat(abs) + magic;
    return static_cast<uint16_t>(sign | (FloatBits(v) - FloatBits(magic)));
  }
  const uint32_t mant_odd = (abs >> 13) & 1u;
  // Rebias the exponent (-112 << 23) and round; a carry into the exponent is the right answer,
  // up to 65520 and above becoming infinity (after ryg's float_to_half_fast3_rtne).
  const uint32_t rounded = abs + 0xc8000fffu + mant_odd;
  return static_cast<uint16_t>(sign | (rounded >> 13));
}

inline float HalfBitsToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    const float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  if (exp == 31) return BitsFloat(sign | 0x7f800000u | (mant << 13));
  return BitsFloat(sign | ((exp + 112u) << 23) | (mant << 13));
}

inline uint16_t FloatToBf16Bits(float f) {
  const uint32_t x = FloatBits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

inline float Bf16BitsToFloat(uint16_t b) { return BitsFloat(static_cast<uint32_t>(b) << 16); }

inline uint16_t ToBits(DType t, float f) { return t == DType::kF16 ? FloatToHalfBits(f) : FloatToBf16Bits(f); }
inline float FromBits(DType t, uint16_t b) { return t == DType::kF16 ? HalfBitsToFloat(b) : Bf16BitsToFloat(b); }
// The value a float becomes after a round trip through `t`.
inline float Round(DType t, float f) { return FromBits(t, ToBits(t, f)); }

}  // namespace attn
