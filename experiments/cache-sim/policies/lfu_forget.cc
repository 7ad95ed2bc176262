// LFU-forget: classic in-cache LFU with O(1) frequency buckets.
//
// Bucket c is a list of the cached objects whose count is c, in the order they reached c.
// Because every request increments the count, the moment an object reached c is its last
// access, so each bucket's front is its least recently used object and the victim is the
// front of the smallest non-empty bucket. A newly inserted object has count 1, the smallest
// possible, so after a miss the minimum is 1; after a hit it moves up by at most one bucket.
#include <vector>

#include "intrusive_lists.h"
#include "replay.h"

namespace cachesim::internal {
namespace {

class LfuForgetCache {
 public:
  // Counts never exceed max_frequency, so buckets 0..max_frequency + 1 suffice.
  LfuForgetCache(uint32_t num_objects, uint32_t capacity, uint32_t max_frequency)
      : buckets_(num_objects, max_frequency + 2), counts_(num_objects, 0), capacity_(capacity) {}

  void Prefetch(uint32_t id) const {
    buckets_.Prefetch(id);
    __builtin_prefetch(&counts_[id]);
  }

  bool Access(uint32_t id, uint32_t /*t*/) {
    const uint32_t count = counts_[id];
    if (count != 0) {
      buckets_.MoveToBack(count + 1, id);
      counts_[id] = count + 1;
      if (count == min_count_ && buckets_.Empty(count)) min_count_ = count + 1;
      return true;
    }
    if (size_ == capacity_) {
      const uint32_t victim = buckets_.Front(min_count_);
      buckets_.Remove(victim);
      counts_[victim] = 0;  // forgotten
    } else {
      ++size_;
    }
    buckets_.PushBack(1, id);
    counts_[id] = 1;
    min_count_ = 1;
    return false;
  }

 private:
  IntrusiveLists buckets_;        // list c = cached objects with count c
  std::vector<uint32_t> counts_;  // 0 = not cached
  uint32_t capacity_;
  uint32_t size_ = 0;
  uint32_t min_count_ = 1;  // smallest non-empty bucket whenever the cache is not empty
};

}  // namespace

uint64_t ReplayLfuForget(const ReplayInput& input) {
  LfuForgetCache cache(input.stream.num_objects(), input.capacity, input.stream.max_frequency());
  return Replay(cache, input);
}

}  // namespace cachesim::internal
