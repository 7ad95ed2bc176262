// RateLimiter: a token bucket per key (a client address or a token hash) for the HTTP API.
//
// Each key's bucket holds up to `burst` units and refills at `per_second` units a second; a
// request takes one unit or is refused with the time until one is available.
//
// Thread-safety: every member function may be called concurrently; one mutex guards the buckets.
// The critical section is a hash lookup and a few arithmetic operations, short next to a request.
//
// Invariants:
//   1. A key that has no bucket behaves exactly as one whose bucket is full, so dropping full
//      buckets changes no answer.
//   2. Memory is bounded: buckets that have refilled are swept once the table has doubled since
//      the last sweep, so it holds at most about twice the keys active within one refill period
//      (burst / per_second seconds), and never fewer than kMinSweepSize entries trigger a sweep.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ahub::hub {

class RateLimiter {
 public:
  // The table size below which no sweep is attempted: sweeping a small table saves nothing.
  static constexpr size_t kMinSweepSize = 1024;

  // `per_second` > 0 and `burst` >= 1 (a smaller burst would refuse every request).
  // `now_seconds` is a monotonic clock in seconds (default: std::chrono::steady_clock); tests
  // inject a fake one. It is called under the limiter's mutex, so it must not call back.
  RateLimiter(double per_second, double burst, std::function<double()> now_seconds = {});

  // Takes one unit for `key`. Returns 0 when allowed; otherwise nothing is taken and the result
  // is the seconds (> 0) until a unit will be available. For Retry-After the caller rounds it
  // up to whole seconds, at least 1.
  double Acquire(const std::string& key);

  // The number of keys with a bucket (for a gauge; full buckets may or may not be counted).
  size_t TrackedKeys() const;

 private:
  struct Bucket {
    double tokens;
    double updated;  // clock reading when `tokens` was last brought up to date
  };

  // Drops every bucket that has refilled by `now` (invariant 1).
  void SweepLocked(double now);

  const double per_second_;
  const double burst_;
  const std::function<double()> now_;

  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
  size_t sweep_at_ = kMinSweepSize;                  // guarded by mu_: table size of next sweep
};

}  // namespace ahub::hub
