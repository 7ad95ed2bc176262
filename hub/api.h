// ApiServer: the HTTP layer of `ahub serve` over a Hub. It routes, authenticates, rate-limits,
// reads bodies within the upload limit, caches read pages, counts requests for /metrics and wraps
// every refusal in the error envelope of hub/api_error.h. Every rule about packages, tokens and
// roles lives in the Hub; the contract of each route is schemas/openapi.yaml, which the server
// also serves at GET /api/v1/openapi.json.
//
// Lifecycle: construct, Bind() (port 0 picks a free port, read it back with port()), then Serve()
// blocks until Stop() is called from another thread (a signal watcher, a test).
//
// Thread-safety: Stop() and port() may be called from any thread; Bind() and Serve() from the
// owning thread, once each. Requests are served concurrently on `threads` pool threads, each
// calling into the Hub (itself thread-safe).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "hub/service.h"

namespace ahub::hub {

struct ApiOptions {
  // Pool threads; each serves one connection at a time, so this many keep-alive clients are
  // served at once.
  int threads = 32;
  // Requests one keep-alive connection may make before the server closes it.
  size_t keep_alive_max_requests = 1000;
  // Largest request body; larger uploads are refused with 413 payload_too_large.
  size_t max_body_bytes = static_cast<size_t>(ExtractLimits{}.max_archive_bytes);
  // Per-token token bucket for authenticated requests (429 rate_limited beyond it).
  double rate_per_second = 20;
  double rate_burst = 60;
  // Memory for cached read pages (GET /packages and /packages/{id}); 0 disables the cache.
  size_t cache_bytes = 64u << 20;
  // One line per request on stderr.
  bool verbose = false;
};

class ApiServer {
 public:
  ApiServer(Hub& hub, ApiOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds the listening socket. A non-ok Status names the address and the reason.
  Status Bind(const std::string& host, int port);
  // The bound port (the chosen one when Bind() was given 0); 0 before Bind().
  int port() const;
  // Serves until Stop(); a non-ok Status when the listening socket failed.
  Status Serve();
  // Stops accepting and makes Serve() return once the requests in progress are answered.
  void Stop();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ahub::hub
