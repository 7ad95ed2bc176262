// Sequences over a BlockAllocator: per-sequence block tables, append, free, and fork with
// copy-on-write sharing of a common prefix (vLLM's KV cache manager, Kwon et al. 2023, §4.2-4.4).
//
// Each token slot holds one int32 standing in for that token's K/V rows, so tests can read a
// sequence back through its block table and see that sharing and copying never mix two
// sequences' tokens. Copies of a shared block are also recorded (CopiesMade) so a GPU cache
// would know which block contents to duplicate.
//
// Not thread-safe. Invariants (CheckInvariants verifies them):
//   1. a live sequence of length L has ceil(L / block_size) blocks; all but its last are full,
//      and its last holds exactly L - (blocks - 1) * block_size filled slots;
//   2. a block's refcount equals the number of live sequences whose table holds it;
//   3. a shared block (refcount > 1) is never written: appending to a sequence whose last block
//      is shared and partly filled first copies that block (copy-on-write), while a full shared
//      block is left as is and the append starts a new block;
//   4. stored_tokens() is the sum of filled slots over the blocks in use (a shared block
//      counts once) and the allocator's invariants hold.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "experiments/attention/kv-paged/block_allocator.h"

namespace attn::kvpaged {

using SeqId = int32_t;

class PagedKvCache {
 public:
  PagedKvCache(int32_t num_blocks, int32_t block_size,
               std::optional<uint64_t> shuffle_seed = std::nullopt);

  // A new empty sequence.
  SeqId Create();
  // Appends `tokens`. Returns false, changing nothing, when the pool lacks the blocks needed
  // (new blocks plus a copy-on-write copy).
  bool Append(SeqId seq, std::span<const int32_t> tokens);
  // A new sequence sharing every block of `parent` (refcounts + 1): the parent's tokens become
  // the child's prefix without copying any.
  SeqId Fork(SeqId parent);
  // Releases the sequence's blocks; shared ones stay for their other owners.
  void Free(SeqId seq);

  bool IsLive(SeqId seq) const;
  int64_t Length(SeqId seq) const;
  std::span<const int32_t> BlockTable(SeqId seq) const;
  // The sequence's token values, read through its block table.
  std::vector<int32_t> Tokens(SeqId seq) const;

  int32_t block_size() const { return block_size_; }
  const BlockAllocator& allocator() const { return alloc_; }
  int64_t stored_tokens() const { return stored_; }
  // Copy-on-write copies made so far: (source block, new block).
  const std::vector<std::pair<int32_t, int32_t>>& CopiesMade() const { return copies_; }

  std::string CheckInvariants() const;

 private:
  struct Sequence {
    std::vector<int32_t> blocks;
    int64_t length = 0;
    bool live = false;
  };
  const Sequence& Live(SeqId seq, const char* what) const;
  void ReleaseBlock(int32_t block);

  BlockAllocator alloc_;
  int32_t block_size_;
  std::vector<int32_t> slots_;  // [num_blocks][block_size] token values
  std::vector<int32_t> fill_;   // filled slots per block
  int64_t stored_ = 0;
  std::vector<Sequence> seqs_;  // indexed by SeqId; freed entries stay, not live
  std::vector<std::pair<int32_t, int32_t>> copies_;
};

}  // namespace attn::kvpaged
