// The attention experiments' shared pieces: fp16/bf16 rounding, the seeded generator, flags,
// error measures and the no-GPU description.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "experiments/attention/common/cli.h"
#include "experiments/attention/common/gpu.h"
#include "experiments/attention/common/half.h"
#include "experiments/attention/common/rng.h"
#include "experiments/attention/common/stats.h"

namespace attn {
namespace {

TEST(HalfTest, EveryFiniteHalfRoundTripsThroughFloat) {
  for (uint32_t bits = 0; bits < 0x10000u; ++bits) {
    const uint16_t h = static_cast<uint16_t>(bits);
    if ((h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0) continue;  // NaN payloads
    EXPECT_EQ(FloatToHalfBits(HalfBitsToFloat(h)), h) << std::hex << bits;
  }
}

TEST(HalfTest, RoundsToNearestEvenAndOverflowsToInfinity) {
  EXPECT_EQ(FloatToHalfBits(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalfBits(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToHalfBits(65519.0f), 0x7bff);
  EXPECT_EQ(FloatToHalfBits(65520.0f), 0x7c00);  // the tie rounds to even: infinity
  EXPECT_EQ(FloatToHalfBits(-1e6f), 0xfc00);
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1).
  EXPECT_EQ(FloatToHalfBits(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(FloatToHalfBits(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(FloatToHalfBits(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(FloatToHalfBits(std::ldexp(1.0f, -26)), 0x0000);
  EXPECT_TRUE(std::isnan(HalfBitsToFloat(FloatToHalfBits(std::nanf("")))));
}

TEST(HalfTest, Bf16KeepsTheTopBitsRoundedToNearestEven) {
  EXPECT_EQ(FloatToBf16Bits(1.0f), 0x3f80);
  EXPECT_EQ(FloatToBf16Bits(BitsFloat(0x3f808000u)), 0x3f80);  // tie, even stays
  EXPECT_EQ(FloatToBf16Bits(BitsFloat(0x3f818000u)), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(Bf16BitsToFloat(0x4049), BitsFloat(0x40490000u));
  EXPECT_FLOAT_EQ(Round(DType::kBF16, 3.14159f), 3.140625f);
}

TEST(RngTest, SameSeedSameSequenceAndPlausibleMoments) {
  Rng a(42), b(42), c(43);
  EXPECT_EQ(a.Next(), b.Next());
  EXPECT_NE(a.Next(), c.Next());
  Rng r(7);
  double sum = 0, sum2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = r.Normal();
    sum += x;
    sum2 += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sum2 / n, 1.0, 0.02);
}

TEST(FlagsTest, ParsesValuesAndNamesTheFlagInErrors) {
  int64_t seq = 4;
  std::vector<int64_t> sizes = {1, 2};
  std::string dtype = "fp16";
  bool causal = false;
  Flags flags("prog", "summary");
  flags.AddInt("seq", &seq, 1, 100, "sequence length");
  flags.AddIntList("sizes", &sizes, 1, 10, "sizes");
  flags.AddString("dtype", &dtype, {"fp16", "bf16"}, "input type");
  flags.AddBool("causal", &causal, "causal mask");
  EXPECT_EQ(flags.Parse({"--seq", "64", "--sizes=3,4,5", "--dtype", "bf16", "--causal"}), Flags::Outcome::kRun);
  EXPECT_EQ(seq, 64);
  EXPECT_EQ(sizes, (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(dtype, "bf16");
  EXPECT_TRUE(causal);

  EXPECT_EQ(flags.Parse({"--seq", "abc"}), Flags::Outcome::kError);
  EXPECT_EQ(flags.error(), "prog: --seq: 'abc' is not an integer");
  EXPECT_EQ(flags.Parse({"--seq", "1000"}), Flags::Outcome::kError);
  EXPECT_NE(flags.error().find("accepted: 1..100"), std::string::npos);
  EXPECT_EQ(flags.Parse({"--dtype", "fp8"}), Flags::Outcome::kError);
  EXPECT_NE(flags.error().find("accepted: fp16 | bf16"), std::string::npos);
  EXPECT_EQ(flags.Parse({"--sizes", "3,,4"}), Flags::Outcome::kError);
  EXPECT_EQ(flags.Parse({"--nope"}), Flags::Outcome::kError);
  EXPECT_EQ(flags.error(), "prog: unknown option --nope");
  EXPECT_EQ(flags.Parse({"--seq"}), Flags::Outcome::kError);
  EXPECT_EQ(flags.Parse({"--help"}), Flags::Outcome::kHelp);
  EXPECT_NE(flags.Usage().find("--seq VALUE"), std::string::npos);
}

TEST(StatsTest, NonFiniteOutputNeverPasses) {
  const std::vector<float> ref = {1, 2, 3};
  EXPECT_DOUBLE_EQ(Compare(std::vector<float>{1, 2, 3}, ref).max_abs, 0.0);
  const ErrorStats off = Compare(std::vector<float>{1, 2, 3.5}, ref);
  EXPECT_DOUBLE_EQ(off.max_abs, 0.5);
  EXPECT_NEAR(off.rel_l2, 0.5 / std::sqrt(14.0), 1e-12);
  const ErrorStats nan = Compare(std::vector<float>{1, std::nanf(""), 3}, ref);
  EXPECT_EQ(nan.non_finite, 1u);
  EXPECT_TRUE(std::isinf(nan.rel_l2));
}

TEST(GpuTest, DescribesAMissingGpuWithAReason) {
  const GpuInfo info = QueryGpu();
  const nlohmann::json j = GpuInfoJson(info);
  EXPECT_EQ(j["available"], info.available);
  if (!info.available) {
    EXPECT_FALSE(j["error"].get<std::string>().empty());
    try {
      RequireGpu();
      ADD_FAILURE() << "RequireGpu returned without a GPU";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(info.error), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("--device cpu"), std::string::npos) << e.what();
    }
  } else {
    EXPECT_EQ(j["kind"], "gpu");
  }
  EXPECT_EQ(CpuDeviceJson()["kind"], "cpu");
}

}  // namespace
}  // namespace attn
