// The HTTP layer against the real `ahub serve` binary on a loopback port: routing, envelopes,
// authentication, limits, metrics, the served contract, and the serve/token commands.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>

#include "hub/archive.h"
#include "tests/hub/hub_process.h"

namespace {

using ahub::testing::HubProcess;
using ahub::testing::HubProcessOptions;
using ahub::testing::RunAhub;
using nlohmann::json;

constexpr const char* kJsonType = "application/json; charset=utf-8";

// The error envelope of hub/api_error.h, or a failure naming the body.
json Envelope(const httplib::Result& res) {
  EXPECT_TRUE(res);
  if (!res) return json();
  EXPECT_EQ(res->get_header_value("Content-Type"), kJsonType) << res->body;
  json j = json::parse(res->body, nullptr, false);
  EXPECT_TRUE(j.is_object() && j.contains("error")) << res->body;
  if (!j.is_object() || !j.contains("error")) return json();
  const json& e = j["error"];
  EXPECT_TRUE(e["code"].is_string()) << res->body;
  EXPECT_TRUE(e["message"].is_string()) << res->body;
  EXPECT_TRUE(e["details"].is_array()) << res->body;
  return e;
}

std::string Code(const httplib::Result& res) {
  const json e = Envelope(res);
  return e.is_object() ? e.value("code", "") : "";
}

std::string SeedArchive(const std::string& name) {
  auto tgz = ahub::hub::PackTarGz(ahub::testing::SourceDir() / "packages" / name);
  EXPECT_TRUE(tgz.ok()) << tgz.status().ToString();
  return tgz.value();
}

// One server without seeds shared by the tests that do not change what it stores.
class ApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { hub_ = new HubProcess(); }
  static void TearDownTestSuite() {
    delete hub_;
    hub_ = nullptr;
  }
  static HubProcess& hub() { return *hub_; }

  static HubProcess* hub_;
};
HubProcess* ApiTest::hub_ = nullptr;

TEST_F(ApiTest, HealthzAnswersAtBothPaths) {
  auto http = hub().Client();
  for (const char* path : {"/healthz", "/api/v1/healthz"}) {
    auto res = http.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_EQ(res->get_header_value("Content-Type"), kJsonType);
    EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff");
    const json j = json::parse(res->body);
    EXPECT_EQ(j["status"], "ok");
    EXPECT_TRUE(j["queue"].contains("queued")) << res->body;
  }
}

// Every route the server implements, with its methods: the contract must list exactly these.
const std::map<std::string, std::set<std::string>> kRoutes = {
    {"/healthz", {"get"}},
    {"/metrics", {"get"}},
    {"/api/v1/healthz", {"get"}},
    {"/api/v1/metrics", {"get"}},
    {"/api/v1/openapi.json", {"get"}},
    {"/api/v1/packages", {"get", "post"}},
    {"/api/v1/packages/{id}", {"get"}},
    {"/api/v1/packages/{id}/versions", {"get"}},
    {"/api/v1/packages/{id}/versions/{n}", {"get"}},
    {"/api/v1/packages/{id}/archive", {"get"}},
    {"/api/v1/packages/{id}/versions/{n}/archive", {"get"}},
    {"/api/v1/packages/{id}/diff", {"get"}},
    {"/api/v1/packages/{id}/claims", {"get"}},
    {"/api/v1/packages/{id}/runs", {"get"}},
    {"/api/v1/packages/{id}/runs/{run}", {"get"}},
    {"/api/v1/packages/{id}/tensions", {"get"}},
    {"/api/v1/packages/{id}/verify", {"post"}},
    {"/api/v1/jobs/{id}", {"get"}},
    {"/api/v1/attestations", {"post"}},
    {"/api/v1/imports/arxiv", {"post"}},
    {"/api/v1/tensions", {"get"}},
    {"/api/v1/tensions/{id}", {"get", "patch"}},
    {"/api/v1/blobs/{sha256}", {"get"}},
};

TEST_F(ApiTest, OpenApiDocumentListsEveryRoute) {
  auto res = hub().Client().Get("/api/v1/openapi.json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json doc = json::parse(res->body);
  EXPECT_EQ(doc["openapi"], "3.1.0");
  EXPECT_EQ(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
  EXPECT_TRUE(doc["components"]["schemas"].contains("Error"));
  std::map<std::string, std::set<std::string>> documented;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      documented[path].insert(method);
      EXPECT_TRUE(op.contains("responses")) << method << " " << path;
      EXPECT_TRUE(op.contains("operationId")) << method << " " << path;
    }
  }
  EXPECT_EQ(documented, kRoutes);
  // YAML scalars were typed, not left as strings.
  EXPECT_EQ(doc["paths"]["/api/v1/packages"]["get"]["parameters"][5]["schema"]["maximum"], 100);
}

// Each documented route is one the router knows: a request never gets the router's 404 or 405.
TEST_F(ApiTest, EveryDocumentedRouteIsRouted) {
  auto http = hub().Client();
  const std::string sha(64, 'a');
  for (const auto& [path, methods] : kRoutes) {
    std::string concrete = std::regex_replace(path, std::regex("\\{sha256\\}"), sha);
    concrete = std::regex_replace(concrete, std::regex("\\{(n|run)\\}"), "1");
    concrete =
        std::regex_replace(concrete, std::regex("/packages/\\{id\\}"), "/packages/no-such-pkg");
    concrete = std::regex_replace(concrete, std::regex("\\{id\\}"), "1");
    for (const std::string& method : methods) {
      httplib::Result res = method == "get"    ? http.Get(concrete)
                            : method == "post" ? http.Post(concrete, "{}", "application/json")
                                               : http.Patch(concrete, "{}", "application/json");
      ASSERT_TRUE(res) << method << " " << concrete;
      EXPECT_NE(res->status, 405) << method << " " << concrete;
      EXPECT_EQ(res->body.find("no route for"), std::string::npos)
          << method << " " << concrete << ": " << res->body;
    }
  }
}

TEST_F(ApiTest, UnknownRouteIsANotFoundEnvelope) {
  auto http = hub().Client();
  // "/" is the reviewer pages' discoveries page (hub/web_assets.h); other paths are unknown.
  for (const char* path :
       {"/nope", "/api/v1/nope", "/api/v1/packages/a/b/c/d", "/api/v1/packages/"}) {
    auto res = http.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 404) << path;
    const json e = Envelope(res);
    EXPECT_EQ(e.value("code", ""), "not_found") << path;
    EXPECT_NE(e.value("message", "").find(path), std::string::npos) << e.dump();
  }
}

TEST_F(ApiTest, WrongMethodIs405WithAllow) {
  auto http = hub().Client();
  auto res = http.Delete("/api/v1/packages");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD, OPTIONS, POST");
  EXPECT_EQ(Code(res), "method_not_allowed");

  res = http.Put("/api/v1/tensions/3", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD, OPTIONS, PATCH");

  res = http.Post("/healthz", "", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD, OPTIONS");

  res = http.Options("/api/v1/tensions/3");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204);
  EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD, OPTIONS, PATCH");
}

// Sends `request` as it is on a new connection; returns what came back within a few seconds.
std::string RawExchange(int port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    char buf[4096];
    for (ssize_t n;
         answer.find("}}") == std::string::npos && (n = recv(fd, buf, sizeof buf, 0)) > 0;) {
      answer.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return answer;
}

// httplib parses PRI (and reads its body, unbounded when chunked) before any route runs: the
// server refuses it before the body.
TEST_F(ApiTest, MethodsOutsideTheApiAre405BeforeTheirBody) {
  const std::string answer =
      RawExchange(hub().port(),
                  "PRI /api/v1/packages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "10\r\n0123456789abcdef\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 405", 0), 0u) << answer;
  EXPECT_NE(answer.find("\"method_not_allowed\""), std::string::npos) << answer;
}

TEST_F(ApiTest, WritesWithoutATokenAre401) {
  auto http = hub().Client();
  std::vector<httplib::Result> results;
  results.push_back(http.Post("/api/v1/packages", "\x1f\x8b", "application/gzip"));
  results.push_back(http.Post("/api/v1/packages/some-pkg/verify", "", "application/json"));
  results.push_back(http.Post("/api/v1/attestations", "{}", "application/json"));
  results.push_back(http.Patch("/api/v1/tensions/1", "{}", "application/json"));
  for (auto& res : results) {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << res->body;
    EXPECT_EQ(Code(res), "unauthorized");
    EXPECT_EQ(res->get_header_value("WWW-Authenticate").rfind("Bearer", 0), 0u);
    EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store");
  }
}

TEST_F(ApiTest, AWrongOrMalformedTokenIs401EvenForReads) {
  auto http = hub().Client();
  const std::string unknown = "ahub_" + std::string(43, 'A');
  for (const httplib::Headers& headers :
       {HubProcess::Auth(unknown), httplib::Headers{{"Authorization", "Basic dXNlcjpwdw=="}},
        httplib::Headers{{"Authorization", "Bearer"}}}) {
    auto res = http.Post("/api/v1/packages", headers, "\x1f\x8b", "application/gzip");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << res->body;
    EXPECT_EQ(Code(res), "unauthorized");
    res = http.Get("/api/v1/packages", headers);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << res->body;
  }
  // The same read without a token is public.
  auto res = http.Get("/api/v1/packages");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
}

TEST_F(ApiTest, RolesThatMayNotActAre403) {
  auto http = hub().Client();
  const std::string runner = hub().CreateToken("runner", "robot");
  const std::string author = hub().CreateToken("author", "alice");
  const std::string reviewer = hub().CreateToken("reviewer", "rita");

  auto res = http.Post("/api/v1/packages", HubProcess::Auth(runner),
                       SeedArchive("cache-admission-zipfian"), "application/gzip");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403) << res->body;
  EXPECT_EQ(Code(res), "forbidden");

  res = http.Post("/api/v1/attestations", HubProcess::Auth(author), "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403) << res->body;
  res = http.Post("/api/v1/attestations", HubProcess::Auth(reviewer), "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403) << res->body;

  res = http.Patch("/api/v1/tensions/1", HubProcess::Auth(author), R"({"status": "explained"})",
                   "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403) << res->body;

  res = http.Post("/api/v1/packages/cache-admission-zipfian/verify", HubProcess::Auth(runner), "",
                  "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403) << res->body;
  EXPECT_EQ(Code(res), "forbidden");
}

TEST_F(ApiTest, MalformedJsonIs400NamingThePosition) {
  auto http = hub().Client();
  const std::string runner = hub().CreateToken("runner", "robot-2");
  auto res = http.Post("/api/v1/attestations", HubProcess::Auth(runner),
                       "{\"format\": ", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  const json e = Envelope(res);
  EXPECT_EQ(e.value("code", ""), "invalid_json");
  EXPECT_NE(e.value("message", "").find("line 1, column 12"), std::string::npos) << e.dump();
  EXPECT_EQ(e["details"][0]["byte"], 12) << e.dump();

  const std::string author = hub().CreateToken("author", "alice-2");
  res = http.Post("/api/v1/packages", HubProcess::Auth(author), "{\"git\": [", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(Code(res), "invalid_json");

  res = http.Post("/api/v1/packages", HubProcess::Auth(author), R"({"git": "/x", "branch": "m"})",
                  "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(Code(res), "invalid_body");
}

TEST_F(ApiTest, UnsupportedContentTypeIs415) {
  const std::string author = hub().CreateToken("author", "alice-3");
  auto res =
      hub().Client().Post("/api/v1/packages", HubProcess::Auth(author), "hello", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 415);
  const json e = Envelope(res);
  EXPECT_EQ(e.value("code", ""), "unsupported_media_type");
  EXPECT_NE(e.value("message", "").find("application/gzip"), std::string::npos);
}

TEST_F(ApiTest, QueryAndPathParametersAreChecked) {
  auto http = hub().Client();
  for (const char* path :
       {"/api/v1/packages?limit=0", "/api/v1/packages?limit=101", "/api/v1/packages?limit=ten",
        "/api/v1/packages?sort=popular", "/api/v1/packages/some-pkg/diff?from=1",
        "/api/v1/packages/some-pkg/diff?from=1&to=x", "/api/v1/packages/some-pkg/claims?version=-1",
        "/api/v1/tensions?status=maybe"}) {
    auto res = http.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 400) << path << ": " << res->body;
    EXPECT_EQ(Code(res), "invalid_query") << path;
  }
  for (const char* path : {"/api/v1/packages/some-pkg/versions/abc", "/api/v1/jobs/0",
                           "/api/v1/tensions/1x", "/api/v1/blobs/xyz"}) {
    auto res = http.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 400) << path << ": " << res->body;
    EXPECT_EQ(Code(res), "invalid_path") << path;
  }
  auto res = http.Get("/api/v1/packages/no-such-pkg");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(Code(res), "not_found");
}

TEST_F(ApiTest, MetricsCountRequestsByRouteTemplate) {
  auto http = hub().Client();
  ASSERT_TRUE(http.Get("/api/v1/packages/no-such-pkg"));
  ASSERT_TRUE(http.Get("/api/v1/nowhere"));
  for (const char* path : {"/metrics", "/api/v1/metrics"}) {
    auto res = http.Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u);
    const std::string& text = res->body;
    EXPECT_NE(text.find("# TYPE ahub_http_requests_total counter"), std::string::npos);
    EXPECT_TRUE(std::regex_search(
        text,
        std::regex(
            R"(ahub_http_requests_total\{method="GET",route="/api/v1/packages/\{id\}",status="404"\} [1-9])")))
        << text;
    EXPECT_TRUE(std::regex_search(
        text,
        std::regex(
            R"(ahub_http_requests_total\{method="GET",route="unmatched",status="404"\} [1-9])")))
        << text;
    EXPECT_NE(
        text.find("ahub_http_request_duration_seconds_bucket{route=\"/api/v1/packages/{id}\""),
        std::string::npos);
    EXPECT_NE(text.find("ahub_queue_depth"), std::string::npos) << "hub gauges are appended";
  }
}

TEST(ApiLimitsTest, OversizeUploadsAre413AndTheConnectionSurvives) {
  HubProcess hub({.extra_args = {"--max-upload-bytes", "4096"}});
  const std::string author = hub.CreateToken("author", "alice");
  auto http = hub.Client();
  http.set_keep_alive(true);

  auto res = http.Post("/api/v1/packages", HubProcess::Auth(author), std::string(8192, 'x'),
                       "application/gzip");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  const json e = Envelope(res);
  EXPECT_EQ(e.value("code", ""), "payload_too_large");
  EXPECT_NE(e.value("message", "").find("4096"), std::string::npos) << e.dump();

  // Chunked bodies have no Content-Length for httplib to check; the server counts them itself.
  const std::string chunk(1024, 'y');
  res = http.Post(
      "/api/v1/packages", HubProcess::Auth(author),
      [&](size_t offset, httplib::DataSink& sink) {
        if (offset < 16 * chunk.size()) {
          sink.write(chunk.data(), chunk.size());
        } else {
          sink.done();
        }
        return true;
      },
      "application/gzip");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(Code(res), "payload_too_large");

  // One far beyond the limit is not read to its end: the answer closes the connection, and the
  // client's next request goes out on a new one.
  res = http.Post(
      "/api/v1/packages", HubProcess::Auth(author),
      [&](size_t offset, httplib::DataSink& sink) {
        if (offset < (3u << 20)) {
          sink.write(chunk.data(), chunk.size());
        } else {
          sink.done();
        }
        return true;
      },
      "application/gzip");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(res->get_header_value("Connection"), "close");

  // Within the limit the body reaches the hub, which refuses it as an archive.
  res = http.Post("/api/v1/packages", HubProcess::Auth(author), std::string(4000, 'x'),
                  "application/gzip");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400) << res->body;
  EXPECT_EQ(Code(res), "not_an_archive");

  res = http.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST(ApiLimitsTest, TokensAreRateLimitedWithRetryAfter) {
  HubProcess hub({.env = {{"AHUB_RATE_PER_SECOND", "0.5"}, {"AHUB_RATE_BURST", "3"}}});
  const std::string token = hub.CreateToken("reviewer", "rita");
  auto http = hub.Client();
  for (int i = 0; i < 3; ++i) {
    auto res = http.Get("/api/v1/tensions", HubProcess::Auth(token));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << "request " << i << ": " << res->body;
  }
  auto res = http.Get("/api/v1/tensions", HubProcess::Auth(token));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 429);
  EXPECT_EQ(Code(res), "rate_limited");
  const int retry_after = std::stoi(res->get_header_value("Retry-After"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 2);
  // Another token and anonymous readers have their own (or no) bucket.
  const std::string other = hub.CreateToken("reviewer", "ravi");
  EXPECT_EQ(http.Get("/api/v1/tensions", HubProcess::Auth(other))->status, 200);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(http.Get("/api/v1/tensions")->status, 200);
  res = http.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find("ahub_http_rate_limited_total 1"), std::string::npos) << res->body;
}

TEST(ApiSubmitTest, SubmissionIsLocatedAndInvalidatesCachedPages) {
  HubProcess hub;
  const std::string author = hub.CreateToken("author", "alice");
  auto http = hub.Client();
  auto list = http.Get("/api/v1/packages?sort=recent");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200) << list->body;
  EXPECT_EQ(json::parse(list->body)["total"], 0);

  // application/octet-stream: recognised as gzip by its first bytes.
  const std::string tgz = SeedArchive("bisect-membership");
  auto res =
      http.Post("/api/v1/packages", HubProcess::Auth(author), tgz, "application/octet-stream");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  const json created = json::parse(res->body);
  EXPECT_EQ(res->get_header_value("Location"), created["links"]["self"]);
  EXPECT_EQ(res->get_header_value("Location"), "/api/v1/packages/bisect-membership/versions/1");
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-store");

  // The cached first page is not served after the write.
  list = http.Get("/api/v1/packages?sort=recent");
  ASSERT_TRUE(list);
  EXPECT_EQ(json::parse(list->body)["total"], 1) << list->body;
  res = http.Get(res->get_header_value("Location"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(json::parse(res->body)["id"], "bisect-membership");

  res = http.Post("/api/v1/packages", HubProcess::Auth(author), tgz, "application/gzip");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(json::parse(res->body)["duplicate"], true);
  EXPECT_FALSE(res->has_header("Location"));

  res = http.Get("/api/v1/packages/bisect-membership/archive");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/gzip");
  EXPECT_EQ(res->get_header_value("Content-Disposition"),
            "attachment; filename=\"bisect-membership-v1.tar.gz\"");
  ASSERT_GE(res->body.size(), 2u);
  EXPECT_EQ(res->body.substr(0, 2), "\x1f\x8b");
}

TEST(ApiSeedTest, SeededHubListsItsPackagesRanked) {
  HubProcess hub({.seed = true});
  auto http = hub.Client();
  auto res = http.Get("/api/v1/packages");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json page = json::parse(res->body);
  // Every package folder of packages/ is a seed (the seed corpus: tests/hub/arxiv_hub_test.cc).
  size_t seeds = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(ahub::testing::SourceDir() / "packages")) {
    seeds += std::filesystem::exists(e.path() / "package.yaml") ? 1 : 0;
  }
  EXPECT_EQ(page["total"], seeds) << res->body;
  ASSERT_EQ(page["items"].size(), std::min<size_t>(seeds, 20));
  double previous = 1e9;
  for (const json& item : page["items"]) {
    EXPECT_LE(item["score"].get<double>(), previous) << "ranked by attention";
    previous = item["score"];
  }
  res = http.Get("/api/v1/packages?limit=1");
  ASSERT_TRUE(res);
  const json first = json::parse(res->body);
  ASSERT_EQ(first["items"].size(), 1u);
  ASSERT_TRUE(first["next_cursor"].is_string()) << res->body;
  res = http.Get("/api/v1/packages?limit=1&cursor=" + first["next_cursor"].get<std::string>());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_NE(json::parse(res->body)["items"][0]["id"], first["items"][0]["id"]);
}

TEST(ApiServeTest, SigtermStopsCleanlyAndTheDataSurvivesARestart) {
  HubProcess hub;
  const std::string token = hub.CreateToken("admin", "ops");
  EXPECT_EQ(hub.Stop(), 0) << hub.Stderr();
  EXPECT_NE(hub.Stderr().find("stopped"), std::string::npos) << hub.Stderr();
  hub.Restart();
  auto res = hub.Client().Get("/api/v1/tensions", HubProcess::Auth(token));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_NE(hub.Stdout().find("(data: " + hub.data_dir().string() + ")"), std::string::npos);
}

TEST(ApiServeTest, AnUnavailablePortOrStoreExitsWithFour) {
  HubProcess first;
  auto r = RunAhub({"serve", "--listen", "127.0.0.1:" + std::to_string(first.port()), "--data",
                    (first.root() / "other").string(), "--no-seed"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())),
            std::string::npos)
      << r.err;

  r = RunAhub({"serve", "--listen", "127.0.0.1:0", "--data", "/dev/null/store", "--no-seed"});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("cannot open the store"), std::string::npos) << r.err;

  r = RunAhub({"serve", "--listen", "localhost"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("HOST:PORT"), std::string::npos) << r.err;
}

TEST(ApiServeTest, FlagsComeFromTheEnvironment) {
  HubProcess first;
  ahub::testing::TempDir tmp;
  const std::string listen = "127.0.0.1:" + std::to_string(first.port());
  auto r = RunAhub({"serve", "--no-seed"},
                   {{"AHUB_LISTEN", listen}, {"AHUB_DATA", (tmp.path() / "data").string()}});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find("cannot listen on " + listen), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::exists(tmp.path() / "data" / "hub.db")) << "AHUB_DATA was used";

  r = RunAhub({"serve", "--no-seed"}, {{"AHUB_WORKERS", "0"}});
  EXPECT_EQ(r.exit_code, 2) << "AHUB_WORKERS is checked like --workers: " << r.err;
}

TEST(TokenCommandTest, CreatesATokenShownOnce) {
  ahub::testing::TempDir tmp;
  const std::string data = (tmp.path() / "data").string();
  auto r = RunAhub({"token", "create", "--role", "author", "--name", "alice", "--data", data});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::regex_match(r.out, std::regex("ahub_[A-Za-z0-9_-]{43}\n"))) << r.out;
  EXPECT_NE(r.err.find("only once"), std::string::npos) << r.err;

  r = RunAhub({"token", "create", "--role", "runner", "--name", "bot", "--json"},
              {{"AHUB_DATA", data}});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["role"], "runner");
  EXPECT_EQ(j["name"], "bot");
  EXPECT_EQ(j["token"].get<std::string>().rfind("ahub_", 0), 0u);

  r = RunAhub({"token", "create", "--role", "emperor", "--name", "x", "--data", data});
  EXPECT_EQ(r.exit_code, 2);
  r = RunAhub({"token", "create", "--role", "admin", "--data", data});
  EXPECT_EQ(r.exit_code, 2) << "--name is required";
  r = RunAhub({"token", "create", "--role", "admin", "--name", "x", "--data", "/dev/null/x"});
  EXPECT_EQ(r.exit_code, 4);
}

}  // namespace
