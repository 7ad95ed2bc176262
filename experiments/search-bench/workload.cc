#include "experiments/search-bench/workload.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

namespace search_bench {
namespace {

// Uniform in [0, bound) by rejection, so the draw is the same with every standard library
// (std::uniform_int_distribution's algorithm is left to the implementation).
uint64_t UniformBelow(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t limit = std::mt19937_64::max() - std::mt19937_64::max() % bound;
  uint64_t draw = rng();
  while (draw >= limit) {
    draw = rng();
  }
  return draw % bound;
}

}  // namespace

std::vector<int64_t> SizeLadder(int64_t max_size) {
  max_size = std::clamp<int64_t>(max_size, 1, kMaxSize);
  std::vector<int64_t> sizes = {1};
  for (int64_t power = 2; power <= max_size; power *= 2) {
    sizes.push_back(power);
    const int64_t between = power + power / 2;
    if (between <= max_size) {
      sizes.push_back(between);
    }
  }
  return sizes;
}

std::vector<int64_t> MakeSortedArray(int64_t n) {
  std::vector<int64_t> array(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    array[static_cast<std::size_t>(i)] = 2 * i;
  }
  return array;
}

QuerySet MakeQueries(int64_t n, int64_t count, double hit_fraction, uint64_t seed) {
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                    static_cast<uint32_t>(n),
                    static_cast<uint32_t>(static_cast<uint64_t>(n) >> 32)};
  std::mt19937_64 rng(seq);

  QuerySet set;
  set.hits = n > 0 ? std::llround(hit_fraction * static_cast<double>(count)) : 0;
  set.values.reserve(static_cast<std::size_t>(count));
  const auto elements = static_cast<uint64_t>(n);
  for (int64_t i = 0; i < set.hits; ++i) {
    set.values.push_back(2 * static_cast<int64_t>(UniformBelow(rng, elements)));
  }
  for (int64_t i = set.hits; i < count; ++i) {
    set.values.push_back(2 * static_cast<int64_t>(UniformBelow(rng, elements + 1)) - 1);
  }
  for (std::size_t i = set.values.size(); i > 1; --i) {  // Fisher-Yates
    std::swap(set.values[i - 1], set.values[UniformBelow(rng, i)]);
  }
  return set;
}

}  // namespace search_bench
