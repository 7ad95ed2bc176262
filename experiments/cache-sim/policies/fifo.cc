// FIFO: a ring of the cached objects in insertion order; hits change nothing.
#include <vector>

#include "replay.h"

namespace cachesim::internal {
namespace {

class FifoCache {
 public:
  FifoCache(uint32_t num_objects, uint32_t capacity) : cached_(num_objects, 0), ring_(capacity) {}

  void Prefetch(uint32_t id) const { __builtin_prefetch(&cached_[id]); }

  bool Access(uint32_t id, uint32_t /*t*/) {
    if (cached_[id]) return true;
    if (size_ == ring_.size()) {
      // The slot at `oldest_` holds the first-inserted object: replace it in place.
      cached_[ring_[oldest_]] = 0;
      ring_[oldest_] = id;
      if (++oldest_ == ring_.size()) oldest_ = 0;
    } else {
      ring_[size_++] = id;
    }
    cached_[id] = 1;
    return false;
  }

 private:
  std::vector<uint8_t> cached_;
  std::vector<uint32_t> ring_;
  uint32_t size_ = 0;
  uint32_t oldest_ = 0;
};

}  // namespace

uint64_t ReplayFifo(const ReplayInput& input) {
  FifoCache cache(input.stream.num_objects(), input.capacity);
  return Replay(cache, input);
}

}  // namespace cachesim::internal
