// OPT: Belady's MIN with demand insertion.
//
// On a miss the requested object is always cached and the cached object whose next request
// is farthest away is evicted; objects never requested again are the farthest of all (which
// of them goes does not change the hit count: none is requested again). This is optimal among
// policies that must cache every missed object; a policy allowed to bypass the cache can do
// better, which is why "opt" here is not an upper bound for admission-control policies.
//
// next_use[t] = position of the next request for ids[t], or kNever. The heap key is
// kNever - next_use, so the farthest next use is the heap minimum and "never" is key 0.
#include <vector>

#include "indexed_heap.h"
#include "replay.h"

namespace cachesim::internal {
namespace {

constexpr uint32_t kNever = std::numeric_limits<uint32_t>::max();

std::vector<uint32_t> NextUses(const RequestStream& stream) {
  const auto ids = stream.ids();
  std::vector<uint32_t> next_use(ids.size());
  std::vector<uint32_t> seen_at(stream.num_objects(), kNever);
  for (size_t t = ids.size(); t-- > 0;) {
    next_use[t] = seen_at[ids[t]];
    seen_at[ids[t]] = static_cast<uint32_t>(t);
  }
  return next_use;
}

class OptCache {
 public:
  OptCache(const RequestStream& stream, uint32_t capacity)
      : next_use_(NextUses(stream)), heap_(stream.num_objects(), capacity), capacity_(capacity) {}

  void Prefetch(uint32_t id) const { heap_.Prefetch(id); }

  bool Access(uint32_t id, uint32_t t) {
    const uint64_t key = kNever - next_use_[t];
    if (heap_.Contains(id)) {
      // The next use moves from t to next_use_[t] > t: farther away, a smaller key.
      heap_.DecreaseKey(id, key);
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
  std::vector<uint32_t> next_use_;
  IndexedMinHeap heap_;
  uint32_t capacity_;
};

}  // namespace

uint64_t ReplayOpt(const ReplayInput& input) {
  OptCache cache(input.stream, input.capacity);
  return Replay(cache, input);
}

}  // namespace cachesim::internal
