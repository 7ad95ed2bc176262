#include "experiments/attention/kv-paged/replay.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "experiments/attention/kv-paged/paged_cache.h"

namespace attn::kvpaged {
namespace {

// How often (in steps) the replay runs the cache's full invariant check; it also runs at the end.
constexpr int64_t kInvariantCheckPeriod = 1024;

int64_t NextPow2(int64_t x) {
  int64_t p = 1;
  while (p < x) p <<= 1;
  return p;
}

int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

struct Active {
  SeqId seq;
  const Request* request;
  int32_t generated = 0;
};

}  // namespace

ReplayStats Replay(const Workload& workload, const ReplaySpec& spec) {
  if (spec.block_size < 1 || spec.concurrency < 1) {
    throw std::invalid_argument("replay: block_size and concurrency must be >= 1");
  }
  if (std::string e = ValidateWorkloadSpec(workload.spec); !e.empty())
    throw std::invalid_argument(e);
  const WorkloadSpec& w = workload.spec;
  // Enough blocks that the replay never runs out: every active request at max_len, its
  // copy-on-write copy, and the resident system prompts.
  const int64_t blocks =
      spec.concurrency * (CeilDiv(w.max_len, spec.block_size) + 1) +
      static_cast<int64_t>(w.prefix_groups) * CeilDiv(w.prefix_len, spec.block_size);
  PagedKvCache cache(static_cast<int32_t>(blocks), spec.block_size, spec.shuffle_seed);

  // Token values: position-unique ids, the same ids for a system prompt wherever it is stored.
  std::vector<int32_t> scratch(static_cast<size_t>(w.max_len));
  std::iota(scratch.begin(), scratch.end(), 0);
  auto append = [&](SeqId seq, int64_t n) {
    const int64_t from = cache.Length(seq);
    if (!cache.Append(seq, std::span<const int32_t>(scratch).subspan(static_cast<size_t>(from),
                                                                     static_cast<size_t>(n)))) {
      throw std::logic_error(
          "replay: the block pool ran out although it was sized for the worst case");
    }
  };

  std::vector<SeqId> prefixes;
  if (spec.share_prefixes) {
    for (int32_t g = 0; g < w.prefix_groups; ++g) {
      prefixes.push_back(cache.Create());
      append(prefixes.back(), w.prefix_len);
    }
  }

  ReplayStats st;
  st.requests = static_cast<int64_t>(workload.requests.size());
  std::vector<Active> active;
  size_t next = 0;
  while (next < workload.requests.size() || !active.empty()) {
    while (static_cast<int32_t>(active.size()) < spec.concurrency &&
           next < workload.requests.size()) {
      const Request& r = workload.requests[next++];
      SeqId seq;
      if (spec.share_prefixes && r.prefix_group >= 0) {
        seq = cache.Fork(prefixes[r.prefix_group]);
        append(seq, r.prompt_len);
      } else {
        seq = cache.Create();
        append(seq, workload.PrefixLen(r) + r.prompt_len);
      }
      active.push_back({seq, &r, 0});
    }
    for (Active& a : active) {
      append(a.seq, 1);
      ++a.generated;
    }

    ++st.steps;
    int64_t used = 0, pow2 = 0, exact = 0;
    for (const Active& a : active) {
      used += cache.Length(a.seq);
      const int64_t final_len = workload.FinalLen(*a.request);
      pow2 += NextPow2(final_len);
      exact += final_len;
    }
    st.used += static_cast<double>(used);
    st.reserved_contiguous_max += static_cast<double>(active.size()) * w.max_len;
    st.reserved_contiguous_pow2 += static_cast<double>(pow2);
    st.reserved_contiguous_exact += static_cast<double>(exact);
    st.reserved_paged += static_cast<double>(cache.allocator().used_blocks()) * spec.block_size;
    st.stored_paged += static_cast<double>(cache.stored_tokens());
    st.peak_paged_blocks = std::max<int64_t>(st.peak_paged_blocks, cache.allocator().used_blocks());
    st.peak_active = std::max<int64_t>(st.peak_active, static_cast<int64_t>(active.size()));
    if (st.invariant_error.empty() && st.steps % kInvariantCheckPeriod == 0) {
      st.invariant_error = cache.CheckInvariants();
    }

    for (size_t i = 0; i < active.size();) {
      if (active[i].generated >= active[i].request->output_len) {
        cache.Free(active[i].seq);
        active[i] = active.back();
        active.pop_back();
      } else {
        ++i;
      }
    }
  }
  if (st.invariant_error.empty()) st.invariant_error = cache.CheckInvariants();
  // With every request finished only the resident system prompts may hold blocks.
  int64_t expected_blocks = 0;
  for (SeqId p : prefixes) expected_blocks += static_cast<int64_t>(cache.BlockTable(p).size());
  if (st.invariant_error.empty() && cache.allocator().used_blocks() != expected_blocks) {
    st.invariant_error = "after the replay " + std::to_string(cache.allocator().used_blocks()) +
                         " blocks are in use; expected " + std::to_string(expected_blocks) +
                         " (leak)";
  }
  st.cow_copies = static_cast<int64_t>(cache.CopiesMade().size());
  return st;
}

}  // namespace attn::kvpaged
