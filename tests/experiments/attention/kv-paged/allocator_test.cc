// The block allocator and the paged cache: no block leaked or freed twice, refcounts that match
// the tables, copy-on-write that never mixes two sequences' tokens.
#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <set>
#include <stdexcept>
#include <vector>

#include "experiments/attention/common/rng.h"
#include "experiments/attention/kv-paged/block_allocator.h"
#include "experiments/attention/kv-paged/paged_cache.h"

namespace attn::kvpaged {
namespace {

std::vector<int32_t> Range(int32_t from, int32_t n) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), from);
  return v;
}

TEST(BlockAllocatorTest, HandsOutEveryBlockOnceThenReportsEmpty) {
  BlockAllocator a(10);
  std::set<int32_t> got;
  for (int i = 0; i < 10; ++i) {
    const auto id = a.Allocate();
    ASSERT_TRUE(id.has_value());
    EXPECT_EQ(*id, i);  // unshuffled: ascending
    EXPECT_EQ(a.RefCount(*id), 1);
    got.insert(*id);
  }
  EXPECT_EQ(got.size(), 10u);
  EXPECT_FALSE(a.Allocate().has_value());
  EXPECT_EQ(a.free_blocks(), 0);
  EXPECT_EQ(a.CheckInvariants(), "");
}

TEST(BlockAllocatorTest, ReleaseReturnsTheBlockAndADoubleReleaseThrows) {
  BlockAllocator a(3);
  const int32_t id = *a.Allocate();
  EXPECT_TRUE(a.Release(id));
  EXPECT_EQ(a.free_blocks(), 3);
  EXPECT_THROW(a.Release(id), std::logic_error);
  EXPECT_THROW(a.Retain(id), std::logic_error);
  EXPECT_THROW(a.Release(7), std::logic_error);
  EXPECT_EQ(a.CheckInvariants(), "");
  EXPECT_EQ(*a.Allocate(), id);  // LIFO: the block just freed comes back first
}

TEST(BlockAllocatorTest, RetainedBlockStaysUntilTheLastRelease) {
  BlockAllocator a(2);
  const int32_t id = *a.Allocate();
  a.Retain(id);
  a.Retain(id);
  EXPECT_EQ(a.RefCount(id), 3);
  EXPECT_FALSE(a.Release(id));
  EXPECT_FALSE(a.Release(id));
  EXPECT_EQ(a.used_blocks(), 1);
  EXPECT_TRUE(a.Release(id));
  EXPECT_EQ(a.used_blocks(), 0);
  EXPECT_EQ(a.RefCount(id), 0);
}

TEST(BlockAllocatorTest, ShuffledFreeListIsASeededPermutation) {
  auto order = [](uint64_t seed) {
    BlockAllocator a(64, seed);
    std::vector<int32_t> ids;
    while (auto id = a.Allocate()) ids.push_back(*id);
    return ids;
  };
  const std::vector<int32_t> a = order(1);
  std::vector<int32_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, Range(0, 64));
  EXPECT_NE(a, Range(0, 64));
  EXPECT_EQ(order(1), a);
  EXPECT_NE(order(2), a);
}

// Random allocate / retain / release against a model of the refcounts.
TEST(BlockAllocatorTest, RandomOperationsKeepTheInvariants) {
  BlockAllocator a(50, 3);
  std::map<int32_t, int32_t> model;  // block -> refcount, in-use blocks only
  Rng rng(17);
  for (int step = 0; step < 5000; ++step) {
    const double u = rng.Uniform();
    if (u < 0.4) {
      const auto id = a.Allocate();
      ASSERT_EQ(id.has_value(), model.size() < 50u);
      if (id) {
        ASSERT_EQ(model.count(*id), 0u) << "block " << *id << " handed out while in use";
        model[*id] = 1;
      }
    } else if (!model.empty()) {
      auto it = model.begin();
      std::advance(it, rng.Between(0, static_cast<int64_t>(model.size()) - 1));
      if (u < 0.55) {
        a.Retain(it->first);
        ++it->second;
      } else {
        const bool freed = a.Release(it->first);
        ASSERT_EQ(freed, it->second == 1);
        if (--it->second == 0) model.erase(it);
      }
    }
    ASSERT_EQ(a.used_blocks(), static_cast<int32_t>(model.size()));
    for (const auto& [id, rc] : model) ASSERT_EQ(a.RefCount(id), rc);
    ASSERT_EQ(a.CheckInvariants(), "");
  }
}

TEST(PagedKvCacheTest, AppendFillsBlocksInOrderAndReadsBack) {
  PagedKvCache c(8, 4, 5);
  const SeqId s = c.Create();
  ASSERT_TRUE(c.Append(s, Range(100, 10)));
  EXPECT_EQ(c.Length(s), 10);
  EXPECT_EQ(c.BlockTable(s).size(), 3u);
  EXPECT_EQ(c.Tokens(s), Range(100, 10));
  EXPECT_EQ(c.stored_tokens(), 10);
  ASSERT_TRUE(c.Append(s, Range(110, 2)));  // fills the last block, no new one
  EXPECT_EQ(c.BlockTable(s).size(), 3u);
  EXPECT_EQ(c.allocator().used_blocks(), 3);
  EXPECT_EQ(c.CheckInvariants(), "");
}

TEST(PagedKvCacheTest, ForkSharesEveryBlockWithoutCopying) {
  PagedKvCache c(8, 4);
  const SeqId p = c.Create();
  ASSERT_TRUE(c.Append(p, Range(0, 6)));
  const SeqId k = c.Fork(p);
  EXPECT_EQ(std::vector<int32_t>(c.BlockTable(k).begin(), c.BlockTable(k).end()),
            std::vector<int32_t>(c.BlockTable(p).begin(), c.BlockTable(p).end()));
  for (int32_t b : c.BlockTable(p)) EXPECT_EQ(c.allocator().RefCount(b), 2);
  EXPECT_EQ(c.allocator().used_blocks(), 2);
  EXPECT_EQ(c.stored_tokens(), 6);
  EXPECT_EQ(c.Tokens(k), Range(0, 6));
  EXPECT_TRUE(c.CopiesMade().empty());
  EXPECT_EQ(c.CheckInvariants(), "");
}

TEST(PagedKvCacheTest, WritingIntoASharedPartlyFilledBlockCopiesItFirst) {
  PagedKvCache c(8, 4);
  const SeqId p = c.Create();
  ASSERT_TRUE(c.Append(p, Range(0, 6)));  // blocks: [0 1 2 3] [4 5 . .]
  const SeqId k = c.Fork(p);
  const int32_t shared_last = c.BlockTable(p)[1];
  ASSERT_TRUE(c.Append(k, {{900, 901, 902}}));  // child: copy of [4 5], then 900.. and a new block
  ASSERT_EQ(c.CopiesMade().size(), 1u);
  EXPECT_EQ(c.CopiesMade()[0].first, shared_last);
  EXPECT_NE(c.BlockTable(k)[1], shared_last);
  EXPECT_EQ(c.BlockTable(k)[0], c.BlockTable(p)[0]);  // the full block stays shared
  EXPECT_EQ(c.allocator().RefCount(shared_last), 1);
  EXPECT_EQ(c.Tokens(p), Range(0, 6));
  EXPECT_EQ(c.Tokens(k), (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 900, 901, 902}));
  // The parent now owns its last block alone and writes in place.
  ASSERT_TRUE(c.Append(p, {{600}}));
  EXPECT_EQ(c.CopiesMade().size(), 1u);
  EXPECT_EQ(c.BlockTable(p)[1], shared_last);
  EXPECT_EQ(c.Tokens(p), (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 600}));
  EXPECT_EQ(c.Tokens(k), (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 900, 901, 902}));
  EXPECT_EQ(c.stored_tokens(),
            4 + 3 + 4 + 1);  // shared full block once, two partial copies, one more
  EXPECT_EQ(c.CheckInvariants(), "");
}

TEST(PagedKvCacheTest, AFullSharedBlockIsNeverCopied) {
  PagedKvCache c(8, 4);
  const SeqId p = c.Create();
  ASSERT_TRUE(c.Append(p, Range(0, 8)));
  const SeqId k = c.Fork(p);
  ASSERT_TRUE(c.Append(k, {{50}}));
  EXPECT_TRUE(c.CopiesMade().empty());
  EXPECT_EQ(c.BlockTable(k).size(), 3u);
  EXPECT_EQ(c.allocator().used_blocks(), 3);
  EXPECT_EQ(c.CheckInvariants(), "");
}

TEST(PagedKvCacheTest, FreeReleasesOnlyWhatNoOtherSequenceHolds) {
  PagedKvCache c(8, 4);
  const SeqId p = c.Create();
  ASSERT_TRUE(c.Append(p, Range(0, 7)));
  const SeqId k = c.Fork(p);
  ASSERT_TRUE(c.Append(k, Range(7, 5)));
  c.Free(p);
  EXPECT_FALSE(c.IsLive(p));
  EXPECT_EQ(c.Tokens(k), Range(0, 12));
  EXPECT_EQ(c.CheckInvariants(), "");
  EXPECT_THROW(c.Free(p), std::logic_error);
  c.Free(k);
  EXPECT_EQ(c.allocator().used_blocks(), 0);
  EXPECT_EQ(c.stored_tokens(), 0);
  EXPECT_EQ(c.CheckInvariants(), "");
}

TEST(PagedKvCacheTest, AppendThatDoesNotFitChangesNothing) {
  PagedKvCache c(3, 4);
  const SeqId p = c.Create();
  ASSERT_TRUE(c.Append(p, Range(0, 6)));
  const SeqId k = c.Fork(p);
  // Needs a copy of the shared partial block plus one new block: 2 > 1 free.
  EXPECT_FALSE(c.Append(k, Range(6, 3)));
  EXPECT_EQ(c.Length(k), 6);
  EXPECT_TRUE(c.CopiesMade().empty());
  EXPECT_EQ(c.allocator().used_blocks(), 2);
  EXPECT_TRUE(c.Append(k, Range(6, 2)));  // the copy alone fits
  EXPECT_EQ(c.Tokens(k), Range(0, 8));
  EXPECT_EQ(c.CheckInvariants(), "");
}

// Random create / fork / append / free against a model of every sequence's tokens.
TEST(PagedKvCacheTest, RandomOperationsKeepContentsAndInvariants) {
  PagedKvCache c(200, 8, 11);
  std::map<SeqId, std::vector<int32_t>> model;
  Rng rng(5);
  int32_t next_token = 0;
  for (int step = 0; step < 3000; ++step) {
    const double u = rng.Uniform();
    if (model.empty() || u < 0.1) {
      model[c.Create()] = {};
    } else {
      auto it = model.begin();
      std::advance(it, rng.Between(0, static_cast<int64_t>(model.size()) - 1));
      if (u < 0.25) {
        model[c.Fork(it->first)] = it->second;
      } else if (u < 0.35) {
        c.Free(it->first);
        model.erase(it);
      } else {
        std::vector<int32_t> tokens(static_cast<size_t>(rng.Between(1, 20)));
        for (int32_t& t : tokens) t = next_token++;
        if (c.Append(it->first, tokens))
          it->second.insert(it->second.end(), tokens.begin(), tokens.end());
      }
    }
    if (step % 50 == 0) {
      ASSERT_EQ(c.CheckInvariants(), "") << "step " << step;
      for (const auto& [seq, tokens] : model)
        ASSERT_EQ(c.Tokens(seq), tokens) << "sequence " << seq;
    }
  }
  EXPECT_GT(c.CopiesMade().size(), 0u);
  for (const auto& [seq, tokens] : model) c.Free(seq);
  EXPECT_EQ(c.allocator().used_blocks(), 0);
  EXPECT_EQ(c.CheckInvariants(), "");
}

}  // namespace
}  // namespace attn::kvpaged
