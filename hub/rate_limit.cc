#include "hub/rate_limit.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace ahub::hub {
namespace {

double SteadySeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

RateLimiter::RateLimiter(double per_second, double burst, std::function<double()> now_seconds)
    : per_second_(per_second),
      burst_(burst),
      now_(now_seconds ? std::move(now_seconds) : std::function<double()>(SteadySeconds)) {}

double RateLimiter::Acquire(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  const double now = now_();
  if (buckets_.size() >= sweep_at_) {
    SweepLocked(now);
    // Doubling keeps sweeps amortised O(1) per call even when every bucket is still in use.
    sweep_at_ = std::max(kMinSweepSize, 2 * buckets_.size());
  }
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!inserted) {
    // A clock that steps back (an injected one may) must not drain the bucket.
    const double elapsed = std::max(0.0, now - b.updated);
    b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
    b.updated = std::max(b.updated, now);
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return (1 - b.tokens) / per_second_;
}

size_t RateLimiter::TrackedKeys() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

void RateLimiter::SweepLocked(double now) {
  std::erase_if(buckets_, [&](const auto& entry) {
    const Bucket& b = entry.second;
    return b.tokens + std::max(0.0, now - b.updated) * per_second_ >= burst_;
  });
}

}  // namespace ahub::hub
