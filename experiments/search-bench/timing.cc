#include "experiments/search-bench/timing.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>

namespace search_bench {
namespace {

class SteadyClockImpl final : public Clock {
 public:
  int64_t NowNs() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that never advances would otherwise calibrate forever.
constexpr int64_t kMaxPassesPerBatch = int64_t{1} << 40;

int64_t TimeBatch(Clock& clock, const std::function<void()>& pass, int64_t passes) {
  const int64_t start = clock.NowNs();
  for (int64_t i = 0; i < passes; ++i) {
    pass();
  }
  return clock.NowNs() - start;
}

int64_t Calibrate(Clock& clock, const std::function<void()>& pass, int64_t min_batch_ns) {
  constexpr std::array<int64_t, 3> kSteps = {1, 2, 5};
  for (int64_t decade = 1; decade <= kMaxPassesPerBatch; decade *= 10) {
    for (int64_t step : kSteps) {
      if (TimeBatch(clock, pass, decade * step) >= min_batch_ns) {
        return decade * step;
      }
    }
  }
  return kMaxPassesPerBatch;
}

}  // namespace

Clock& SteadyClock() {
  static SteadyClockImpl clock;
  return clock;
}

std::vector<Timing> MeasureInterleaved(Clock& clock, const TimingConfig& config,
                                       std::span<const std::function<void()>> passes) {
  std::vector<Timing> timings(passes.size());
  std::vector<int64_t> best(passes.size(), std::numeric_limits<int64_t>::max());
  for (std::size_t k = 0; k < passes.size(); ++k) {
    timings[k].passes_per_batch = Calibrate(clock, passes[k], config.min_batch_ns);
  }
  for (int r = 0; r < config.repeats; ++r) {
    for (std::size_t k = 0; k < passes.size(); ++k) {
      best[k] = std::min(best[k], TimeBatch(clock, passes[k], timings[k].passes_per_batch));
    }
  }
  for (std::size_t k = 0; k < passes.size(); ++k) {
    timings[k].per_pass_ns =
        static_cast<double>(best[k]) / static_cast<double>(timings[k].passes_per_batch);
  }
  return timings;
}

}  // namespace search_bench
