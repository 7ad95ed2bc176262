// RequestStream: the sequence of object requests every policy replays, over dense object ids.
//
// Policies keep their per-object state in flat arrays indexed by object id, so ids must be
// dense; trace readers remap arbitrary 64-bit keys to dense ids when they load a trace.
//
// Invariants:
//  1. every id < num_objects();
//  2. size() <= kMaxRequests, so a request position fits in 32 bits (LFU packs it into a
//     64-bit heap key; OPT stores next-use positions as uint32_t);
//  3. max_frequency() is the largest number of requests for one object (bounds LFU counts);
//  4. distinct_objects() is the number of ids requested at least once.
// Thread-safety: immutable after construction.
#ifndef AHUB_EXPERIMENTS_CACHE_SIM_REQUEST_STREAM_H_
#define AHUB_EXPERIMENTS_CACHE_SIM_REQUEST_STREAM_H_

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "result.h"

namespace cachesim {

inline constexpr uint64_t kMaxRequests = std::numeric_limits<uint32_t>::max() - 1;

class RequestStream {
 public:
  // Fails when `ids` holds more than kMaxRequests requests.
  static Result<RequestStream> FromIds(std::vector<uint32_t> ids);

  std::span<const uint32_t> ids() const { return ids_; }
  size_t size() const { return ids_.size(); }
  uint32_t num_objects() const { return num_objects_; }
  uint32_t distinct_objects() const { return distinct_objects_; }
  uint32_t max_frequency() const { return max_frequency_; }

 private:
  RequestStream() = default;

  std::vector<uint32_t> ids_;
  uint32_t num_objects_ = 0;
  uint32_t distinct_objects_ = 0;
  uint32_t max_frequency_ = 0;
};

}  // namespace cachesim

#endif  // AHUB_EXPERIMENTS_CACHE_SIM_REQUEST_STREAM_H_
