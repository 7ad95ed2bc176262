// The CPU reference: sink + window decoding against dense attention and against re-computation,
// positions re-assigned after eviction, the RoPE table, the seeded init and the work counts.
#include "experiments/attention/stream-decode/reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "experiments/attention/common/half.h"
#include "experiments/attention/common/stats.h"
#include "experiments/attention/stream-decode/model.h"
#include "experiments/attention/stream-decode/runs.h"

namespace attn::stream {
namespace {

// Small enough that a decode step is tens of microseconds on a CPU.
ModelConfig TestConfig(int layers = 2) {
  ModelConfig c;
  c.layers = layers, c.d_model = 64, c.heads = 2, c.ffn = 128, c.vocab = 97;
  return c;
}

double RelL2(const std::vector<float>& got, const std::vector<float>& want) {
  return Compare(got, want).rel_l2;
}

TEST(StreamReferenceTest, SinkWindowEqualsFullAttentionWhileNothingIsEvicted) {
  const ModelWeights w = InitWeights(TestConfig(), 7);
  const int sinks = 2, window = 16, tokens = 14;  // sinks + window >= tokens: no eviction
  const ReferenceModel model(w, sinks + window);
  StreamingDecoder streaming(model, sinks, window);
  FullAttentionDecoder full(model, tokens);
  for (int32_t t : SeededTokens(3, tokens, w.config.vocab)) {
    const std::vector<float> a = streaming.Step(t), b = full.Step(t);
    ASSERT_EQ(a, b) << "token " << t;  // the same arithmetic in the same order
  }
}

TEST(StreamReferenceTest, AfterEvictionTheWindowChangesTheOutput) {
  const ModelWeights w = InitWeights(TestConfig(), 7);
  const int tokens = 14;
  const ReferenceModel model(w, tokens);
  StreamingDecoder streaming(model, 2, 4);
  FullAttentionDecoder full(model, tokens);
  std::vector<float> a, b;
  for (int32_t t : SeededTokens(3, tokens, w.config.vocab)) {
    a = streaming.Step(t);
    b = full.Step(t);
  }
  EXPECT_GT(RelL2(a, b), 1e-2);  // 8 of 14 tokens are gone: the logits must move
}

TEST(StreamReferenceTest, DecodeMatchesRecomputationOnTheSameTokens) {
  const ModelWeights w = InitWeights(TestConfig(), 11);
  const int window = 12;
  const ReferenceModel model(w, 4 + window);
  StreamingDecoder streaming(model, 4, window);
  RecomputeDecoder recompute(model, window);
  for (int32_t t : SeededTokens(5, window, w.config.vocab)) {
    const std::vector<float> a = streaming.Step(t), b = recompute.Step(t);
    // Decode rotates fp16 keys in fp32; the prefill rounds rotated keys to fp16: close, not equal.
    EXPECT_LT(RelL2(a, b), 1e-2) << "token " << t;
  }
}

// With one layer a token's K and V depend on the token alone, so after any eviction the cache
// holds exactly what a prefill over the held tokens would compute, at positions 0 .. size-1.
TEST(StreamReferenceTest, EvictedCacheIsAttendedAtCachePositions) {
  const ModelWeights w = InitWeights(TestConfig(1), 13);
  const int sinks = 2, window = 4, tokens = 15;
  const ReferenceModel model(w, sinks + window);
  StreamingDecoder streaming(model, sinks, window);
  const std::vector<int32_t> stream = SeededTokens(9, tokens, w.config.vocab);
  for (size_t i = 0; i < stream.size(); ++i) {
    const std::vector<float> logits = streaming.Step(stream[i]);
    std::vector<int32_t> held;
    for (int slot : streaming.cache().SlotsInOrder()) {
      held.push_back(stream[static_cast<size_t>(streaming.cache().TokenInSlot(slot))]);
    }
    EXPECT_LT(RelL2(logits, model.Prefill(held)), 1e-2) << "after token " << i;
  }
}

// The same comparison with stream positions (what a cache that keeps rotated keys would do)
// must fail, or the test above would not show that positions are re-assigned.
TEST(StreamReferenceTest, StreamPositionsWouldGiveOtherLogits) {
  const ModelWeights w = InitWeights(TestConfig(1), 13);
  const int sinks = 2, window = 4, tokens = 15;
  const ReferenceModel model(w, tokens);
  StreamingDecoder streaming(model, sinks, window);
  const std::vector<int32_t> stream = SeededTokens(9, tokens, w.config.vocab);
  std::vector<float> cache_positions;
  for (int32_t t : stream) cache_positions = streaming.Step(t);
  // Replay the held tokens into a fresh cache at their stream positions.
  KvCache kv(w.config, tokens);
  std::vector<int> positions(static_cast<size_t>(tokens), -1);
  std::vector<float> stream_positions;
  for (int slot : streaming.cache().SlotsInOrder()) {
    const int64_t index = streaming.cache().TokenInSlot(slot);
    positions[static_cast<size_t>(index)] = static_cast<int>(index);
    stream_positions = model.Decode(stream[static_cast<size_t>(index)], static_cast<int>(index),
                                    positions, static_cast<int>(index), kv);
  }
  EXPECT_GT(RelL2(stream_positions, cache_positions), 1e-3);
}

TEST(StreamReferenceTest, RecomputeDecoderKeepsTheLastWindowTokens) {
  const ModelWeights w = InitWeights(TestConfig(1), 1);
  const ReferenceModel model(w, 3);
  RecomputeDecoder d(model, 3);
  for (int32_t t : {5, 6, 7, 8, 9}) d.Step(t);
  EXPECT_EQ(d.window_tokens(), (std::vector<int32_t>{7, 8, 9}));
}

TEST(StreamReferenceTest, Fp16RoundingIsAppliedAndSmall) {
  const ModelWeights w = InitWeights(TestConfig(), 21);
  const ReferenceModel rounded(w, 16, true), exact(w, 16, false);
  const std::vector<int32_t> tokens = SeededTokens(2, 10, w.config.vocab);
  const double e = RelL2(exact.Prefill(tokens), rounded.Prefill(tokens));
  EXPECT_GT(e, 1e-5);  // the rounding is really there
  EXPECT_LT(e, 1e-2);  // and is the small error the GPU bound is set against
}

TEST(StreamReferenceTest, ArgmaxTakesTheLowestIndexOnTies) {
  EXPECT_EQ(Argmax(std::vector<float>{1, 3, 3, 2}), 1);
  EXPECT_EQ(Argmax(std::vector<float>{-1, -1}), 0);
}

TEST(StreamReferenceTest, RopeOutOfTableThrows) {
  const ModelWeights w = InitWeights(TestConfig(1), 1);
  const ReferenceModel model(w, 4);
  EXPECT_THROW(model.Prefill(std::vector<int32_t>{1, 2, 3, 4, 5}), std::out_of_range);
}

TEST(StreamModelTest, RopeTableRotatesByPositionTimesFrequency) {
  const int head_dim = 8;
  const std::vector<float> t = RopeTable(head_dim, 5, 10000.0f);
  ASSERT_EQ(t.size(), 5u * 4 * 2);
  EXPECT_FLOAT_EQ(t[0], 1.0f);  // position 0: no rotation
  EXPECT_FLOAT_EQ(t[1], 0.0f);
  // Position 3, pair 1: angle 3 * 10000^(-2/8).
  const double angle = 3 * std::pow(10000.0, -0.25);
  EXPECT_FLOAT_EQ(t[(3 * 4 + 1) * 2], static_cast<float>(std::cos(angle)));
  EXPECT_FLOAT_EQ(t[(3 * 4 + 1) * 2 + 1], static_cast<float>(std::sin(angle)));
}

TEST(StreamModelTest, SeededInitIsDeterministicAndScaled) {
  const ModelConfig c = TestConfig(1);
  const ModelWeights a = InitWeights(c, 5), b = InitWeights(c, 5), other = InitWeights(c, 6);
  EXPECT_EQ(a.layers[0].wqkv, b.layers[0].wqkv);
  EXPECT_NE(a.layers[0].wqkv, other.layers[0].wqkv);
  ASSERT_EQ(a.layers[0].w_down.size(), static_cast<size_t>(c.d_model * c.ffn));
  double sum2 = 0;
  for (uint16_t h : a.layers[0].w_down) sum2 += std::pow(HalfBitsToFloat(h), 2);
  const double stddev = std::sqrt(sum2 / static_cast<double>(a.layers[0].w_down.size()));
  EXPECT_NEAR(stddev, 1.0 / std::sqrt(c.ffn), 0.1 / std::sqrt(c.ffn));  // N(0, 1/fan_in)
  EXPECT_EQ(ParameterCount(c), 2 * 97 * 64 + (2 * 64 + 4 * 64 * 64 + 2 * 64 * 128) + 64);
}

TEST(StreamModelTest, PresetsAndGpuValidation) {
  ModelConfig small, tiny;
  ASSERT_TRUE(PresetConfig("small", &small));
  ASSERT_TRUE(PresetConfig("tiny", &tiny));
  EXPECT_FALSE(PresetConfig("huge", &tiny));
  EXPECT_EQ(small.head_dim(), 64);
  EXPECT_EQ(ValidateConfigForGpu(small), "");
  EXPECT_EQ(ValidateConfigForGpu(tiny), "");
  EXPECT_EQ(ParameterCount(small),
            2 * 32000 * 1024 + 4 * (2 * 1024 + 4 * 1024 * 1024 + 2 * 1024 * 4096) + 1024);
  EXPECT_EQ(ValidateConfig(TestConfig()), "");
  EXPECT_NE(ValidateConfigForGpu(TestConfig()).find("head_dim"), std::string::npos);  // 32, not 64
  ModelConfig wide = small;
  wide.ffn = 32768;  // the decode GEMV's input row would not fit in shared memory
  EXPECT_NE(ValidateConfigForGpu(wide).find("16384"), std::string::npos);
  ModelConfig odd = small;
  odd.heads = 5;
  EXPECT_NE(ValidateConfig(odd).find("multiple of heads"), std::string::npos);
}

TEST(StreamModelTest, WorkCountsByHand) {
  ModelConfig c;
  c.layers = 1, c.d_model = 2, c.heads = 1, c.ffn = 4, c.vocab = 3;
  // Layer weights: 4 d^2 + 2 d ffn = 16 + 16 = 32; the head: vocab x d = 6.
  const TokenWork decode = DecodeWork(c, 1, 2);
  EXPECT_DOUBLE_EQ(decode.linear_flops, 2 * (32 + 6));
  EXPECT_DOUBLE_EQ(decode.attention_flops, 4.0 * 3 * 2);  // 3 cached tokens, QK and PV over d
  EXPECT_DOUBLE_EQ(decode.kv_bytes, 2.0 * 3 * 2 * 2);
  const TokenWork recompute = RecomputeWork(c, 2);
  EXPECT_DOUBLE_EQ(recompute.linear_flops, 2 * (2 * 32 + 6));
  EXPECT_DOUBLE_EQ(recompute.attention_flops, 4.0 * 2 * 3);  // 3 causal pairs over 2 tokens
}

}  // namespace
}  // namespace attn::stream
