// LRU, exact, replayed in speculative blocks over per-request stamps instead of a recency list.
//
// State: last_[o], the stamp (position + 1) of object o's last request. The cache holds the
// `capacity` most recently requested objects, i.e. those whose last stamp is at or after the
// boundary oldest_: o is cached <=> last_[o] >= oldest_. A stamp s is live while its request
// is still its object's last one: last_[ids[s - 1]] == s. A hit only restamps its object. A
// miss with a full cache evicts the least recently used object, whose stamp is the first live
// one at or after the boundary; the boundary moves just past it. Each stamp is passed once, so
// a request costs O(1) amortised.
//
// Why not the textbook list: a list hit rewrites the links of three objects, a miss unlinks the
// front, and which of the two happens is a branch the CPU mispredicts on a large share of a
// Zipf stream's requests. Blocks avoid both. A block of kBlock requests is first replayed with
// the boundary where it stood at the block's start: each request loads and stores only its own
// object's stamp, and the hit test is arithmetic, not a branch. Then the boundary is moved past
// as many live stamps as the block had misses. This equals the exact replay unless some request
// in the block hit an object that the exact replay would have evicted earlier in the same block:
// its old stamp then lies below the new boundary. That is checked; such a block (about 1 in 160
// on the bench workload) is undone and replayed one request at a time.
//
// Liveness is read from the stamps rather than kept in a flag per request: clearing a hit's old
// flag was a store to a line the cache had often let go, and those stores cost a third of the
// replay time. Measured against the list on the bench workload in bench/cache-sim/README.md.
#include <algorithm>
#include <bit>
#include <span>
#include <vector>

#include "blocks.h"
#include "replay.h"

namespace cachesim::internal {
namespace {

class LruReplay {
 public:
  explicit LruReplay(const ReplayInput& input)
      : tally_(input),
        ids_(input.stream.ids()),
        last_(input.stream.num_objects(), kNever),
        capacity_(input.capacity) {}

  uint64_t Run() {
    // Blocks need the capacity to exceed a block's misses, so that every eviction in a block
    // takes an object cached before it.
    ReplayInBlocks<kBlock>(*this, ids_.size(), kLookAhead, capacity_ > 2 * kBlock);
    return tally_.hits();
  }

  bool Full() const { return size_ == capacity_; }

  // One request, exactly.
  void Step(uint64_t t) {
    if (t + kPrefetchDistance < ids_.size()) __builtin_prefetch(&last_[ids_[t + kPrefetchDistance]]);
    const uint32_t id = ids_[t];
    const bool hit = last_[id] >= oldest_;
    last_[id] = static_cast<uint32_t>(t + 1);
    if (!hit) {
      if (size_ == capacity_) {
        // The least recently used object's stamp; stamp t + 1 is live, so the walk ends.
        while (!Live(oldest_)) ++oldest_;
        ++oldest_;
      } else {
        ++size_;
      }
    }
    tally_.Record(t, hit);
  }

  // kBlock requests from t with the boundary held where it is, then the boundary moved past as
  // many live stamps as there were misses. Returns false, with everything as it was before,
  // when that differs from replaying the requests one by one.
  bool Block(uint64_t t) {
    const uint64_t boundary = oldest_;
    uint32_t saved[kBlock];  // old stamps, to undo; request j hit <=> saved[j] >= boundary
    uint64_t misses = 0;
    uint64_t lowest_hit = UINT64_MAX;  // the smallest old stamp among the block's hits
    for (uint32_t j = 0; j < kBlock; ++j) {
      const uint64_t tj = t + j;
      __builtin_prefetch(&last_[ids_[tj + kPrefetchDistance]]);
      // The walk below reads the stamps just past the boundary: fetch those too.
      __builtin_prefetch(&last_[ids_[boundary - 1 + kBlock + j]]);
      const uint32_t id = ids_[tj];
      const uint32_t s = last_[id];
      saved[j] = s;
      last_[id] = static_cast<uint32_t>(tj + 1);
      uint64_t hit = s >= boundary;
      // The empty asm hides `hit` from the optimiser, which would otherwise turn the selects
      // below into the branch that blocks exist to avoid.
      asm("" : "+r"(hit));
      misses += 1 - hit;
      const uint64_t candidate = s | (hit - 1);  // all ones on a miss
      lowest_hit = std::min(lowest_hit, candidate);
    }
    const uint64_t next = PastLive(boundary, misses);
    // Exact iff no hit's old stamp was passed by the boundary (that object would have been
    // evicted before its request) and every eviction took a stamp from before the block.
    if (lowest_hit >= next && next <= t + 1) {
      oldest_ = next;
      tally_.RecordBlock(t, kBlock, kBlock - misses, [&](uint32_t j) { return saved[j] >= boundary; });
      return true;
    }
    for (uint32_t j = kBlock; j-- > 0;) last_[ids_[t + j]] = saved[j];  // undo, newest first
    return false;
  }

 private:
  static constexpr uint32_t kNever = 0;
  static constexpr uint32_t kBlock = 64;
  // How far past the current request a block reads the stream: the replay's prefetch distance,
  // and the width of one step of the walk in PastLive.
  static constexpr uint32_t kWalkStep = 8;
  static constexpr uint32_t kLookAhead = std::max(kPrefetchDistance, kWalkStep);

  bool Live(uint64_t stamp) const { return last_[ids_[stamp - 1]] == stamp; }

  // The stamp just past the first `count` live stamps at or after s (s itself when count is 0).
  // Stamps are tested kWalkStep at a time: their loads are independent, so they overlap, and a
  // mask's popcount says whether the step holds the last stamp wanted. Reads at most
  // kWalkStep - 1 stamps past the one it returns.
  uint64_t PastLive(uint64_t s, uint64_t count) const {
    if (count == 0) return s;
    while (true) {
      uint32_t mask = 0;
      for (uint32_t k = 0; k < kWalkStep; ++k) mask |= static_cast<uint32_t>(Live(s + k)) << k;
      const auto live = static_cast<uint64_t>(std::popcount(mask));
      if (live >= count) {
        for (; count > 1; --count) mask &= mask - 1;  // drop the live stamps before the last
        return s + std::countr_zero(mask) + 1;
      }
      count -= live;
      s += kWalkStep;
    }
  }

  HitTally tally_;
  std::span<const uint32_t> ids_;
  std::vector<uint32_t> last_;  // stamp of each object's last request, or kNever
  uint32_t capacity_;
  uint32_t size_ = 0;    // cached objects
  uint64_t oldest_ = 1;  // the boundary: stamps >= oldest_ are cached
};

}  // namespace

uint64_t ReplayLru(const ReplayInput& input) { return LruReplay(input).Run(); }

}  // namespace cachesim::internal
