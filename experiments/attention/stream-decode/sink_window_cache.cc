#include "experiments/attention/stream-decode/sink_window_cache.h"

namespace attn::stream {

SinkWindowCache::SinkWindowCache(int sinks, int window)
    : layout_{sinks, window}, slot_token_(static_cast<size_t>(sinks + window), -1) {}

SinkWindowCache::Admission SinkWindowCache::Admit() {
  Admission a;
  a.token = seen_++;
  if (sinks_held_ < layout_.sinks) {
    a.slot = sinks_held_++;
  } else if (static_cast<int>(window_order_.size()) < layout_.window) {
    a.slot = layout_.sinks + static_cast<int>(window_order_.size());  // next free window slot
    window_order_.push_back(a.slot);
  } else {
    a.slot = window_order_.front();  // the oldest window token leaves
    window_order_.pop_front();
    a.evicted = slot_token_[static_cast<size_t>(a.slot)];
    window_order_.push_back(a.slot);
  }
  slot_token_[static_cast<size_t>(a.slot)] = a.token;
  return a;
}

std::vector<int> SinkWindowCache::SlotsInOrder() const {
  std::vector<int> order;
  order.reserve(static_cast<size_t>(size()));
  for (int s = 0; s < sinks_held_; ++s) order.push_back(s);
  order.insert(order.end(), window_order_.begin(), window_order_.end());
  return order;
}

std::vector<int> SinkWindowCache::Positions() const {
  std::vector<int> positions(static_cast<size_t>(capacity()), -1);
  const std::vector<int> order = SlotsInOrder();
  for (size_t i = 0; i < order.size(); ++i) positions[order[i]] = static_cast<int>(i);
  return positions;
}

}  // namespace attn::stream
