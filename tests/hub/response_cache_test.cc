#include "hub/response_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace ahub::hub {
namespace {

ResponseCache::Entry Page(std::string body) { return {200, "application/json", std::move(body)}; }

TEST(ResponseCacheTest, ServesAnEntryOnlyAtItsGeneration) {
  ResponseCache cache(1 << 20);
  cache.Put("GET /a", 5, Page("five"));
  auto hit = cache.Get("GET /a", 5);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit->body, "five");
  EXPECT_EQ(cache.Get("GET /b", 5), nullptr);
  // A write happened: the page is gone, and the copy handed out earlier stays valid.
  EXPECT_EQ(cache.Get("GET /a", 6), nullptr);
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(hit->body, "five");
}

TEST(ResponseCacheTest, AnEntryComputedBeforeAWriteIsNotStored) {
  ResponseCache cache(1 << 20);
  cache.Put("GET /new", 7, Page("seven"));
  cache.Put("GET /old", 6, Page("six: computed while generation 7 was committed"));
  EXPECT_EQ(cache.Get("GET /old", 6), nullptr);
  EXPECT_EQ(cache.Get("GET /old", 7), nullptr);
  EXPECT_NE(cache.Get("GET /new", 7), nullptr);
}

TEST(ResponseCacheTest, EvictsLeastRecentlyUsedBeyondItsCapacity) {
  ResponseCache cache(8000);  // entries of ~920 bytes: 8 fit
  for (int i = 0; i < 7; ++i) cache.Put("k" + std::to_string(i), 1, Page(std::string(900, 'x')));
  ASSERT_NE(cache.Get("k0", 1), nullptr);  // k0 is now the most recently used
  for (int i = 7; i < 10; ++i) cache.Put("k" + std::to_string(i), 1, Page(std::string(900, 'x')));
  EXPECT_NE(cache.Get("k0", 1), nullptr);
  EXPECT_EQ(cache.Get("k1", 1), nullptr);
  EXPECT_NE(cache.Get("k9", 1), nullptr);
  EXPECT_LE(cache.entries(), 8u);
}

TEST(ResponseCacheTest, DoesNotStoreHugeEntriesOrAnythingWhenDisabled) {
  ResponseCache cache(8000);
  cache.Put("big", 1, Page(std::string(2000, 'x')));
  EXPECT_EQ(cache.Get("big", 1), nullptr);
  ResponseCache off(0);
  off.Put("a", 1, Page("tiny"));
  EXPECT_EQ(off.Get("a", 1), nullptr);
}

TEST(ResponseCacheTest, ConcurrentMissesComputeOnce) {
  ResponseCache cache(1 << 20);
  std::atomic<int> computations{0};
  std::atomic<bool> release{false};
  auto compute = [&] {
    ++computations;
    while (!release) std::this_thread::yield();  // hold the flight open while others arrive
    return ResponseCache::Computed{Page("page"), true};
  };
  std::vector<std::thread> readers;
  std::atomic<int> served{0};
  for (int i = 0; i < 8; ++i) {
    readers.emplace_back([&] {
      if (cache.GetOrCompute("GET /", 3, compute)->body == "page") ++served;
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  release = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(served, 8);
  EXPECT_EQ(computations, 1);
  EXPECT_EQ(cache.GetOrCompute("GET /", 3, compute)->body, "page");
  EXPECT_EQ(computations, 1) << "stored";
  EXPECT_EQ(cache.GetOrCompute("GET /", 4, compute)->body, "page");
  EXPECT_EQ(computations, 2) << "a new generation recomputes";
}

TEST(ResponseCacheTest, ErrorPagesAreSharedButNotStoredAndExceptionsPropagate) {
  ResponseCache cache(1 << 20);
  int computations = 0;
  auto not_found = [&] {
    ++computations;
    return ResponseCache::Computed{{404, "application/json", "{}"}, false};
  };
  EXPECT_EQ(cache.GetOrCompute("GET /x", 1, not_found)->status, 404);
  EXPECT_EQ(cache.GetOrCompute("GET /x", 1, not_found)->status, 404);
  EXPECT_EQ(computations, 2);
  EXPECT_THROW(
      cache.GetOrCompute("GET /y", 1,
                         []() -> ResponseCache::Computed { throw std::runtime_error("boom"); }),
      std::runtime_error);
  EXPECT_EQ(cache.GetOrCompute("GET /y", 1, not_found)->status, 404) << "no stuck flight";
}

}  // namespace
}  // namespace ahub::hub
