// The attention-sink + recent-window KV cache of StreamingLLM as bookkeeping: which token each
// slot holds, which token an admission evicts, and the RoPE position of each held token.
//
// It tracks tokens explicitly (a table of slot contents and a FIFO of window slots) rather than
// by the closed forms of cache_layout.h, so that the tests can hold one against the other; the
// CPU reference decodes through this class, the CUDA kernels through cache_layout.h.
// Invariants:
//   1. the first `sinks` tokens stay in slots 0 .. sinks-1 and are never evicted;
//   2. at most `window` later tokens are held; admitting one more evicts the oldest of them and
//      reuses its slot;
//   3. positions are 0 .. size()-1 in cache order (sinks, then the window oldest first).
// Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "experiments/attention/stream-decode/cache_layout.h"

namespace attn::stream {

class SinkWindowCache {
 public:
  // sinks >= 0, window >= 1 (checked by the caller's configuration validation).
  SinkWindowCache(int sinks, int window);

  struct Admission {
    int64_t token = 0;     // index in the stream of the admitted token
    int slot = 0;          // where its K and V go
    int64_t evicted = -1;  // index of the token whose slot it took, -1 if none
  };
  // Admits the next token of the stream (index tokens_seen()).
  Admission Admit();

  int64_t tokens_seen() const { return seen_; }
  int size() const { return static_cast<int>(sinks_held_ + window_order_.size()); }
  int capacity() const { return layout_.capacity(); }
  const CacheLayout& layout() const { return layout_; }

  // Stream index of the token held in `slot`, or -1 for an empty slot.
  int64_t TokenInSlot(int slot) const { return slot_token_[static_cast<size_t>(slot)]; }
  // Occupied slots in cache order: sinks, then the window from oldest to newest.
  std::vector<int> SlotsInOrder() const;
  // RoPE position per slot (-1 for an empty slot): the slot's index in SlotsInOrder().
  std::vector<int> Positions() const;
  int QueryPosition() const { return size() - 1; }

 private:
  CacheLayout layout_;
  int64_t seen_ = 0;
  int sinks_held_ = 0;
  std::vector<int64_t> slot_token_;
  std::deque<int> window_order_;  // window slots, oldest first
};

}  // namespace attn::stream
