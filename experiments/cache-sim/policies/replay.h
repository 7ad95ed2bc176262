// Internal to the policies: the replay loop shared by all of them, and each policy's entry.
//
// Each policy is a small class with `bool Access(uint32_t id, uint32_t t)` (t = the request's
// position) that the Replay template calls in a loop; keeping the loop a template lets the
// compiler inline Access, which a per-request virtual call would forbid.
//
// Invariants of ReplayInput:
//  1. 1 <= capacity <= stream.num_objects() (policy.cc clamps: a cache can never hold more
//     objects than exist, and sizing structures by the clamped value bounds memory);
//  2. warmup <= stream.size();
//  3. hit_pattern, when not null, has stream.size() entries and is filled completely.
#ifndef AHUB_EXPERIMENTS_CACHE_SIM_POLICIES_REPLAY_H_
#define AHUB_EXPERIMENTS_CACHE_SIM_POLICIES_REPLAY_H_

#include <cstdint>

#include "../request_stream.h"

namespace cachesim::internal {

struct ReplayInput {
  const RequestStream& stream;
  uint32_t capacity;
  uint64_t warmup;
  uint8_t* hit_pattern;  // optional
};

// A policy may declare Prefetch(id): the replay calls it kPrefetchDistance requests ahead so
// the cache lines of a cold object are on their way before Access needs them. Misses touch
// objects that have not been seen for a long time, and waiting for their state dominated the
// replay time of the list-based policies.
template <class Cache>
concept Prefetching = requires(Cache& cache, uint32_t id) {
  cache.Prefetch(id);
};

inline constexpr uint32_t kPrefetchDistance = 32;

template <class Cache>
uint64_t Replay(Cache& cache, const ReplayInput& input) {
  const auto ids = input.stream.ids();
  const auto n = static_cast<uint32_t>(ids.size());
  auto access = [&](uint32_t t) {
    if constexpr (Prefetching<Cache>) {
      if (t + kPrefetchDistance < n) cache.Prefetch(ids[t + kPrefetchDistance]);
    }
    return cache.Access(ids[t], t);
  };
  uint64_t hits = 0;
  if (input.hit_pattern != nullptr) {
    for (uint32_t t = 0; t < n; ++t) {
      const bool hit = access(t);
      input.hit_pattern[t] = hit;
      hits += (hit && t >= input.warmup);
    }
    return hits;
  }
  const auto warmup = static_cast<uint32_t>(input.warmup);
  for (uint32_t t = 0; t < warmup; ++t) access(t);
  for (uint32_t t = warmup; t < n; ++t) hits += access(t);
  return hits;
}

uint64_t ReplayLru(const ReplayInput& input);
uint64_t ReplayLfu(const ReplayInput& input);
uint64_t ReplayLfuForget(const ReplayInput& input);
uint64_t ReplayFifo(const ReplayInput& input);
// FIFO with 64-bit insertion numbers, which ReplayFifo needs only for streams of about 2^32
// requests; declared here so that the tests can run it on short ones.
uint64_t ReplayFifoWide(const ReplayInput& input);
uint64_t ReplaySieve(const ReplayInput& input);
uint64_t ReplayOpt(const ReplayInput& input);

}  // namespace cachesim::internal

#endif  // AHUB_EXPERIMENTS_CACHE_SIM_POLICIES_REPLAY_H_
