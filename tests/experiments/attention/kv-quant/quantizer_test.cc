// The 2-bit asymmetric quantizer and the code packing (experiments/attention/kv-quant/quantizer.h).
#include "experiments/attention/kv-quant/quantizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "experiments/attention/common/half.h"
#include "experiments/attention/common/rng.h"

namespace attn::kvquant {
namespace {

std::vector<uint16_t> RandomGroup(Rng& rng, int n, double scale, double offset) {
  std::vector<uint16_t> g(n);
  for (uint16_t& x : g) x = FloatToHalfBits(static_cast<float>(offset + scale * rng.Normal()));
  return g;
}

TEST(PackTest, RoundTripsEveryCodeAtEveryPosition) {
  Rng rng(3);
  std::vector<uint8_t> codes(128);
  for (uint8_t& c : codes) c = static_cast<uint8_t>(rng.Between(0, kMaxCode));
  std::vector<uint32_t> words(codes.size() / kCodesPerWord);
  PackCodes(codes, words);
  for (size_t i = 0; i < codes.size(); ++i)
    EXPECT_EQ(CodeAt(words, static_cast<int64_t>(i)), codes[i]) << i;
}

TEST(PackTest, ChannelCGoesToWordCOver16BitsTwiceCMod16) {
  // The kernels rely on this exact placement (layout.h): a lone code 3 at channel 37 must be
  // bits 10-11 of word 2, and nothing else may be set.
  std::vector<uint8_t> codes(64, 0);
  codes[37] = 3;
  std::vector<uint32_t> words(4);
  PackCodes(codes, words);
  EXPECT_EQ(words[0], 0u);
  EXPECT_EQ(words[1], 0u);
  EXPECT_EQ(words[2], 3u << 10);
  EXPECT_EQ(words[3], 0u);
}

TEST(QuantizerTest, ErrorIsAtMostHalfAScaleStep) {
  Rng rng(11);
  for (int trial = 0; trial < 500; ++trial) {
    // Groups of varied spread and offset, including outlier-sized ones.
    const std::vector<uint16_t> group =
        RandomGroup(rng, 32, 0.01 + 20 * rng.Uniform(), 10 * rng.Normal());
    const QuantParams p = ChooseGroupParams(group);
    const double step = p.Scale();
    for (uint16_t bits : group) {
      const float x = HalfBitsToFloat(bits);
      const float back = DequantizeValue(QuantizeValue(x, p), p);
      // fp32 rounding of the fma adds at most half an ulp of the result.
      const double slack = std::ldexp(std::fabs(static_cast<double>(back)), -24);
      EXPECT_LE(std::fabs(static_cast<double>(back) - x), step / 2 + slack)
          << "trial " << trial << " x " << x;
    }
  }
}

TEST(QuantizerTest, MinimumIsExactAndMaximumIsExactWhenRangeOverThreeIsAnFp16Value) {
  Rng rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<uint16_t> group = RandomGroup(rng, 32, 1 + 5 * rng.Uniform(), rng.Normal());
    // Force min and max to values whose range / 3 is an fp16 value: max = min + 3 * s, all in
    // eighths below 16 in magnitude, which fp16 holds exactly.
    const float lo = -static_cast<float>(rng.Between(16, 31)) / 8;
    const float s = static_cast<float>(rng.Between(8, 24)) / 8;
    const float hi = lo + 3 * s;
    ASSERT_EQ(HalfBitsToFloat(FloatToHalfBits(hi)), hi);  // hi itself must be an fp16 value
    for (uint16_t& x : group) x = FloatToHalfBits(std::clamp(HalfBitsToFloat(x), lo, hi));
    group[3] = FloatToHalfBits(lo);
    group[17] = FloatToHalfBits(hi);
    const QuantParams p = ChooseGroupParams(group);
    EXPECT_EQ(DequantizeValue(QuantizeValue(lo, p), p), lo) << trial;
    EXPECT_EQ(DequantizeValue(QuantizeValue(hi, p), p), hi) << trial;
  }
}

TEST(QuantizerTest, MaximumIsOffByAtMostThreeTimesTheScalesRounding) {
  // In general (max - min) / 3 is not an fp16 value, so the top code reads back as
  // min + 3 * fp16(scale): off by 3 x (scale rounding) <= 3 x half an fp16 ulp of the scale.
  Rng rng(6);
  for (int trial = 0; trial < 500; ++trial) {
    const std::vector<uint16_t> group = RandomGroup(rng, 64, 0.1 + 3 * rng.Uniform(), rng.Normal());
    float lo = HalfBitsToFloat(group[0]), hi = lo;
    for (uint16_t b : group) {
      lo = std::min(lo, HalfBitsToFloat(b));
      hi = std::max(hi, HalfBitsToFloat(b));
    }
    const QuantParams p = ChooseGroupParams(group);
    EXPECT_EQ(DequantizeValue(QuantizeValue(lo, p), p), lo);
    EXPECT_EQ(QuantizeValue(hi, p), static_cast<uint32_t>(kMaxCode));
    const double half_ulp = std::ldexp(1.0, std::ilogb(p.Scale()) - 11);
    EXPECT_LE(std::fabs(DequantizeValue(kMaxCode, p) - hi),
              3 * half_ulp + std::ldexp(std::fabs(hi), -24))
        << trial;
  }
}

TEST(QuantizerTest, ConstantGroupReadsBackExactly) {
  const std::vector<uint16_t> group(32, FloatToHalfBits(-1.375f));
  const QuantParams p = ChooseGroupParams(group);
  EXPECT_EQ(p.Scale(), 0.0f);
  EXPECT_EQ(QuantizeValue(-1.375f, p), 0u);
  EXPECT_EQ(DequantizeValue(0, p), -1.375f);
}

TEST(QuantizerTest, CodesAreTheNearestLevels) {
  // min 0, max 3: scale 1, levels 0 1 2 3; ties round up (floor(t + 0.5)).
  const QuantParams p = ChooseParams(0.0f, 3.0f);
  EXPECT_EQ(p.Scale(), 1.0f);
  EXPECT_EQ(QuantizeValue(0.49f, p), 0u);
  EXPECT_EQ(QuantizeValue(0.5f, p), 1u);
  EXPECT_EQ(QuantizeValue(1.51f, p), 2u);
  EXPECT_EQ(QuantizeValue(2.6f, p), 3u);
  EXPECT_EQ(QuantizeValue(3.0f, p), 3u);
}

}  // namespace
}  // namespace attn::kvquant
