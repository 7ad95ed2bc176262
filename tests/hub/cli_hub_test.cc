// The hub-facing commands against a real `ahub serve`: `ahub submit` (validate, upload, follow the
// job, print the hub's verdicts) and `ahub verify --hub` (download, verify here, attest).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "hub/hub_client.h"
#include "tests/hub/hub_process.h"

namespace {

namespace fs = std::filesystem;
using ahub::testing::CommandResult;
using ahub::testing::HubProcess;
using ahub::testing::HubProcessOptions;
using ahub::testing::ReadFileText;
using ahub::testing::RunAhub;
using ahub::testing::SourceDir;
using ahub::testing::TempDir;
using nlohmann::json;

// A copy of a seed package under `root`, with its manifest's `id:` replaced so a hub stores it
// as a new package; `edit` (from, to) changes one more piece of the manifest.
fs::path CopyPackage(const fs::path& root, const std::string& seed, const std::string& new_id,
                     std::pair<std::string, std::string> edit = {}) {
  const fs::path dir = root / new_id;
  fs::create_directories(root);
  fs::copy(SourceDir() / "packages" / seed, dir, fs::copy_options::recursive);
  std::string text = ReadFileText(dir / "package.yaml");
  const std::string id_line = "\nid: " + seed + "\n";
  const size_t at = text.find(id_line);
  if (at == std::string::npos) throw std::runtime_error(seed + ": no `id:` line to rewrite");
  text.replace(at, id_line.size(), "\nid: " + new_id + "\n");
  if (!edit.first.empty()) {
    const size_t e = text.find(edit.first);
    if (e == std::string::npos)
      throw std::runtime_error(seed + ": no \"" + edit.first + "\" to edit");
    text.replace(e, edit.first.size(), edit.second);
  }
  std::ofstream(dir / "package.yaml", std::ios::trunc) << text;
  return dir;
}

// A loopback port nothing listens on: bound, then closed again.
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("cannot bind a loopback socket");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

json GetJson(const HubProcess& hub, const std::string& path) {
  auto res = hub.Client().Get(path);
  if (!res) throw std::runtime_error("GET " + path + ": " + httplib::to_string(res.error()));
  json j = json::parse(res->body, nullptr, false);
  j["_status"] = res->status;
  return j;
}

// The claims of a verification report (schemas/report.schema.json) by id: verdict and measured.
std::map<std::string, std::pair<std::string, json>> ReportClaims(const json& report) {
  std::map<std::string, std::pair<std::string, json>> out;
  for (const json& c : report["claims"]) out[c["id"]] = {c["verdict"], c["measured"]};
  return out;
}

std::string Both(const CommandResult& r) { return "stdout:\n" + r.out + "\nstderr:\n" + r.err; }

// The suite's seeded hub, started on first use (by the verify --hub tests, after the submit
// tests, so its seed verifications do not run beside theirs) and shared: downloading and
// attesting do not disturb each other.
class CliHubTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    delete seeded_;
    seeded_ = nullptr;
  }
  static HubProcess& seeded() {
    if (!seeded_) seeded_ = new HubProcess({.seed = true});
    return *seeded_;
  }
  static HubProcess* seeded_;
};
HubProcess* CliHubTest::seeded_ = nullptr;

TEST_F(CliHubTest, SubmitFollowsTheJobPrintsTheClaimsAndRecognisesADuplicate) {
  HubProcess hub;
  const std::string author = hub.CreateToken("author", "alice");
  const fs::path pkg = CopyPackage(hub.root(), "bisect-membership", "bisect-membership-cli");

  CommandResult r = RunAhub({"submit", pkg.string(), "--hub", hub.url(), "--token", author});
  ASSERT_EQ(r.exit_code, 0) << Both(r) << hub.Stderr();
  EXPECT_NE(r.out.find("submitted bisect-membership-cli v1 (new version"), std::string::npos)
      << Both(r);
  EXPECT_TRUE(std::regex_search(r.err, std::regex("job [0-9]+: done, level reproduces")))
      << Both(r);
  EXPECT_NE(r.out.find("CLAIM"), std::string::npos) << Both(r);
  for (const char* claim : {"small-n", "crossover", "speedup-1024"}) {
    EXPECT_TRUE(std::regex_search(
        r.out, std::regex(std::string("\n") + claim + " +[^\n]* reproduced +reproduces\n")))
        << claim << "\n"
        << Both(r);
  }

  // The same content again: nothing new is stored, and the finished job's verdicts are shown.
  r = RunAhub({"submit", pkg.string(), "--json"},
              {{"AHUB_HUB", hub.url()}, {"AHUB_TOKEN", author}});
  ASSERT_EQ(r.exit_code, 0) << Both(r);
  EXPECT_NE(r.err.find("already stored: bisect-membership-cli v1"), std::string::npos) << Both(r);
  const json doc = json::parse(r.out);
  EXPECT_EQ(doc["submission"]["duplicate"], true);
  EXPECT_EQ(doc["submission"]["version"], 1);
  EXPECT_EQ(doc["job"]["state"], "done");
  ASSERT_EQ(doc["claims"]["claims"].size(), 3u) << r.out;
  for (const json& c : doc["claims"]["claims"]) {
    EXPECT_EQ(c["verdict"], "reproduced") << c.dump();
    EXPECT_TRUE(c["measured"].is_number()) << c.dump();
  }
  EXPECT_FALSE(doc.contains("error"));
  EXPECT_EQ(GetJson(hub, "/api/v1/packages/bisect-membership-cli/versions")["versions"].size(), 1u);
}

TEST_F(CliHubTest, NoWaitReturnsOnceStoredAndNamesTheJob) {
  HubProcess hub;
  const std::string author = hub.CreateToken("author", "alice");
  const fs::path pkg = CopyPackage(hub.root(), "cache-admission-zipfian", "cache-no-wait");
  CommandResult r = RunAhub(
      {"submit", pkg.string(), "--hub", hub.url(), "--token", author, "--no-wait", "--json"});
  ASSERT_EQ(r.exit_code, 0) << Both(r);
  const json doc = json::parse(r.out);
  EXPECT_EQ(doc["submission"]["id"], "cache-no-wait");
  EXPECT_EQ(doc["submission"]["duplicate"], false);
  ASSERT_TRUE(doc["job"].is_object()) << r.out;
  EXPECT_TRUE(doc["claims"].is_null());
  EXPECT_NE(r.err.find("/api/v1/jobs/" + std::to_string(doc["job"]["id"].get<int>())),
            std::string::npos)
      << Both(r);
  EXPECT_EQ(GetJson(hub, "/api/v1/packages/cache-no-wait")["_status"], 200);
}

TEST_F(CliHubTest, InvalidPackageIsRefusedLocallyWithItsPosition) {
  HubProcess hub;
  const std::string author = hub.CreateToken("author", "alice");
  const fs::path pkg = CopyPackage(hub.root(), "bisect-membership", "bisect-broken",
                                   {"expect: {at_most: 0.8}", "expect: {at_most: small}"});
  CommandResult r = RunAhub({"submit", pkg.string(), "--hub", hub.url(), "--token", author});
  EXPECT_EQ(r.exit_code, 2) << Both(r);
  EXPECT_TRUE(
      std::regex_search(r.err, std::regex(R"(package\.yaml:[0-9]+:[0-9]+: claims\[0\]\.expect)")))
      << Both(r);
  EXPECT_NE(r.err.find("nothing was sent"), std::string::npos) << Both(r);
  EXPECT_EQ(GetJson(hub, "/api/v1/packages/bisect-broken")["_status"], 404);

  r = RunAhub({"submit", pkg.string(), "--hub", hub.url(), "--token", author, "--json"});
  EXPECT_EQ(r.exit_code, 2) << Both(r);
  const json doc = json::parse(r.out);
  EXPECT_EQ(doc["error"]["code"], "invalid_manifest");
  ASSERT_FALSE(doc["error"]["details"].empty());
  EXPECT_GT(doc["error"]["details"][0]["line"].get<int>(), 0);
}

TEST_F(CliHubTest, RefusalsByTheHubExitTwoWithTheEnvelope) {
  HubProcess hub;
  const fs::path pkg = CopyPackage(hub.root(), "cache-admission-zipfian", "cache-refused");
  CommandResult r =
      RunAhub({"submit", pkg.string()}, {{"AHUB_HUB", hub.url()}, {"AHUB_TOKEN", "not-a-token"}});
  EXPECT_EQ(r.exit_code, 2) << Both(r);
  EXPECT_NE(r.err.find("HTTP 401 unauthorized"), std::string::npos) << Both(r);

  // Another author may not add a version to alice's package.
  const std::string alice = hub.CreateToken("author", "alice");
  const std::string bob = hub.CreateToken("author", "bob");
  r = RunAhub({"submit", pkg.string(), "--hub", hub.url(), "--token", alice, "--no-wait"});
  ASSERT_EQ(r.exit_code, 0) << Both(r);
  const fs::path v2 = CopyPackage(hub.root() / "v2", "cache-admission-zipfian", "cache-refused",
                                  {"\nversion: 1\n", "\nversion: 2\n"});
  r = RunAhub({"submit", v2.string(), "--hub", hub.url(), "--token", bob, "--json"});
  EXPECT_EQ(r.exit_code, 2) << Both(r);
  EXPECT_EQ(json::parse(r.out)["error"]["http"], 403) << r.out;
}

TEST_F(CliHubTest, AnUnreachableHubExitsFour) {
  TempDir tmp;
  const fs::path pkg = CopyPackage(tmp.path(), "cache-admission-zipfian", "cache-nowhere");
  const std::string url = "http://127.0.0.1:" + std::to_string(ClosedPort());
  CommandResult r = RunAhub({"submit", pkg.string(), "--hub", url, "--token", "t"});
  EXPECT_EQ(r.exit_code, 4) << Both(r);
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << Both(r);
  r = RunAhub({"verify", "--hub", url, "cache-admission-zipfian"});
  EXPECT_EQ(r.exit_code, 4) << Both(r);
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << Both(r);
  // A URL that is not one is a usage error, not an unreachable hub.
  r = RunAhub({"submit", pkg.string(), "--hub", "ftp://127.0.0.1", "--token", "t"});
  EXPECT_EQ(r.exit_code, 2) << Both(r);
  EXPECT_NE(r.err.find("scheme ftp is not supported"), std::string::npos) << Both(r);
}

TEST_F(CliHubTest, VerifiesTheHubsCopyLikeTheLocalDirectory) {
  CommandResult remote =
      RunAhub({"verify", "--hub", seeded().url(), "cache-admission-zipfian", "--json"});
  ASSERT_EQ(remote.exit_code, 0) << Both(remote);
  CommandResult local = RunAhub(
      {"verify", (SourceDir() / "packages" / "cache-admission-zipfian").string(), "--json"});
  ASSERT_EQ(local.exit_code, 0) << Both(local);
  const json from_hub = json::parse(remote.out);
  const json here = json::parse(local.out);
  EXPECT_EQ(from_hub["package"], "cache-admission-zipfian");
  EXPECT_EQ(ReportClaims(from_hub), ReportClaims(here));
  EXPECT_EQ(ReportClaims(from_hub).size(), 3u);
  // The extracted archive hashes as the hub's stored content and as the seed directory.
  const json stored = GetJson(seeded(), "/api/v1/packages/cache-admission-zipfian");
  EXPECT_EQ(from_hub["content_sha256"], stored["content_sha256"]);
  EXPECT_EQ(from_hub["content_sha256"], here["content_sha256"]);
  EXPECT_NE(remote.err.find("downloaded cache-admission-zipfian"), std::string::npos) << remote.err;

  // An explicit version, and the human report.
  CommandResult v1 = RunAhub({"verify", "--hub", seeded().url(), "cache-admission-zipfian@1"});
  ASSERT_EQ(v1.exit_code, 0) << Both(v1);
  EXPECT_NE(v1.out.find("cache-admission-zipfian v1"), std::string::npos) << v1.out;
  EXPECT_NE(v1.out.find("reproduced"), std::string::npos) << v1.out;
}

TEST_F(CliHubTest, UnknownPackagesAndBadReferencesExitTwo) {
  CommandResult r = RunAhub({"verify", "--hub", seeded().url(), "no-such-package"});
  EXPECT_EQ(r.exit_code, 2) << Both(r);
  EXPECT_NE(r.err.find("HTTP 404 not_found"), std::string::npos) << Both(r);
  r = RunAhub({"verify", "--hub", seeded().url(), "cache-admission-zipfian@99"});
  EXPECT_EQ(r.exit_code, 2) << Both(r);
  r = RunAhub({"verify", "--hub", seeded().url(), "cache-admission-zipfian@x"});
  EXPECT_EQ(r.exit_code, 2) << Both(r);
  EXPECT_NE(r.err.find("not a package reference"), std::string::npos) << Both(r);
  r = RunAhub({"verify", "--hub", seeded().url(), "cache-admission-zipfian", "--attest"});
  EXPECT_EQ(r.exit_code, 2) << Both(r);
  EXPECT_NE(r.err.find("--attest needs a runner token"), std::string::npos) << Both(r);
}

TEST_F(CliHubTest, AttestationsNeedARunnerAndAreRecorded) {
  const std::string author = seeded().CreateToken("author", "carol");
  CommandResult r = RunAhub({"verify", "--hub", seeded().url(), "cache-admission-zipfian",
                             "--attest", "--token", author});
  EXPECT_EQ(r.exit_code, 4) << Both(r);
  EXPECT_NE(r.err.find("HTTP 403"), std::string::npos) << Both(r);
  EXPECT_TRUE(
      GetJson(seeded(), "/api/v1/packages/cache-admission-zipfian")["attestations"].empty());

  const std::string runner = seeded().CreateToken("runner", "agent-1");
  r = RunAhub({"verify", "--hub", seeded().url(), "cache-admission-zipfian", "--attest", "--json"},
              {{"AHUB_TOKEN", runner}});
  ASSERT_EQ(r.exit_code, 0) << Both(r) << seeded().Stderr();
  const json report = json::parse(r.out);  // stdout stays the report alone
  EXPECT_EQ(report["format"], "ahub-report/1");
  EXPECT_FALSE(report.contains("attestation"));
  EXPECT_NE(r.err.find("attestation"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("recorded for cache-admission-zipfian v1"), std::string::npos) << r.err;
  // The hub's answer, claim by claim: this host reproduced each (the hub's own run, if it is
  // done, has the same fingerprint, so it is still one host).
  for (const char* claim : {"lfu-hit-rate", "lru-hit-rate", "gap"}) {
    EXPECT_NE(r.err.find(std::string("  ") + claim + ": reproduced, level reproduces (1 host)\n"),
              std::string::npos)
        << claim << "\n"
        << r.err;
  }

  const json stored = GetJson(seeded(), "/api/v1/packages/cache-admission-zipfian");
  ASSERT_EQ(stored["attestations"].size(), 1u) << stored.dump(2);
  EXPECT_EQ(stored["attestations"][0]["fingerprint"], report["host"]["fingerprint"]);
}

TEST_F(CliHubTest, HubUrlsAndErrorEnvelopesReadAsDocumented) {
  auto u = ahub::hub::ParseHubUrl("http://127.0.0.1:8080/hub/");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->origin, "http://127.0.0.1:8080");
  EXPECT_EQ(u->prefix, "/hub");
  u = ahub::hub::ParseHubUrl("https://[::1]");
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->origin, "https://[::1]:443");
  EXPECT_EQ(u->prefix, "");
  for (const char* bad : {"127.0.0.1:8080", "http://", "http://h:0", "http://h:99999",
                          "http://u:p@h", "http://h/?q"}) {
    EXPECT_FALSE(ahub::hub::ParseHubUrl(bad).ok()) << bad;
  }

  const ahub::hub::ApiError e = ahub::hub::MakeError(
      422, "invalid_manifest", "package.yaml is invalid (1 problem)",
      json::array({{{"file", "package.yaml"},
                    {"line", 12},
                    {"column", 5},
                    {"path", "claims[0].unit"},
                    {"message", "must be a string"}},
                   {{"path", "/version"}, {"message", "must be an integer"}}}));
  EXPECT_EQ(ahub::hub::FormatApiError(e),
            "HTTP 422 invalid_manifest: package.yaml is invalid (1 problem)\n"
            "  package.yaml:12:5: claims[0].unit: must be a string\n"
            "  /version: must be an integer");
  EXPECT_TRUE(ahub::hub::IsRefusal(e));
  EXPECT_FALSE(ahub::hub::IsRefusal(ahub::hub::MakeError(0, "unreachable", "x")));
  EXPECT_FALSE(ahub::hub::IsRefusal(ahub::hub::MakeError(503, "unavailable", "x")));
}

}  // namespace
