// The packed KIVI cache layout and how a decode step divides it among thread blocks, shared by
// the CPU library (which builds the layout) and the CUDA kernels (which read it).
//
// Plain C++17 on purpose: the .cu files are compiled as C++17 and include this header.
// Pure constants and functions; safe from any thread.
//
// One head's cache, oldest token first (see kivi_cache.h for how tokens get there):
//  1. The quantized prefix of `quantized` tokens, a multiple of the group size G:
//     - key codes and value codes: token-major rows of head_dim 2-bit codes, 16 codes per uint32
//       word, channel c of a row in word c / 16 at bits 2 * (c % 16). A row of head dim 128 is
//       32 bytes, two 16-byte halves of 64 channels: the decode kernel gives each half to one
//       lane, so a warp reads 16 whole rows, 512 contiguous bytes, per load instruction.
//     - key parameters, per channel (KIVI): one (scale, zero) fp16 pair per channel per group of
//       G tokens, [quantized / G][head_dim][2].
//     - value parameters, per token: one (scale, zero) pair per group of G channels of a row,
//       [quantized][head_dim / G][2].
//  2. The residual window: the newest `residual` tokens' keys and values in fp16,
//     [residual][head_dim] each.
#pragma once

#include <cstdint>

namespace attn::kvquant {

inline constexpr int kBits = 2;
inline constexpr int kMaxCode = (1 << kBits) - 1;  // codes are 0..3
inline constexpr int kCodesPerWord = 32 / kBits;   // 16 codes in a uint32

// Tokens per thread block (one split) in the quantized and in the fp16 parts. Larger splits
// amortise a block's fixed work (folding the query into a group's key scales, the final
// reduction across warps); these keep the partial results under 1 % of the bytes read at 32k.
// The quantized split is a multiple of every supported group size, so no group straddles two.
inline constexpr int kQuantSplitTokens = 1024;
inline constexpr int kFp16SplitTokens = 512;

inline constexpr int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Splits of one head's decode: first the quantized prefix, then the fp16 residual window. Every
// split holds at least one token; the combine step merges all of them.
struct KiviSplitPlan {
  int64_t quantized = 0;
  int64_t residual = 0;
  int quant_splits = 0;
  int residual_splits = 0;
  int splits() const { return quant_splits + residual_splits; }
};

inline KiviSplitPlan PlanKiviSplits(int64_t quantized, int64_t residual) {
  KiviSplitPlan p;
  p.quantized = quantized;
  p.residual = residual;
  p.quant_splits = static_cast<int>(CeilDiv(quantized, kQuantSplitTokens));
  p.residual_splits = static_cast<int>(CeilDiv(residual, kFp16SplitTokens));
  return p;
}

inline int Fp16Splits(int64_t tokens) {
  return static_cast<int>(CeilDiv(tokens, kFp16SplitTokens));
}

}  // namespace attn::kvquant
