// SIEVE (Zhang et al., "SIEVE is Simpler than LRU", NSDI'24).
//
// Objects enter at the newest end. A hit only sets the object's visited bit. To evict, the hand
// starts where it last stopped (or at the oldest object), clears visited bits while moving
// towards the newest (wrapping to the oldest), and evicts the first unvisited object; the hand
// then rests on the next newer object, or nowhere when the victim was the newest.
//
// Objects never move relative to each other, so the queue is an array in insertion order
// rather than a linked list: an eviction leaves a hole (kHole) that the hand steps over, and
// when the array is full the live entries are packed to its front, keeping their order. With
// room for twice the capacity a packing happens at most once per `capacity` evictions, so a
// request costs O(1) amortised. The hand then walks consecutive slots instead of chasing list
// links through memory, and the per-object state is one byte instead of a byte plus 8 bytes of
// links: 1.1x faster than the list on the bench workload (bench/cache-sim/README.md). What is
// left is mostly the hit-or-miss branch, which the CPU mispredicts on a share of the misses.
#include <vector>

#include "replay.h"

namespace cachesim::internal {
namespace {

class SieveCache {
 public:
  SieveCache(uint32_t num_objects, uint32_t capacity)
      : state_(num_objects, kAbsent), slots_(uint64_t{capacity} * 2), capacity_(capacity) {}

  void Prefetch(uint32_t id) const { __builtin_prefetch(&state_[id]); }

  bool Access(uint32_t id, uint32_t /*t*/) {
    const State state = state_[id];
    // Stored on a miss too: the object is not in the queue yet, so the eviction below cannot
    // see it, and Insert() resets it. Storing unconditionally keeps the hit path free of a
    // second branch.
    state_[id] = kVisited;
    if (state != kAbsent) return true;
    if (size_ == capacity_) {
      Evict();
    } else {
      ++size_;
    }
    Insert(id);
    return false;
  }

 private:
  // A distinct type rather than uint8_t: stores through a char type may alias anything, so
  // the compiler would reload every member after each state store.
  enum class State : uint8_t { kAbsent, kCached, kVisited };
  static constexpr State kAbsent = State::kAbsent;
  static constexpr State kCached = State::kCached;
  static constexpr State kVisited = State::kVisited;
  static constexpr uint32_t kHole = UINT32_MAX;
  static constexpr uint64_t kNowhere = UINT64_MAX;
  static constexpr uint64_t kWalkAhead = 16;

  void Evict() {
    uint64_t h = hand_ == kNowhere ? 0 : hand_;
    while (true) {
      if (h == used_) h = 0;  // past the newest: wrap to the oldest
      if (h + kWalkAhead < used_) {
        const uint32_t ahead = slots_[h + kWalkAhead];
        if (ahead != kHole) __builtin_prefetch(&state_[ahead]);
      }
      const uint32_t o = slots_[h];
      if (o != kHole) {
        if (state_[o] != kVisited) break;
        state_[o] = kCached;
      }
      ++h;
    }
    state_[slots_[h]] = kAbsent;
    slots_[h] = kHole;
    hand_ = h + 1 == used_ ? kNowhere : h + 1;
  }

  void Insert(uint32_t id) {
    if (used_ == slots_.size()) Pack();
    slots_[used_++] = id;
    state_[id] = kCached;
  }

  // Moves the live entries to the front, in order; the hand follows the entry it rested on
  // (or the next live one after it).
  void Pack() {
    uint64_t kept = 0;
    uint64_t hand = kNowhere;
    for (uint64_t i = 0; i < used_; ++i) {
      if (i == hand_) hand = kept;
      if (slots_[i] != kHole) slots_[kept++] = slots_[i];
    }
    hand_ = hand == kept ? kNowhere : hand;
    used_ = kept;
  }

  std::vector<State> state_;      // per object
  std::vector<uint32_t> slots_;   // cached objects, oldest first, with holes
  uint32_t capacity_;
  uint32_t size_ = 0;             // cached objects
  uint64_t used_ = 0;             // slots in use: live entries and holes
  uint64_t hand_ = kNowhere;      // a slot index, or kNowhere: start at the oldest
};

}  // namespace

uint64_t ReplaySieve(const ReplayInput& input) {
  SieveCache cache(input.stream.num_objects(), input.capacity);
  return Replay(cache, input);
}

}  // namespace cachesim::internal
