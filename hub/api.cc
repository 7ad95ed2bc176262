// The HTTP API: routes of schemas/openapi.yaml over the Hub, on cpp-httplib.
//
// httplib's own routing is reduced to one catch-all handler per method; RouteTable does the
// matching, so the server can answer 405 with Allow, label metrics by route template, and keep
// the order of checks in one place (Dispatch): route, authentication, rate limit, write
// permission, body, cache, handler.
#include "hub/api.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "hub/metrics.h"
#include "hub/openapi.h"
#include "hub/rate_limit.h"
#include "hub/response_cache.h"
#include "hub/route_table.h"
#include "hub/web_assets.h"

namespace ahub::hub {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr const char* kJsonType = "application/json; charset=utf-8";
constexpr const char* kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
// How far past the upload limit a refused body is still read (and dropped) to keep its
// connection usable; beyond that the connection is closed instead.
constexpr size_t kMinDrainBytes = 1u << 20;
constexpr const char* kContractHint = "the routes are described at /api/v1/openapi.json";
constexpr const char* kUploadTypes =
    "application/gzip, application/x-gzip, application/x-tar, application/octet-stream "
    "(a .tar.gz), application/x-git-bundle, application/json ({\"git\": URL, \"ref\": REF})";

// One response, before it is written into httplib's Response.
struct Reply {
  int status = 200;
  std::string content_type = kJsonType;
  std::string body;
  httplib::Headers headers;
};

std::string Dump(const json& j) {
  // Stored text may hold invalid UTF-8 (a manifest, a log line); replace it, never throw.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Reply JsonReply(int status, const json& body) { return Reply{status, kJsonType, Dump(body), {}}; }

Reply ErrorReply(const ApiError& error) {
  Reply reply = JsonReply(error.http, error.ToJson());
  if (error.http == 401) reply.headers.emplace("WWW-Authenticate", "Bearer realm=\"ahub\"");
  return reply;
}

void WriteReply(Reply reply, httplib::Response& res) {
  res.status = reply.status;
  for (auto& [name, value] : reply.headers) res.set_header(name, value);
  if (reply.status != 204 && reply.status != 304) {
    res.set_content(std::move(reply.body), reply.content_type);
  }
}

Reply Respond(const ApiResult<json>& result, int status = 200) {
  return result.ok() ? JsonReply(status, result.value()) : ErrorReply(result.error());
}

// The envelope for a status httplib produced itself, before any handler ran.
ApiError ErrorForStatus(int status, const httplib::Request& req, size_t max_body_bytes) {
  const std::string where = req.method + " " + req.path;
  switch (status) {
    case 404:
      return MakeError(404, "not_found", "no route for " + where + "; " + kContractHint);
    case 413:
      return MakeError(413, "payload_too_large",
                       "request body of " + where + " exceeds the upload limit of " +
                           std::to_string(max_body_bytes) + " bytes");
    case 414:
      return MakeError(414, "uri_too_long", "request target is too long");
    case 416:
      return MakeError(416, "range_not_satisfiable", "the Range header cannot be satisfied");
    case 500:
      return MakeError(500, "internal", "internal error while serving " + where);
    default:
      return MakeError(status, "bad_request",
                       "malformed HTTP request (request line, headers or body framing)");
  }
}

// 20 -> "20", 0.5 -> "0.5" (std::to_string would print "20.000000").
std::string FormatNumber(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// A decimal integer in [min, max], the whole string.
std::optional<int64_t> ParseInt(std::string_view s, int64_t min, int64_t max) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < min || v > max) return std::nullopt;
  return v;
}

ApiResult<int64_t> PathInt(const std::string& value, const char* name) {
  if (auto v = ParseInt(value, 1, INT32_MAX)) return *v;
  return MakeError(400, "invalid_path",
                   std::string("path parameter {") + name + "} is \"" + value +
                       "\"; accepted: a positive integer");
}

// An optional integer query parameter; `fallback` when absent.
ApiResult<int64_t> QueryInt(const httplib::Request& req, const char* name, int64_t fallback,
                            int64_t min, int64_t max) {
  if (!req.has_param(name)) return fallback;
  const std::string value = req.get_param_value(name);
  if (auto v = ParseInt(value, min, max)) return *v;
  return MakeError(400, "invalid_query",
                   std::string("query parameter ") + name + "=\"" + value +
                       "\"; accepted: an integer from " + std::to_string(min) + " to " +
                       std::to_string(max));
}

ApiResult<int64_t> RequiredQueryInt(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) {
    return MakeError(400, "invalid_query",
                     std::string("query parameter ") + name +
                         " is required; accepted: a version number, e.g. ?from=1&to=2");
  }
  return QueryInt(req, name, 0, 1, INT32_MAX);
}

// f(value) when `v` holds one, else the error reply: keeps argument checks in handlers flat.
template <typename F>
Reply With(const ApiResult<int64_t>& v, F&& f) {
  return v.ok() ? f(v.value()) : ErrorReply(v.error());
}

Reply WebReply(WebResponse web) {
  Reply reply{web.status, std::move(web.content_type), std::string(web.body), {}};
  for (auto& [name, value] : web.headers) reply.headers.emplace(std::move(name), std::move(value));
  return reply;
}

// "application/JSON; charset=utf-8" -> "application/json".
std::string MediaType(const std::string& header) {
  std::string type = header.substr(0, header.find(';'));
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  type.erase(type.begin(), std::find_if(type.begin(), type.end(), not_space));
  type.erase(std::find_if(type.rbegin(), type.rend(), not_space).base(), type.end());
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return type;
}

// nlohmann reports the position of a syntax error only through its exception, so the one
// expected failure of this module that is an exception is caught right here.
ApiResult<json> ParseJsonBody(const std::string& body) {
  try {
    return json::parse(body);
  } catch (const json::parse_error& e) {
    // what() starts with "[json.exception.parse_error.101] "; the rest names line and column.
    std::string what = e.what();
    if (const size_t p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    return MakeError(400, "invalid_json", "request body is not valid JSON: " + what,
                     json::array({{{"byte", e.byte}}}));
  }
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The submission in a POST /packages body, by Content-Type, or by its first bytes when the type
// says nothing (missing or application/octet-stream).
// `bundle_ref` is the ?ref= of the request: which ref of a bundle holds the package.
ApiResult<Submission> ParseSubmission(const std::string& content_type, std::string body,
                                      const std::string& bundle_ref) {
  const std::string type = MediaType(content_type);
  Submission s;
  if (type == "application/json") {
    ApiResult<json> doc = ParseJsonBody(body);
    if (!doc.ok()) return doc.error();
    const json& j = doc.value();
    if (!j.is_object() || !j.contains("git") || !j["git"].is_string() ||
        j["git"].get<std::string>().empty()) {
      return MakeError(400, "invalid_body",
                       "request body: expected {\"git\": \"<path or file:// URL>\", \"ref\": "
                       "\"<branch, tag or commit>\"} with a non-empty \"git\"");
    }
    for (const auto& [key, value] : j.items()) {
      if (key == "git") continue;
      if (key == "ref" && value.is_string()) continue;
      return MakeError(400, "invalid_body",
                       "request body: /" + key + ": " +
                           (key == "ref" ? "must be a string" : "unknown key; accepted: git, ref"));
    }
    s.kind = Submission::Kind::kGit;
    s.git_url = j["git"].get<std::string>();
    s.git_ref = j.value("ref", "");
    return s;
  }
  if (body.empty()) {
    return MakeError(400, "empty_body",
                     "request body is empty; send a package as " + std::string(kUploadTypes));
  }
  if (type == "application/gzip" || type == "application/x-gzip" || type == "application/x-tar") {
    s.kind = Submission::Kind::kTarball;
  } else if (type == "application/x-git-bundle") {
    s.kind = Submission::Kind::kBundle;
  } else if (type.empty() || type == "application/octet-stream") {
    const bool bundle = StartsWith(body, "# v2 git bundle") || StartsWith(body, "# v3 git bundle");
    // Anything else is handed over as an archive: gzip or plain tar, or refused by the archive
    // reader with a message that names what it found.
    s.kind = bundle ? Submission::Kind::kBundle : Submission::Kind::kTarball;
  } else {
    return MakeError(415, "unsupported_media_type",
                     "Content-Type " + type + " is not a package; accepted: " + kUploadTypes);
  }
  if (s.kind == Submission::Kind::kBundle) s.git_ref = bundle_ref;
  s.body = std::move(body);
  return s;
}

const std::string& MethodLabel(const std::string& method) {
  static const std::vector<std::string> kKnown = {"GET",   "HEAD",   "POST",   "PUT",
                                                  "PATCH", "DELETE", "OPTIONS"};
  static const std::string kOther = "other";
  auto it = std::find(kKnown.begin(), kKnown.end(), method);
  return it == kKnown.end() ? kOther : *it;
}

// What the hooks of one request share. httplib 0.11 runs the pre-routing handler, the route
// handler, the error handler and the post-routing handler of a request on one pool thread, one
// after another, so a thread_local carries the request's start time and route from the first to
// the last.
struct InFlight {
  bool active = false;
  Clock::time_point start;
  RouteTable::Match match;
};
thread_local InFlight t_in_flight;

}  // namespace

class ApiServer::Impl {
 public:
  Impl(Hub& hub, ApiOptions options);

  Status Bind(const std::string& host, int port);
  Status Serve();
  void Stop();
  int port() const { return port_.load(); }

 private:
  // What a route handler sees.
  struct Call {
    const httplib::Request& req;
    const std::vector<std::string>& params;  // path placeholders, in template order
    const Caller& caller;
    std::string body;  // write routes only
  };
  using Handler = std::function<Reply(Call&)>;
  struct Route {
    Handler handler;
    bool write = false;      // needs a token; body read; Cache-Control: no-store
    bool cacheable = false;  // GET page kept in the ResponseCache for one generation
  };

  void AddRoute(const char* method, const char* path, Route route);
  void AddRoutes();
  void InstallHooks();

  void Handle(const httplib::Request& req, httplib::Response& res,
              const httplib::ContentReader* reader);
  Reply Dispatch(const httplib::Request& req, const RouteTable::Match& match,
                 const httplib::ContentReader* reader);
  // Reads the body within max_body_bytes (also for chunked uploads, which httplib 0.11 does not
  // bound itself). Discards it when `keep` is false: a refused request must still be consumed,
  // or its bytes would be parsed as the connection's next request. A body over the limit is read
  // on and dropped up to kMinDrainBytes (or the limit) beyond it, so the connection stays usable;
  // past that, reading stops and `abandoned` is set: the reply must close the connection.
  ApiResult<std::string> ReadBody(const httplib::Request& req, const httplib::ContentReader& reader,
                                  bool keep, bool& abandoned);
  Reply Cached(const httplib::Request& req, const Route& route, Call& call);
  void Record(const httplib::Request& req, const httplib::Response& res);

  // Route handlers beyond one-line forwards to the Hub.
  Reply SubmitPackage(Call& call);
  Reply ListPackages(const httplib::Request& req);
  Reply ArchiveOf(const std::string& id, int version);
  Reply Metrics();

  Hub& hub_;
  const ApiOptions options_;
  httplib::Server server_;
  RouteTable table_;
  std::vector<Route> routes_;  // indexed by RouteTable id
  RateLimiter limiter_;
  ResponseCache cache_;
  MetricRegistry metrics_;
  Counter& requests_;
  Histogram& latency_;
  Counter& rate_limited_;
  std::string openapi_json_;  // the rendered contract, or empty when it failed to convert
  std::string openapi_error_;

  std::atomic<int> port_{0};
  socket_t listen_socket_ = -1;  // seen by set_socket_options, to raise its backlog
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> serving_{false};
};

ApiServer::Impl::Impl(Hub& hub, ApiOptions options)
    : hub_(hub),
      options_(std::move(options)),
      limiter_(options_.rate_per_second, options_.rate_burst),
      cache_(options_.cache_bytes),
      requests_(metrics_.AddCounter("ahub_http_requests_total", "HTTP requests answered.",
                                    {"method", "route", "status"})),
      latency_(metrics_.AddHistogram("ahub_http_request_duration_seconds",
                                     "Time from the request's headers to its response, by route.",
                                     {"route"})),
      rate_limited_(metrics_.AddCounter("ahub_http_rate_limited_total",
                                        "Requests refused by the per-token rate limit.")) {
  Result<json> contract = YamlToJson(OpenApiYaml());
  if (contract.ok()) {
    openapi_json_ = Dump(contract.value());
  } else {
    openapi_error_ = "schemas/openapi.yaml: " + contract.status().ToString();
    std::cerr << "ahub serve: the embedded " << openapi_error_ << "\n";
  }
  AddRoutes();
  InstallHooks();
}

void ApiServer::Impl::AddRoute(const char* method, const char* path, Route route) {
  const int id = table_.Add(method, path);
  routes_.resize(static_cast<size_t>(id) + 1);
  routes_[static_cast<size_t>(id)] = std::move(route);
}

void ApiServer::Impl::AddRoutes() {
  auto get = [this](const char* path, Handler h, bool cacheable = false) {
    AddRoute("GET", path, Route{std::move(h), false, cacheable});
  };
  auto write = [this](const char* method, const char* path, Handler h) {
    AddRoute(method, path, Route{std::move(h), true, false});
  };
  // ?version=n of the routes that default to the latest version (0).
  auto version = [](const Call& c) { return QueryInt(c.req, "version", 0, 1, INT32_MAX); };

  auto health = [this](Call&) {
    json h = hub_.Health();
    return JsonReply(h.value("status", "") == "ok" ? 200 : 503, h);
  };
  get("/healthz", health);
  get("/api/v1/healthz", health);
  get("/metrics", [this](Call&) { return Metrics(); });
  get("/api/v1/metrics", [this](Call&) { return Metrics(); });
  get("/api/v1/openapi.json", [this](Call&) {
    if (openapi_json_.empty()) return ErrorReply(MakeError(500, "internal", openapi_error_));
    return Reply{200, kJsonType, openapi_json_, {}};
  });

  write("POST", "/api/v1/packages", [this](Call& c) { return SubmitPackage(c); });
  get(
      "/api/v1/packages", [this](Call& c) { return ListPackages(c.req); }, /*cacheable=*/true);
  get(
      "/api/v1/packages/{id}", [this](Call& c) { return Respond(hub_.GetPackage(c.params[0], 0)); },
      /*cacheable=*/true);
  get("/api/v1/packages/{id}/versions",
      [this](Call& c) { return Respond(hub_.ListVersions(c.params[0])); });
  get(
      "/api/v1/packages/{id}/versions/{n}",
      [this](Call& c) {
        return With(PathInt(c.params[1], "n"), [&](int64_t n) {
          return Respond(hub_.GetPackage(c.params[0], static_cast<int>(n)));
        });
      },
      /*cacheable=*/true);
  get("/api/v1/packages/{id}/archive", [this](Call& c) { return ArchiveOf(c.params[0], 0); });
  get("/api/v1/packages/{id}/versions/{n}/archive", [this](Call& c) {
    return With(PathInt(c.params[1], "n"),
                [&](int64_t n) { return ArchiveOf(c.params[0], static_cast<int>(n)); });
  });
  get("/api/v1/packages/{id}/diff", [this](Call& c) {
    return With(RequiredQueryInt(c.req, "from"), [&](int64_t from) {
      return With(RequiredQueryInt(c.req, "to"), [&](int64_t to) {
        return Respond(hub_.Diff(c.params[0], static_cast<int>(from), static_cast<int>(to)));
      });
    });
  });
  get("/api/v1/packages/{id}/claims", [this, version](Call& c) {
    return With(version(c),
                [&](int64_t v) { return Respond(hub_.Claims(c.params[0], static_cast<int>(v))); });
  });
  get("/api/v1/packages/{id}/runs", [this, version](Call& c) {
    return With(version(c),
                [&](int64_t v) { return Respond(hub_.Runs(c.params[0], static_cast<int>(v))); });
  });
  get("/api/v1/packages/{id}/runs/{run}", [this](Call& c) {
    return With(PathInt(c.params[1], "run"),
                [&](int64_t run) { return Respond(hub_.Run(c.params[0], run)); });
  });
  get("/api/v1/packages/{id}/tensions",
      [this](Call& c) { return Respond(hub_.PackageTensions(c.params[0])); });
  write("POST", "/api/v1/packages/{id}/verify", [this, version](Call& c) {
    return With(version(c), [&](int64_t v) {
      return Respond(hub_.Requeue(c.caller, c.params[0], static_cast<int>(v)), 202);
    });
  });

  get("/api/v1/jobs/{id}", [this](Call& c) {
    return With(PathInt(c.params[0], "id"), [&](int64_t id) { return Respond(hub_.Job(id)); });
  });

  write("POST", "/api/v1/attestations", [this](Call& c) {
    ApiResult<json> report = ParseJsonBody(c.body);
    if (!report.ok()) return ErrorReply(report.error());
    return Respond(hub_.Attest(c.caller, report.value()), 201);
  });

  // An arXiv API response (Atom) in the body; every entry becomes a package (admin only).
  write("POST", "/api/v1/imports/arxiv", [this](Call& c) {
    const std::string type = MediaType(c.req.get_header_value("Content-Type"));
    if (type != "application/atom+xml" && type != "application/xml" && type != "text/xml") {
      return ErrorReply(MakeError(415, "unsupported_media_type",
                                  "Content-Type " + (type.empty() ? "(none)" : type) +
                                      " is not an Atom feed; accepted: application/atom+xml, "
                                      "application/xml, text/xml"));
    }
    return Respond(hub_.ImportArxiv(c.caller, c.body));
  });

  get("/api/v1/tensions",
      [this](Call& c) { return Respond(hub_.Tensions(c.req.get_param_value("status"))); });
  get("/api/v1/tensions/{id}", [this](Call& c) {
    return With(PathInt(c.params[0], "id"),
                [&](int64_t id) { return Respond(hub_.GetTension(id)); });
  });
  write("PATCH", "/api/v1/tensions/{id}", [this](Call& c) {
    return With(PathInt(c.params[0], "id"), [&](int64_t id) {
      ApiResult<json> patch = ParseJsonBody(c.body);
      if (!patch.ok()) return ErrorReply(patch.error());
      return Respond(hub_.UpdateTension(c.caller, id, patch.value()));
    });
  });

  // The reviewer pages (hub/web_assets.h): the application shell at each page, its files below.
  for (const char* page : kWebPageRoutes) {
    get(page,
        [](Call& c) { return WebReply(ServeWebPage(c.req.get_header_value("If-None-Match"))); });
  }
  get(kWebAssetRoute, [](Call& c) {
    ApiResult<WebResponse> asset =
        ServeWebAsset(c.params[0], c.req.get_header_value("If-None-Match"));
    return asset.ok() ? WebReply(std::move(asset.value())) : ErrorReply(asset.error());
  });

  get("/api/v1/blobs/{sha256}", [this](Call& c) {
    const std::string& sha = c.params[0];
    const bool hex = sha.size() == 64 && std::all_of(sha.begin(), sha.end(), [](char ch) {
                       return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
                     });
    if (!hex) {
      return ErrorReply(MakeError(
          400, "invalid_path",
          "path parameter {sha256} is \"" + sha + "\"; accepted: 64 lower-case hex digits"));
    }
    ApiResult<std::string> blob = hub_.Blob(sha);
    if (!blob.ok()) return ErrorReply(blob.error());
    return Reply{200, "application/octet-stream", std::move(blob.value()), {}};
  });
}

Reply ApiServer::Impl::SubmitPackage(Call& call) {
  ApiResult<Submission> submission =
      ParseSubmission(call.req.get_header_value("Content-Type"), std::move(call.body),
                      call.req.get_param_value("ref"));
  if (!submission.ok()) return ErrorReply(submission.error());
  ApiResult<SubmitResult> result = hub_.Submit(call.caller, submission.value());
  if (!result.ok()) return ErrorReply(result.error());
  Reply reply = JsonReply(result->http, result->body);
  const json& body = result->body;
  if (result->http == 201 && body.contains("id") && body.contains("version")) {
    reply.headers.emplace("Location", "/api/v1/packages/" + body["id"].get<std::string>() +
                                          "/versions/" +
                                          std::to_string(body["version"].get<int>()));
  }
  return reply;
}

Reply ApiServer::Impl::ListPackages(const httplib::Request& req) {
  ListQuery q;
  if (req.has_param("sort")) q.sort = req.get_param_value("sort");  // checked by the Hub
  ApiResult<int64_t> limit = QueryInt(req, "limit", q.limit, 1, 100);
  if (!limit.ok()) return ErrorReply(limit.error());
  q.limit = static_cast<int>(limit.value());
  q.category = req.get_param_value("category");
  q.tag = req.get_param_value("tag");
  q.q = req.get_param_value("q");
  q.cursor = req.get_param_value("cursor");
  return Respond(hub_.ListPackages(q));
}

Reply ApiServer::Impl::ArchiveOf(const std::string& id, int version) {
  int n = version;
  if (n == 0) {
    // The file name carries the version, so the latest one is looked up first.
    ApiResult<json> package = hub_.GetPackage(id, 0);
    if (!package.ok()) return ErrorReply(package.error());
    n = package->value("version", 0);
  }
  ApiResult<std::string> archive = hub_.Archive(id, n);
  if (!archive.ok()) return ErrorReply(archive.error());
  Reply reply{200, "application/gzip", std::move(archive.value()), {}};
  reply.headers.emplace("Content-Disposition",
                        "attachment; filename=\"" + id + "-v" + std::to_string(n) + ".tar.gz\"");
  return reply;
}

Reply ApiServer::Impl::Metrics() {
  std::string text = metrics_.Render();
  text += hub_.MetricsText();
  return Reply{200, kMetricsType, std::move(text), {}};
}

void ApiServer::Impl::InstallHooks() {
  server_.new_task_queue = [threads = options_.threads] {
    return new httplib::ThreadPool(static_cast<size_t>(std::max(1, threads)));
  };
  server_.set_keep_alive_max_count(std::max<size_t>(1, options_.keep_alive_max_requests));
  server_.set_payload_max_length(options_.max_body_bytes);
  // httplib writes a response's headers and body in two writes; with Nagle's algorithm the body
  // then waits for the client's delayed ACK (40 ms on Linux) on every keep-alive request.
  server_.set_tcp_nodelay(true);
  // httplib's default also sets SO_REUSEPORT, which lets a second server bind a port that is in
  // use and share its traffic; a port taken must be an error (exit 4), so only SO_REUSEADDR.
  server_.set_socket_options([this](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_socket_ = sock;
  });

  server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    t_in_flight = InFlight{true, Clock::now(), table_.Find(req.method, req.path)};
    if (MethodLabel(req.method) != "other") return httplib::Server::HandlerResponse::Unhandled;
    // httplib would read the body of the remaining methods it parses (PRI, chunked) with no
    // bound before routing; refuse them here, unread.
    WriteReply(ErrorReply(MakeError(405, "method_not_allowed",
                                    req.method + " is not an API method; the API uses GET, HEAD, "
                                                 "OPTIONS, POST and PATCH")),
               res);
    return httplib::Server::HandlerResponse::Handled;
  });

  // One catch-all per method: RouteTable decides. Methods that may carry a body get the
  // content-reader form, so the body is read (and bounded) by Dispatch, after authentication.
  const std::string kAny = ".*";
  auto plain = [this](const httplib::Request& req, httplib::Response& res) {
    Handle(req, res, nullptr);
  };
  auto with_body = [this](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader) { Handle(req, res, &reader); };
  server_.Get(kAny, plain);
  server_.Options(kAny, plain);
  server_.Post(kAny, plain);
  server_.Put(kAny, plain);
  server_.Patch(kAny, plain);
  server_.Delete(kAny, plain);
  server_.Post(kAny, with_body);
  server_.Put(kAny, with_body);
  server_.Patch(kAny, with_body);
  server_.Delete(kAny, with_body);

  // Responses httplib made itself (malformed request, body over the limit) get the envelope.
  server_.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        const ApiError error = ErrorForStatus(res.status, req, options_.max_body_bytes);
        res.set_content(Dump(error.ToJson()), kJsonType);
        return httplib::Server::HandlerResponse::Handled;
      }));

  server_.set_exception_handler([this](const httplib::Request& req, httplib::Response& res,
                                       std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    std::cerr << "ahub serve: " << req.method << " " << req.path << ": exception: " << what << "\n";
    res.status = 500;
    res.headers.clear();
    res.set_content(Dump(MakeError(500, "internal",
                                   "internal error while serving " + req.method + " " + req.path +
                                       "; it was logged on the server")
                             .ToJson()),
                    kJsonType);
  });

  // Runs for every response, after the error handler and just before it is written. Requests
  // are counted here rather than in httplib's logger (which runs after the write) so that a
  // client that has its answer also finds it in /metrics.
  server_.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    res.set_header("X-Content-Type-Options", "nosniff");
    if (req.method != "GET" && req.method != "HEAD") res.set_header("Cache-Control", "no-store");
    Record(req, res);
  });
}

void ApiServer::Impl::Handle(const httplib::Request& req, httplib::Response& res,
                             const httplib::ContentReader* reader) {
  if (!t_in_flight.active)
    t_in_flight = InFlight{true, Clock::now(), table_.Find(req.method, req.path)};
  WriteReply(Dispatch(req, t_in_flight.match, reader), res);
}

Reply ApiServer::Impl::Dispatch(const httplib::Request& req, const RouteTable::Match& match,
                                const httplib::ContentReader* reader) {
  // A refusal before the body was read must still consume it, or its bytes would be parsed as
  // the connection's next request.
  auto refuse = [&](Reply reply) {
    bool abandoned = false;
    if (reader) (void)ReadBody(req, *reader, /*keep=*/false, abandoned);
    if (abandoned) reply.headers.emplace("Connection", "close");
    return reply;
  };
  if (match.path_template == nullptr) {
    return refuse(ErrorReply(MakeError(
        404, "not_found", "no route for " + req.method + " " + req.path + "; " + kContractHint)));
  }
  if (req.method == "OPTIONS") {
    Reply reply{204, "", "", {{"Allow", *match.allow}}};
    return refuse(std::move(reply));
  }
  if (match.route < 0) {
    Reply reply = ErrorReply(MakeError(
        405, "method_not_allowed",
        req.method + " is not allowed on " + *match.path_template + "; allowed: " + *match.allow));
    reply.headers.emplace("Allow", *match.allow);
    return refuse(std::move(reply));
  }
  const Route& route = routes_[static_cast<size_t>(match.route)];

  std::optional<std::string> authorization;
  if (req.has_header("Authorization")) authorization = req.get_header_value("Authorization");
  ApiResult<Caller> caller = hub_.Authenticate(authorization);
  if (!caller.ok()) return refuse(ErrorReply(caller.error()));
  if (!caller->anonymous()) {
    const double wait = limiter_.Acquire(std::to_string(caller->token_id));
    if (wait > 0) {
      rate_limited_.Inc();
      const int seconds = std::max(1, static_cast<int>(std::ceil(wait)));
      Reply reply = ErrorReply(MakeError(
          429, "rate_limited",
          "token " + caller->name + " exceeded " + FormatNumber(options_.rate_per_second) +
              " requests a second (burst " + FormatNumber(options_.rate_burst) + "); retry after " +
              std::to_string(seconds) + " s"));
      reply.headers.emplace("Retry-After", std::to_string(seconds));
      return refuse(std::move(reply));
    }
  }
  if (route.write && caller->anonymous()) {
    return refuse(ErrorReply(MakeError(
        401, "unauthorized",
        req.method + " " + *match.path_template +
            " needs a token: send \"Authorization: Bearer <token>\" (create one with `ahub token "
            "create`)")));
  }

  Call call{req, match.params, caller.value(), {}};
  if (reader) {
    bool abandoned = false;
    ApiResult<std::string> body = ReadBody(req, *reader, /*keep=*/route.write, abandoned);
    if (!body.ok()) {
      Reply reply = ErrorReply(body.error());
      if (abandoned) reply.headers.emplace("Connection", "close");
      return reply;
    }
    call.body = std::move(body.value());
  }
  if (route.cacheable) return Cached(req, route, call);
  return route.handler(call);
}

ApiResult<std::string> ApiServer::Impl::ReadBody(const httplib::Request& req,
                                                 const httplib::ContentReader& reader, bool keep,
                                                 bool& abandoned) {
  std::string body;
  size_t seen = 0;
  const size_t limit = options_.max_body_bytes;
  const size_t drain_limit = limit + std::max(limit, kMinDrainBytes);
  const bool read = reader([&](const char* data, size_t n) {
    seen += n;
    if (seen > limit) {
      body.clear();
      return seen <= drain_limit;
    }
    if (keep) body.append(data, n);
    return true;
  });
  // httplib refuses a declared Content-Length over the limit itself: it skips the whole body and
  // the receiver is never called.
  const bool declared_too_large = req.get_header_value<uint64_t>("Content-Length") > limit;
  abandoned = !read && !declared_too_large;
  if (declared_too_large || seen > limit) return ErrorForStatus(413, req, limit);
  if (read) return body;
  return MakeError(400, "bad_request",
                   "the request body could not be read (connection closed or "
                   "malformed chunked encoding)");
}

Reply ApiServer::Impl::Cached(const httplib::Request& req, const Route& route, Call& call) {
  // The generation is read before the page is computed: a write racing the computation leaves
  // the entry stale (never served), not wrong. Cacheable routes answer without extra headers,
  // so status, type and body are the whole reply.
  const uint64_t generation = hub_.generation();
  std::shared_ptr<const ResponseCache::Entry> page =
      cache_.GetOrCompute("GET " + req.target, generation, [&] {
        Reply reply = route.handler(call);
        return ResponseCache::Computed{
            {reply.status, std::move(reply.content_type), std::move(reply.body)},
            reply.status == 200};
      });
  return Reply{page->status, page->content_type, page->body, {}};
}

void ApiServer::Impl::Record(const httplib::Request& req, const httplib::Response& res) {
  const InFlight flight = std::exchange(t_in_flight, InFlight{});
  static const std::string kUnmatched = "unmatched";
  const std::string& route =
      flight.active && flight.match.path_template ? *flight.match.path_template : kUnmatched;
  requests_.Inc({MethodLabel(req.method), route, std::to_string(res.status)});
  const double seconds =
      flight.active ? std::chrono::duration<double>(Clock::now() - flight.start).count() : 0;
  if (flight.active) latency_.Observe({route}, seconds);
  if (options_.verbose) {
    const std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    std::cerr << stamp << " " << req.remote_addr << " " << req.method << " " << req.target << " "
              << res.status << " " << res.body.size() << "B " << std::fixed << std::setprecision(1)
              << seconds * 1000 << "ms\n";
  }
}

Status ApiServer::Impl::Bind(const std::string& host, int port) {
  // httplib 0.11's bind_to_port() does not report the port it chose for 0;
  // bind_to_any_port() binds port 0 and returns the chosen one.
  const int bound =
      port == 0 ? server_.bind_to_any_port(host) : (server_.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return Status::IoError("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                           std::strerror(errno) +
                           " (is the port in use or the address not local?)");
  }
  port_ = bound;
  // Debian's httplib 0.11 listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG is compiled
  // into the library): under load, reconnecting keep-alive clients overflow the accept queue and
  // wait for a TCP retransmission (200 ms and more). listen() again only raises the backlog.
  if (listen_socket_ >= 0) ::listen(listen_socket_, SOMAXCONN);
  return Status::Ok();
}

Status ApiServer::Impl::Serve() {
  serving_ = true;
  const bool ok = stop_requested_ ? true : server_.listen_after_bind();
  serving_ = false;
  return ok ? Status::Ok() : Status::IoError("the listening socket failed");
}

void ApiServer::Impl::Stop() {
  stop_requested_ = true;
  // Serve() may be between its check of stop_requested_ and httplib's is_running_; wait for
  // the server to be running (or Serve to return) so the stop is not lost.
  while (serving_ && !server_.is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  server_.stop();
}

ApiServer::ApiServer(Hub& hub, ApiOptions options)
    : impl_(std::make_unique<Impl>(hub, std::move(options))) {}
ApiServer::~ApiServer() = default;
Status ApiServer::Bind(const std::string& host, int port) { return impl_->Bind(host, port); }
int ApiServer::port() const { return impl_->port(); }
Status ApiServer::Serve() { return impl_->Serve(); }
void ApiServer::Stop() { impl_->Stop(); }

}  // namespace ahub::hub
