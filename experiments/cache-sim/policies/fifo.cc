// FIFO without a queue: each object remembers the number of its last insertion.
//
// Every miss inserts an object that is not cached, so the cache always holds exactly the
// objects of the last `capacity` insertions: an object is cached <=> its insertion number is
// among the last `capacity` ones. A request is then one load and one store on the requested
// object (prefetched by the replay), with no branch on hit or miss. The textbook ring of cached
// objects branches on every request, and a Zipf stream's 20-30 % misses make that branch
// mispredict often enough to cost 1.8x (bench/cache-sim/README.md).
#include <limits>
#include <vector>

#include "replay.h"

namespace cachesim::internal {
namespace {

// Stamp: the unsigned type of insertion numbers; it must hold capacity + the stream's length.
template <class Stamp>
class FifoCache {
 public:
  FifoCache(uint32_t num_objects, uint32_t capacity)
      : inserted_(num_objects, kNever), capacity_(capacity), insertions_(capacity) {}

  void Prefetch(uint32_t id) const { __builtin_prefetch(&inserted_[id]); }

  bool Access(uint32_t id, uint32_t /*t*/) {
    // Numbering starts after `capacity`, so kNever is never among the last `capacity`.
    const Stamp number = inserted_[id];
    Stamp hit = number + capacity_ > insertions_;
    // The empty asm hides `hit` from the optimiser, which would otherwise turn the selects
    // below back into the branch this class exists to avoid.
    asm("" : "+r"(hit));
    insertions_ += 1 - hit;
    const Stamp keep = Stamp{0} - hit;  // all ones on a hit
    inserted_[id] = (number & keep) | (insertions_ & ~keep);
    return hit != 0;
  }

 private:
  static constexpr Stamp kNever = 0;

  std::vector<Stamp> inserted_;  // number of each object's last insertion, or kNever
  Stamp capacity_;
  Stamp insertions_;  // capacity + the number of insertions so far
};

}  // namespace

uint64_t ReplayFifo(const ReplayInput& input) {
  // 32-bit numbers touch half the memory (15 % faster on the bench workload); they suffice
  // unless capacity plus the number of requests, a bound on the insertions, exceeds their range.
  if (uint64_t{input.capacity} + input.stream.size() < std::numeric_limits<uint32_t>::max()) {
    FifoCache<uint32_t> cache(input.stream.num_objects(), input.capacity);
    return Replay(cache, input);
  }
  return ReplayFifoWide(input);
}

uint64_t ReplayFifoWide(const ReplayInput& input) {
  FifoCache<uint64_t> cache(input.stream.num_objects(), input.capacity);
  return Replay(cache, input);
}

}  // namespace cachesim::internal
