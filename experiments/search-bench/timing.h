// Timing of search-bench: timeit-style calibration and min-of-k repeats over an injectable clock.
//
// A "pass" is one run over a query batch; a "batch" is `passes_per_batch` passes timed together.
// As Python's timeit.Timer.autorange, passes_per_batch is the first of 1, 2, 5, 10, 20, 50, ...
// whose batch lasts at least min_batch_ns, so one reading is far above the clock's resolution.
// The repeats of several contenders are interleaved (A, B, A, B, ...): on a shared, noisy host a
// slow phase then lands on all of them instead of on whichever happened to run during it, which
// keeps their ratio steady. The minimum over the repeats estimates the undisturbed time.
//
// Thread-safety: MeasureInterleaved runs on the calling thread; a Clock is used by one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace search_bench {

// Monotonic time source; tests substitute a fake to check the calibration deterministically.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowNs() = 0;
};

// std::chrono::steady_clock.
Clock& SteadyClock();

struct TimingConfig {
  int repeats = 7;
  // ~2.5e4 times the cost of reading steady_clock, yet short enough that most batches fit between
  // two preemptions on a busy host, so the minimum over the repeats is an undisturbed batch.
  int64_t min_batch_ns = 500'000;
};

struct Timing {
  double per_pass_ns = 0;        // min over the repeats of (batch time / passes_per_batch)
  int64_t passes_per_batch = 0;  // as calibrated
};

// Calibrates each pass, then runs config.repeats rounds, each timing one batch of every pass in
// order. Returns one Timing per pass, in the order given.
std::vector<Timing> MeasureInterleaved(Clock& clock, const TimingConfig& config,
                                       std::span<const std::function<void()>> passes);

// Keeps the compiler from deleting or hoisting the computation of `value`: the empty asm claims
// to read it and to touch all memory (the technique of google/benchmark's DoNotOptimize).
template <typename T>
inline void DoNotOptimize(const T& value) {
  asm volatile("" : : "r,m"(value) : "memory");
}

}  // namespace search_bench
