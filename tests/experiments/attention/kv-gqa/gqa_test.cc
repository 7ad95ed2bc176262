// kv-gqa's CUDA-free logic: variant naming, bytes per step, speed-ups, and the identity GQA
// rests on (a group of query heads sharing a KV head equals MHA with that head repeated).
#include "experiments/attention/kv-gqa/gqa.h"

#include <gtest/gtest.h>

#include <vector>

#include "experiments/attention/decode/decode.h"

namespace attn::kvgqa {
namespace {

TEST(VariantsTest, NamesMhaGqaMqa) {
  std::vector<Variant> v;
  ASSERT_EQ(MakeVariants(32, {32, 8, 1}, 32, &v), "");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].name, "mha");
  EXPECT_EQ(v[0].group, 1);
  EXPECT_EQ(v[1].name, "gqa");
  EXPECT_EQ(v[1].group, 4);
  EXPECT_EQ(v[2].name, "mqa");
  EXPECT_EQ(v[2].group, 32);
  ASSERT_EQ(MakeVariants(32, {32, 8, 4, 1}, 32, &v), "");
  EXPECT_EQ(v[1].name, "gqa8");
  EXPECT_EQ(v[2].name, "gqa4");
}

TEST(VariantsTest, RejectsWhatTheKernelCannotRun) {
  std::vector<Variant> v;
  EXPECT_NE(MakeVariants(32, {32, 5}, 32, &v).find("does not divide"), std::string::npos);
  EXPECT_NE(MakeVariants(64, {64, 1}, 32, &v).find("at most 32"), std::string::npos);
  EXPECT_NE(MakeVariants(32, {8, 8}, 32, &v).find("twice"), std::string::npos);
}

TEST(StepBytesTest, CountsKvQAndOutput) {
  const StepBytes b = DecodeStepBytes(4, 32, 8, 128, 32768);
  EXPECT_EQ(b.kv, int64_t{4} * 8 * 32768 * 128 * 2 * 2);  // 512 MiB
  EXPECT_EQ(b.kv, int64_t{512} << 20);
  EXPECT_EQ(b.q, 4 * 32 * 128 * 2);
  EXPECT_EQ(b.out, 4 * 32 * 128 * 4);
  EXPECT_EQ(b.total(), b.kv + b.q + b.out);
  // MQA reads 32x less K/V than MHA at the same query heads.
  EXPECT_EQ(DecodeStepBytes(1, 32, 32, 128, 1000).kv, 32 * DecodeStepBytes(1, 32, 1, 128, 1000).kv);
}

TEST(SpeedupSummaryTest, DividesTheMhaTime) {
  const nlohmann::json s = SpeedupSummary({{"mha", 8.0}, {"gqa", 2.0}, {"mqa", 0.5}});
  EXPECT_EQ(s["time_ms_mha"], 8.0);
  EXPECT_EQ(s["speedup_mha_over_gqa"], 4.0);
  EXPECT_EQ(s["speedup_mha_over_mqa"], 16.0);
  EXPECT_FALSE(s.contains("speedup_mha_over_mha"));
  EXPECT_FALSE(SpeedupSummary({{"gqa", 2.0}}).contains("speedup_mha_over_gqa"));
}

TEST(GroupedAttentionTest, EqualsMhaWithEachKvHeadRepeated) {
  using decode::ContiguousCache;
  using decode::DecodeShape;
  const DecodeShape gqa{2, 8, 2, 32};  // group 4
  const DecodeShape mha{2, 8, 8, 32};
  const std::vector<int32_t> lens = {50, 7};
  const decode::DecodeInputs in = decode::RandomInputs(gqa, lens, 12, 2.0f);
  const ContiguousCache shared = decode::RandomContiguousCache(gqa, lens, 50, 12);
  ContiguousCache repeated;
  repeated.max_len = 50;
  repeated.k.resize(static_cast<size_t>(2) * 8 * 50 * 32);
  repeated.v.resize(repeated.k.size());
  for (int b = 0; b < 2; ++b) {
    for (int hq = 0; hq < 8; ++hq) {
      for (int t = 0; t < 50; ++t) {
        const int64_t src = decode::RowOffset(gqa, shared, b, hq / 4, t);
        const int64_t dst = decode::RowOffset(mha, repeated, b, hq, t);
        for (int i = 0; i < 32; ++i) {
          repeated.k[dst + i] = shared.k[src + i];
          repeated.v[dst + i] = shared.v[src + i];
        }
      }
    }
  }
  decode::DecodeInputs mha_in = in;
  mha_in.shape = mha;
  EXPECT_EQ(decode::DecodeReference(in, shared), decode::DecodeReference(mha_in, repeated));
}

}  // namespace
}  // namespace attn::kvgqa
