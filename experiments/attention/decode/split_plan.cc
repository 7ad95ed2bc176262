#include "experiments/attention/decode/split_plan.h"

#include <algorithm>

namespace attn::decode {
namespace {

// A thread block's fixed cost (pipeline fill, q load, the in-block combine) in tiles' worth of
// streaming time: an estimate, not a measurement. It makes many tiny splits lose to fewer larger
// ones of the same wave count.
constexpr double kStartupTiles = 1.0;

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

SplitPlan ChooseSplitPlan(int64_t pairs, int64_t max_len, int64_t slots,
                          int64_t max_tokens_per_split) {
  if (max_len <= 0 || pairs <= 0) return {1, kTileTokens};
  slots = std::max<int64_t>(slots, 1);
  const int64_t tiles = CeilDiv(max_len, kTileTokens);
  const int64_t max_tiles_per_split = std::max<int64_t>(1, max_tokens_per_split / kTileTokens);
  SplitPlan best;
  double best_cost = 0;
  // Every split length from one split per pair down to one tile per block. A step's time is
  // modelled as waves x (longest block's tiles + start-up): blocks of one wave stream side by
  // side, waves follow one another.
  for (int64_t per = std::min(tiles, max_tiles_per_split); per >= 1; --per) {
    const int64_t splits = CeilDiv(tiles, per);
    const int64_t waves = CeilDiv(pairs * splits, slots);
    const double cost = static_cast<double>(waves) * (static_cast<double>(per) + kStartupTiles);
    // Strictly cheaper only: among equal costs the first seen, the fewest splits, wins.
    if (best_cost == 0 || cost < best_cost - 1e-9) {
      best_cost = cost;
      best = {static_cast<int32_t>(splits), static_cast<int32_t>(per * kTileTokens)};
    }
  }
  return best;
}

SplitPlan FixedSplitPlan(int64_t max_len, int32_t tokens_per_split) {
  SplitPlan plan;
  plan.tokens_per_split = std::max<int32_t>(1, tokens_per_split);
  plan.num_splits =
      static_cast<int32_t>(std::max<int64_t>(1, CeilDiv(max_len, plan.tokens_per_split)));
  return plan;
}

}  // namespace attn::decode
