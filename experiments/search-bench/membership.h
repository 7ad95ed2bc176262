// Membership tests on a sorted int64 array: the two contenders of search-bench.
//
// Both are defined here, inline, so that the benchmark loop and a caller's code compile them the
// same way (as std::binary_search is compiled at its call site).
//
// Thread-safety: pure functions of their arguments.
// Preconditions, both functions:
//   1. `sorted` is in non-decreasing order (duplicates allowed); it may be empty.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

namespace search_bench {

// Linear scan with the sorted early exit: walks from the front and stops at the first element
// >= x, so a hit costs (position + 1) comparisons and a miss stops at the first larger element
// instead of scanning to the end.
inline bool LinearContains(std::span<const int64_t> sorted, int64_t x) {
  std::size_t i = 0;
  while (i < sorted.size() && sorted[i] < x) {
    ++i;
  }
  return i < sorted.size() && sorted[i] == x;
}

// Binary search: std::binary_search (std::lower_bound, then one equality test).
inline bool BinaryContains(std::span<const int64_t> sorted, int64_t x) {
  return std::binary_search(sorted.begin(), sorted.end(), x);
}

}  // namespace search_bench
