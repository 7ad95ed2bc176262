// The decode core: the CPU reference against the naive math, the paged layout against the
// contiguous one, split planning, scattered block tables and the benchmark's hashed inputs.
#include "experiments/attention/decode/decode.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "experiments/attention/common/half.h"
#include "experiments/attention/common/stats.h"
#include "experiments/attention/decode/hash_fill.h"
#include "experiments/attention/decode/split_plan.h"

namespace attn::decode {
namespace {

float Val(uint16_t bits) { return HalfBitsToFloat(bits); }

TEST(DecodeReferenceTest, OneTokenReturnsItsValueRow) {
  const DecodeShape shape{2, 4, 2, 8};
  const std::vector<int32_t> lens = {1, 1};
  const DecodeInputs in = RandomInputs(shape, lens, 3);
  const ContiguousCache cache = RandomContiguousCache(shape, lens, 4, 3);
  const std::vector<float> out = DecodeReference(in, cache);
  for (int b = 0; b < 2; ++b) {
    for (int hq = 0; hq < 4; ++hq) {
      const int64_t row = RowOffset(shape, cache, b, hq / 2, 0);
      for (int i = 0; i < 8; ++i) EXPECT_EQ(out[(b * 4 + hq) * 8 + i], Val(cache.v[row + i]));
    }
  }
}

TEST(DecodeReferenceTest, ZeroQueryAveragesTheValues) {
  const DecodeShape shape{1, 1, 1, 16};
  const std::vector<int32_t> lens = {5};
  DecodeInputs in = RandomInputs(shape, lens, 1);
  std::fill(in.q.begin(), in.q.end(), 0);
  const ContiguousCache cache = RandomContiguousCache(shape, lens, 5, 1);
  const std::vector<float> out = DecodeReference(in, cache);
  for (int i = 0; i < 16; ++i) {
    double mean = 0;
    for (int t = 0; t < 5; ++t) mean += Val(cache.v[t * 16 + i]) / 5.0;
    EXPECT_NEAR(out[i], mean, 1e-6);
  }
}

// softmax(q k / sqrt(d)) v spelled out, query head by query head.
TEST(DecodeReferenceTest, MatchesTheNaiveFormulaWithGroupedHeads) {
  const DecodeShape shape{2, 6, 2, 32};
  const std::vector<int32_t> lens = {37, 9};
  const DecodeInputs in = RandomInputs(shape, lens, 11, 2.0f);
  const ContiguousCache cache = RandomContiguousCache(shape, lens, 40, 11);
  const std::vector<float> out = DecodeReference(in, cache);
  for (int b = 0; b < 2; ++b) {
    for (int hq = 0; hq < 6; ++hq) {
      const int h = hq / 3;  // group 3
      std::vector<double> w(lens[b]);
      double norm = 0;
      for (int t = 0; t < lens[b]; ++t) {
        double dot = 0;
        for (int i = 0; i < 32; ++i) {
          dot +=
              Val(in.q[(b * 6 + hq) * 32 + i]) * Val(cache.k[RowOffset(shape, cache, b, h, t) + i]);
        }
        w[t] = std::exp(dot / std::sqrt(32.0));
        norm += w[t];
      }
      for (int i = 0; i < 32; ++i) {
        double o = 0;
        for (int t = 0; t < lens[b]; ++t)
          o += w[t] / norm * Val(cache.v[RowOffset(shape, cache, b, h, t) + i]);
        EXPECT_NEAR(out[(b * 6 + hq) * 32 + i], o, 1e-5 * (1 + std::fabs(o)))
            << b << " " << hq << " " << i;
      }
    }
  }
}

TEST(DecodeReferenceTest, EmptySequenceGivesZerosAndRowsPastTheEndAreNeverRead) {
  const DecodeShape shape{2, 2, 1, 8};
  const std::vector<int32_t> lens = {0, 3};
  const DecodeInputs in = RandomInputs(shape, lens, 5);
  const ContiguousCache cache = RandomContiguousCache(shape, lens, 6, 5);  // rows >= len are NaN
  const std::vector<float> out = DecodeReference(in, cache);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(out[i], 0.0f);
  for (size_t i = 16; i < out.size(); ++i) EXPECT_TRUE(std::isfinite(out[i]));
}

TEST(DecodeReferenceTest, PagedLayoutGivesBitIdenticalResults) {
  const DecodeShape shape{3, 8, 2, 64};
  const std::vector<int32_t> lens = {100, 1, 33};
  const DecodeInputs in = RandomInputs(shape, lens, 21);
  const ContiguousCache contiguous = RandomContiguousCache(shape, lens, 100, 21);
  const std::vector<float> ref = DecodeReference(in, contiguous);
  for (int32_t block : {1, 8, 16, 64}) {
    const ScatteredTables tables = MakeScatteredTables(lens, block, 5, 99);
    const PagedCache paged = ToPaged(shape, lens, contiguous, block, tables);
    ASSERT_EQ(ValidateInputs(in, paged), "");
    EXPECT_EQ(DecodeReference(in, paged), ref) << "block size " << block;
  }
}

TEST(DecodeReferenceTest, WrongBlockTableChangesTheResult) {
  // The paged reference really reads through the table: swapping two of a sequence's blocks
  // between sequences changes the output (guards the equality test above against a reference
  // that ignores the table).
  const DecodeShape shape{2, 2, 1, 16};
  const std::vector<int32_t> lens = {32, 32};
  const DecodeInputs in = RandomInputs(shape, lens, 4, 3.0f);
  const ContiguousCache contiguous = RandomContiguousCache(shape, lens, 32, 4);
  const ScatteredTables tables = MakeScatteredTables(lens, 16, 0, 4);
  PagedCache paged = ToPaged(shape, lens, contiguous, 16, tables);
  std::swap(paged.block_tables[0], paged.block_tables[paged.max_blocks_per_seq]);
  EXPECT_NE(DecodeReference(in, paged), DecodeReference(in, contiguous));
}

TEST(DecodeReferenceTest, RoundingProbabilitiesToHalfCostsLittleButSomething) {
  const DecodeShape shape{2, 8, 2, 128};
  const std::vector<int32_t> lens = {700, 333};
  const DecodeInputs in = RandomInputs(shape, lens, 8);
  const ContiguousCache cache = RandomContiguousCache(shape, lens, 700, 8);
  const ErrorStats e = Compare(DecodeReference(in, cache, true), DecodeReference(in, cache));
  EXPECT_GT(e.rel_l2, 0.0);
  EXPECT_LT(e.rel_l2, 2.5e-4);  // the checks' bound (1e-3) leaves room above this baseline
}

TEST(ValidateInputsTest, NamesWhatIsWrong) {
  const DecodeShape shape{1, 4, 2, 8};
  const std::vector<int32_t> lens = {20};
  DecodeInputs in = RandomInputs(shape, lens, 1);
  const ContiguousCache contiguous = RandomContiguousCache(shape, lens, 20, 1);
  EXPECT_EQ(ValidateInputs(in, contiguous), "");
  in.seq_lens[0] = 21;
  EXPECT_NE(ValidateInputs(in, contiguous).find("length 21"), std::string::npos);
  in.seq_lens[0] = 20;
  PagedCache paged = ToPaged(shape, lens, contiguous, 8, MakeScatteredTables(lens, 8, 0, 1));
  EXPECT_EQ(ValidateInputs(in, paged), "");
  paged.block_tables[2] = paged.num_blocks;
  EXPECT_NE(ValidateInputs(in, paged).find("block_tables[0][2]"), std::string::npos);
  in.shape.n_kv_heads = 3;
  EXPECT_NE(ValidateInputs(in, contiguous).find("not a multiple"), std::string::npos);
}

TEST(ScatteredTablesTest, EverySequenceGetsDistinctScatteredBlocks) {
  const std::vector<int32_t> lens = {1000, 17, 0, 512};
  const ScatteredTables t = MakeScatteredTables(lens, 16, 7, 42);
  EXPECT_EQ(t.max_blocks_per_seq, 63);
  EXPECT_EQ(t.num_blocks, 63 + 2 + 1 + 32 + 7);
  std::set<int32_t> ids;
  int adjacent = 0, pairs = 0;
  for (size_t b = 0; b < lens.size(); ++b) {
    const int32_t used = std::max(1, (lens[b] + 15) / 16);
    for (int32_t j = 0; j < t.max_blocks_per_seq; ++j) {
      const int32_t id = t.block_tables[b * t.max_blocks_per_seq + j];
      if (j >= used) {
        EXPECT_EQ(id, -1);
        continue;
      }
      EXPECT_GE(id, 0);
      EXPECT_LT(id, t.num_blocks);
      EXPECT_TRUE(ids.insert(id).second) << "block " << id << " given twice";
      if (j > 0) {
        ++pairs;
        adjacent += id == t.block_tables[b * t.max_blocks_per_seq + j - 1] + 1;
      }
    }
  }
  EXPECT_LT(adjacent, pairs / 10);
  EXPECT_EQ(MakeScatteredTables(lens, 16, 7, 42).block_tables, t.block_tables);
  EXPECT_NE(MakeScatteredTables(lens, 16, 7, 43).block_tables, t.block_tables);
}

TEST(SplitPlanTest, BatchOneFillsTheDeviceAndLargeBatchesUseOneSplit) {
  const int64_t slots = 132 * 2;
  const SplitPlan one = ChooseSplitPlan(8, 32768, slots, 1 << 30);  // batch 1, 8 KV heads
  EXPECT_GE(one.num_splits * 8, slots * 3 / 4);
  EXPECT_EQ(one.tokens_per_split % kTileTokens, 0);
  EXPECT_EQ(one.num_splits, (32768 + one.tokens_per_split - 1) / one.tokens_per_split);
  const SplitPlan many = ChooseSplitPlan(2048, 1024, slots, 1 << 30);  // batch 256
  EXPECT_EQ(many.num_splits, 1);
  EXPECT_GE(many.tokens_per_split, 1024);
  // The paged kernel's table slice caps the split length.
  const SplitPlan capped = ChooseSplitPlan(4096, 32768, slots, 4096);
  EXPECT_LE(capped.tokens_per_split, 4096);
  EXPECT_GE(static_cast<int64_t>(capped.num_splits) * capped.tokens_per_split, 32768);
  EXPECT_EQ(ChooseSplitPlan(8, 0, slots, 1 << 30).num_splits, 1);
}

TEST(SplitPlanTest, FixedPlansAndValidSplits) {
  const SplitPlan p = FixedSplitPlan(1237, 100);
  EXPECT_EQ(p.num_splits, 13);
  EXPECT_EQ(ValidSplits(p, 1237), 13);
  EXPECT_EQ(ValidSplits(p, 1), 1);
  EXPECT_EQ(ValidSplits(p, 0), 0);
  EXPECT_EQ(ValidSplits(p, 200), 2);
  EXPECT_EQ(ValidSplits(p, 201), 3);
}

TEST(HashFillTest, ValuesAreExactInHalfAndDeterministic) {
  std::set<float> seen;
  for (uint64_t i = 0; i < 20000; ++i) {
    const float x = HashUnitValue(5, HashStream::kKey, i);
    ASSERT_GE(x, -1.0f);
    ASSERT_LT(x, 1.0f);
    ASSERT_EQ(HalfBitsToFloat(FloatToHalfBits(x)), x);
    ASSERT_EQ(HalfBitsToFloat(FloatToHalfBits(x * kBenchQueryScale)), x * kBenchQueryScale);
    seen.insert(x);
  }
  EXPECT_GT(seen.size(), 1900u);  // of 2048 grid values
  EXPECT_EQ(HashUnitValue(5, HashStream::kKey, 77), HashUnitValue(5, HashStream::kKey, 77));
  EXPECT_NE(HashUnitValue(5, HashStream::kKey, 77), HashUnitValue(5, HashStream::kValue, 77));
}

// The spot check rebuilds (sequence, KV head) slices of the arrays the device fills element
// by element; a whole-batch reference on those arrays must agree with it exactly.
TEST(HashFillTest, SpotCheckReadsTheSameValuesAsTheDeviceLayout) {
  const DecodeShape shape{3, 8, 2, 64};
  const int32_t context = 45;
  const uint64_t seed = 9;
  const std::vector<int32_t> lens(3, context);
  DecodeInputs in;
  in.shape = shape;
  in.seq_lens = lens;
  in.q.resize(static_cast<size_t>(3) * 8 * 64);
  for (size_t i = 0; i < in.q.size(); ++i) {
    in.q[i] = FloatToHalfBits(HashUnitValue(seed, HashStream::kQuery, i) * kBenchQueryScale);
  }
  ContiguousCache cache;
  cache.max_len = context;
  cache.k.resize(static_cast<size_t>(3) * 2 * context * 64);
  cache.v.resize(cache.k.size());
  for (size_t i = 0; i < cache.k.size(); ++i) {
    cache.k[i] = FloatToHalfBits(HashUnitValue(seed, HashStream::kKey, i));
    cache.v[i] = FloatToHalfBits(HashUnitValue(seed, HashStream::kValue, i));
  }
  std::vector<float> out = DecodeReference(in, cache);
  for (int b = 0; b < 3; ++b) {
    for (int h = 0; h < 2; ++h) {
      const SpotError e = SpotCheckHashInputs(shape, context, seed, out, b, h);
      EXPECT_TRUE(e.finite);
      EXPECT_EQ(e.rel_l2, 0.0) << b << " " << h;
    }
  }
  out[(2 * 8 + 5) * 64 + 3] += 0.5f;  // sequence 2, query head 5 = KV head 1
  EXPECT_GT(SpotCheckHashInputs(shape, context, seed, out, 2, 1).rel_l2, 1e-3);
  EXPECT_EQ(SpotCheckHashInputs(shape, context, seed, out, 2, 0).rel_l2, 0.0);
}

}  // namespace
}  // namespace attn::decode
