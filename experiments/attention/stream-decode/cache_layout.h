// Where the attention-sink + recent-window cache keeps each token, as closed-form functions of
// how many tokens have been admitted. Header-only and free of CUDA so that the kernels (which
// compile it as __host__ __device__) and the CPU code use one definition.
//
// Layout of the cache's `sinks + window` slots:
//   1. slots [0, sinks) hold tokens 0 .. sinks-1 (the attention sinks) for ever;
//   2. slots [sinks, sinks + window) are a ring: token t >= sinks goes to
//      sinks + (t - sinks) mod window, overwriting (evicting) the token `window` places older;
//   3. StreamingLLM assigns RoPE positions by place in the cache, not by place in the stream:
//      ordered sinks first, then the window from oldest to newest, the i-th token held has
//      position i, so positions stay below sinks + window however long the stream runs. The query
//      (the newest token) has the last position, length - 1.
// SinkWindowCache (sink_window_cache.h) keeps the same layout by explicit bookkeeping; the tests
// check that the two agree. Pure functions; safe from any thread.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define ATTN_STREAM_HD __host__ __device__
#else
#define ATTN_STREAM_HD
#endif

namespace attn::stream {

struct CacheLayout {
  int sinks = 4;
  int window = 1;  // >= 1

  ATTN_STREAM_HD int capacity() const { return sinks + window; }
};

// The slot that token `t` (0-based index in the stream) is written to.
ATTN_STREAM_HD inline int WriteSlot(CacheLayout c, int64_t t) {
  if (t < c.sinks) return static_cast<int>(t);
  return c.sinks + static_cast<int>((t - c.sinks) % c.window);
}

// The cache after `seen` tokens were admitted, in the few numbers PositionOf needs.
struct CacheView {
  CacheLayout layout;
  int length = 0;       // tokens held: min(seen, capacity)
  int recent_held = 0;  // of which in the window: min(max(seen - sinks, 0), window)
  int oldest_ring = 0;  // ring index (slot - sinks) of the oldest window token
};

ATTN_STREAM_HD inline CacheView ViewAfter(CacheLayout c, int64_t seen) {
  CacheView v;
  v.layout = c;
  const int64_t recent = seen > c.sinks ? seen - c.sinks : 0;
  v.recent_held = static_cast<int>(recent < c.window ? recent : c.window);
  const int64_t sinks_held = seen < c.sinks ? seen : c.sinks;
  v.length = static_cast<int>(sinks_held) + v.recent_held;
  // Until the ring wraps it fills from index 0; afterwards the oldest entry is the one the next
  // token will overwrite, i.e. the one after the newest.
  v.oldest_ring = recent <= c.window ? 0 : static_cast<int>(recent % c.window);
  return v;
}

// RoPE position of the token in `slot`, or -1 when the slot is empty.
ATTN_STREAM_HD inline int PositionOf(const CacheView& v, int slot) {
  const int sinks = v.layout.sinks, window = v.layout.window;
  if (slot < sinks) return slot < v.length ? slot : -1;
  const int age = (slot - sinks - v.oldest_ring + window) % window;  // 0 = oldest in the window
  return age < v.recent_held ? sinks + age : -1;
}

// The position the query (the newest token) takes: the last one in the cache.
ATTN_STREAM_HD inline int QueryPosition(const CacheView& v) { return v.length - 1; }

}  // namespace attn::stream
