// The size ladder, the sorted arrays and the query generator's guarantees (workload.h).
#include "experiments/search-bench/workload.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace search_bench {
namespace {

bool IsElement(int64_t n, int64_t q) { return q >= 0 && q < 2 * n && q % 2 == 0; }

TEST(SearchBenchWorkloadTest, DefaultLadderIsPowersOfTwoAndTheirOneAndAHalf) {
  const std::vector<int64_t> ladder = SizeLadder();
  const std::vector<int64_t> head = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64};
  ASSERT_GE(ladder.size(), head.size());
  EXPECT_TRUE(std::equal(head.begin(), head.end(), ladder.begin()));
  EXPECT_EQ(ladder.back(), 1048576);
  EXPECT_EQ(ladder[ladder.size() - 2], 786432);
  EXPECT_EQ(ladder.size(), 40u);
  EXPECT_TRUE(std::is_sorted(ladder.begin(), ladder.end()));
  EXPECT_NE(std::find(ladder.begin(), ladder.end(), 1024), ladder.end());
}

TEST(SearchBenchWorkloadTest, LadderStopsAtMaxSize) {
  EXPECT_EQ(SizeLadder(1), std::vector<int64_t>({1}));
  EXPECT_EQ(SizeLadder(5), std::vector<int64_t>({1, 2, 3, 4}));
  EXPECT_EQ(SizeLadder(6), std::vector<int64_t>({1, 2, 3, 4, 6}));
  EXPECT_EQ(SizeLadder(1000).back(), 768);
}

TEST(SearchBenchWorkloadTest, SortedArrayHoldsTheEvenNumbers) {
  EXPECT_TRUE(MakeSortedArray(0).empty());
  EXPECT_EQ(MakeSortedArray(4), std::vector<int64_t>({0, 2, 4, 6}));
}

TEST(SearchBenchWorkloadTest, HitCountIsExactAndHitsAndMissesAreWhatTheySay) {
  for (uint64_t seed : {1ull, 42ull, 20260611ull}) {
    for (int64_t n : {1, 2, 3, 7, 1024}) {
      for (double fraction : {0.0, 0.25, 0.5, 0.9, 1.0}) {
        for (int64_t count : {1, 7, 200}) {
          const QuerySet set = MakeQueries(n, count, fraction, seed);
          const int64_t expected_hits = std::llround(fraction * static_cast<double>(count));
          ASSERT_EQ(set.values.size(), static_cast<std::size_t>(count));
          EXPECT_EQ(set.hits, expected_hits) << "n=" << n << " f=" << fraction;
          const auto hits = std::count_if(set.values.begin(), set.values.end(),
                                          [n](int64_t q) { return IsElement(n, q); });
          EXPECT_EQ(hits, expected_hits) << "n=" << n << " f=" << fraction << " seed=" << seed;
          for (int64_t q : set.values) {
            // A miss is odd and in [-1, 2n - 1]: in a gap of the array, never outside them.
            if (!IsElement(n, q)) {
              EXPECT_TRUE(q % 2 != 0 && q >= -1 && q <= 2 * n - 1) << q;
            }
          }
        }
      }
    }
  }
}

TEST(SearchBenchWorkloadTest, MissesFallBelowBetweenAndAboveTheElements) {
  // n = 2 holds {0, 2}: its gaps are -1, 1 and 3, and 100 misses reach each of them.
  const QuerySet set = MakeQueries(2, 200, 0.5, 11);
  for (int64_t gap : {-1, 1, 3}) {
    EXPECT_NE(std::find(set.values.begin(), set.values.end(), gap), set.values.end()) << gap;
  }
}

TEST(SearchBenchWorkloadTest, EmptyArrayGetsOnlyMisses) {
  const QuerySet set = MakeQueries(0, 10, 0.5, 1);
  EXPECT_EQ(set.hits, 0);
  EXPECT_EQ(set.values, std::vector<int64_t>(10, -1));
}

TEST(SearchBenchWorkloadTest, QueriesDependOnSeedAndSizeOnly) {
  const QuerySet a = MakeQueries(1024, 200, 0.5, 7);
  EXPECT_EQ(a.values, MakeQueries(1024, 200, 0.5, 7).values);
  EXPECT_NE(a.values, MakeQueries(1024, 200, 0.5, 8).values);
  EXPECT_NE(a.values, MakeQueries(1536, 200, 0.5, 7).values);
}

TEST(SearchBenchWorkloadTest, HitsAndMissesAreShuffledAndSpreadOverTheArray) {
  constexpr int64_t kSize = 1024;
  const QuerySet set = MakeQueries(kSize, 200, 0.5, 20260611);
  // Not all hits first: the first 100 queries must include misses.
  const auto early_hits = std::count_if(set.values.begin(), set.values.begin() + 100,
                                        [](int64_t q) { return IsElement(kSize, q); });
  EXPECT_GT(early_hits, 20);
  EXPECT_LT(early_hits, 80);
  // Queries reach both halves of the array (which holds 0 .. 2 * kSize - 2).
  const auto low =
      std::count_if(set.values.begin(), set.values.end(), [](int64_t q) { return q < kSize; });
  EXPECT_GT(low, 50);
  EXPECT_LT(low, 150);
}

}  // namespace
}  // namespace search_bench
