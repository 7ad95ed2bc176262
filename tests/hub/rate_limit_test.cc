#include "hub/rate_limit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace ahub::hub {
namespace {

// A clock the test moves by hand.
struct FakeClock {
  double now = 1000;
  std::function<double()> Fn() {
    return [this] { return now; };
  }
};

TEST(RateLimitTest, BurstThenRefusedWithTheWaitForOneUnit) {
  FakeClock clock;
  RateLimiter limiter(/*per_second=*/2, /*burst=*/3, clock.Fn());
  EXPECT_EQ(limiter.Acquire("a"), 0);
  EXPECT_EQ(limiter.Acquire("a"), 0);
  EXPECT_EQ(limiter.Acquire("a"), 0);
  // Empty: one unit arrives after 1 / 2 s.
  EXPECT_DOUBLE_EQ(limiter.Acquire("a"), 0.5);
  // A refusal takes nothing, so asking again gives the same wait.
  EXPECT_DOUBLE_EQ(limiter.Acquire("a"), 0.5);
}

TEST(RateLimitTest, RefillsAtTheRateUpToTheBurst) {
  FakeClock clock;
  RateLimiter limiter(/*per_second=*/2, /*burst=*/3, clock.Fn());
  for (int i = 0; i < 3; ++i) ASSERT_EQ(limiter.Acquire("a"), 0);
  clock.now += 0.25;  // half a unit
  EXPECT_DOUBLE_EQ(limiter.Acquire("a"), 0.25);
  clock.now += 0.25;
  EXPECT_EQ(limiter.Acquire("a"), 0);
  EXPECT_GT(limiter.Acquire("a"), 0);
  clock.now += 100;  // far longer than a refill: capped at the burst
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Acquire("a"), 0) << i;
  EXPECT_DOUBLE_EQ(limiter.Acquire("a"), 0.5);
}

TEST(RateLimitTest, KeysHaveSeparateBuckets) {
  FakeClock clock;
  RateLimiter limiter(/*per_second=*/1, /*burst=*/1, clock.Fn());
  EXPECT_EQ(limiter.Acquire("a"), 0);
  EXPECT_DOUBLE_EQ(limiter.Acquire("a"), 1);
  EXPECT_EQ(limiter.Acquire("b"), 0);
  EXPECT_DOUBLE_EQ(limiter.Acquire("b"), 1);
}

TEST(RateLimitTest, ClockSteppingBackDoesNotDrainOrRefill) {
  FakeClock clock;
  RateLimiter limiter(/*per_second=*/1, /*burst=*/2, clock.Fn());
  EXPECT_EQ(limiter.Acquire("a"), 0);
  clock.now -= 50;
  EXPECT_EQ(limiter.Acquire("a"), 0);
  EXPECT_DOUBLE_EQ(limiter.Acquire("a"), 1);
  // Refill is counted from the latest reading (1000), not the stepped-back one (950): at 1001
  // one unit has arrived, not a full bucket.
  clock.now += 51;
  EXPECT_EQ(limiter.Acquire("a"), 0);
  EXPECT_GT(limiter.Acquire("a"), 0);
}

TEST(RateLimitTest, FullBucketsAreSweptAndSweepingChangesNoAnswer) {
  FakeClock clock;
  RateLimiter limiter(/*per_second=*/1, /*burst=*/2, clock.Fn());
  // One client drains its bucket; many others take one unit each.
  ASSERT_EQ(limiter.Acquire("busy"), 0);
  ASSERT_EQ(limiter.Acquire("busy"), 0);
  const size_t n = 10 * RateLimiter::kMinSweepSize;
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(limiter.Acquire("k" + std::to_string(i)), 0);
  EXPECT_GE(limiter.TrackedKeys(), n);  // all still refilling: nothing may be dropped

  // After a refill period every old bucket is full; new keys trigger sweeps that drop them.
  clock.now += 10;
  ASSERT_DOUBLE_EQ(limiter.Acquire("busy"), 0);
  ASSERT_DOUBLE_EQ(limiter.Acquire("busy"), 0);
  ASSERT_DOUBLE_EQ(limiter.Acquire("busy"), 1);  // "busy" drained again: it must survive sweeps
  for (size_t i = 0; i < 2 * n; ++i) ASSERT_EQ(limiter.Acquire("new" + std::to_string(i)), 0);
  EXPECT_LE(limiter.TrackedKeys(), 2 * n + 1);  // without sweeping: 3 * n + 1
  EXPECT_DOUBLE_EQ(limiter.Acquire("busy"), 1);
  // A swept key starts full again, as it would have been.
  EXPECT_EQ(limiter.Acquire("k0"), 0);
  EXPECT_EQ(limiter.Acquire("k0"), 0);
  EXPECT_DOUBLE_EQ(limiter.Acquire("k0"), 1);
}

TEST(RateLimitTest, MemoryStaysBoundedUnderManyShortLivedKeys) {
  FakeClock clock;
  RateLimiter limiter(/*per_second=*/10, /*burst=*/1, clock.Fn());
  // Each key is used once, then its bucket refills within 0.1 s: a scanner's worth of addresses.
  for (int i = 0; i < 100000; ++i) {
    clock.now += 0.001;
    ASSERT_EQ(limiter.Acquire("ip" + std::to_string(i)), 0);
  }
  // About 100 keys are refilling at any time, so sweeps keep the table at the sweep floor.
  EXPECT_LE(limiter.TrackedKeys(), RateLimiter::kMinSweepSize);
}

TEST(RateLimitTest, ConcurrentCallersShareOneBucketExactly) {
  FakeClock clock;  // never moves: exactly `burst` units can be taken
  RateLimiter limiter(/*per_second=*/1, /*burst=*/1000, clock.Fn());
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (limiter.Acquire("shared") == 0) allowed.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1000);
}

}  // namespace
}  // namespace ahub::hub
