// attn-fwd's CPU logic: the float64 reference, the CPU mirrors of the naive pipeline and of the
// tiled online softmax (causal masks, lengths that are not tile multiples, rescaling as the
// running max grows), the memory model and the summary arithmetic. No GPU needed.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "experiments/attention/attn-fwd/attention_cpu.h"
#include "experiments/attention/attn-fwd/experiment.h"
#include "experiments/attention/common/rng.h"

namespace attn::fwd {
namespace {

// Inputs from explicit float values (rounded to the type), for hand-made cases.
Inputs FromValues(const Shape& shape, DType dtype, const std::vector<float>& q,
                  const std::vector<float>& k, const std::vector<float>& v) {
  Inputs in;
  in.shape = shape;
  in.dtype = dtype;
  auto fill = [&](const std::vector<float>& src, std::vector<uint16_t>& bits,
                  std::vector<float>& vals) {
    for (float x : src) {
      bits.push_back(ToBits(dtype, x));
      vals.push_back(FromBits(dtype, bits.back()));
    }
  };
  fill(q, in.q_bits, in.q);
  fill(k, in.k_bits, in.k);
  fill(v, in.v_bits, in.v);
  return in;
}

TEST(ReferenceTest, OneKeyGivesItsValueAndItsScoreAsLogSumExp) {
  const Shape shape{1, 1, 64, false};
  const Inputs in = MakeInputs(shape, DType::kF16, 3);
  std::vector<double> out(64);
  double lse = 0;
  ReferenceRow(in, 0, 0, out.data(), &lse);
  double dot = 0;
  for (int c = 0; c < 64; ++c) {
    EXPECT_DOUBLE_EQ(out[c], in.v[c]);
    dot += static_cast<double>(in.q[c]) * in.k[c];
  }
  EXPECT_NEAR(lse, dot / 8.0, 1e-12);
}

TEST(ReferenceTest, EqualScoresAverageTheValuesAndCausalRowsSeeOnlyThePast) {
  // Every key the same: the weights are uniform over the visible keys.
  const int64_t n = 5, d = 64;
  std::vector<float> q(n * d), k(n * d), v(n * d);
  for (int64_t i = 0; i < n * d; ++i) {
    q[i] = 0.25f * static_cast<float>(i % 7);
    k[i] = 0.5f * static_cast<float>(i % d % 3);
    v[i] = static_cast<float>(i / d);  // row j of V is all j
  }
  for (bool causal : {false, true}) {
    const Inputs in = FromValues({1, n, d, causal}, DType::kF16, q, k, v);
    const std::vector<float> out = ReferenceAttention(in, nullptr);
    for (int64_t i = 0; i < n; ++i) {
      const double want = causal ? i / 2.0 : (n - 1) / 2.0;  // mean of 0..i or of 0..n-1
      EXPECT_NEAR(out[i * d + 5], want, 1e-6) << "row " << i << (causal ? " causal" : "");
    }
  }
}

TEST(ReferenceTest, SampledRowsAreTheFullReferenceRowsAndOnlyThoseAreCompared) {
  const Shape shape{2, 300, 64, true};
  const Inputs in = MakeInputs(shape, DType::kBF16, 9);
  std::vector<float> full_lse;
  const std::vector<float> full = ReferenceAttention(in, &full_lse);
  const ReferenceRows sampled = ComputeReference(in, 0, 10, 5);
  ASSERT_FALSE(sampled.full);
  ASSERT_EQ(sampled.rows.size(), 10u);
  EXPECT_EQ(sampled.rows[1].row, 299);  // the last row of the first head is always among them
  for (size_t i = 0; i < sampled.rows.size(); ++i) {
    const int64_t at = sampled.rows[i].bh * 300 + sampled.rows[i].row;
    for (int c = 0; c < 64; ++c) EXPECT_EQ(sampled.out[i * 64 + c], full[at * 64 + c]);
    EXPECT_EQ(sampled.lse[i], full_lse[at]);
  }
  std::vector<float> got = full;
  EXPECT_EQ(CompareWithReference(sampled, shape, got).max_abs, 0.0);
  got[(0 * 300 + 299) * 64 + 3] += 0.5f;  // a sampled row
  EXPECT_NEAR(CompareWithReference(sampled, shape, got).max_abs, 0.5, 1e-6);
  got[(0 * 300 + 299) * 64 + 3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(CompareWithReference(sampled, shape, got).non_finite, 1u);
}

TEST(InputsTest, SeededPerHeadAndExactlyTheRoundedValues) {
  const Shape shape{3, 40, 64, false};
  const Inputs a = MakeInputs(shape, DType::kF16, 11), b = MakeInputs(shape, DType::kF16, 11);
  const Inputs c = MakeInputs(shape, DType::kF16, 12);
  EXPECT_EQ(a.q_bits, b.q_bits);
  EXPECT_EQ(a.v_bits, b.v_bits);
  EXPECT_NE(a.q_bits, c.q_bits);
  EXPECT_NE(a.q_bits, a.k_bits);  // each tensor has its own stream
  for (size_t i = 0; i < a.k.size(); ++i) ASSERT_EQ(a.k[i], HalfBitsToFloat(a.k_bits[i]));
}

double RelL2(const std::vector<float>& got, const std::vector<float>& ref) {
  return Compare(got, ref).rel_l2;
}

// The online softmax in fp32 without rounding P is the same function as the reference: any
// error in masking, tile bounds or rescaling shows far above fp32 rounding.
TEST(TiledCpuTest, OnlineSoftmaxMatchesTheReferenceAtAnyLengthAndMask) {
  for (int64_t d : {64, 128}) {
    for (bool causal : {false, true}) {
      for (int64_t seq : {1, 17, 63, 64, 65, 130, 200}) {
        // The GPU layouts' shapes: (block_m, block_n, rows per warp).
        for (const TileConfig& tiles :
             {TileConfig{64, 64, false, 16}, TileConfig{128, 64, false, 16},
              TileConfig{128, 32, false, 32}}) {
          const Shape shape{2, seq, d, causal};
          const Inputs in = MakeInputs(shape, DType::kF16, static_cast<uint64_t>(seq * 10 + d));
          std::vector<float> ref_lse, lse;
          const std::vector<float> ref = ReferenceAttention(in, &ref_lse);
          const std::vector<float> got = TiledAttentionCpu(in, tiles, &lse);
          SCOPED_TRACE("d=" + std::to_string(d) + " seq=" + std::to_string(seq) +
                       (causal ? " causal" : "") + " block " + std::to_string(tiles.block_m) + "x" +
                       std::to_string(tiles.block_n));
          EXPECT_LT(RelL2(got, ref), 2e-6);
          for (size_t i = 0; i < lse.size(); ++i) ASSERT_NEAR(lse[i], ref_lse[i], 1e-4);
        }
      }
    }
  }
}

TEST(TiledCpuTest, RescalesWhenTheRunningMaxGrowsAndSurvivesScoresThatOverflowExp) {
  // K rows aligned with q and growing with the key index: every tile raises the row max, so each
  // tile rescales what came before; scaled scores reach ~130, where exp() without the max
  // subtraction overflows fp32 (above ~88.7).
  const int64_t n = 200, d = 64;
  std::vector<float> q(n * d), k(n * d), v(n * d);
  Rng rng(4);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t c = 0; c < d; ++c) {
      q[i * d + c] = 1.0f + 0.01f * static_cast<float>(c % 5);
      k[i * d + c] = 0.8f * static_cast<float>(i) / n + 0.01f * static_cast<float>(rng.Normal());
      v[i * d + c] = static_cast<float>(rng.Normal());
    }
  }
  for (int64_t i = 0; i < n * d; ++i) q[i] *= 20.0f;
  for (bool causal : {false, true}) {
    const Inputs in = FromValues({1, n, d, causal}, DType::kF16, q, k, v);
    std::vector<float> ref_lse, lse;
    const std::vector<float> ref = ReferenceAttention(in, &ref_lse);
    ASSERT_GT(ref_lse.back(), 100.0f);  // exp(100) is beyond fp32
    const std::vector<float> got = TiledAttentionCpu(in, {64, 64, false, 16}, &lse);
    // Scores near 130 carry fp32 dot-product errors near 1e-5 into the weights; a missed rescale
    // would be off by factors, not by 1e-4.
    EXPECT_LT(RelL2(got, ref), 1e-4) << (causal ? "causal" : "full");
    EXPECT_NEAR(lse.back(), ref_lse.back(), 1e-3 * std::fabs(ref_lse.back()));
  }
}

// With P rounded to the input type (what the tensor cores need) and the output rounded, both CPU
// mirrors stay within the bound the GPU check uses; the bound is not loose: a kernel that drops
// one K/V tile (simulated by zeroing a tile of V) lands far above it.
TEST(TiledCpuTest, RoundedPipelinesStayWithinTheBoundAndADroppedTileDoesNot) {
  for (DType dtype : {DType::kF16, DType::kBF16}) {
    for (bool causal : {false, true}) {
      const Shape shape{2, 200, 128, causal};
      const Inputs in = MakeInputs(shape, dtype, 21);
      const std::vector<float> ref = ReferenceAttention(in, nullptr);
      const double tiled =
          RelL2(RoundAll(dtype, TiledAttentionCpu(in, {128, 32, true, 32}, nullptr)), ref);
      const double naive = RelL2(RoundAll(dtype, NaiveAttentionCpu(in)), ref);
      SCOPED_TRACE(std::string(DTypeName(dtype)) + (causal ? " causal" : ""));
      EXPECT_LT(tiled, RelL2Bound(dtype));
      EXPECT_LT(naive, RelL2Bound(dtype));
      EXPECT_GT(tiled, RelL2Bound(dtype) / 50);  // rounding is really there

      Inputs dropped = in;
      for (int64_t j = 64; j < 128; ++j) {
        for (int64_t c = 0; c < 128; ++c) dropped.v[j * 128 + c] = 0.0f;
      }
      EXPECT_GT(
          RelL2(RoundAll(dtype, TiledAttentionCpu(dropped, {128, 32, true, 32}, nullptr)), ref),
          10 * RelL2Bound(dtype));
    }
  }
}

TEST(TilesTest, CausalBlocksStopAtTheirLastRowAndTheSequenceEnd) {
  EXPECT_EQ(KvTilesVisited(0, 64, 64, 4096, false), 64);
  EXPECT_EQ(KvTilesVisited(0, 64, 64, 200, false), 4);
  EXPECT_EQ(KvTilesVisited(0, 64, 64, 4096, true), 1);
  EXPECT_EQ(KvTilesVisited(64, 64, 64, 4096, true), 2);
  EXPECT_EQ(KvTilesVisited(0, 128, 64, 4096, true), 2);
  EXPECT_EQ(KvTilesVisited(128, 128, 64, 200, true), 4);  // last row 199
  EXPECT_EQ(KvTilesVisited(0, 128, 64, 1, true), 1);
}

TEST(MemoryModelTest, NaiveIsQuadraticTiledLinearAndFlopsHalveUnderTheMask) {
  const Shape s{32, 4096, 128, false};
  EXPECT_EQ(NaiveExtraBytes(s), int64_t{32} * 4096 * 4096 * 4);
  EXPECT_EQ(TiledExtraBytes(s), int64_t{32} * 4096 * 4);
  EXPECT_EQ(ScoreRowStride(383), 384);
  EXPECT_EQ(NaiveExtraBytes({1, 383, 64, false}), int64_t{383} * 384 * 4);
  EXPECT_DOUBLE_EQ(FlopCount(s), 4.0 * 4096 * 4096 * 128 * 32);
  EXPECT_DOUBLE_EQ(FlopCount({32, 4096, 128, true}), FlopCount(s) / 2);

  std::vector<std::pair<int64_t, int64_t>> naive, tiled, flat;
  for (int64_t n : {1024, 2048, 4096, 8192}) {
    naive.emplace_back(n, NaiveExtraBytes({32, n, 128, false}));
    tiled.emplace_back(n, TiledExtraBytes({32, n, 128, false}));
    flat.emplace_back(n, int64_t{2} << 20);  // what cudaMemGetInfo shows for a small buffer
  }
  EXPECT_NEAR(GrowthExponent(naive), 2.0, 1e-12);
  EXPECT_NEAR(GrowthExponent(tiled), 1.0, 1e-12);
  EXPECT_NEAR(GrowthExponent(flat), 0.0, 1e-12);
  EXPECT_TRUE(std::isnan(GrowthExponent({{1024, 5}})));
}

CaseResult Made(int64_t seq, bool causal, Variant v, double ms) {
  CaseResult c;
  c.shape = {32, seq, 128, causal};
  c.dtype = DType::kF16;
  c.variant = v;
  c.median_ms = c.min_ms = c.max_ms = ms;
  c.reps = 5;
  c.extra_bytes_computed =
      v == Variant::kNaive ? NaiveExtraBytes(c.shape) : TiledExtraBytes(c.shape);
  c.error.rel_l2 = 3e-4;
  c.error.max_abs = 1e-3;
  ApplyBounds(c);
  return c;
}

TEST(SummaryTest, SpeedupsMemoryRatiosSkipsAndTheIssueShape) {
  std::vector<CaseResult> cases = {
      Made(1024, false, Variant::kNaive, 1.0),  Made(1024, false, Variant::kTiled, 0.8),
      Made(2048, false, Variant::kNaive, 4.0),  Made(2048, false, Variant::kTiled, 1.0),
      Made(4096, false, Variant::kNaive, 12.0), Made(4096, false, Variant::kTiled, 4.0),
      Made(8192, false, Variant::kTiled, 16.0), Made(4096, true, Variant::kNaive, 6.0),
      Made(4096, true, Variant::kTiled, 1.5)};
  CaseResult skipped = Made(8192, false, Variant::kNaive, 0);
  skipped.skipped = true;
  skipped.skip_reason = "does not fit";
  cases.push_back(skipped);
  cases[5].error.rel_l2 = 5e-4;
  const nlohmann::json s = Summarise(cases);
  EXPECT_DOUBLE_EQ(s["speedup_tiled_over_naive"]["1024"].get<double>(), 1.25);
  EXPECT_DOUBLE_EQ(s["speedup_min_2k_8k"].get<double>(), 3.0);  // 2048: 4x, 4096: 3x; 1024 outside
  EXPECT_DOUBLE_EQ(s["extra_memory_ratio_naive_over_tiled"]["4096"].get<double>(), 4096.0);
  EXPECT_DOUBLE_EQ(s["extra_memory_ratio_min_2k_8k"].get<double>(), 2048.0);
  EXPECT_NEAR(s["memory_growth_exponent"]["naive"].get<double>(), 2.0, 1e-9);
  EXPECT_NEAR(s["memory_growth_exponent"]["tiled"].get<double>(), 1.0, 1e-9);
  ASSERT_EQ(s["skipped"].size(), 1u);
  EXPECT_EQ(s["skipped"][0]["seq"], 8192);
  EXPECT_EQ(s["skipped"][0]["reason"], "does not fit");
  EXPECT_DOUBLE_EQ(s["tiled_tflops_at_issue_shape"].get<double>(),
                   FlopCount(cases[5].shape) / 4e-3 / 1e12);
  EXPECT_DOUBLE_EQ(s["max_rel_l2_error"].get<double>(), 5e-4);
  EXPECT_TRUE(s["errors_within_bound"].get<bool>());
  EXPECT_EQ(s["mask"], "none");
  EXPECT_DOUBLE_EQ(s["causal"]["speedup_tiled_over_naive"]["4096"].get<double>(), 4.0);
  EXPECT_TRUE(s["causal"]["speedup_min_2k_8k"].get<double>() == 4.0);
}

TEST(SummaryTest, AnOutputLeftPoisonedNeverPassesAndNoIssueShapeIsNull) {
  CaseResult c = Made(1024, true, Variant::kTiled, 1.0);
  const std::vector<float> ref = {1, 2, 3};
  c.error = Compare(std::vector<float>{1, std::nanf(""), 3}, ref);
  ApplyBounds(c);
  EXPECT_FALSE(c.within_bound);
  CaseResult high = Made(1024, true, Variant::kTiled, 1.0);
  high.error.rel_l2 = 2 * RelL2Bound(DType::kF16);
  ApplyBounds(high);
  EXPECT_FALSE(high.within_bound);
  CaseResult lse = Made(1024, true, Variant::kTiled, 1.0);
  lse.lse_max_abs = 2 * kLseBound;
  ApplyBounds(lse);
  EXPECT_FALSE(lse.within_bound);
  const nlohmann::json s = Summarise({c});
  EXPECT_FALSE(s["errors_within_bound"].get<bool>());
  EXPECT_TRUE(s["tiled_tflops_at_issue_shape"].is_null());
  EXPECT_EQ(s["mask"], "causal");
  EXPECT_FALSE(s.contains("causal"));
}

}  // namespace
}  // namespace attn::fwd
