// IntrusiveLists: doubly linked circular lists threaded through one flat array of links.
//
// Nodes [0, num_objects) are objects; node num_objects + l is the sentinel of list l. Links are
// 32-bit indices, so moving an object between lists touches a few 8-byte slots and never
// allocates. LFU-forget uses one list per request count.
//
// Order: PushBack appends; Front() is the element pushed longest ago.
//
// Invariants:
//  1. An object is in at most one list; its links are kAbsent when it is in none.
//  2. For every node x in a list: x.next.prev == x and x.prev.next == x.
//  3. An empty list's sentinel links to itself.
// Thread-safety: none.
#ifndef AHUB_EXPERIMENTS_CACHE_SIM_POLICIES_INTRUSIVE_LISTS_H_
#define AHUB_EXPERIMENTS_CACHE_SIM_POLICIES_INTRUSIVE_LISTS_H_

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

namespace cachesim::internal {

class IntrusiveLists {
 public:
  static constexpr uint32_t kAbsent = std::numeric_limits<uint32_t>::max();

  IntrusiveLists(uint32_t num_objects, uint32_t num_lists) : num_objects_(num_objects) {
    if (uint64_t{num_objects} + num_lists >= kAbsent) {
      throw std::length_error("IntrusiveLists: too many nodes for 32-bit links");
    }
    links_.assign(uint64_t{num_objects} + num_lists, Link{kAbsent, kAbsent});
    for (uint32_t l = 0; l < num_lists; ++l) {
      const uint32_t s = Sentinel(l);
      links_[s] = Link{s, s};
    }
  }

  void Prefetch(uint32_t id) const { __builtin_prefetch(&links_[id]); }

  uint32_t Sentinel(uint32_t list) const { return num_objects_ + list; }
  bool Empty(uint32_t list) const {
    const uint32_t s = Sentinel(list);
    return links_[s].next == s;
  }
  uint32_t Front(uint32_t list) const { return links_[Sentinel(list)].next; }

  void PushBack(uint32_t list, uint32_t id) {
    const uint32_t s = Sentinel(list);
    const uint32_t back = links_[s].prev;
    links_[id] = Link{back, s};
    links_[back].next = id;
    links_[s].prev = id;
  }

  void Remove(uint32_t id) {
    const Link link = links_[id];
    links_[link.prev].next = link.next;
    links_[link.next].prev = link.prev;
    links_[id] = Link{kAbsent, kAbsent};
  }

  // Remove + PushBack in one step (an LFU-forget hit moving to the next count's list).
  void MoveToBack(uint32_t list, uint32_t id) {
    const Link link = links_[id];
    links_[link.prev].next = link.next;
    links_[link.next].prev = link.prev;
    PushBack(list, id);
  }

 private:
  struct Link {
    uint32_t prev;
    uint32_t next;
  };

  uint32_t num_objects_;
  std::vector<Link> links_;
};

}  // namespace cachesim::internal

#endif  // AHUB_EXPERIMENTS_CACHE_SIM_POLICIES_INTRUSIVE_LISTS_H_
