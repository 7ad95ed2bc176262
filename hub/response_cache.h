// ResponseCache: recent read responses of the HTTP API, each computed at one hub generation
// (Hub::generation(), bumped by every committed write). A response is served from here only
// while the generation it was computed at is still current, so a cached page is never older
// than the last write; a new generation empties the cache at once.
//
// After a write every reader of a hot page misses at the same moment. GetOrCompute() lets one of
// them compute the page while the others wait for its result, so a busy hub recomputes its
// first page once per write instead of once per connection.
//
// Invariants:
//   1. Every stored entry was computed at generation_ (older ones are dropped on the first call
//      that sees a newer generation).
//   2. bytes_ (the sum of key, content type and body sizes of the entries) <= capacity_bytes
//      after every store; the least recently used entries are evicted first.
//   3. At most one computation per (key, generation) runs at a time.
//
// Thread-safety: every member function may be called concurrently; one mutex guards the table.
// Entries are handed out as shared pointers so bodies are copied into responses outside the lock,
// and an entry evicted meanwhile stays alive for the request that is still sending it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ahub::hub {

class ResponseCache {
 public:
  struct Entry {
    int status = 200;
    std::string content_type;
    std::string body;
  };
  // What a computation produced, and whether it may be kept (an error page is only shared with
  // the callers that waited for it, never stored).
  struct Computed {
    Entry entry;
    bool cacheable = true;
  };

  // capacity_bytes 0 disables storing. A single entry larger than an eighth of the capacity is
  // not stored: it would evict many small, hot pages to save one recomputation.
  explicit ResponseCache(size_t capacity_bytes);

  // The entry for `key` at `generation`: the stored one, the result of a computation already
  // running for it, or the result of `compute()` run on this thread. `generation` must be read
  // before the page is computed, so a write racing the computation makes the entry stale rather
  // than wrong. An exception from `compute` propagates to this caller; waiters then compute
  // for themselves.
  std::shared_ptr<const Entry> GetOrCompute(const std::string& key, uint64_t generation,
                                            const std::function<Computed()>& compute);

  // The stored entry for `key` if it was computed at `generation`; null otherwise.
  std::shared_ptr<const Entry> Get(const std::string& key, uint64_t generation);
  // Stores `entry`, computed at `generation`; ignored when that generation is outdated.
  void Put(const std::string& key, uint64_t generation, Entry entry);

  size_t entries() const;

 private:
  using Lru = std::list<std::pair<std::string, std::shared_ptr<const Entry>>>;
  struct Flight {
    bool done = false;
    std::shared_ptr<const Entry> result;  // null when the computation threw
  };

  // Drops everything when `generation` is newer than the entries' (invariant 1).
  void AdvanceLocked(uint64_t generation);
  std::shared_ptr<const Entry> GetLocked(const std::string& key, uint64_t generation);
  void PutLocked(const std::string& key, uint64_t generation, std::shared_ptr<const Entry> entry);

  const size_t capacity_bytes_;
  mutable std::mutex mu_;
  std::condition_variable flight_done_;
  uint64_t generation_ = 0;                               // guarded by mu_
  Lru lru_;                                               // guarded by mu_; most recent first
  std::unordered_map<std::string, Lru::iterator> index_;  // guarded by mu_
  size_t bytes_ = 0;                                      // guarded by mu_
  // Computations in progress, keyed by generation and key. Guarded by mu_.
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_;
};

}  // namespace ahub::hub
