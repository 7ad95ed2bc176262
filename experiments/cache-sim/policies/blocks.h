// Internal to the policies that replay in speculative blocks (lru.cc, sieve.cc): the driver that
// moves between single requests and blocks, and the tally of hits.
//
// A block replays kBlock requests against the cache as it stood at the block's start, without
// a branch on hit or miss, then checks that the result equals the exact replay; when it does
// not, the block has changed nothing and its requests are replayed one at a time.
#ifndef AHUB_EXPERIMENTS_CACHE_SIM_POLICIES_BLOCKS_H_
#define AHUB_EXPERIMENTS_CACHE_SIM_POLICIES_BLOCKS_H_

#include <cstdint>

#include "replay.h"

namespace cachesim::internal {

// Counts the hits after the warm-up and fills the hit pattern when one is asked for.
class HitTally {
 public:
  explicit HitTally(const ReplayInput& input) : input_(input) {}

  void Record(uint64_t t, bool hit) {
    if (input_.hit_pattern != nullptr) input_.hit_pattern[t] = hit;
    hits_ += static_cast<uint64_t>(hit) & static_cast<uint64_t>(t >= input_.warmup);
  }

  // The outcomes of the n requests from t: `hits` hits in all, request j's given by hit(j).
  template <class HitOf>
  void RecordBlock(uint64_t t, uint32_t n, uint64_t hits, HitOf hit) {
    if (input_.hit_pattern != nullptr || t < input_.warmup) {
      for (uint32_t j = 0; j < n; ++j) Record(t + j, hit(j));
    } else {
      hits_ += hits;
    }
  }

  uint64_t hits() const { return hits_; }

 private:
  const ReplayInput& input_;
  uint64_t hits_ = 0;
};

// Replays requests [0, n) through `cache`, which provides Full(), Step(t) (one request, exactly)
// and Block(t) (kBlock requests from t; false, with nothing changed, when they cannot be replayed
// as a block). One request at a time until the cache is full (before, misses evict nothing and
// blocks do not apply), then blocks while `use_blocks` and a block plus `look_ahead` requests
// (its prefetches and reads ahead) fit in the stream, then one at a time again.
template <uint32_t kBlock, class Cache>
void ReplayInBlocks(Cache& cache, uint64_t n, uint64_t look_ahead, bool use_blocks) {
  uint64_t t = 0;
  while (t < n && !cache.Full()) cache.Step(t++);
  if (use_blocks) {
    for (; t + kBlock + look_ahead <= n; t += kBlock) {
      if (cache.Block(t)) continue;
      for (uint64_t j = 0; j < kBlock; ++j) cache.Step(t + j);
    }
  }
  while (t < n) cache.Step(t++);
}

}  // namespace cachesim::internal

#endif  // AHUB_EXPERIMENTS_CACHE_SIM_POLICIES_BLOCKS_H_
