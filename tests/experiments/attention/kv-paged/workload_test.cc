// The request workload (seeded, lengths with the published means) and the replay's waste
// arithmetic on hand-made workloads.
#include "experiments/attention/kv-paged/workload.h"

#include <gtest/gtest.h>

#include <cmath>

#include "experiments/attention/kv-paged/replay.h"

namespace attn::kvpaged {
namespace {

TEST(WorkloadTest, SameSeedSameRequestsOtherSeedOthers) {
  WorkloadSpec spec;
  spec.requests = 500;
  const Workload a = GenerateWorkload(spec);
  const Workload b = GenerateWorkload(spec);
  ASSERT_EQ(a.requests.size(), 500u);
  bool same = true;
  for (size_t i = 0; i < a.requests.size(); ++i) {
    same = same && a.requests[i].prompt_len == b.requests[i].prompt_len &&
           a.requests[i].output_len == b.requests[i].output_len &&
           a.requests[i].prefix_group == b.requests[i].prefix_group;
  }
  EXPECT_TRUE(same);
  spec.seed = 2;
  const Workload c = GenerateWorkload(spec);
  int differ = 0;
  for (size_t i = 0; i < a.requests.size(); ++i)
    differ += a.requests[i].prompt_len != c.requests[i].prompt_len;
  EXPECT_GT(differ, 400);
}

TEST(WorkloadTest, MeansMatchThePresetAndLimitsHold) {
  for (const char* preset : {"sharegpt", "lmsys"}) {
    WorkloadSpec spec;
    ASSERT_EQ(ApplyPreset(preset, &spec), "");
    spec.requests = 40000;
    spec.max_len = 1 << 20;  // no clamping, so the sample means estimate the log-normal means
    spec.prefix_len = 0;
    const Workload w = GenerateWorkload(spec);
    double prompt = 0, output = 0;
    for (const Request& r : w.requests) {
      prompt += r.prompt_len;
      output += r.output_len;
      ASSERT_GE(r.prompt_len, 1);
      ASSERT_GE(r.output_len, 1);
    }
    // sigma 1: the mean of 40000 draws has a relative standard error of about 0.7 %.
    EXPECT_NEAR(prompt / 40000 / spec.prompt.mean, 1.0, 0.04) << preset;
    EXPECT_NEAR(output / 40000 / spec.output.mean, 1.0, 0.04) << preset;
  }
  WorkloadSpec spec;
  EXPECT_NE(ApplyPreset("alpaca", &spec).find("accepted: sharegpt, lmsys"), std::string::npos);
  spec.requests = 3000;
  spec.max_len = 700;
  spec.prefix_len = 600;
  const Workload w = GenerateWorkload(spec);
  int with_prefix = 0;
  for (const Request& r : w.requests) {
    ASSERT_LE(w.FinalLen(r), 700);
    ASSERT_GE(r.output_len, 1);
    with_prefix += r.prefix_group >= 0;
    ASSERT_LT(r.prefix_group, spec.prefix_groups);
  }
  EXPECT_NEAR(with_prefix / 3000.0, spec.prefix_fraction, 0.05);
}

TEST(WorkloadTest, PrefixFractionDoesNotChangeTheLengths) {
  WorkloadSpec spec;
  spec.requests = 200;
  spec.prefix_fraction = 0;
  const Workload none = GenerateWorkload(spec);
  spec.prefix_fraction = 1;
  const Workload all = GenerateWorkload(spec);
  for (size_t i = 0; i < 200; ++i) {
    EXPECT_EQ(none.requests[i].prefix_group, -1);
    EXPECT_GE(all.requests[i].prefix_group, 0);
    if (all.requests[i].prompt_len + spec.prefix_len + all.requests[i].output_len < spec.max_len) {
      EXPECT_EQ(none.requests[i].prompt_len, all.requests[i].prompt_len);
    }
  }
}

Workload HandMade(std::vector<Request> requests, int32_t max_len, int32_t prefix_len) {
  Workload w;
  w.spec.requests = static_cast<int64_t>(requests.size());
  w.spec.max_len = max_len;
  w.spec.prefix_groups = 1;
  w.spec.prefix_len = prefix_len;
  w.requests = std::move(requests);
  return w;
}

// Step 1: A = 10 + 1 tokens, B = 20 + 1; step 2: A = 12 (B finished after step 1).
//   used:           32 + 12 = 44
//   contiguous max: 2 x 64 + 64 = 192      pow2: (16 + 32) + 16 = 64      exact: (12 + 21) + 12 =
//   45 paged:          (1 + 2) x 16 + 16 = 64 blocks' slots, 44 of them filled
TEST(ReplayTest, WasteOfAHandMadeWorkload) {
  const Workload w = HandMade({{10, 2, -1}, {20, 1, -1}}, 64, 0);
  ReplaySpec spec;
  spec.block_size = 16;
  spec.concurrency = 2;
  const ReplayStats s = Replay(w, spec);
  EXPECT_EQ(s.steps, 2);
  EXPECT_EQ(s.used, 44);
  EXPECT_EQ(s.reserved_contiguous_max, 192);
  EXPECT_EQ(s.reserved_contiguous_pow2, 64);
  EXPECT_EQ(s.reserved_contiguous_exact, 45);
  EXPECT_EQ(s.reserved_paged, 64);
  EXPECT_EQ(s.stored_paged, 44);
  EXPECT_DOUBLE_EQ(s.WasteContiguousMax(), 1 - 44.0 / 192);  // 148 / 192 unused
  EXPECT_DOUBLE_EQ(s.WasteContiguousPow2(), 1 - 44.0 / 64);
  EXPECT_NEAR(s.WasteContiguousExact(), 1.0 / 45, 1e-12);
  EXPECT_DOUBLE_EQ(s.WastePaged(), 1 - 44.0 / 64);
  EXPECT_EQ(s.peak_paged_blocks, 3);
  EXPECT_EQ(s.invariant_error, "");
}

// Concurrency 1 serialises: A alone for 2 steps, then B alone for 1.
TEST(ReplayTest, ConcurrencyLimitsTheBatch) {
  const Workload w = HandMade({{10, 2, -1}, {20, 1, -1}}, 64, 0);
  ReplaySpec spec;
  spec.block_size = 16;
  spec.concurrency = 1;
  const ReplayStats s = Replay(w, spec);
  EXPECT_EQ(s.steps, 3);
  EXPECT_EQ(s.used, 11 + 12 + 21);
  EXPECT_EQ(s.reserved_paged, 16 + 16 + 32);
  EXPECT_EQ(s.peak_active, 1);
}

// A 20-token system prompt (blocks X = 16 tokens, Y = 4) and one request of 5 + 1 tokens.
// Shared: the request forks the prompt, copies Y on its first write (Y' = 4 + 5 + 1 = 10), so
// X, Y and Y' are in use: 48 slots, 16 + 4 + 10 = 30 filled. Unshared: 26 tokens in 2 blocks.
TEST(ReplayTest, PrefixSharingForksAndCopiesTheSharedPartialBlock) {
  const Workload w = HandMade({{5, 1, 0}}, 64, 20);
  ReplaySpec spec;
  spec.block_size = 16;
  spec.concurrency = 4;
  const ReplayStats unshared = Replay(w, spec);
  spec.share_prefixes = true;
  const ReplayStats shared = Replay(w, spec);
  EXPECT_EQ(unshared.used, 26);
  EXPECT_EQ(unshared.reserved_paged, 32);
  EXPECT_EQ(unshared.stored_paged, 26);
  EXPECT_EQ(unshared.cow_copies, 0);
  EXPECT_EQ(shared.used, 26);
  EXPECT_EQ(shared.reserved_paged, 48);
  EXPECT_EQ(shared.stored_paged, 30);
  EXPECT_EQ(shared.cow_copies, 1);
  EXPECT_EQ(shared.invariant_error, "");
}

// Many requests on few system prompts: sharing saves memory, paged waste is the last block's.
TEST(ReplayTest, SharingSavesMemoryAndPagedWasteStaysSmall) {
  WorkloadSpec ws;
  ws.requests = 300;
  ws.prefix_fraction = 1.0;
  const Workload w = GenerateWorkload(ws);
  ReplaySpec spec;
  const ReplayStats unshared = Replay(w, spec);
  spec.share_prefixes = true;
  const ReplayStats shared = Replay(w, spec);
  EXPECT_LT(shared.reserved_paged, 0.8 * unshared.reserved_paged);
  // Internal fragmentation: under one block per request, relative to the mean length.
  EXPECT_LT(unshared.WastePaged(), 16.0 / 700);
  EXPECT_GT(unshared.WasteContiguousMax(), 0.5);
  EXPECT_EQ(unshared.invariant_error, "");
  EXPECT_EQ(shared.invariant_error, "");
  EXPECT_EQ(shared.cow_copies, 300);  // 600 is not a multiple of 16: every request copies once
}

}  // namespace
}  // namespace attn::kvpaged
