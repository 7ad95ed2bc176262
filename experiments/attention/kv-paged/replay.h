// Replays a Workload through a continuous-batching decode loop and measures how much of the
// reserved KV-cache memory holds tokens, for contiguous per-request reservation and for the
// paged cache (PagedKvCache), with and without prefix sharing.
//
// The loop (one iteration = one decode step): admit queued requests in order while fewer than
// `concurrency` are active (prefill: the prompt is appended; with sharing, a request with a
// system prompt forks that prompt's resident sequence first, without it appends the prefix
// itself); every active request appends one output token; memory is sampled; requests that
// have produced all their output tokens are freed. With sharing, one sequence per system prompt
// stays resident for the whole replay (a prefix cache), and its blocks count as reserved.
//
// Memory is summed over steps ("token-steps"), so the fractions are time averages of what a
// server holds. Reservation policies for a contiguous cache (Kwon et al. 2023, §3 and Fig. 2):
//   max    every request reserves max_len slots (pre-vLLM systems such as FasterTransformer,
//          Orca (Max));
//   pow2   the final length rounded up to a power of two (Orca (Pow2));
//   exact  exactly the final length, known in advance (Orca (Oracle)): reserved but not yet
//          written slots are the only waste.
// Pure function of its inputs; safe from any thread.
#pragma once

#include <cstdint>
#include <string>

#include "experiments/attention/kv-paged/workload.h"

namespace attn::kvpaged {

struct ReplaySpec {
  int32_t block_size = 16;
  int32_t concurrency = 64;
  bool share_prefixes = false;
  uint64_t shuffle_seed = 1;  // the pool's free-list order (does not change any count)
};

struct ReplayStats {
  int64_t steps = 0;
  int64_t requests = 0;
  // Sums over steps of per-step token counts.
  double used = 0;  // active requests' lengths (prefix included)
  double reserved_contiguous_max = 0;
  double reserved_contiguous_pow2 = 0;
  double reserved_contiguous_exact = 0;
  double reserved_paged = 0;  // blocks in use x block_size
  double stored_paged = 0;    // filled slots of blocks in use; a shared block once
  int64_t peak_paged_blocks = 0;
  int64_t peak_active = 0;
  int64_t cow_copies = 0;
  std::string invariant_error;  // "" when the cache's invariants held at every check

  static double Waste(double reserved, double held) {
    return reserved > 0 ? 1.0 - held / reserved : 0.0;
  }
  double WasteContiguousMax() const { return Waste(reserved_contiguous_max, used); }
  double WasteContiguousPow2() const { return Waste(reserved_contiguous_pow2, used); }
  double WasteContiguousExact() const { return Waste(reserved_contiguous_exact, used); }
  double WastePaged() const { return Waste(reserved_paged, stored_paged); }
};

// Throws std::invalid_argument for a spec it cannot run (block_size or concurrency < 1, or an
// invalid workload spec).
ReplayStats Replay(const Workload& workload, const ReplaySpec& spec);

}  // namespace attn::kvpaged
