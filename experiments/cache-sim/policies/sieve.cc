// SIEVE (Zhang et al., "SIEVE is Simpler than LRU", NSDI'24).
//
// Objects enter at the back (the paper's head). A hit only sets the object's visited bit. To
// evict, the hand starts where it last stopped (or at the front, the paper's tail), clears
// visited bits while moving towards the back (wrapping to the front), and evicts the first
// unvisited object; the hand then rests on the next newer object, or nowhere when the victim
// was the newest.
#include <vector>

#include "intrusive_lists.h"
#include "replay.h"

namespace cachesim::internal {
namespace {

class SieveCache {
 public:
  SieveCache(uint32_t num_objects, uint32_t capacity)
      : lists_(num_objects, 1),
        visited_(num_objects, 0),
        capacity_(capacity),
        hand_(lists_.Sentinel(kList)) {}

  void Prefetch(uint32_t id) const {
    lists_.Prefetch(id);
    __builtin_prefetch(&visited_[id]);
  }

  bool Access(uint32_t id, uint32_t /*t*/) {
    if (lists_.Contains(id)) {
      visited_[id] = 1;
      return true;
    }
    if (size_ == capacity_) {
      Evict();
    } else {
      ++size_;
    }
    lists_.PushBack(kList, id);
    visited_[id] = 0;
    return false;
  }

 private:
  static constexpr uint32_t kList = 0;

  void Evict() {
    const uint32_t sentinel = lists_.Sentinel(kList);
    uint32_t victim = hand_ != sentinel ? hand_ : lists_.Front(kList);
    while (visited_[victim]) {
      visited_[victim] = 0;
      victim = lists_.Next(victim);
      if (victim == sentinel) victim = lists_.Front(kList);
    }
    hand_ = lists_.Next(victim);
    lists_.Remove(victim);
  }

  IntrusiveLists lists_;  // front = oldest (the paper's tail), back = newest (head)
  std::vector<uint8_t> visited_;
  uint32_t capacity_;
  uint32_t size_ = 0;
  uint32_t hand_;  // a cached object, or the sentinel for "start at the front"
};

}  // namespace

uint64_t ReplaySieve(const ReplayInput& input) {
  SieveCache cache(input.stream.num_objects(), input.capacity);
  return Replay(cache, input);
}

}  // namespace cachesim::internal
