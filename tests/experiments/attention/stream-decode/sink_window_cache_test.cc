// The sink + window cache's bookkeeping (SinkWindowCache) and its closed forms (cache_layout.h,
// what the CUDA kernels use): eviction order, sinks that stay, positions re-assigned in cache
// order.
#include "experiments/attention/stream-decode/sink_window_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "experiments/attention/stream-decode/cache_layout.h"

namespace attn::stream {
namespace {

TEST(SinkWindowCacheTest, FillsSinksThenWindowThenEvictsTheOldestWindowToken) {
  SinkWindowCache cache(2, 3);
  struct Expected {
    int slot;
    int64_t evicted;
  };
  // Tokens 0, 1: sinks. 2, 3, 4: the window fills. From 5 on each evicts the token 3 older.
  const std::vector<Expected> expected = {{0, -1}, {1, -1}, {2, -1}, {3, -1}, {4, -1},
                                          {2, 2},  {3, 3},  {4, 4},  {2, 5},  {3, 6}};
  for (size_t t = 0; t < expected.size(); ++t) {
    const SinkWindowCache::Admission a = cache.Admit();
    EXPECT_EQ(a.token, static_cast<int64_t>(t));
    EXPECT_EQ(a.slot, expected[t].slot) << "token " << t;
    EXPECT_EQ(a.evicted, expected[t].evicted) << "token " << t;
  }
  EXPECT_EQ(cache.size(), 5);
  EXPECT_EQ(cache.tokens_seen(), 10);
}

TEST(SinkWindowCacheTest, HoldsTheSinksAndTheMostRecentWindowTokens) {
  const int sinks = 4, window = 6;
  SinkWindowCache cache(sinks, window);
  for (int64_t t = 0; t < 200; ++t) {
    cache.Admit();
    std::set<int64_t> held;
    for (int slot = 0; slot < cache.capacity(); ++slot) {
      if (cache.TokenInSlot(slot) >= 0) held.insert(cache.TokenInSlot(slot));
    }
    std::set<int64_t> want;
    for (int64_t s = 0; s < std::min<int64_t>(sinks, t + 1); ++s) want.insert(s);
    for (int64_t r = std::max<int64_t>(sinks, t - window + 1); r <= t; ++r) want.insert(r);
    ASSERT_EQ(held, want) << "after token " << t;
  }
  for (int s = 0; s < sinks; ++s) EXPECT_EQ(cache.TokenInSlot(s), s);
}

TEST(SinkWindowCacheTest, PositionsFollowCacheOrderNotStreamOrder) {
  SinkWindowCache cache(2, 3);
  for (int i = 0; i < 6; ++i) cache.Admit();  // tokens 0..5; token 5 evicted token 2 (slot 2)
  // Cache order: sinks (slots 0, 1: tokens 0, 1), then the window oldest first: slot 3 (token 3),
  // slot 4 (token 4), slot 2 (token 5).
  EXPECT_EQ(cache.SlotsInOrder(), (std::vector<int>{0, 1, 3, 4, 2}));
  EXPECT_EQ(cache.Positions(), (std::vector<int>{0, 1, 4, 2, 3}));
  // The newest token (the query) takes the last position, 4, though it is token 5 of the stream.
  EXPECT_EQ(cache.QueryPosition(), 4);
  EXPECT_EQ(cache.Positions()[2], cache.QueryPosition());
}

TEST(SinkWindowCacheTest, EmptySlotsHaveNoPosition) {
  SinkWindowCache cache(4, 8);
  cache.Admit();
  cache.Admit();
  const std::vector<int> positions = cache.Positions();
  EXPECT_EQ(positions[0], 0);
  EXPECT_EQ(positions[1], 1);
  for (size_t s = 2; s < positions.size(); ++s) EXPECT_EQ(positions[s], -1) << "slot " << s;
  EXPECT_EQ(cache.QueryPosition(), 1);
}

TEST(SinkWindowCacheTest, WithoutSinksItIsAPlainRollingWindow) {
  SinkWindowCache cache(0, 3);
  std::vector<int> slots;
  for (int i = 0; i < 7; ++i) slots.push_back(cache.Admit().slot);
  EXPECT_EQ(slots, (std::vector<int>{0, 1, 2, 0, 1, 2, 0}));
  EXPECT_EQ(cache.SlotsInOrder(), (std::vector<int>{1, 2, 0}));  // tokens 4, 5, 6
}

// The kernels' closed forms must describe the same cache, step by step.
TEST(CacheLayoutTest, ClosedFormsAgreeWithTheBookkeeping) {
  for (int sinks : {0, 1, 4}) {
    for (int window : {1, 3, 8, 64}) {
      const CacheLayout layout{sinks, window};
      SinkWindowCache cache(sinks, window);
      for (int64_t t = 0; t < 3 * (sinks + window) + 5; ++t) {
        const SinkWindowCache::Admission a = cache.Admit();
        ASSERT_EQ(WriteSlot(layout, t), a.slot)
            << "sinks " << sinks << " window " << window << " t " << t;
        const CacheView view = ViewAfter(layout, t + 1);
        ASSERT_EQ(view.length, cache.size());
        ASSERT_EQ(QueryPosition(view), cache.QueryPosition());
        const std::vector<int> positions = cache.Positions();
        for (int slot = 0; slot < layout.capacity(); ++slot) {
          ASSERT_EQ(PositionOf(view, slot), positions[static_cast<size_t>(slot)])
              << "sinks " << sinks << " window " << window << " t " << t << " slot " << slot;
        }
      }
    }
  }
}

TEST(CacheLayoutTest, PositionsStayInsideTheCacheForAnyStreamLength) {
  const CacheLayout layout{4, 1024};
  const int64_t seen = 1'000'000'000'003;  // far past any RoPE table of stream positions
  const CacheView view = ViewAfter(layout, seen);
  EXPECT_EQ(view.length, 1028);
  EXPECT_EQ(QueryPosition(view), 1027);
  // The newest token sits in the slot it was written to and has the last position.
  EXPECT_EQ(PositionOf(view, WriteSlot(layout, seen - 1)), 1027);
  // The slot written next holds the oldest window token: position `sinks`.
  EXPECT_EQ(PositionOf(view, WriteSlot(layout, seen)), 4);
  std::vector<int> all;
  for (int slot = 0; slot < layout.capacity(); ++slot) all.push_back(PositionOf(view, slot));
  std::sort(all.begin(), all.end());
  for (int i = 0; i < layout.capacity(); ++i) EXPECT_EQ(all[static_cast<size_t>(i)], i);
}

}  // namespace
}  // namespace attn::stream
