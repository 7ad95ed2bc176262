#include "hub/hub_client.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <utility>

namespace ahub::hub {
namespace {

using nlohmann::json;

constexpr const char* kApiRoot = "/api/v1";
constexpr const char* kUrlForm = "accepted: http://HOST[:PORT][/PREFIX] or https://...";
// A connection that does not open within this long will not open; the request timeout is for
// the hub's answer, which may legitimately take longer (a large upload is fsynced first).
constexpr std::chrono::seconds kConnectTimeout{10};
// How much of a non-JSON error body is quoted in a message (a proxy's HTML page, say).
constexpr size_t kQuotedBodyBytes = 200;

Status BadUrl(const std::string& url, const std::string& problem) {
  return Status::InvalidArgument("hub URL \"" + url + "\": " + problem + "; " + kUrlForm);
}

bool IsJson(const std::string& content_type) {
  std::string type = content_type.substr(0, content_type.find(';'));
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type.find("json") != std::string::npos;
}

// What went wrong on the wire, in words a user can act on.
ApiError TransportError(httplib::Error error, const std::string& what,
                        std::chrono::seconds timeout) {
  const std::string secs = std::to_string(timeout.count());
  switch (error) {
    case httplib::Error::ConnectionTimeout:
      return MakeError(
          0, "timeout",
          what + ": no connection within " + std::to_string(kConnectTimeout.count()) + " s");
    case httplib::Error::Connection:
      return MakeError(0, "unreachable",
                       what + ": cannot connect (is the hub running at this address?)");
    case httplib::Error::Read:
      // httplib reports a read that timed out as a failed read.
      return MakeError(
          0, "unreachable",
          what + ": no complete answer (connection closed, or nothing within " + secs + " s)");
    case httplib::Error::Write:
      return MakeError(0, "unreachable",
                       what + ": the request could not be sent (connection closed)");
    default:
      return MakeError(0, "unreachable", what + ": " + httplib::to_string(error));
  }
}

httplib::Headers Headers(const std::string& token) {
  httplib::Headers headers = {{"Accept", "application/json"}};
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  return headers;
}

// The reply of a request named `what` (METHOD URL): its body for 2xx, else the hub's envelope.
ApiResult<HubReply> ToReply(httplib::Result& res, const std::string& what,
                            std::chrono::seconds timeout) {
  if (!res) return TransportError(res.error(), what, timeout);
  HubReply reply{res->status, std::move(res->body), nullptr};
  if (IsJson(res->get_header_value("Content-Type"))) {
    reply.json = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
    if (reply.json.is_discarded()) reply.json = nullptr;
  }
  if (reply.status >= 200 && reply.status < 300) return reply;
  if (reply.json.is_object() && reply.json.contains("error") && reply.json["error"].is_object()) {
    const json& e = reply.json["error"];
    return MakeError(reply.status, e.value("code", "error"), e.value("message", what),
                     e.contains("details") ? e["details"] : json::array());
  }
  return MakeError(reply.status, "http_error",
                   what + " answered HTTP " + std::to_string(reply.status) + ": " +
                       reply.body.substr(0, kQuotedBodyBytes));
}

}  // namespace

Result<HubUrl> ParseHubUrl(const std::string& url) {
  std::string rest = url;
  const size_t sep = rest.find("://");
  if (sep == std::string::npos) return BadUrl(url, "no scheme");
  std::string scheme = rest.substr(0, sep);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != "http" && scheme != "https")
    return BadUrl(url, "scheme " + scheme + " is not supported");
  rest = rest.substr(sep + 3);
  const size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  std::string prefix = slash == std::string::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string::npos) {
    return BadUrl(url, "credentials in the URL are not used; pass the token with --token");
  }
  if (prefix.find_first_of("?#") != std::string::npos)
    return BadUrl(url, "a query or fragment is not a hub prefix");
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();

  std::string host, port;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) return BadUrl(url, "unclosed [ in the IPv6 address");
    host = authority.substr(0, close + 1);
    const std::string after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') return BadUrl(url, "unexpected text after ]");
    if (!after.empty()) port = after.substr(1);
  } else {
    const size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (host.empty() || host == "[]") return BadUrl(url, "no host");
  if (port.empty()) {
    port = scheme == "https" ? "443" : "80";
  } else if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
             std::stoi(port) == 0 || std::stoi(port) > 65535) {
    return BadUrl(url, "port \"" + port + "\" is not a number from 1 to 65535");
  }
  return HubUrl{scheme + "://" + host + ":" + port, prefix};
}

HubClient::HubClient(HubUrl url, std::string token, std::chrono::seconds timeout,
                     std::unique_ptr<httplib::Client> http)
    : url_(std::move(url)), token_(std::move(token)), timeout_(timeout), http_(std::move(http)) {}

HubClient::~HubClient() = default;

Result<std::unique_ptr<HubClient>> HubClient::Create(const std::string& url, std::string token,
                                                     std::chrono::seconds timeout) {
  Result<HubUrl> parsed = ParseHubUrl(url);
  if (!parsed.ok()) return parsed.status();
  auto http = std::make_unique<httplib::Client>(parsed->origin);
  if (!http->is_valid()) return BadUrl(url, "cannot make a client for " + parsed->origin);
  http->set_connection_timeout(std::min(timeout, kConnectTimeout));
  http->set_read_timeout(timeout);
  http->set_write_timeout(timeout);
  return std::unique_ptr<HubClient>(
      new HubClient(parsed.value(), std::move(token), timeout, std::move(http)));
}

std::string HubClient::Url(const std::string& path) const {
  return url_.origin + url_.prefix + kApiRoot + path;
}

ApiResult<HubReply> HubClient::Get(const std::string& path) {
  httplib::Result res = http_->Get(url_.prefix + kApiRoot + path, Headers(token_));
  return ToReply(res, "GET " + Url(path), timeout_);
}

ApiResult<HubReply> HubClient::Post(const std::string& path, const std::string& body,
                                    const std::string& content_type) {
  httplib::Result res =
      http_->Post(url_.prefix + kApiRoot + path, Headers(token_), body, content_type);
  return ToReply(res, "POST " + Url(path), timeout_);
}

std::string FormatApiError(const ApiError& error) {
  std::string out = error.http > 0 ? "HTTP " + std::to_string(error.http) + " " + error.code + ": "
                                   : error.code + ": ";
  out += error.message;
  if (!error.details.is_array()) return out;
  for (const json& d : error.details) {
    out += "\n  ";
    if (d.is_object() && d.contains("line") && d.contains("message")) {
      // A manifest diagnostic (runner/manifest.h Diagnostic::ToJson).
      out += d.value("file", "package.yaml");
      if (d.value("line", 0) > 0)
        out +=
            ":" + std::to_string(d.value("line", 0)) + ":" + std::to_string(d.value("column", 0));
      out += ": ";
      if (!d.value("path", "").empty()) out += d.value("path", "") + ": ";
      out += d.value("message", "");
    } else if (d.is_object() && d.contains("path") && d.contains("message")) {
      out += d.value("path", "") + ": " + d.value("message", "");
    } else {
      out += d.dump(-1, ' ', false, json::error_handler_t::replace);
    }
  }
  return out;
}

}  // namespace ahub::hub
