// A pool of fixed-size KV-cache blocks with reference counts: the physical-memory side of a
// paged KV cache (Kwon et al., "Efficient Memory Management for Large Language Model Serving
// with PagedAttention", SOSP 2023). Blocks are ids 0..num_blocks-1; what a block holds is the
// caller's business (PagedKvCache keeps the token slots).
//
// Not thread-safe: one owner (the scheduler) allocates and frees.
// Invariants (CheckInvariants verifies them):
//   1. every block is either free (refcount 0, on the free list exactly once) or in use
//      (refcount >= 1, not on the free list);
//   2. free_blocks() + used_blocks() == num_blocks().
// Allocate on an empty pool is an expected outcome (nullopt: the scheduler must wait or evict);
// Retain or Release of a block that is not in use is a caller bug and throws std::logic_error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace attn::kvpaged {

class BlockAllocator {
 public:
  // With a shuffle seed the free list starts in a seeded random order, so consecutive
  // allocations return scattered ids, as in a server whose pool has been churned for hours;
  // without, Allocate returns 0, 1, 2, ...
  explicit BlockAllocator(int32_t num_blocks, std::optional<uint64_t> shuffle_seed = std::nullopt);

  // A free block with refcount 1, or nullopt when none is free.
  std::optional<int32_t> Allocate();
  // One more owner of an in-use block (a forked sequence sharing it).
  void Retain(int32_t block);
  // One owner fewer; returns true when that was the last and the block went back to the pool.
  bool Release(int32_t block);

  int32_t RefCount(int32_t block) const;
  int32_t num_blocks() const { return static_cast<int32_t>(refcount_.size()); }
  int32_t free_blocks() const { return static_cast<int32_t>(free_.size()); }
  int32_t used_blocks() const { return num_blocks() - free_blocks(); }

  // "" when the invariants hold, else the first violation found.
  std::string CheckInvariants() const;

 private:
  void RequireInUse(int32_t block, const char* what) const;

  std::vector<int32_t> free_;      // a stack: Allocate pops the back
  std::vector<int32_t> refcount_;  // per block
};

}  // namespace attn::kvpaged
