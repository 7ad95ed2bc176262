#include "experiments/attention/kv-paged/paged_cache.h"

#include <algorithm>
#include <stdexcept>

namespace attn::kvpaged {

PagedKvCache::PagedKvCache(int32_t num_blocks, int32_t block_size,
                           std::optional<uint64_t> shuffle_seed)
    : alloc_(num_blocks, shuffle_seed),
      block_size_(block_size),
      slots_(static_cast<size_t>(std::max(num_blocks, 0)) * std::max(block_size, 1), 0),
      fill_(static_cast<size_t>(std::max(num_blocks, 0)), 0) {
  if (block_size < 1) throw std::invalid_argument("PagedKvCache: block_size must be >= 1");
}

const PagedKvCache::Sequence& PagedKvCache::Live(SeqId seq, const char* what) const {
  if (seq < 0 || static_cast<size_t>(seq) >= seqs_.size() || !seqs_[seq].live) {
    throw std::logic_error(std::string("PagedKvCache::") + what + ": sequence " +
                           std::to_string(seq) + " is not live");
  }
  return seqs_[seq];
}

SeqId PagedKvCache::Create() {
  Sequence s;
  s.live = true;
  seqs_.push_back(std::move(s));
  return static_cast<SeqId>(seqs_.size() - 1);
}

bool PagedKvCache::Append(SeqId seq, std::span<const int32_t> tokens) {
  Live(seq, "Append");
  if (tokens.empty()) return true;
  Sequence& s = seqs_[seq];
  const int64_t in_last = s.length % block_size_;  // filled slots of a partly filled last block
  const bool copy_last = in_last != 0 && alloc_.RefCount(s.blocks.back()) > 1;
  const int64_t room = in_last == 0 ? 0 : block_size_ - in_last;
  const int64_t rest = std::max<int64_t>(0, static_cast<int64_t>(tokens.size()) - room);
  const int64_t needed = (rest + block_size_ - 1) / block_size_ + (copy_last ? 1 : 0);
  if (needed > alloc_.free_blocks()) return false;

  if (copy_last) {
    // Copy-on-write: the shared block keeps serving its other owners unchanged.
    const int32_t shared = s.blocks.back();
    const int32_t copy = *alloc_.Allocate();
    std::copy_n(&slots_[static_cast<size_t>(shared) * block_size_], in_last,
                &slots_[static_cast<size_t>(copy) * block_size_]);
    fill_[copy] = static_cast<int32_t>(in_last);
    stored_ += in_last;
    copies_.emplace_back(shared, copy);
    s.blocks.back() = copy;
    ReleaseBlock(shared);
  }
  for (int32_t token : tokens) {
    if (s.length % block_size_ == 0) s.blocks.push_back(*alloc_.Allocate());
    const int32_t block = s.blocks.back();
    slots_[static_cast<size_t>(block) * block_size_ + s.length % block_size_] = token;
    ++fill_[block];
    ++stored_;
    ++s.length;
  }
  return true;
}

SeqId PagedKvCache::Fork(SeqId parent) {
  Live(parent, "Fork");
  const SeqId child = Create();
  seqs_[child].blocks = seqs_[parent].blocks;  // after Create: push_back may move seqs_
  seqs_[child].length = seqs_[parent].length;
  for (int32_t block : seqs_[child].blocks) alloc_.Retain(block);
  return child;
}

void PagedKvCache::ReleaseBlock(int32_t block) {
  if (alloc_.Release(block)) {
    stored_ -= fill_[block];
    fill_[block] = 0;
  }
}

void PagedKvCache::Free(SeqId seq) {
  Live(seq, "Free");
  Sequence& s = seqs_[seq];
  for (int32_t block : s.blocks) ReleaseBlock(block);
  s.blocks.clear();
  s.blocks.shrink_to_fit();
  s.length = 0;
  s.live = false;
}

bool PagedKvCache::IsLive(SeqId seq) const {
  return seq >= 0 && static_cast<size_t>(seq) < seqs_.size() && seqs_[seq].live;
}

int64_t PagedKvCache::Length(SeqId seq) const { return Live(seq, "Length").length; }

std::span<const int32_t> PagedKvCache::BlockTable(SeqId seq) const {
  return Live(seq, "BlockTable").blocks;
}

std::vector<int32_t> PagedKvCache::Tokens(SeqId seq) const {
  const Sequence& s = Live(seq, "Tokens");
  std::vector<int32_t> out(static_cast<size_t>(s.length));
  for (int64_t t = 0; t < s.length; ++t) {
    out[t] = slots_[static_cast<size_t>(s.blocks[t / block_size_]) * block_size_ + t % block_size_];
  }
  return out;
}

std::string PagedKvCache::CheckInvariants() const {
  if (std::string e = alloc_.CheckInvariants(); !e.empty()) return e;
  std::vector<int32_t> owners(fill_.size(), 0);
  for (size_t id = 0; id < seqs_.size(); ++id) {
    const Sequence& s = seqs_[id];
    if (!s.live) continue;
    const std::string name = "sequence " + std::to_string(id);
    const int64_t blocks = (s.length + block_size_ - 1) / block_size_;
    if (static_cast<int64_t>(s.blocks.size()) != blocks) {
      return name + " of length " + std::to_string(s.length) + " has " +
             std::to_string(s.blocks.size()) + " blocks; expected " + std::to_string(blocks);
    }
    for (size_t j = 0; j < s.blocks.size(); ++j) {
      const int32_t b = s.blocks[j];
      if (b < 0 || b >= alloc_.num_blocks()) return name + " holds block id " + std::to_string(b);
      ++owners[b];
      const int64_t expected =
          j + 1 < s.blocks.size() ? block_size_ : s.length - static_cast<int64_t>(j) * block_size_;
      if (fill_[b] != expected) {
        return name + " block " + std::to_string(j) + " (id " + std::to_string(b) + ") holds " +
               std::to_string(fill_[b]) + " tokens; expected " + std::to_string(expected);
      }
    }
  }
  int64_t stored = 0;
  for (size_t b = 0; b < fill_.size(); ++b) {
    const int32_t id = static_cast<int32_t>(b);
    if (owners[b] != alloc_.RefCount(id)) {
      return "block " + std::to_string(b) + " has refcount " + std::to_string(alloc_.RefCount(id)) +
             " but " + std::to_string(owners[b]) + " owners";
    }
    if (owners[b] > 0) stored += fill_[b];
  }
  if (stored != stored_) {
    return "stored_tokens " + std::to_string(stored_) + " but the blocks in use hold " +
           std::to_string(stored);
  }
  return "";
}

}  // namespace attn::kvpaged
