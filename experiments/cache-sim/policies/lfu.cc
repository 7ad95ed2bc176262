// LFU with request counts kept across evictions (the seed package's definition).
//
// Victim = the cached object with the smallest (count, last access). An object's count can be
// anything when it re-enters the cache, so the frequency-bucket trick of lfu-forget (new
// objects always have count 1) does not apply; an indexed min-heap over the packed key
// count << 32 | last_access does, in O(log capacity) per miss and per hit. Hot objects have
// the largest keys and sit at the leaves, where a hit's sift-down stops at once.
#include <vector>

#include "indexed_heap.h"
#include "replay.h"

namespace cachesim::internal {
namespace {

class LfuCache {
 public:
  LfuCache(uint32_t num_objects, uint32_t capacity)
      : heap_(num_objects, capacity), counts_(num_objects, 0), capacity_(capacity) {}

  void Prefetch(uint32_t id) const {
    heap_.Prefetch(id);
    __builtin_prefetch(&counts_[id]);
  }

  bool Access(uint32_t id, uint32_t t) {
    // Counts and positions are < 2^32 (RequestStream invariant 2), so the packing is exact
    // and the lexicographic order of (count, t) is the integer order of the key.
    const uint64_t key = (uint64_t{++counts_[id]} << 32) | t;
    if (heap_.Contains(id)) {
      heap_.IncreaseKey(id, key);
      return true;
    }
    if (heap_.size() == capacity_) {
      heap_.ReplaceTop(id, key);
    } else {
      heap_.Push(id, key);
    }
    return false;
  }

 private:
  IndexedMinHeap heap_;
  std::vector<uint32_t> counts_;  // requests so far, cached or not
  uint32_t capacity_;
};

}  // namespace

uint64_t ReplayLfu(const ReplayInput& input) {
  LfuCache cache(input.stream.num_objects(), input.capacity);
  return Replay(cache, input);
}

}  // namespace cachesim::internal
