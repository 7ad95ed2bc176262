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

template <class Cache>
uint64_t Replay(Cache& cache, const ReplayInput& input) {
  const auto ids = input.stream.ids();
  const auto n = static_cast<uint32_t>(ids.size());
  uint64_t hits = 0;
  if (input.hit_pattern != nullptr) {
    for (uint32_t t = 0; t < n; ++t) {
      const bool hit = cache.Access(ids[t], t);
      input.hit_pattern[t] = hit;
      hits += (hit && t >= input.warmup);
    }
    return hits;
  }
  const auto warmup = static_cast<uint32_t>(input.warmup);
  for (uint32_t t = 0; t < warmup; ++t) cache.Access(ids[t], t);
  for (uint32_t t = warmup; t < n; ++t) hits += cache.Access(ids[t], t);
  return hits;
}

uint64_t ReplayLru(const ReplayInput& input);
uint64_t ReplayLfu(const ReplayInput& input);
uint64_t ReplayLfuForget(const ReplayInput& input);
uint64_t ReplayFifo(const ReplayInput& input);
uint64_t ReplaySieve(const ReplayInput& input);
uint64_t ReplayOpt(const ReplayInput& input);

}  // namespace cachesim::internal

#endif  // AHUB_EXPERIMENTS_CACHE_SIM_POLICIES_REPLAY_H_
