// IndexedMinHeap: a 4-ary min-heap of (64-bit key, object id) that knows where each id sits,
// so a cached object's key can change in O(log n) without searching.
//
// LFU packs (count, last access) into the key; OPT stores the distance to "never" so that the
// farthest next use is the minimum. A 4-ary layout halves the depth of a binary heap, and the
// four children of a node are contiguous, so choosing the smallest touches 32 bytes of keys.
//
// Invariants:
//  1. keys_[i] >= keys_[Parent(i)] for every i > 0.
//  2. position_[ids_[i]] == i for every i < size(); position_[id] == kAbsent for ids not in
//     the heap.
// Thread-safety: none.
#ifndef AHUB_EXPERIMENTS_CACHE_SIM_POLICIES_INDEXED_HEAP_H_
#define AHUB_EXPERIMENTS_CACHE_SIM_POLICIES_INDEXED_HEAP_H_

#include <cstdint>
#include <limits>
#include <vector>

namespace cachesim::internal {

class IndexedMinHeap {
 public:
  static constexpr uint32_t kAbsent = std::numeric_limits<uint32_t>::max();

  IndexedMinHeap(uint32_t num_ids, uint32_t max_size)
      : keys_(max_size), ids_(max_size), position_(num_ids, kAbsent) {}

  // Hints that id's position (and, when cached, its heap slot) will be needed soon.
  void Prefetch(uint32_t id) const { __builtin_prefetch(&position_[id]); }

  uint32_t size() const { return size_; }
  bool Contains(uint32_t id) const { return position_[id] != kAbsent; }
  uint32_t Top() const { return ids_[0]; }
  uint64_t KeyOf(uint32_t id) const { return keys_[position_[id]]; }

  // Precondition: !Contains(id) and size() < max_size.
  void Push(uint32_t id, uint64_t key) { SiftUp(size_++, id, key); }

  // Removes the minimum and inserts (id, key) in one sift. Precondition: size() > 0.
  void ReplaceTop(uint32_t id, uint64_t key) {
    position_[ids_[0]] = kAbsent;
    SiftDown(0, id, key);
  }

  // Precondition: Contains(id) and key >= its current key.
  void IncreaseKey(uint32_t id, uint64_t key) { SiftDown(position_[id], id, key); }

  // Precondition: Contains(id) and key <= its current key.
  void DecreaseKey(uint32_t id, uint64_t key) { SiftUp(position_[id], id, key); }

 private:
  static constexpr uint32_t kArity = 4;

  void Place(uint32_t i, uint32_t id, uint64_t key) {
    keys_[i] = key;
    ids_[i] = id;
    position_[id] = i;
  }

  // Moves the hole at i towards the root until (id, key) fits, then fills it.
  void SiftUp(uint32_t i, uint32_t id, uint64_t key) {
    while (i > 0) {
      const uint32_t parent = (i - 1) / kArity;
      if (keys_[parent] <= key) break;
      Place(i, ids_[parent], keys_[parent]);
      i = parent;
    }
    Place(i, id, key);
  }

  // Moves the hole at i towards the leaves until (id, key) fits, then fills it.
  void SiftDown(uint32_t i, uint32_t id, uint64_t key) {
    while (true) {
      const uint64_t first = uint64_t{i} * kArity + 1;
      if (first >= size_) break;
      const uint64_t last = first + kArity < size_ ? first + kArity : size_;
      uint64_t best = first;
      uint64_t best_key = keys_[first];
      for (uint64_t c = first + 1; c < last; ++c) {
        if (keys_[c] < best_key) {
          best = c;
          best_key = keys_[c];
        }
      }
      if (key <= best_key) break;
      Place(i, ids_[best], best_key);
      i = static_cast<uint32_t>(best);
    }
    Place(i, id, key);
  }

  std::vector<uint64_t> keys_;
  std::vector<uint32_t> ids_;
  std::vector<uint32_t> position_;
  uint32_t size_ = 0;
};

}  // namespace cachesim::internal

#endif  // AHUB_EXPERIMENTS_CACHE_SIM_POLICIES_INDEXED_HEAP_H_
