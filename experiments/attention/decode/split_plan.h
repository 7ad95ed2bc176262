// How a decode step is divided among thread blocks (flash-decoding, Dao et al. 2023): each
// (sequence, KV head) pair's tokens are cut into `num_splits` ranges of `tokens_per_split`, one
// thread block per range computes a partial softmax, and a second kernel combines the partials.
// Decode reads every K/V byte once and does little arithmetic per byte, so its speed is the
// memory bandwidth the grid can pull; the split count is what lets batch 1 fill every SM.
// Pure functions; safe from any thread.
#pragma once

#include <cstdint>

namespace attn::decode {

// Tokens a thread block stages in shared memory per pipeline step. The kernel and the plan
// must agree: splits are whole tiles so no tile straddles two thread blocks.
inline constexpr int32_t kTileTokens = 64;

struct SplitPlan {
  int32_t num_splits = 1;
  int32_t tokens_per_split = kTileTokens;
};

// The plan for `pairs` = batch x n_kv_heads pairs whose longest sequence has `max_len` tokens,
// on a device that runs `slots` = SMs x resident blocks per SM thread blocks at once.
// It minimises a model of the step's time, waves x (tiles of the longest block + about one
// tile of start-up per block: pipeline fill, q load, the in-block combine), so batch 1 gets
// enough splits to fill the device and a large batch gets one split per pair.
// tokens_per_split is a multiple of kTileTokens and at most max(kTileTokens,
// max_tokens_per_split) (the paged kernel keeps a split's slice of the block table in shared
// memory). A plan for max_len 0 is one split.
SplitPlan ChooseSplitPlan(int64_t pairs, int64_t max_len, int64_t slots,
                          int64_t max_tokens_per_split);

// A plan with a given split length (any length >= 1, for tests of odd split boundaries).
SplitPlan FixedSplitPlan(int64_t max_len, int32_t tokens_per_split);

// Splits that hold at least one token of a sequence of `len` tokens.
inline int32_t ValidSplits(const SplitPlan& plan, int64_t len) {
  const int64_t n = (len + plan.tokens_per_split - 1) / plan.tokens_per_split;
  return static_cast<int32_t>(n < plan.num_splits ? n : plan.num_splits);
}

}  // namespace attn::decode
