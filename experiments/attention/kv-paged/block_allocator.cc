#include "experiments/attention/kv-paged/block_allocator.h"

#include <stdexcept>
#include <utility>

#include "experiments/attention/common/rng.h"

namespace attn::kvpaged {

BlockAllocator::BlockAllocator(int32_t num_blocks, std::optional<uint64_t> shuffle_seed)
    : refcount_(static_cast<size_t>(num_blocks < 0 ? 0 : num_blocks), 0) {
  free_.reserve(refcount_.size());
  // Pushed in descending order so that the stack pops 0 first.
  for (int32_t id = num_blocks - 1; id >= 0; --id) free_.push_back(id);
  if (shuffle_seed) {
    Rng rng(*shuffle_seed);
    for (int64_t i = static_cast<int64_t>(free_.size()) - 1; i > 0; --i) {
      std::swap(free_[i], free_[rng.Between(0, i)]);
    }
  }
}

std::optional<int32_t> BlockAllocator::Allocate() {
  if (free_.empty()) return std::nullopt;
  const int32_t id = free_.back();
  free_.pop_back();
  refcount_[id] = 1;
  return id;
}

void BlockAllocator::RequireInUse(int32_t block, const char* what) const {
  if (block < 0 || block >= num_blocks()) {
    throw std::logic_error(std::string("BlockAllocator::") + what + ": block " +
                           std::to_string(block) + " is not in the pool (0.." +
                           std::to_string(num_blocks() - 1) + ")");
  }
  if (refcount_[block] == 0) {
    throw std::logic_error(std::string("BlockAllocator::") + what + ": block " +
                           std::to_string(block) +
                           " is free (released more often than it was allocated and retained)");
  }
}

void BlockAllocator::Retain(int32_t block) {
  RequireInUse(block, "Retain");
  ++refcount_[block];
}

bool BlockAllocator::Release(int32_t block) {
  RequireInUse(block, "Release");
  if (--refcount_[block] > 0) return false;
  free_.push_back(block);
  return true;
}

int32_t BlockAllocator::RefCount(int32_t block) const {
  if (block < 0 || block >= num_blocks()) return 0;
  return refcount_[block];
}

std::string BlockAllocator::CheckInvariants() const {
  std::vector<int32_t> on_free_list(refcount_.size(), 0);
  for (int32_t id : free_) {
    if (id < 0 || id >= num_blocks())
      return "free list holds id " + std::to_string(id) + " outside the pool";
    if (++on_free_list[id] > 1) return "block " + std::to_string(id) + " is on the free list twice";
  }
  for (int32_t id = 0; id < num_blocks(); ++id) {
    if (refcount_[id] < 0) return "block " + std::to_string(id) + " has a negative refcount";
    if ((refcount_[id] == 0) != (on_free_list[id] == 1)) {
      return "block " + std::to_string(id) + " has refcount " + std::to_string(refcount_[id]) +
             (on_free_list[id] ? " but is on the free list" : " but is not on the free list");
    }
  }
  return "";
}

}  // namespace attn::kvpaged
