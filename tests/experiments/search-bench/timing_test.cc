// MeasureInterleaved's calibration, min-of-k and interleaving, on a fake clock whose time moves
// only when a pass runs: every expected number is exact.
#include "experiments/search-bench/timing.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace search_bench {
namespace {

class ManualClock final : public Clock {
 public:
  int64_t NowNs() override { return now_; }
  void Advance(int64_t ns) { now_ += ns; }

 private:
  int64_t now_ = 0;
};

TEST(SearchBenchTimingTest, CalibratesLikeAutorangeAndReportsPerPassTime) {
  ManualClock clock;
  std::vector<std::function<void()>> passes = {[&] { clock.Advance(30); },
                                               [&] { clock.Advance(700); }};
  // 1000 ns minimum: 30 ns passes need 50 (20 * 30 = 600 < 1000 <= 50 * 30); 700 ns need 2.
  const std::vector<Timing> timings = MeasureInterleaved(clock, {7, 1000}, passes);
  ASSERT_EQ(timings.size(), 2u);
  EXPECT_EQ(timings[0].passes_per_batch, 50);
  EXPECT_DOUBLE_EQ(timings[0].per_pass_ns, 30.0);
  EXPECT_EQ(timings[1].passes_per_batch, 2);
  EXPECT_DOUBLE_EQ(timings[1].per_pass_ns, 700.0);
}

TEST(SearchBenchTimingTest, KeepsTheMinimumOverRepeats) {
  ManualClock clock;
  // Pass durations: 100 during calibration (one pass per batch at min_batch 100), then the
  // repeats see 250, 120, 400: the minimum, 120, is the answer.
  std::vector<int64_t> durations = {100, 250, 120, 400};
  std::size_t call = 0;
  std::vector<std::function<void()>> passes = {
      [&] { clock.Advance(durations[std::min(call++, durations.size() - 1)]); }};
  const std::vector<Timing> timings = MeasureInterleaved(clock, {3, 100}, passes);
  EXPECT_EQ(call, 4u);
  EXPECT_EQ(timings[0].passes_per_batch, 1);
  EXPECT_DOUBLE_EQ(timings[0].per_pass_ns, 120.0);
}

TEST(SearchBenchTimingTest, RepeatsAlternateBetweenContenders) {
  ManualClock clock;
  std::string order;
  const auto pass_named = [&](char name) {
    return [&order, &clock, name] {
      order += name;
      clock.Advance(10);
    };
  };
  std::vector<std::function<void()>> passes = {pass_named('L'), pass_named('B')};
  MeasureInterleaved(clock, {3, 10}, passes);
  // Calibration of each (one pass each), then three rounds of L then B.
  EXPECT_EQ(order, "LBLBLBLB");
}

}  // namespace
}  // namespace search_bench
