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
// links: 1.1x faster than the list on the bench workload.
//
// What was left was mostly the hit-or-miss branch, which the CPU mispredicts on a share of the
// misses. So, once the cache is full, requests are replayed in speculative blocks, as LRU's are
// (lru.cc): a block of kBlock requests is first classified against the cache as it stood at
// the block's start, one load and one store per request and no branch, the objects it asks for
// marked as in the block. Then a dry run of the hand finds where the block's evictions fall,
// and only then are they made and the block's misses inserted in order. The hand may meet
// objects the block asked for, including the ones its earlier misses inserted (SIEVE's hand
// often waits right behind the newest objects); each is judged by its visited bit as of the
// miss being served, from the positions of its requests in the block. Where that differs from
// what the block assumed (an object evicted, yet asked for later in the block) or the hand would
// wrap, the block is undone and replayed request by request: 53 of 312,000 blocks on the bench
// workload. 1.2x faster than replaying request by request (bench/cache-sim/README.md).
#include <algorithm>
#include <array>
#include <bit>
#include <span>
#include <vector>

#include "blocks.h"
#include "replay.h"

namespace cachesim::internal {
namespace {

class SieveReplay {
 public:
  explicit SieveReplay(const ReplayInput& input)
      : tally_(input),
        ids_(input.stream.ids()),
        state_(input.stream.num_objects(), kAbsent),
        slots_(uint64_t{input.capacity} * 2),
        capacity_(input.capacity) {}

  uint64_t Run() {
    // Blocks need room in the slots for a block's insertions after a packing.
    ReplayInBlocks<kBlock>(*this, ids_.size(), kPrefetchDistance, capacity_ > 2 * kBlock);
    return tally_.hits();
  }

  bool Full() const { return size_ == capacity_; }

  // One request, exactly.
  void Step(uint64_t t) {
    if (t + kPrefetchDistance < ids_.size()) __builtin_prefetch(&state_[ids_[t + kPrefetchDistance]]);
    tally_.Record(t, Access(ids_[t]));
  }

  // A block of kBlock requests from t, as described at the top. Returns false, with everything
  // as it was before, when it would differ from replaying the requests one by one.
  bool Block(uint64_t t) {
    if (used_ + kBlock > slots_.size()) Pack();
    State saved[kBlock];  // states before each request, to undo; hit <=> not kAbsent
    uint64_t miss_mask = 0;  // bit j: request j missed
    for (uint32_t j = 0; j < kBlock; ++j) {
      __builtin_prefetch(&state_[ids_[t + j + kPrefetchDistance]]);
      const uint32_t id = ids_[t + j];
      const State before = state_[id];
      saved[j] = before;
      state_[id] = kNextInBlock[static_cast<uint8_t>(before)];
      miss_mask |= static_cast<uint64_t>(before == kAbsent) << j;
    }
    // The misses in order, from the mask: a loop per miss, not a branch per request.
    uint32_t missed[kBlock];   // the objects
    uint32_t miss_at[kBlock];  // their positions in the block
    uint64_t misses = 0;
    for (uint64_t m = miss_mask; m != 0; m &= m - 1) {
      const auto j = static_cast<uint32_t>(std::countr_zero(m));
      missed[misses] = ids_[t + j];
      miss_at[misses++] = j;
    }
    // Dry run of the hand: where the misses' evictions take place. Nothing is written until the
    // block is known to be exact. The hand may run on into the objects the block's earlier
    // misses inserted (SIEVE's hand often waits right behind the newest objects). An object the
    // block asked for is judged by when it was asked for: the hand serving a miss needs its
    // visited bit as of that miss.
    struct Decision {
      uint64_t slot;
      uint32_t object;
      State final_state;  // kAbsent: evicted
    };
    // One per object the block asked for at most: each sits in one slot, passed at most once.
    Decision decisions[kBlock];
    uint32_t num_decisions = 0;
    const uint64_t old_used = used_;
    uint64_t h = hand_ == kNowhere ? 0 : hand_;
    const uint64_t start = h;
    for (uint64_t evicted = 0; evicted < misses; ++h) {
      // Slots from old_used on hold the block's misses, each from its own eviction on: at the
      // newest one present the exact replay would wrap to the oldest.
      if (h >= old_used + evicted) return Undo(t, saved);
      const bool inserted = h >= old_used;
      const uint32_t o = inserted ? missed[h - old_used] : slots_[h];
      if (!inserted && h + kWalkAhead < old_used) {
        const uint32_t ahead = slots_[h + kWalkAhead];
        if (ahead != kHole) __builtin_prefetch(&state_[ahead]);
      }
      if (o == kHole) continue;
      const State s = state_[o];
      if (!InBlock(s)) {
        if (s == kCached) {
          // Evicted at this miss; the exact replay sets the hand nowhere when the victim is
          // the newest object, and a later eviction would then wrap.
          if (h + 1 == old_used + evicted && evicted + 1 < misses) return Undo(t, saved);
          ++evicted;
        }
        continue;
      }
      const uint32_t now = miss_at[evicted];
      if (s == State::kPending) {
        // Asked for once, by its miss before this one: unvisited, evicted, never asked again.
        if (h + 1 == old_used + evicted && evicted + 1 < misses) return Undo(t, saved);
        decisions[num_decisions++] = {h, o, kAbsent};
        ++evicted;
        continue;
      }
      uint32_t first = kBlock;
      uint32_t second = kBlock;  // its first request after `first`
      uint32_t last = 0;
      for (uint32_t j = 0; j < kBlock; ++j) {
        if (ids_[t + j] != o) continue;
        if (first == kBlock) {
          first = j;
        } else if (second == kBlock) {
          second = j;
        }
        last = j;
      }
      // Visited as of this miss: before the block, or asked for since it was last cached
      // (a block's miss inserts the object unvisited, so only its next request counts).
      const bool visited = s == State::kHitVisited ||
                           (s == State::kHitCached ? first < now : second < now);
      // Not visited: evicted here, yet asked for after this miss (its first request, or its
      // request after its miss), which the block took for a hit.
      if (!visited) return Undo(t, saved);
      // The hand clears the bit; a request after this miss sets it again.
      decisions[num_decisions++] = {h, o, last > now ? kVisited : kCached};
    }
    // The real pass over the same slots, then the insertions and the final states.
    for (uint64_t i = start; i < std::min(h, old_used); ++i) {
      const uint32_t o = slots_[i];
      if (o == kHole || InBlock(state_[o])) continue;
      if (state_[o] == kVisited) {
        state_[o] = kCached;
      } else {
        state_[o] = kAbsent;
        slots_[i] = kHole;
      }
    }
    if (misses > 0) {
      // After the last eviction the hand rests past it, or nowhere when the victim was the
      // newest object at that time.
      hand_ = h == old_used + misses - 1 ? kNowhere : h;
    }
    for (uint64_t m = 0; m < misses; ++m) slots_[used_++] = missed[m];
    for (uint32_t j = 0; j < kBlock; ++j) {
      const uint32_t id = ids_[t + j];
      state_[id] = kFinal[static_cast<uint8_t>(state_[id])];
    }
    for (uint32_t i = 0; i < num_decisions; ++i) {
      const Decision& d = decisions[i];
      state_[d.object] = d.final_state;
      if (d.final_state == kAbsent) slots_[d.slot] = kHole;
    }
    tally_.RecordBlock(t, kBlock, kBlock - misses, [&](uint32_t j) { return saved[j] != kAbsent; });
    return true;
  }

 private:
  // A distinct type rather than uint8_t: stores through a char type may alias anything, so
  // the compiler would reload every member after each state store. Values from kInBlock up
  // exist only while a block is being replayed.
  enum class State : uint8_t {
    kAbsent = 0,
    kCached = 1,   // cached, not visited
    kVisited = 2,  // cached, visited
    kInBlock = 0x10,
    kPending = 0x11,      // missed in this block; inserted when the block ends
    kPendingHit = 0x12,   // missed in this block, then asked for again
    kHitCached = 0x13,    // cached and not visited before the block, hit in it
    kHitVisited = 0x14,   // cached and visited before the block, hit in it
  };
  static constexpr State kAbsent = State::kAbsent;
  static constexpr State kCached = State::kCached;
  static constexpr State kVisited = State::kVisited;
  static constexpr uint32_t kHole = UINT32_MAX;
  static constexpr uint64_t kNowhere = UINT64_MAX;
  static constexpr uint64_t kWalkAhead = 16;
  static constexpr uint32_t kBlock = 32;
  static_assert(kBlock <= 64, "Block keeps its misses in a 64-bit mask");

  static bool InBlock(State s) { return (static_cast<uint8_t>(s) & 0x10) != 0; }

  bool Access(uint32_t id) {
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

  bool Undo(uint64_t t, const State* saved) {
    for (uint32_t j = kBlock; j-- > 0;) state_[ids_[t + j]] = saved[j];  // newest first
    return false;
  }

  // A request's effect on its object's state within a block, and the state when it ends.
  static constexpr auto kNextInBlock = [] {
    std::array<State, 0x15> next{};
    next[0] = State::kPending;
    next[1] = State::kHitCached;
    next[2] = State::kHitVisited;
    next[0x11] = State::kPendingHit;
    next[0x12] = State::kPendingHit;
    next[0x13] = State::kHitCached;
    next[0x14] = State::kHitVisited;
    return next;
  }();
  static constexpr auto kFinal = [] {
    std::array<State, 0x15> final_state{};
    for (uint8_t i = 0; i < 3; ++i) final_state[i] = static_cast<State>(i);
    final_state[0x11] = State::kCached;
    final_state[0x12] = State::kVisited;
    final_state[0x13] = State::kVisited;
    final_state[0x14] = State::kVisited;
    return final_state;
  }();

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

  HitTally tally_;
  std::span<const uint32_t> ids_;
  std::vector<State> state_;      // per object
  std::vector<uint32_t> slots_;   // cached objects, oldest first, with holes
  uint32_t capacity_;
  uint32_t size_ = 0;             // cached objects
  uint64_t used_ = 0;             // slots in use: live entries and holes
  uint64_t hand_ = kNowhere;      // a slot index, or kNowhere: start at the oldest
};

}  // namespace

uint64_t ReplaySieve(const ReplayInput& input) { return SieveReplay(input).Run(); }

}  // namespace cachesim::internal
