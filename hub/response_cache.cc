#include "hub/response_cache.h"

namespace ahub::hub {
namespace {

size_t Cost(const std::string& key, const ResponseCache::Entry& entry) {
  return key.size() + entry.body.size() + entry.content_type.size();
}

}  // namespace

ResponseCache::ResponseCache(size_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

void ResponseCache::AdvanceLocked(uint64_t generation) {
  if (generation <= generation_) return;
  generation_ = generation;
  lru_.clear();
  index_.clear();
  bytes_ = 0;
}

std::shared_ptr<const ResponseCache::Entry> ResponseCache::GetLocked(const std::string& key,
                                                                     uint64_t generation) {
  AdvanceLocked(generation);
  if (generation != generation_) return nullptr;  // the caller read an outdated generation
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void ResponseCache::PutLocked(const std::string& key, uint64_t generation,
                              std::shared_ptr<const Entry> entry) {
  const size_t cost = Cost(key, *entry);
  if (cost > capacity_bytes_ / 8) return;
  AdvanceLocked(generation);
  if (generation != generation_) return;
  if (auto it = index_.find(key); it != index_.end()) {
    bytes_ -= Cost(key, *it->second->second);
    lru_.erase(it->second);
    index_.erase(it);
  }
  lru_.emplace_front(key, std::move(entry));
  index_.emplace(key, lru_.begin());
  bytes_ += cost;
  while (bytes_ > capacity_bytes_) {
    const auto& [old_key, old_entry] = lru_.back();
    bytes_ -= Cost(old_key, *old_entry);
    index_.erase(old_key);
    lru_.pop_back();
  }
}

std::shared_ptr<const ResponseCache::Entry> ResponseCache::Get(const std::string& key,
                                                               uint64_t generation) {
  std::lock_guard<std::mutex> lock(mu_);
  return GetLocked(key, generation);
}

void ResponseCache::Put(const std::string& key, uint64_t generation, Entry entry) {
  std::lock_guard<std::mutex> lock(mu_);
  PutLocked(key, generation, std::make_shared<const Entry>(std::move(entry)));
}

std::shared_ptr<const ResponseCache::Entry> ResponseCache::GetOrCompute(
    const std::string& key, uint64_t generation, const std::function<Computed()>& compute) {
  const std::string flight_key = std::to_string(generation) + " " + key;
  std::unique_lock<std::mutex> lock(mu_);
  if (auto hit = GetLocked(key, generation)) return hit;
  if (auto it = flights_.find(flight_key); it != flights_.end()) {
    const std::shared_ptr<Flight> flight = it->second;
    flight_done_.wait(lock, [&] { return flight->done; });
    if (flight->result) return flight->result;
  }
  auto flight = std::make_shared<Flight>();
  flights_[flight_key] = flight;
  // Ends this computation's flight, successful or not, and wakes its waiters.
  auto land = [&](std::shared_ptr<const Entry> result) {
    flight->done = true;
    flight->result = std::move(result);
    if (auto it = flights_.find(flight_key); it != flights_.end() && it->second == flight) {
      flights_.erase(it);
    }
    flight_done_.notify_all();
  };
  lock.unlock();

  Computed computed;
  try {
    computed = compute();
  } catch (...) {
    lock.lock();
    land(nullptr);
    throw;
  }
  auto result = std::make_shared<const Entry>(std::move(computed.entry));
  lock.lock();
  if (computed.cacheable) PutLocked(key, generation, result);
  land(result);
  return result;
}

size_t ResponseCache::entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return index_.size();
}

}  // namespace ahub::hub
