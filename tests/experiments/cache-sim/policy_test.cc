// Policies on hand-made traces whose right answer can be worked out on paper.
#include "policy.h"

#include "policies/replay.h"

#include <gtest/gtest.h>

#include <list>
#include <numeric>
#include <unordered_map>
#include <string>
#include <string_view>
#include <vector>

namespace cachesim {
namespace {

// "ABAC" -> ids 0,1,0,2: one letter per request, A = 0.
RequestStream Letters(std::string_view letters) {
  std::vector<uint32_t> ids;
  for (const char c : letters) ids.push_back(static_cast<uint32_t>(c - 'A'));
  auto stream = RequestStream::FromIds(std::move(ids));
  EXPECT_TRUE(stream.ok());
  return std::move(stream).value();
}

RequestStream Numbers(const std::vector<uint32_t>& ids) {
  auto stream = RequestStream::FromIds(ids);
  EXPECT_TRUE(stream.ok());
  return std::move(stream).value();
}

// The hit pattern as a string of '1' (hit) and '0' (miss), easy to compare and to read.
std::string Pattern(Policy policy, const RequestStream& stream, uint64_t capacity) {
  std::string text;
  for (const uint8_t hit : HitPattern(policy, stream, capacity)) text += hit ? '1' : '0';
  return text;
}

uint64_t Misses(Policy policy, const RequestStream& stream, uint64_t capacity) {
  return stream.size() - CountHits(policy, stream, capacity, 0);
}

// A linear congruential generator: reproducible workloads, the same on every platform.
class Lcg {
 public:
  explicit Lcg(uint32_t seed) : x_(seed) {}
  uint32_t Next() {
    x_ = x_ * 1103515245u + 12345u;
    return x_ >> 16;
  }

 private:
  uint32_t x_;
};

using Oracle = std::vector<uint8_t> (*)(const std::vector<uint32_t>& ids, size_t capacity);

// `policy` must give `oracle`'s hit pattern at every capacity, and its hit count after `warmup`.
void ExpectMatchesOracle(Policy policy, Oracle oracle, const std::vector<uint32_t>& ids,
                         std::initializer_list<uint32_t> capacities, uint64_t warmup) {
  const RequestStream s = Numbers(ids);
  for (const uint32_t capacity : capacities) {
    const std::vector<uint8_t> want = oracle(ids, capacity);
    EXPECT_EQ(HitPattern(policy, s, capacity), want) << "capacity " << capacity;
    EXPECT_EQ(CountHits(policy, s, capacity, warmup),
              std::accumulate(want.begin() + warmup, want.end(), uint64_t{0}))
        << "capacity " << capacity;
  }
}

TEST(PolicyTest, NamesRoundTrip) {
  for (const Policy p : AllPolicies()) EXPECT_EQ(ParsePolicy(PolicyName(p)), p);
  EXPECT_EQ(AllPolicies().size(), 6u);
  EXPECT_FALSE(ParsePolicy("LRU").has_value());
  EXPECT_FALSE(ParsePolicy("").has_value());
}

TEST(PolicyTest, LruEvictsLeastRecentlyUsedFifoEvictsOldestInsertion) {
  // Capacity 2. At C, A was used more recently than B: LRU evicts B, FIFO evicts A.
  const RequestStream s = Letters(
      "ABACB"
      "A");
  EXPECT_EQ(Pattern(Policy::kLru, s, 2),
            "00100"
            "0");
  EXPECT_EQ(Pattern(Policy::kFifo, s, 2),
            "00101"
            "0");
}

TEST(PolicyTest, TextbookReferenceStringFaults) {
  // Silberschatz et al., Operating System Concepts, 3 frames, reference string
  // 7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1: OPT 9 faults, LRU 12, FIFO 15.
  const RequestStream s = Numbers({7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1});
  EXPECT_EQ(Misses(Policy::kOpt, s, 3), 9u);
  EXPECT_EQ(Misses(Policy::kLru, s, 3), 12u);
  EXPECT_EQ(Misses(Policy::kFifo, s, 3), 15u);
  // Belady's anomaly string for FIFO: 3 frames 9 faults, 4 frames 10 faults.
  const RequestStream belady = Numbers({1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5});
  EXPECT_EQ(Misses(Policy::kFifo, belady, 3), 9u);
  EXPECT_EQ(Misses(Policy::kFifo, belady, 4), 10u);
  EXPECT_EQ(Misses(Policy::kOpt, belady, 3), 7u);
}

TEST(PolicyTest, OptEvictsFarthestNextUse) {
  // Capacity 2. C arrives with {A, B} cached: A is next used at t5, B at t4, so A goes.
  // D arrives with {B, C} cached and C is never used again, so C goes; B hits at t4 and A
  // misses at t5.
  const RequestStream s = Letters("ABCDBA");
  EXPECT_EQ(Pattern(Policy::kOpt, s, 2), "000010");
}

TEST(PolicyTest, LfuKeepsCountsAcrossEvictionsLfuForgetDoesNot) {
  // Capacity 2. After AAA BBBB the cache holds A(3) and B(4); C evicts A.
  // A returns: kept-count LFU gives it count 4, so C(1) is evicted; then C (count 2) evicts
  // the least recently used of the count-4 tie, B, and the final A hits.
  // LFU-forget restarts A at count 1 and evicts C (1 < B's 4); C returns at count 1 and evicts
  // A (count 1), so the final A misses.
  const RequestStream s = Letters(
      "AAABBBB"
      "CACA");
  EXPECT_EQ(Pattern(Policy::kLfu, s, 2),
            "0110111"
            "0001");
  EXPECT_EQ(Pattern(Policy::kLfuForget, s, 2),
            "0110111"
            "0000");
}

TEST(PolicyTest, LfuForgetMovesTheMinimumWhenAHitEmptiesTheSmallestBucket) {
  // Capacity 2. After A B A B both have count 2 and bucket 1 is empty, so C must evict from
  // bucket 2 (A, the older); A then returns and evicts C (count 1), and B hits.
  const RequestStream s = Letters(
      "ABAB"
      "CAB");
  EXPECT_EQ(Pattern(Policy::kLfuForget, s, 2),
            "0011"
            "001");
  EXPECT_EQ(Pattern(Policy::kLfu, s, 2),
            "0011"
            "001");
  // Capacity 1: every hit empties the only bucket.
  EXPECT_EQ(Pattern(Policy::kLfuForget, Letters("AAABBA"), 1), "011010");
}

TEST(PolicyTest, LfuBreaksCountTiesByLeastRecentUse) {
  // Capacity 2, A and B both have count 1 when C arrives; A is older and goes, so B hits.
  EXPECT_EQ(Pattern(Policy::kLfu, Letters("ABCB"), 2), "0001");
  EXPECT_EQ(Pattern(Policy::kLfuForget, Letters("ABCB"), 2), "0001");
  // Same counts (2 each) but B was used last: A goes.
  EXPECT_EQ(Pattern(Policy::kLfu, Letters("ABABCB"), 2), "001101");
  EXPECT_EQ(Pattern(Policy::kLfu, Letters("BABACA"), 2), "001101");
}

TEST(PolicyTest, SieveHandRetainsVisitedObjectsInPlace) {
  // A scenario after SIEVE's Algorithm 1 (NSDI'24), capacity 8, worked by hand.
  //  t0-7   A..H fill the cache (A oldest = the paper's tail, H newest = head)     misses
  //  t8-10  A, B, G hit: visited bits set                                            hits
  //  t11    I: hand starts at the tail: A, B visited -> cleared, C evicted; hand -> D
  //  t12    A hits: it stayed in place although it was the oldest (FIFO evicted it)
  //  t13    J: hand at D, unvisited -> evicted; hand -> E
  //  t14    C misses (evicted at t11) and evicts E; hand -> F
  //  t15    B hits (retained at t11, bit cleared then, set again now)
  //  t16    D misses and evicts F; hand -> G
  //  t17    K: G visited (t10) -> cleared, H evicted; hand -> I
  //  t18    G hits
  //  t19    H misses and evicts I
  const RequestStream s = Letters(
      "ABCDEFGH"
      "ABG"
      "I"
      "A"
      "J"
      "C"
      "B"
      "D"
      "K"
      "G"
      "H");
  EXPECT_EQ(Pattern(Policy::kSieve, s, 8),
            "00000000"
            "111"
            "0"
            "1"
            "0"
            "0"
            "1"
            "0"
            "0"
            "1"
            "0");
  // FIFO evicts A at t11 and so misses at t12: the two policies differ exactly there first.
  EXPECT_EQ(Pattern(Policy::kFifo, s, 8).substr(0, 13),
            "00000000"
            "111"
            "0"
            "0");
}

TEST(PolicyTest, SieveHandWrapsAroundWhenEveryObjectIsVisited) {
  // Capacity 3, all visited: D's eviction clears A, B, C, wraps to the tail and evicts A;
  // the hand then rests on B, which A's return evicts; D (inserted at the head) still hits.
  const RequestStream s = Letters(
      "ABC"
      "ABC"
      "D"
      "A"
      "D"
      "C");
  EXPECT_EQ(Pattern(Policy::kSieve, s, 3),
            "000"
            "111"
            "0"
            "0"
            "1"
            "1");
}

TEST(PolicyTest, WarmupRequestsAreReplayedButNotCounted) {
  const RequestStream s = Letters(
      "AAAA"
      "BA");
  for (const Policy p : AllPolicies()) {
    SCOPED_TRACE(std::string(PolicyName(p)));
    EXPECT_EQ(CountHits(p, s, 1, 0), 3u);
    EXPECT_EQ(CountHits(p, s, 1, 2), 2u);  // the A at t2 and t3
    EXPECT_EQ(CountHits(p, s, 2, 5), 1u);  // only the last request counts
    EXPECT_EQ(CountHits(p, s, 1, 6), 0u);
  }
}

TEST(PolicyTest, CacheLargerThanCatalogOnlyMissesOnFirstRequests) {
  std::vector<uint32_t> ids(1000);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<uint32_t>((i * 7) % 37);
  const RequestStream s = Numbers(ids);
  for (const Policy p : AllPolicies()) {
    SCOPED_TRACE(std::string(PolicyName(p)));
    EXPECT_EQ(CountHits(p, s, 37, 0), 1000u - 37u);
    EXPECT_EQ(CountHits(p, s, uint64_t{1} << 40, 0), 1000u - 37u);
  }
}

TEST(PolicyTest, CapacityOneHitsOnlyImmediateRepeats) {
  const RequestStream s = Letters("AABBBABBA");
  for (const Policy p : AllPolicies()) {
    EXPECT_EQ(Pattern(p, s, 1), "010110010") << PolicyName(p);
  }
}

TEST(PolicyTest, OptIsNeverWorseThanOtherPolicies) {
  std::vector<uint32_t> ids;
  Lcg lcg(12345);
  for (int i = 0; i < 20000; ++i) ids.push_back(lcg.Next() % (i % 3 == 0 ? 50 : 400));
  const RequestStream s = Numbers(ids);
  for (const uint64_t capacity : {1u, 10u, 60u, 200u}) {
    const uint64_t opt = CountHits(Policy::kOpt, s, capacity, 0);
    for (const Policy p : AllPolicies()) {
      EXPECT_LE(CountHits(p, s, capacity, 0), opt) << PolicyName(p) << " capacity " << capacity;
    }
  }
}

// LRU as a textbook list: the oracle for the block replay of policies/lru.cc.
std::vector<uint8_t> ListLruPattern(const std::vector<uint32_t>& ids, size_t capacity) {
  std::list<uint32_t> recency;  // front = most recent
  std::unordered_map<uint32_t, std::list<uint32_t>::iterator> where;
  std::vector<uint8_t> pattern;
  for (const uint32_t id : ids) {
    const auto it = where.find(id);
    pattern.push_back(it != where.end());
    if (it != where.end()) {
      recency.erase(it->second);
    } else if (recency.size() == capacity) {
      where.erase(recency.back());
      recency.pop_back();
    }
    recency.push_front(id);
    where[id] = recency.begin();
  }
  return pattern;
}

TEST(PolicyTest, LruMatchesAListWhereSpeculativeBlocksMustBeUndone) {
  // A loop over exactly `capacity` objects hits forever, until a new object evicts the least
  // recently used one, which the loop then asks for next: hits on objects that the replay of
  // a block evicts within that same block. Those blocks must be undone and replayed exactly.
  const uint32_t loop = 300;
  std::vector<uint32_t> ids;
  uint32_t fresh = 100000;
  Lcg lcg(99);
  for (int round = 0; round < 60; ++round) {
    for (uint32_t i = 0; i < loop; ++i) {
      ids.push_back(i);
      if (round % 3 == 1 && i % 41 == 0) ids.push_back(fresh++);
      const uint32_t r = lcg.Next();
      if (round % 3 == 2) ids.push_back(r % 700);  // noise over a wider catalog
    }
  }
  ExpectMatchesOracle(Policy::kLru, ListLruPattern, ids, {129, 200, 299, 300, 301, 450}, 7777);
}

// SIEVE as the paper writes it, on a list: the oracle for the block replay of policies/sieve.cc.
std::vector<uint8_t> ListSievePattern(const std::vector<uint32_t>& ids, size_t capacity) {
  std::list<uint32_t> queue;  // front = oldest (the paper's tail), back = newest (head)
  std::unordered_map<uint32_t, std::pair<std::list<uint32_t>::iterator, bool>> where;
  auto hand = queue.end();  // end: start at the oldest
  std::vector<uint8_t> pattern;
  for (const uint32_t id : ids) {
    const auto found = where.find(id);
    pattern.push_back(found != where.end());
    if (found != where.end()) {
      found->second.second = true;
      continue;
    }
    if (queue.size() == capacity) {
      auto it = hand == queue.end() ? queue.begin() : hand;
      while (where[*it].second) {
        where[*it].second = false;
        if (++it == queue.end()) it = queue.begin();
      }
      hand = std::next(it);
      where.erase(*it);
      queue.erase(it);
    }
    queue.push_back(id);
    where[id] = {std::prev(queue.end()), false};
  }
  return pattern;
}

TEST(PolicyTest, SieveMatchesTheListFormAcrossSpeculativeBlocks) {
  // Hot objects the hand keeps passing, one-time objects it evicts right after they enter, and
  // loops that bring evicted objects back: blocks where the hand meets objects the block asked
  // for, runs into the block's own insertions, or must undo and replay.
  std::vector<uint32_t> ids;
  Lcg lcg(4242);
  uint32_t fresh = 1000000;
  for (int i = 0; i < 60000; ++i) {
    const uint32_t r = lcg.Next();
    if (r % 4 == 0) {
      ids.push_back(r % 40);  // hot
    } else if (r % 4 == 1) {
      ids.push_back(fresh++);  // asked for once
    } else if (r % 4 == 2) {
      ids.push_back(100 + (i / 3) % 260);  // a loop a little larger than some capacities
    } else {
      ids.push_back(1000 + r % 3000);  // warm
    }
  }
  ExpectMatchesOracle(Policy::kSieve, ListSievePattern, ids, {65, 100, 257, 400, 1500}, 12345);
}

TEST(PolicyTest, FifoWithWideInsertionNumbersGivesTheSameHits) {
  // ReplayFifo switches to 64-bit insertion numbers only for streams of about 2^32 requests;
  // the wide variant must agree with the narrow one request for request.
  std::vector<uint32_t> ids;
  Lcg lcg(777);
  for (int i = 0; i < 20000; ++i) ids.push_back(lcg.Next() % (i % 5 == 0 ? 30 : 900));
  const RequestStream s = Numbers(ids);
  for (const uint32_t capacity : {1u, 2u, 29u, 300u, 900u}) {
    for (const uint64_t warmup : {uint64_t{0}, uint64_t{5000}}) {
      std::vector<uint8_t> pattern(s.size());
      const uint64_t wide = internal::ReplayFifoWide({s, capacity, warmup, pattern.data()});
      EXPECT_EQ(wide, CountHits(Policy::kFifo, s, capacity, warmup)) << "capacity " << capacity;
      if (warmup == 0) {
        EXPECT_EQ(pattern, HitPattern(Policy::kFifo, s, capacity)) << "capacity " << capacity;
      }
    }
  }
}

}  // namespace
}  // namespace cachesim
