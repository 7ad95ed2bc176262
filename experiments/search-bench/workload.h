// Workload of search-bench: the size ladder, the sorted array of a size, and its seeded queries.
//
// Thread-safety: pure functions; each call owns its generator.
// Invariants of the workload for size n:
//   1. The array holds the even numbers 0, 2, ..., 2(n-1), so membership has a closed form
//      (x is even and 0 <= x < 2n) that the benchmark checks both searches against.
//   2. A query set holds exactly round(hit_fraction * count) hits when n >= 1 (none when n == 0);
//      hits are uniform over the elements, misses uniform over the n + 1 odd values -1, 1, ...,
//      2n - 1 (below, between and above the elements), and the order is shuffled.
//   3. Queries depend only on (seed, n, count, hit_fraction), not on the other sizes measured:
//      the generator is std::mt19937_64 seeded with std::seed_seq{seed, n}, and the draws and the
//      shuffle are written out here, so they do not vary with the standard library.
#pragma once

#include <cstdint>
#include <vector>

namespace search_bench {

inline constexpr int64_t kMaxSize = int64_t{1} << 20;  // 1,048,576 elements, 8 MiB

// 1, 2, 3, 4, 6, 8, 12, 16, 24, ...: the powers of two and 1.5 times the powers of two, up to and
// including max_size (clamped to [1, kMaxSize]). Two points per octave resolve a crossover
// within a factor of 1.5 while keeping the whole default run to about 40 sizes.
std::vector<int64_t> SizeLadder(int64_t max_size = kMaxSize);

// The sorted array of size n (invariant 1).
std::vector<int64_t> MakeSortedArray(int64_t n);

struct QuerySet {
  std::vector<int64_t> values;
  int64_t hits = 0;  // how many of `values` are elements of the array
};

// `count` queries for the array of size n (invariants 2 and 3). hit_fraction is in [0, 1].
QuerySet MakeQueries(int64_t n, int64_t count, double hit_fraction, uint64_t seed);

}  // namespace search_bench
