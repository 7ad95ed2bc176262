// The KIVI cache: window flushing, the packed layout's sizes, dequantization, bytes, and why keys
// are quantized per channel (experiments/attention/kv-quant/kivi_cache.h).
#include "experiments/attention/kv-quant/kivi_cache.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "experiments/attention/common/half.h"
#include "experiments/attention/common/stats.h"
#include "experiments/attention/kv-quant/workload.h"

namespace attn::kvquant {
namespace {

KiviConfig Config(int head_dim, int group, int residual, KeyAxis axis = KeyAxis::kPerChannel) {
  KiviConfig c;
  c.head_dim = head_dim;
  c.group_size = group;
  c.residual = residual;
  c.key_axis = axis;
  return c;
}

std::span<const uint16_t> Row(const std::vector<uint16_t>& m, int64_t t, int d) {
  return {m.data() + t * d, static_cast<size_t>(d)};
}

TEST(KiviCacheTest, FlushesOneWholeGroupWhenWindowReachesRPlusG) {
  const int d = 64, g = 32, r = 20;
  const HeadKv kv = MakeHeadInputs(300, d, {}, 7, 0).kv;
  KiviCache cache(Config(d, g, r));
  for (int64_t n = 1; n <= kv.tokens; ++n) {
    cache.Append(Row(kv.k, n - 1, d), Row(kv.v, n - 1, d));
    const int64_t expect_q = n < r + g ? 0 : (n - r) / g * g;
    ASSERT_EQ(cache.quantized_tokens(), expect_q) << n;
    ASSERT_EQ(cache.quantized_tokens(), QuantizedTokensAfter(n, cache.config())) << n;
    ASSERT_EQ(cache.tokens(), n);
    ASSERT_GE(cache.residual_tokens(), std::min<int64_t>(n, r)) << n;
    ASSERT_LT(cache.residual_tokens(), r + g) << n;
    // The packed arrays hold exactly the quantized rows.
    ASSERT_EQ(cache.key_codes().size(), static_cast<size_t>(expect_q * d / 16));
    ASSERT_EQ(cache.value_codes().size(), static_cast<size_t>(expect_q * d / 16));
    ASSERT_EQ(cache.key_params().size(), static_cast<size_t>(expect_q / g * d * 2));
    ASSERT_EQ(cache.value_params().size(), static_cast<size_t>(expect_q * (d / g) * 2));
  }
  // The boundary itself: 51 tokens wait in fp16, the 52nd flushes the oldest 32.
  KiviCache edge(Config(d, g, r));
  for (int64_t t = 0; t < r + g - 1; ++t) edge.Append(Row(kv.k, t, d), Row(kv.v, t, d));
  EXPECT_EQ(edge.quantized_tokens(), 0);
  EXPECT_EQ(edge.residual_tokens(), r + g - 1);
  edge.Append(Row(kv.k, r + g - 1, d), Row(kv.v, r + g - 1, d));
  EXPECT_EQ(edge.quantized_tokens(), g);
  EXPECT_EQ(edge.residual_tokens(), r);
}

TEST(KiviCacheTest, WindowHoldsTheNewestRowsBitForBit) {
  const int d = 64, g = 32, r = 40;
  const HeadKv kv = MakeHeadInputs(237, d, {}, 8, 0).kv;
  const KiviCache cache = BuildKiviCache(kv, Config(d, g, r));
  const int64_t q = cache.quantized_tokens();
  ASSERT_EQ(q, 192);  // (237 - 40) / 32 * 32
  ASSERT_EQ(cache.residual_tokens(), 45);
  for (int64_t t = q; t < kv.tokens; ++t) {
    for (int c = 0; c < d; ++c) {
      ASSERT_EQ(cache.key_residual()[(t - q) * d + c], kv.k[t * d + c]);
      ASSERT_EQ(cache.value_residual()[(t - q) * d + c], kv.v[t * d + c]);
    }
  }
}

TEST(KiviCacheTest, ZeroWindowQuantizesEveryFullGroup) {
  const int d = 32, g = 16;
  const HeadKv kv = MakeHeadInputs(65, d, {}, 9, 0).kv;
  KiviCache cache(Config(d, g, 0));
  for (int64_t t = 0; t < kv.tokens; ++t) {
    cache.Append(Row(kv.k, t, d), Row(kv.v, t, d));
    EXPECT_EQ(cache.quantized_tokens(), (t + 1) / g * g);
  }
  EXPECT_EQ(cache.residual_tokens(), 1);
}

// Every dequantized element of the prefix is within half its own group's scale step of the
// input; the window is exact.
void ExpectWithinHalfStep(const HeadKv& kv, const KiviCache& cache) {
  const KiviConfig& cfg = cache.config();
  const int d = cfg.head_dim, g = cfg.group_size;
  std::vector<float> k, v;
  cache.Dequantize(&k, &v);
  ASSERT_EQ(k.size(), kv.k.size());
  auto scale = [](const std::vector<uint16_t>& params, size_t pair) {
    return HalfBitsToFloat(params[2 * pair]);
  };
  for (int64_t t = 0; t < kv.tokens; ++t) {
    for (int c = 0; c < d; ++c) {
      const size_t i = static_cast<size_t>(t) * d + c;
      const float kx = HalfBitsToFloat(kv.k[i]), vx = HalfBitsToFloat(kv.v[i]);
      if (t >= cache.quantized_tokens()) {
        ASSERT_EQ(k[i], kx);
        ASSERT_EQ(v[i], vx);
        continue;
      }
      const size_t key_pair = cfg.key_axis == KeyAxis::kPerChannel
                                  ? static_cast<size_t>(t / g) * d + c
                                  : static_cast<size_t>(t) * (d / g) + c / g;
      const double ks = scale(cache.key_params(), key_pair);
      const double vs = scale(cache.value_params(), static_cast<size_t>(t) * (d / g) + c / g);
      ASSERT_LE(std::fabs(k[i] - kx), ks / 2 + std::ldexp(std::fabs(kx) + ks, -22))
          << t << "," << c;
      ASSERT_LE(std::fabs(v[i] - vx), vs / 2 + std::ldexp(std::fabs(vx) + vs, -22))
          << t << "," << c;
    }
  }
}

TEST(KiviCacheTest, DequantizedPrefixIsWithinHalfAStepAndWindowIsExact) {
  const HeadKv kv = MakeHeadInputs(500, 128, {}, 10, 0).kv;
  ExpectWithinHalfStep(kv, BuildKiviCache(kv, Config(128, 32, 128)));
  ExpectWithinHalfStep(kv, BuildKiviCache(kv, Config(128, 64, 30, KeyAxis::kPerToken)));
}

TEST(KiviCacheTest, PayloadIsQuantizedBytesPerTokenPlusTheFp16Window) {
  const int d = 128, g = 64, r = 100;
  const HeadKv kv = MakeHeadInputs(1000, d, {}, 12, 0).kv;
  const KiviCache cache = BuildKiviCache(kv, Config(d, g, r));
  // 2-bit codes: d / 4 bytes per row each for K and V; 8 d / G of fp16 scales and zeros.
  EXPECT_DOUBLE_EQ(KiviBytesPerToken(128, 32), 96.0);
  EXPECT_DOUBLE_EQ(KiviBytesPerToken(128, 128), 72.0);
  const int64_t expect = static_cast<int64_t>(cache.quantized_tokens() * KiviBytesPerToken(d, g)) +
                         cache.residual_tokens() * static_cast<int64_t>(Fp16BytesPerToken(d));
  EXPECT_EQ(cache.PayloadBytes(), expect);
  EXPECT_EQ(cache.quantized_tokens(), 896);
}

// Mean squared error of dequantized keys on the channels that are *not* outliers, relative to
// their energy, over the quantized prefix.
double NormalChannelKeyError(const HeadInputs& in, const KiviCache& cache) {
  const int d = in.kv.head_dim;
  std::vector<bool> outlier(d, false);
  for (const KeyOutlier& o : in.outliers) outlier[o.channel] = true;
  std::vector<float> k, v;
  cache.Dequantize(&k, &v);
  double err = 0, energy = 0;
  for (int64_t t = 0; t < cache.quantized_tokens(); ++t) {
    for (int c = 0; c < d; ++c) {
      if (outlier[c]) continue;
      const double x = HalfBitsToFloat(in.kv.k[t * d + c]);
      err += (k[t * d + c] - x) * (k[t * d + c] - x);
      energy += x * x;
    }
  }
  return std::sqrt(err / energy);
}

TEST(KiviCacheTest, PerChannelKeysKeepOrdinaryChannelsThatPerTokenGroupsLoseToOutliers) {
  // Per token, a group holding an outlier channel (+-10..20 at every token) gets a step of ~5
  // instead of ~1.4, wiping out the other channels of that group; per channel, each channel
  // keeps its own range.
  const HeadInputs in = MakeHeadInputs(1024, 128, {4, 10, 20}, 13, 0);
  const KiviCache per_channel = BuildKiviCache(in.kv, Config(128, 32, 0));
  const KiviCache per_token = BuildKiviCache(in.kv, Config(128, 32, 0, KeyAxis::kPerToken));
  const double channel_err = NormalChannelKeyError(in, per_channel);
  const double token_err = NormalChannelKeyError(in, per_token);
  // 2-bit min/max of 32 N(0,1) values: step ~ 4.1 / 3, error ~ step / sqrt(12) ~ 0.4.
  EXPECT_LT(channel_err, 0.45);
  EXPECT_GT(token_err, 2 * channel_err)
      << "per channel " << channel_err << ", per token " << token_err;

  // Without outliers the two axes quantize ordinary channels about equally well.
  const HeadInputs plain = MakeHeadInputs(1024, 128, {0, 1, 1}, 13, 0);
  const double plain_channel =
      NormalChannelKeyError(plain, BuildKiviCache(plain.kv, Config(128, 32, 0)));
  const double plain_token = NormalChannelKeyError(
      plain, BuildKiviCache(plain.kv, Config(128, 32, 0, KeyAxis::kPerToken)));
  EXPECT_NEAR(plain_token / plain_channel, 1.0, 0.15);
}

TEST(KiviCacheTest, ValidateConfigNamesWhatIsAccepted) {
  EXPECT_EQ(ValidateConfig(Config(128, 32, 128)), "");
  EXPECT_NE(ValidateConfig(Config(100, 20, 0)).find("multiple of 16"), std::string::npos);
  EXPECT_NE(ValidateConfig(Config(128, 48, 0)).find("divisor of head_dim"), std::string::npos);
  EXPECT_NE(ValidateConfig(Config(128, 32, -1)).find(">= 0"), std::string::npos);
  EXPECT_THROW(KiviCache(Config(128, 48, 0)), std::invalid_argument);
}

}  // namespace
}  // namespace attn::kvquant
