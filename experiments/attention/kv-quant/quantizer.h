// KIVI's asymmetric 2-bit quantizer for one group of values, and the packing of 2-bit codes.
//
// A group x_1..x_n (G tokens of one key channel, or G channels of one value token) keeps
//   zero  = min(x)             stored in fp16; exact, as the inputs are fp16 values
//   scale = (max - min) / 3    stored in fp16 (rounded to nearest)
//   code  = round((x - zero) / scale) clamped to 0..3, computed with the stored fp16 scale
// and reads back as fma(code, scale, zero) in fp32, on the CPU and in the kernels alike.
// Invariants, for finite fp16 inputs:
//  1. |x - Dequantize(code, p)| <= scale / 2 (up to fp32 rounding of the fma), since codes are
//     chosen with the scale that dequantization uses; the clamped top element is off by at most
//     3 x (scale's fp16 rounding), far inside scale / 2.
//  2. The group minimum reads back exactly (code 0 gives `zero`). The maximum reads back as
//     zero + 3 x scale: exact whenever (max - min) / 3 is an fp16 value, otherwise within
//     3 x half an fp16 ulp of the scale, as an fp16 scale cannot hold every range / 3.
//  3. A constant group has scale 0; every code is 0 and reads back exactly.
// Pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <span>

#include "experiments/attention/kv-quant/layout.h"

namespace attn::kvquant {

struct QuantParams {
  uint16_t scale = 0;  // fp16 bits
  uint16_t zero = 0;   // fp16 bits
  float Scale() const;
  float Zero() const;
};

// Parameters of a group whose smallest and largest values are `min` and `max` (min <= max).
QuantParams ChooseParams(float min, float max);

// Parameters of `values` (fp16 bits, non-empty): ChooseParams over their min and max.
QuantParams ChooseGroupParams(std::span<const uint16_t> values);

uint32_t QuantizeValue(float x, const QuantParams& p);

// The value code `code` stands for: fma(code, scale, zero) in fp32.
float DequantizeValue(uint32_t code, const QuantParams& p);

// Packs codes (each 0..kMaxCode, codes.size() a multiple of kCodesPerWord) into words:
// code i goes to word i / 16, bits 2 * (i % 16).
void PackCodes(std::span<const uint8_t> codes, std::span<uint32_t> words);

inline uint32_t CodeAt(std::span<const uint32_t> words, int64_t i) {
  return (words[i / kCodesPerWord] >> (kBits * (i % kCodesPerWord))) & kMaxCode;
}

}  // namespace attn::kvquant
