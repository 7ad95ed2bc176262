// Cache replacement policies and the replay of a request stream through them.
//
// Every policy manages a cache of `capacity` unit-size objects that starts empty; on a miss the
// requested object is always inserted, evicting one victim when the cache is full:
//   lru         victim = least recently used object.
//   lfu         request counts are kept across evictions (one counter per object, incremented
//               on every request, hit or miss); victim = cached object with the smallest count,
//               ties -> least recently used. This is the seed package's LFU.
//   lfu-forget  classic in-cache LFU: the count starts at 1 on insertion and is forgotten on
//               eviction; victim = smallest count, ties -> least recently used.
//   fifo        victim = object inserted first; hits change nothing.
//   sieve       SIEVE (Zhang et al., NSDI'24): hits set a visited bit; a hand moves from the
//               oldest object towards the newest, clearing visited bits, and evicts the first
//               unvisited object; new objects enter at the newest end.
//   opt         Belady's MIN with demand insertion: victim = cached object whose next request
//               is farthest in the future (or never comes).
//
// Invariants:
//  1. A replay is deterministic: the same stream, capacity and policy give the same hits.
//  2. The first `warmup` requests update the cache but are not counted as hits.
// Thread-safety: the functions share no state; concurrent replays are safe.
#ifndef AHUB_EXPERIMENTS_CACHE_SIM_POLICY_H_
#define AHUB_EXPERIMENTS_CACHE_SIM_POLICY_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "request_stream.h"

namespace cachesim {

enum class Policy { kLru, kLfu, kLfuForget, kFifo, kSieve, kOpt };

std::optional<Policy> ParsePolicy(std::string_view name);
std::string_view PolicyName(Policy policy);
std::span<const Policy> AllPolicies();

// Hits among requests[warmup..] when `requests` is replayed through an empty cache.
// capacity >= 1; warmup <= requests.size().
uint64_t CountHits(Policy policy, const RequestStream& requests, uint64_t capacity,
                   uint64_t warmup);

// One flag per request (1 = hit), for tests and debugging.
std::vector<uint8_t> HitPattern(Policy policy, const RequestStream& requests, uint64_t capacity);

}  // namespace cachesim

#endif  // AHUB_EXPERIMENTS_CACHE_SIM_POLICY_H_
