// LRU, exact, replayed in speculative blocks over per-request stamps instead of a recency list.
//
// State: last_[o], the stamp (position + 1) of object o's last request, and live_[s], set when
// the request with stamp s is still its object's last one. The cache holds the `capacity` most
// recently requested objects, i.e. those whose last stamp is at or after the boundary
// oldest_: o is cached <=> last_[o] >= oldest_. A hit only restamps its object. A miss with a
// full cache evicts the least recently used object, whose stamp is the first live one at or
// after the boundary; the boundary moves just past it. Each stamp is passed once, so a request
// costs O(1) amortised.
//
// Why not the textbook list: a list hit rewrites the links of three objects, a miss unlinks the
// front, and which of the two happens is a branch the CPU mispredicts on a large share of a
// Zipf stream's requests. Blocks avoid both. A block of kBlock requests is first replayed with
// the boundary where it stood at the block's start: each request only loads and stores its own
// object's stamp, and the hit test is arithmetic, not a branch. Then the boundary is moved past
// as many live stamps as the block had misses. This equals the exact replay unless some request
// in the block hit an object that the exact replay would have evicted earlier in the same block:
// its old stamp then lies below the new boundary. That is checked; such a block (about 1 in 160
// on the bench workload) is undone and replayed one request at a time. 1.5x faster than the
// list on the bench workload (bench/cache-sim/README.md).
//
// Memory: 4 bytes per object and 1 byte per request.
#include <algorithm>
#include <bit>
#include <cstring>
#include <span>
#include <vector>

#include "replay.h"

namespace cachesim::internal {
namespace {

static_assert(std::endian::native == std::endian::little, "NextLive reads flags as a word");

// A distinct type rather than uint8_t: stores through a char type may alias anything, which
// made the compiler reload every pointer after each flag store in the block loop.
enum class Live : uint8_t { kNo = 0, kYes = 1 };

class LruReplay {
 public:
  explicit LruReplay(const ReplayInput& input)
      : input_(input),
        ids_(input.stream.ids()),
        last_(input.stream.num_objects(), kNever),
        // Stamps 1..n, plus room for NextLive's word reads past the newest stamp.
        live_(ids_.size() + 1 + sizeof(uint64_t), Live::kNo),
        capacity_(input.capacity) {}

  uint64_t Run() {
    const uint64_t n = ids_.size();
    uint64_t t = 0;
    // Until the cache is full misses evict nothing, so blocks would not apply. Blocks also need
    // the capacity to exceed a block's misses (so that every eviction in a block takes an object
    // cached before it) and the prefetch distance to stay inside the stream.
    while (t < n && size_ < capacity_) Step(t++);
    if (capacity_ > 2 * kBlock) {
      while (t + kBlock + kPrefetchDistance <= n) {
        if (!Block(t)) {
          for (uint64_t j = 0; j < kBlock; ++j) Step(t + j);
        }
        t += kBlock;
      }
    }
    while (t < n) Step(t++);
    return hits_;
  }

 private:
  static constexpr uint32_t kNever = 0;
  static constexpr uint32_t kBlock = 64;

  // One request, exactly.
  void Step(uint64_t t) {
    if (t + kPrefetchDistance < ids_.size()) __builtin_prefetch(&last_[ids_[t + kPrefetchDistance]]);
    const uint32_t id = ids_[t];
    const uint32_t s = last_[id];
    const bool hit = s >= oldest_;
    last_[id] = static_cast<uint32_t>(t + 1);
    // A miss's old stamp is below the boundary, where flags are never read again: clearing it
    // would only cost a store to a cold cache line.
    live_[hit ? s : 0] = Live::kNo;
    live_[t + 1] = Live::kYes;
    if (!hit) {
      if (size_ == capacity_) {
        oldest_ = NextLive(oldest_) + 1;
      } else {
        ++size_;
      }
    }
    Record(t, hit);
  }

  // kBlock requests from t with the boundary held where it is, then the boundary moved past as
  // many live stamps as there were misses. Returns false, with everything as it was before,
  // when that differs from replaying the requests one by one.
  bool Block(uint64_t t) {
    const uint64_t boundary = oldest_;
    uint32_t saved[kBlock];
    bool hit_of[kBlock];  // bool, not uint8_t, for the same aliasing reason as Live
    uint64_t misses = 0;
    uint64_t lowest_hit = UINT64_MAX;  // the smallest old stamp among the block's hits
    // Every stamp of the block is its object's last request unless a later one in the block
    // clears it; setting them all first keeps the loop below to one flag store per request.
    std::memset(&live_[t + 1], static_cast<int>(Live::kYes), kBlock);
    for (uint32_t j = 0; j < kBlock; ++j) {
      const uint64_t tj = t + j;
      __builtin_prefetch(&last_[ids_[tj + kPrefetchDistance]]);
      const uint32_t id = ids_[tj];
      const uint32_t s = last_[id];
      saved[j] = s;
      last_[id] = static_cast<uint32_t>(tj + 1);
      uint64_t hit = s >= boundary;
      // The empty asm hides `hit` from the optimiser, which would otherwise turn the selects
      // below into the branch that blocks exist to avoid.
      asm("" : "+r"(hit));
      live_[s & (0u - static_cast<uint32_t>(hit))] = Live::kNo;  // a miss writes slot 0
      misses += 1 - hit;
      const uint64_t candidate = s | (hit - 1);  // all ones on a miss
      lowest_hit = std::min(lowest_hit, candidate);
      hit_of[j] = hit != 0;
    }
    uint64_t next = boundary;
    for (uint64_t m = 0; m < misses; ++m) next = NextLive(next) + 1;
    // Exact iff no hit's old stamp was passed by the boundary (that object would have been
    // evicted before its request) and every eviction took a stamp from before the block.
    if (lowest_hit >= next && next <= t + 1) {
      oldest_ = next;
      if (input_.hit_pattern != nullptr || t < input_.warmup) {
        for (uint32_t j = 0; j < kBlock; ++j) Record(t + j, hit_of[j]);
      } else {
        hits_ += kBlock - misses;
      }
      return true;
    }
    for (uint32_t j = kBlock; j-- > 0;) {  // undo, newest first
      const uint64_t tj = t + j;
      live_[tj + 1] = Live::kNo;
      live_[saved[j]] = Live::kYes;
      last_[ids_[tj]] = saved[j];
    }
    return false;
  }

  // The first live stamp at or after s; one exists (the newest request's stamp is live).
  uint64_t NextLive(uint64_t s) const {
    while (true) {
      uint64_t word;
      std::memcpy(&word, &live_[s], sizeof word);
      if (word != 0) return s + std::countr_zero(word) / 8;
      s += sizeof word;
    }
  }

  void Record(uint64_t t, bool hit) {
    if (input_.hit_pattern != nullptr) input_.hit_pattern[t] = hit;
    hits_ += static_cast<uint64_t>(hit) & static_cast<uint64_t>(t >= input_.warmup);
  }

  const ReplayInput& input_;
  std::span<const uint32_t> ids_;
  std::vector<uint32_t> last_;  // stamp of each object's last request, or kNever
  std::vector<Live> live_;      // indexed by stamp; slot 0 absorbs the stores of misses
  uint32_t capacity_;
  uint32_t size_ = 0;       // cached objects
  uint64_t oldest_ = 1;     // the boundary: stamps >= oldest_ are cached
  uint64_t hits_ = 0;
};

}  // namespace

uint64_t ReplayLru(const ReplayInput& input) { return LruReplay(input).Run(); }

}  // namespace cachesim::internal
