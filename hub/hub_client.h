// HubClient: the command line's side of the hub's HTTP API (`ahub submit`, `ahub verify --hub`).
// It turns a base URL (http://host:port[/prefix]) into requests under <base>/api/v1, sends the
// bearer token, and turns every answer that is not 2xx into the ApiError the hub described in
// its error envelope, so a refusal reads the same on both sides of the wire.
//
// Invariants of every ApiError a HubClient returns:
//   1. http is the response status (4xx, 5xx), or 0 when no HTTP answer came back: then code is
//      "unreachable" (no connection, broken transfer) or "timeout".
//   2. message names the request (METHOD URL) unless the hub's own message was kept.
//
// Thread-safety: one HubClient is used by one thread at a time.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "hub/api_error.h"
#include "runner/status.h"

namespace httplib {
class Client;
}

namespace ahub::hub {

struct HubUrl {
  std::string origin;  // scheme://host:port, what httplib::Client connects to
  std::string prefix;  // where the hub is mounted below the origin: "" or "/path" (no trailing /)
};

// Parses "http://HOST[:PORT][/PREFIX]" (https too; HOST may be [IPv6]). InvalidArgument names
// what is wrong and the accepted form.
Result<HubUrl> ParseHubUrl(const std::string& url);

struct HubReply {
  int status = 0;
  std::string body;
  nlohmann::json json;  // the body parsed, when the reply is JSON; null otherwise
};

class HubClient {
 public:
  // `token` may be empty (anonymous reads). `timeout` bounds each request's connect, send and
  // wait for the answer.
  static Result<std::unique_ptr<HubClient>> Create(const std::string& url, std::string token,
                                                   std::chrono::seconds timeout);
  ~HubClient();
  HubClient(const HubClient&) = delete;
  HubClient& operator=(const HubClient&) = delete;

  // `path` is below /api/v1, e.g. "/jobs/7". Success only for a 2xx answer.
  ApiResult<HubReply> Get(const std::string& path);
  ApiResult<HubReply> Post(const std::string& path, const std::string& body,
                           const std::string& content_type);

  // The absolute URL of an API path, for messages.
  std::string Url(const std::string& path) const;

 private:
  HubClient(HubUrl url, std::string token, std::chrono::seconds timeout,
            std::unique_ptr<httplib::Client> http);

  HubUrl url_;
  std::string token_;
  std::chrono::seconds timeout_;
  std::unique_ptr<httplib::Client> http_;
};

// A refusal of the request itself (4xx): retrying the same request will not help.
inline bool IsRefusal(const ApiError& error) { return error.http >= 400 && error.http < 500; }

// "HTTP 422 invalid_manifest: MESSAGE" followed by one indented line per detail; a detail that
// names a manifest position reads FILE:LINE:COL: FIELD: MESSAGE, as `ahub validate` prints it.
std::string FormatApiError(const ApiError& error);

}  // namespace ahub::hub
