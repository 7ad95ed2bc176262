// LinearContains and BinaryContains against std::set on random sorted arrays, including the
// empty array, sizes 1 and 2, duplicates and the int64 extremes.
#include "experiments/search-bench/membership.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <vector>

namespace search_bench {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// Every element, its neighbours, the extremes and a few random values.
std::vector<int64_t> Probes(const std::vector<int64_t>& sorted, std::mt19937_64& rng) {
  std::vector<int64_t> probes = {kMin, kMin + 1, -1, 0, 1, kMax - 1, kMax};
  for (int64_t v : sorted) {
    probes.push_back(v);
    if (v > kMin) {
      probes.push_back(v - 1);
    }
    if (v < kMax) {
      probes.push_back(v + 1);
    }
  }
  for (int i = 0; i < 20; ++i) {
    probes.push_back(static_cast<int64_t>(rng()));
  }
  return probes;
}

void ExpectBothMatchSet(const std::vector<int64_t>& sorted, std::mt19937_64& rng) {
  const std::set<int64_t> reference(sorted.begin(), sorted.end());
  for (int64_t x : Probes(sorted, rng)) {
    const bool expected = reference.count(x) == 1;
    EXPECT_EQ(LinearContains(sorted, x), expected) << "n=" << sorted.size() << " x=" << x;
    EXPECT_EQ(BinaryContains(sorted, x), expected) << "n=" << sorted.size() << " x=" << x;
  }
}

TEST(SearchBenchMembershipTest, EmptyArrayContainsNothing) {
  const std::vector<int64_t> empty;
  for (int64_t x : {kMin, int64_t{0}, kMax}) {
    EXPECT_FALSE(LinearContains(empty, x));
    EXPECT_FALSE(BinaryContains(empty, x));
  }
}

TEST(SearchBenchMembershipTest, SizesOneAndTwoAtTheExtremes) {
  std::mt19937_64 rng(1);
  for (const std::vector<int64_t>& sorted :
       {std::vector<int64_t>{kMin}, std::vector<int64_t>{kMax}, std::vector<int64_t>{0},
        std::vector<int64_t>{kMin, kMax}, std::vector<int64_t>{kMax, kMax},
        std::vector<int64_t>{-1, 1}, std::vector<int64_t>{kMin, kMin}}) {
    ExpectBothMatchSet(sorted, rng);
  }
  // Spelled out for the smallest cases, so a failure reads directly.
  EXPECT_TRUE(LinearContains(std::vector<int64_t>{kMax}, kMax));
  EXPECT_FALSE(LinearContains(std::vector<int64_t>{kMax}, kMax - 1));
  EXPECT_TRUE(LinearContains(std::vector<int64_t>{kMin, kMax}, kMin));
  EXPECT_FALSE(LinearContains(std::vector<int64_t>{-1, 1}, 0));
  EXPECT_TRUE(BinaryContains(std::vector<int64_t>{-1, 1}, 1));
  EXPECT_FALSE(BinaryContains(std::vector<int64_t>{-1, 1}, 2));
}

TEST(SearchBenchMembershipTest, RandomSortedArraysWithDuplicates) {
  std::mt19937_64 rng(20260611);
  for (int64_t n : {0, 1, 2, 3, 5, 8, 17, 64, 100, 1000}) {
    for (int trial = 0; trial < 5; ++trial) {
      // Narrow ranges make duplicates and dense hits; the full range makes extremes likely.
      const int64_t span = trial < 2 ? 10 : (trial < 4 ? 1000000 : 0);
      std::vector<int64_t> sorted(static_cast<std::size_t>(n));
      for (int64_t& v : sorted) {
        v = span == 0 ? static_cast<int64_t>(rng())
                      : static_cast<int64_t>(rng() % static_cast<uint64_t>(span)) - span / 2;
      }
      std::sort(sorted.begin(), sorted.end());
      ExpectBothMatchSet(sorted, rng);
    }
  }
}

}  // namespace
}  // namespace search_bench
