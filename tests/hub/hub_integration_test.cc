// AttentionHub end to end over real HTTP: the real `ahub serve` (tests/hub/hub_process.h) on a
// loopback port, driven through the routes of schemas/openapi.yaml. Covered here: submissions
// from each source (tar.gz, git bundle, git repository), every refusal of a submission and that a
// refusal writes nothing, every role rule, listings (sorts, filters, cursors, facets), versions,
// archives and diffs, verification jobs and their runs, attestations, tensions from opening to
// closing by themselves, the seed packages' ranking, and package text as inert data.
//
// Fixture packages are written into temporary directories; most have declared claims only, so
// nothing needs to run. Verification uses a copy of packages/bisect-membership under a new id.
// Jobs are followed by polling GET /api/v1/jobs/{id} (or /healthz) against a generous deadline;
// no assertion depends on how long anything took.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "hub/archive.h"
#include "tests/hub/archive_builder.h"
#include "tests/hub/hub_process.h"
#include "tests/hub/http_test_util.h"

namespace {

namespace fs = std::filesystem;
using ahub::testing::ErrorCode;
using ahub::testing::GetJson;
using ahub::testing::HubProcess;
using ahub::testing::ParseBody;
using ahub::testing::WaitForIdleQueue;
using ahub::testing::ReadFileText;
using ahub::testing::RunAhub;
using ahub::testing::RunCommand;
using ahub::testing::SourceDir;
using ahub::testing::TempDir;
using nlohmann::json;

// A deadline for verification jobs on a loaded 2-core machine, not an expectation of speed.
constexpr std::chrono::seconds kJobDeadline{240};
// These tests make more requests with one token than the default per-token rate allows.
const std::vector<std::string> kNoRateLimit = {"--rate", "100000", "--rate-burst", "100000"};

// --- fixture packages

struct ClaimSpec {
  std::string id = "headline";
  std::string statement = "The headline number of this package.";
  std::string metric = "";  // empty: DefaultMetric(package id), shared with no other package
  std::string unit = "ms";
  std::string value = "1.5";          // a YAML number
  std::string conditions = "{n: 1}";  // a YAML flow mapping
};

struct PackageSpec {
  std::string id;
  int version = 1;
  std::string title = "A package of the integration tests";
  std::string summary = "Declared claims only, so nothing needs to run.";
  std::vector<std::string> categories = {"cs.DC"};
  std::vector<std::string> tags = {};
  std::string published = "2026-01-01";
  std::vector<ClaimSpec> claims = {ClaimSpec{}};
  std::map<std::string, std::string> files = {};  // more files: relative path -> content
};

// A YAML double-quoted scalar holding exactly `s` (printable text).
std::string YamlQuoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string FlowList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + "]";
}

// "test.<id>" with the id's dashes as underscores (metrics are dotted lower-case words).
std::string DefaultMetric(std::string id) {
  std::replace(id.begin(), id.end(), '-', '_');
  return "test." + id;
}

std::string ManifestYaml(const PackageSpec& p) {
  std::string y = "format: ahub/1\nid: " + p.id + "\nversion: " + std::to_string(p.version) +
                  "\ntitle: " + YamlQuoted(p.title) + "\nsummary: " + YamlQuoted(p.summary) +
                  "\ncategories: " + FlowList(p.categories) + "\ntags: " + FlowList(p.tags) +
                  "\nauthors:\n  - {name: Integration Test}\npublished: " + p.published +
                  "\nlicense: MIT\nprovenance:\n  kind: original\nclaims:\n";
  for (const ClaimSpec& c : p.claims) {
    y += "  - id: " + c.id + "\n    statement: " + YamlQuoted(c.statement) +
         "\n    metric: " + (c.metric.empty() ? DefaultMetric(p.id) : c.metric) +
         "\n    unit: " + YamlQuoted(c.unit) + "\n    value: " + c.value +
         "\n    conditions: " + c.conditions + "\n";
  }
  return y;
}

void WriteFile(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

// Writes the package into `dir` (created, emptied first) and returns `dir`.
fs::path WritePackage(const fs::path& dir, const PackageSpec& p) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  WriteFile(dir / "package.yaml", ManifestYaml(p));
  for (const auto& [path, content] : p.files) WriteFile(dir / path, content);
  return dir;
}

std::string TarGz(const fs::path& dir, const std::string& prefix = "") {
  auto packed = ahub::hub::PackTarGz(dir, prefix);
  EXPECT_TRUE(packed.ok()) << packed.status().ToString();
  return packed.ok() ? packed.value() : std::string();
}

// packages/bisect-membership, a runnable package (python3, a few seconds), under another id.
fs::path CopyOfBisect(const fs::path& dir, const std::string& id) {
  const fs::path seed = SourceDir() / "packages" / "bisect-membership";
  fs::create_directories(dir);
  fs::copy(seed, dir, fs::copy_options::recursive);
  std::string yaml = ReadFileText(seed / "package.yaml");
  const std::string from = "id: bisect-membership\n";
  const size_t at = yaml.find(from);
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos) yaml.replace(at, from.size(), "id: " + id + "\n");
  WriteFile(dir / "package.yaml", yaml);
  return dir;
}

using ahub::hub::tree_test::ArchiveBuilder;
using ahub::hub::tree_test::RandomBytes;

// `git ARGS...` in `repo`, with no user or system configuration.
void Git(const fs::path& repo, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"git",
                                   "-C",
                                   repo.string(),
                                   "-c",
                                   "user.name=Integration Test",
                                   "-c",
                                   "user.email=test@example.invalid",
                                   "-c",
                                   "commit.gpgsign=false",
                                   "-c",
                                   "tag.gpgsign=false"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r =
      RunCommand(argv, {{"GIT_CONFIG_NOSYSTEM", "1"}, {"GIT_CONFIG_GLOBAL", "/dev/null"}});
  EXPECT_EQ(r.exit_code, 0) << "git " << args[0] << ": " << r.err;
}

// --- HTTP helpers

httplib::Result Submit(httplib::Client& http, const std::string& token, const std::string& body,
                       const std::string& content_type = "application/gzip",
                       const std::string& query = "") {
  return http.Post("/api/v1/packages" + query, HubProcess::Auth(token), body, content_type);
}

// Submits and expects 201; returns the answer.
json SubmitNew(httplib::Client& http, const std::string& token, const std::string& body,
               const std::string& content_type = "application/gzip") {
  auto res = Submit(http, token, body, content_type);
  EXPECT_TRUE(res) << httplib::to_string(res.error());
  if (!res) return json();
  EXPECT_EQ(res->status, 201) << res->body;
  return ParseBody(res);
}

int64_t PackageTotal(httplib::Client& http) {
  const json page = GetJson(http, "/api/v1/packages");
  return page.is_object() ? page.value("total", int64_t{-1}) : -1;
}

bool StagingIsEmpty(const HubProcess& hub) {
  const fs::path staging = hub.data_dir() / "staging";
  return fs::is_directory(staging) && fs::is_empty(staging);
}

// Polls GET /jobs/{id} until the job is done or failed; returns its last state.
json WaitForJob(httplib::Client& http, int64_t job) {
  const auto deadline = std::chrono::steady_clock::now() + kJobDeadline;
  json j;
  while (std::chrono::steady_clock::now() < deadline) {
    j = GetJson(http, "/api/v1/jobs/" + std::to_string(job));
    const std::string state = j.is_object() ? j.value("state", "") : "";
    if (state == "done" || state == "error" || state.empty()) return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "job " << job << " did not finish within the deadline: " << j.dump();
  return j;
}

// Every page of a listing, following next_cursor; checks each page's total against the first.
std::vector<json> AllPages(httplib::Client& http, const std::string& query) {
  std::vector<json> items;
  std::string cursor;
  int64_t total = -1;
  for (int page = 0; page < 1000; ++page) {
    const std::string sep = query.empty() ? "?" : "&";
    const json j = GetJson(http, "/api/v1/packages" + (query.empty() ? "" : "?" + query) +
                                     (cursor.empty() ? "" : sep + "cursor=" + cursor));
    if (!j.is_object()) break;
    if (total < 0) total = j["total"];
    EXPECT_EQ(j["total"], total) << "page " << page;
    for (const json& item : j["items"]) items.push_back(item);
    if (!j["next_cursor"].is_string()) break;
    cursor = j["next_cursor"];
  }
  EXPECT_EQ(static_cast<int64_t>(items.size()), total) << query;
  return items;
}

std::vector<std::string> Ids(const std::vector<json>& items) {
  std::vector<std::string> ids;
  for (const json& item : items) ids.push_back(item["id"].get<std::string>());
  return ids;
}

// Files that record what the hub stored (git objects and refs, blobs) with their sizes.
std::map<std::string, uintmax_t> StoredFiles(const HubProcess& hub) {
  std::map<std::string, uintmax_t> out;
  for (const char* area : {"git", "blobs"}) {
    const fs::path root = hub.data_dir() / area;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      out[it->path().lexically_relative(hub.data_dir()).string()] =
          it->is_regular_file() ? it->file_size() : 0;
    }
  }
  return out;
}

// The value of one Prometheus sample line `name{labels} value`; -1 when absent.
double MetricValue(const std::string& text, const std::string& series) {
  const std::string line_start = series + " ";
  for (size_t at = text.find(line_start); at != std::string::npos;
       at = text.find(line_start, at + 1)) {
    if (at == 0 || text[at - 1] == '\n') {
      const size_t end = text.find('\n', at);
      return std::stod(text.substr(at + line_start.size(), end - at - line_start.size()));
    }
  }
  return -1;
}

// --- refusals: each is checked for its status and code, and for leaving nothing behind

class RefusalTest : public ::testing::Test {
 protected:
  RefusalTest() : hub_({.extra_args = kNoRateLimit}), http_(hub_.Client()) {}

  void SetUp() override {
    alice_ = hub_.CreateToken("author", "alice");
    owned_ = {.id = "owned-by-alice", .title = "Alice's package"};
    owned_dir_ = WritePackage(hub_.root() / "owned", owned_);
    const json created = SubmitNew(http_, alice_, TarGz(owned_dir_));
    ASSERT_EQ(created.value("version", 0), 1) << created.dump();
    owned_sha_ = created.value("content_sha256", "");
    total_ = PackageTotal(http_);
    ASSERT_EQ(total_, 1);
    files_ = StoredFiles(hub_);
    versions_ = GetJson(http_, "/api/v1/packages/owned-by-alice/versions");
  }

  // Checks a refused request: its status and error code, and that nothing was stored or left in
  // staging. Returns the error object.
  json ExpectRefused(const httplib::Result& res, int status, const std::string& code) {
    EXPECT_TRUE(res) << httplib::to_string(res.error());
    if (!res) return json();
    EXPECT_EQ(res->status, status) << res->body;
    EXPECT_EQ(ErrorCode(res), code) << res->body;
    EXPECT_EQ(PackageTotal(http_), total_);
    EXPECT_TRUE(StagingIsEmpty(hub_)) << "staging/ keeps an upload after a refusal";
    EXPECT_EQ(StoredFiles(hub_), files_) << "a refused submission changed git/ or blobs/";
    EXPECT_EQ(GetJson(http_, "/api/v1/packages/owned-by-alice/versions"), versions_);
    const json body = ParseBody(res);
    return body.is_object() ? body["error"] : json();
  }

  // A valid package.yaml for a package that does not exist yet.
  std::string FreshManifest(const std::string& id) { return ManifestYaml(PackageSpec{.id = id}); }

  HubProcess hub_;
  httplib::Client http_;
  std::string alice_;
  PackageSpec owned_;
  fs::path owned_dir_;
  std::string owned_sha_;
  int64_t total_ = 0;
  std::map<std::string, uintmax_t> files_;
  json versions_;
};

// The details of 422 invalid_manifest are the diagnostics `ahub validate DIR --json` prints for
// the same package: file, line, column, path and message. Returns the paths named.
std::set<std::string> ExpectDiagnosticsOfValidate(const fs::path& dir, const json& error) {
  const auto validate = RunAhub({"validate", dir.string(), "--json"});
  EXPECT_EQ(validate.exit_code, 2) << validate.out << validate.err;
  const json expected = json::parse(validate.out, nullptr, false);
  EXPECT_TRUE(expected.is_object() && expected["errors"].is_array()) << validate.out;
  if (!expected.is_object() || !error.is_object()) return {};
  EXPECT_TRUE(error["details"].is_array()) << error.dump();
  EXPECT_EQ(error["details"].size(), expected["errors"].size()) << error.dump() << "\n"
                                                                << validate.out;
  std::set<std::string> paths;
  for (size_t i = 0; i < expected["errors"].size() && i < error["details"].size(); ++i) {
    const json& want = expected["errors"][i];
    const json& got = error["details"][i];
    SCOPED_TRACE(want.dump());
    for (const char* key : {"line", "column", "path", "message"}) {
      EXPECT_EQ(got[key], want[key]) << key;
    }
    // The file is named as in the package, never by the server's staging path.
    EXPECT_EQ(got.value("file", ""), "package.yaml") << got.dump();
    paths.insert(got.value("path", ""));
  }
  return paths;
}

TEST_F(RefusalTest, MalformedYamlIs422AtItsPosition) {
  const fs::path dir = WritePackage(hub_.root() / "broken", PackageSpec{.id = "broken-yaml"});
  WriteFile(dir / "package.yaml",
            "format: ahub/1\nid: broken-yaml\ntitle: [unclosed\nversion: 1\n");
  const json error = ExpectRefused(Submit(http_, alice_, TarGz(dir)), 422, "invalid_manifest");
  ASSERT_TRUE(error["details"].is_array() && !error["details"].empty()) << error.dump();
  EXPECT_GT(error["details"][0].value("line", 0), 0) << error.dump();
  EXPECT_GT(error["details"][0].value("column", 0), 0) << error.dump();
  EXPECT_NE(error.value("message", "").find("package.yaml"), std::string::npos) << error.dump();
  ExpectDiagnosticsOfValidate(dir, error);
}

TEST_F(RefusalTest, SchemaErrorsAre422WithTheDiagnosticsOfValidate) {
  PackageSpec spec{.id = "bad-schema", .categories = {"cs.DC", "cs.DC"}};
  const fs::path dir = WritePackage(hub_.root() / "bad-schema", spec);
  std::string yaml = ManifestYaml(spec);
  yaml.replace(yaml.find("version: 1"), 10, "version: \"1\"");
  yaml += "catagories: [cs.DC]\n";
  WriteFile(dir / "package.yaml", yaml);
  const json error = ExpectRefused(Submit(http_, alice_, TarGz(dir)), 422, "invalid_manifest");
  const std::set<std::string> paths = ExpectDiagnosticsOfValidate(dir, error);
  EXPECT_TRUE(paths.count("version") && paths.count("categories[1]") && paths.count("catagories"))
      << error.dump();
}

TEST_F(RefusalTest, ASubmissionWithoutPackageYamlIs422) {
  const std::string tgz = ArchiveBuilder().File("README.md", "no manifest here\n").Finish();
  ExpectRefused(Submit(http_, alice_, tgz), 422, "missing_manifest");
  // package.yaml below the root does not count.
  const std::string nested =
      ArchiveBuilder().File("a/package.yaml", FreshManifest("nested")).File("b/x", "1").Finish();
  ExpectRefused(Submit(http_, alice_, nested), 422, "missing_manifest");
}

TEST_F(RefusalTest, MaliciousArchivesAreRefused) {
  const std::string manifest = FreshManifest("malicious");
  struct Case {
    std::string name;
    std::string archive;
    int status;
    std::string code;
  };
  std::vector<Case> cases;
  cases.push_back(
      {"absolute path",
       ArchiveBuilder().File("package.yaml", manifest).File("/tmp/ahub-evil", "x").Finish(), 400,
       "unsafe_path"});
  cases.push_back({"dot-dot",
                   ArchiveBuilder().File("package.yaml", manifest).File("../../evil", "x").Finish(),
                   400, "unsafe_path"});
  cases.push_back(
      {"symlink",
       ArchiveBuilder().File("package.yaml", manifest).Symlink("passwd", "/etc/passwd").Finish(),
       400, "link_entry"});
  cases.push_back(
      {"hardlink",
       ArchiveBuilder().File("package.yaml", manifest).Hardlink("copy", "package.yaml").Finish(),
       400, "link_entry"});
  cases.push_back({"device",
                   ArchiveBuilder().File("package.yaml", manifest).Special("null", AE_IFCHR).Finish(), 400,
                   "special_file"});
  cases.push_back({"zip bomb",
                   ArchiveBuilder()
                       .File("package.yaml", manifest)
                       .File("zeros", std::string(16 << 20, '\0'))
                       .Finish(),
                   413, "compression_ratio"});
  {
    ArchiveBuilder many;
    many.File("package.yaml", manifest);
    for (int i = 0; i < 10001; ++i) many.File("f/" + std::to_string(i), "");
    cases.push_back({"too many entries", many.Finish(), 413, "too_many_entries"});
  }
  cases.push_back({"not an archive", RandomBytes(5000, 11), 400, "not_an_archive"});
  {
    const std::string full = ArchiveBuilder()
                                 .File("package.yaml", manifest)
                                 .File("noise", RandomBytes(200000, 12))
                                 .Finish();
    cases.push_back({"truncated", full.substr(0, full.size() / 2), 400, "truncated_archive"});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const json error = ExpectRefused(Submit(http_, alice_, c.archive), c.status, c.code);
    EXPECT_FALSE(error.value("message", "").empty()) << error.dump();
  }
  EXPECT_FALSE(fs::exists("/tmp/ahub-evil"));
  EXPECT_EQ(GetJson(http_, "/api/v1/packages/malicious", 404).value("error", json())["code"],
            "not_found");
}

TEST(OversizeTest, AnUploadOverTheLimitIs413AndWritesNothing) {
  HubProcess hub({.extra_args = {"--max-upload-bytes", "65536"}});
  auto http = hub.Client();
  const std::string alice = hub.CreateToken("author", "alice");
  PackageSpec spec{.id = "too-big", .files = {{"data.bin", RandomBytes(100000, 3)}}};
  const std::string tgz = TarGz(WritePackage(hub.root() / "big", spec));
  ASSERT_GT(tgz.size(), 65536u);
  auto res = Submit(http, alice, tgz);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413) << res->body;
  EXPECT_EQ(ErrorCode(res), "payload_too_large");
  EXPECT_EQ(PackageTotal(http), 0);
  EXPECT_TRUE(StagingIsEmpty(hub));
  // The same package under the limit is accepted: the limit was the only reason.
  spec.files = {{"data.bin", RandomBytes(1000, 3)}};
  SubmitNew(http, alice, TarGz(WritePackage(hub.root() / "big", spec)));
  EXPECT_EQ(PackageTotal(http), 1);
}

TEST_F(RefusalTest, WrongTokensAre401AndRolesThatMayNotSubmitAre403) {
  const std::string tgz =
      TarGz(WritePackage(hub_.root() / "fresh", PackageSpec{.id = "fresh-one"}));
  for (const httplib::Headers& headers :
       {HubProcess::Auth("ahub_" + std::string(43, 'x')), HubProcess::Auth(alice_ + "x"),
        httplib::Headers{{"Authorization", "Basic YWxpY2U6cHc="}},
        httplib::Headers{{"Authorization", "Bearer"}},
        httplib::Headers{{"Authorization", alice_}}}) {
    SCOPED_TRACE(headers.begin()->second);
    auto res = http_.Post("/api/v1/packages", headers, tgz, "application/gzip");
    ExpectRefused(res, 401, "unauthorized");
    if (res) {
      EXPECT_EQ(res->get_header_value("WWW-Authenticate").rfind("Bearer", 0), 0u);
    }
  }
  ExpectRefused(http_.Post("/api/v1/packages", tgz, "application/gzip"), 401, "unauthorized");
  for (const char* role : {"reviewer", "runner"}) {
    SCOPED_TRACE(role);
    ExpectRefused(Submit(http_, hub_.CreateToken(role, std::string(role) + "-1"), tgz), 403,
                  "forbidden");
  }
  // Admin may submit.
  SubmitNew(http_, hub_.CreateToken("admin", "root"), tgz);
}

TEST_F(RefusalTest, OnlyTheOwnerMayAddVersions) {
  const std::string bob = hub_.CreateToken("author", "bob");
  PackageSpec v2 = owned_;
  v2.version = 2;
  v2.title = "Bob's take over";
  const std::string v2_tgz = TarGz(WritePackage(hub_.root() / "bob", v2));
  const json error = ExpectRefused(Submit(http_, bob, v2_tgz), 403, "forbidden");
  EXPECT_NE(error.value("message", "").find("owned-by-alice"), std::string::npos) << error.dump();
  // Not even a resubmission of alice's own content.
  ExpectRefused(Submit(http_, bob, TarGz(owned_dir_)), 403, "forbidden");
  // Alice may; the package stays hers for the next version too.
  SubmitNew(http_, alice_, v2_tgz);
  v2.version = 3;
  const json page = GetJson(http_, "/api/v1/packages/owned-by-alice");
  EXPECT_EQ(page["version"], 2);
  EXPECT_EQ(page["title"], "Bob's take over");
  auto res = Submit(http_, bob, TarGz(WritePackage(hub_.root() / "bob3", v2)));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403) << res->body;
  // An admin may add a version; the package stays alice's.
  SubmitNew(http_, hub_.CreateToken("admin", "root"),
            TarGz(WritePackage(hub_.root() / "admin3", v2)));
  v2.version = 4;
  SubmitNew(http_, alice_, TarGz(WritePackage(hub_.root() / "alice4", v2)));
  res = Submit(
      http_, bob,
      TarGz(WritePackage(hub_.root() / "bob5", PackageSpec{.id = "owned-by-alice", .version = 5})));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403) << res->body;
}

TEST_F(RefusalTest, AClashingOrOlderVersionIs409) {
  PackageSpec changed = owned_;
  changed.title = "Same version, other content";
  const json error =
      ExpectRefused(Submit(http_, alice_, TarGz(WritePackage(hub_.root() / "clash", changed))), 409,
                    "version_exists");
  EXPECT_NE(error.value("message", "").find("version"), std::string::npos) << error.dump();

  PackageSpec v3 = owned_;
  v3.version = 3;
  SubmitNew(http_, alice_, TarGz(WritePackage(hub_.root() / "v3", v3)));
  total_ = PackageTotal(http_);
  files_ = StoredFiles(hub_);
  versions_ = GetJson(http_, "/api/v1/packages/owned-by-alice/versions");
  PackageSpec v2 = owned_;
  v2.version = 2;
  ExpectRefused(Submit(http_, alice_, TarGz(WritePackage(hub_.root() / "v2", v2))), 409,
                "version_not_newer");
}

TEST_F(RefusalTest, DuplicateContentIs200AndStoresNothing) {
  // The same files in another archive layout (under a top-level directory) are the same content.
  for (const std::string& prefix : {std::string(), std::string("wrapped")}) {
    SCOPED_TRACE(prefix);
    auto res = Submit(http_, alice_, TarGz(owned_dir_, prefix));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
    const json body = ParseBody(res);
    EXPECT_EQ(body["duplicate"], true) << res->body;
    EXPECT_EQ(body["version"], 1);
    EXPECT_EQ(body["content_sha256"], owned_sha_);
    EXPECT_FALSE(res->has_header("Location"));
    EXPECT_EQ(PackageTotal(http_), total_);
    EXPECT_TRUE(StagingIsEmpty(hub_));
    EXPECT_EQ(StoredFiles(hub_), files_);
    EXPECT_EQ(GetJson(http_, "/api/v1/packages/owned-by-alice/versions"), versions_);
  }
}

TEST_F(RefusalTest, GitSourcesAreRefusedLikeArchives) {
  auto post_json = [&](const json& body) {
    return http_.Post("/api/v1/packages", HubProcess::Auth(alice_), body.dump(),
                      "application/json");
  };
  for (const char* url : {"http://example.com/pkg.git", "https://example.com/pkg.git",
                          "ssh://git@example.com/pkg.git", "git@example.com:pkg.git"}) {
    SCOPED_TRACE(url);
    ExpectRefused(post_json({{"git", url}}), 400, "unsupported_git_url");
  }
  ExpectRefused(post_json({{"git", (hub_.root() / "no-such-repo").string()}}), 400,
                "git_not_found");

  const fs::path repo = WritePackage(hub_.root() / "linky", PackageSpec{.id = "linky"});
  fs::create_symlink("/etc/passwd", repo / "passwd");
  Git(repo, {"init", "-q"});
  Git(repo, {"add", "-A"});
  Git(repo, {"commit", "-q", "-m", "a link"});
  ExpectRefused(post_json({{"git", repo.string()}}), 400, "link_entry");
  ExpectRefused(post_json({{"git", repo.string()}, {"ref", "no-such-branch"}}), 400,
                "git_ref_not_found");
  ExpectRefused(http_.Post("/api/v1/packages", HubProcess::Auth(alice_),
                           "# v2 git bundle\nnonsense", "application/x-git-bundle"),
                400, "not_a_bundle");

  // A bundle obeys the archive rules: no links, and its size bounds what it may unpack to.
  const fs::path linky_bundle = hub_.root() / "linky.bundle";
  Git(repo, {"bundle", "create", linky_bundle.string(), "--all"});
  ExpectRefused(Submit(http_, alice_, ReadFileText(linky_bundle), "application/x-git-bundle"), 400,
                "link_entry");
  const fs::path bomb = WritePackage(hub_.root() / "bomb", PackageSpec{.id = "bundle-bomb"});
  WriteFile(bomb / "zeros.bin", std::string(16 << 20, '\0'));
  Git(bomb, {"init", "-q"});
  Git(bomb, {"add", "-A"});
  Git(bomb, {"commit", "-q", "-m", "a bomb"});
  const fs::path bomb_bundle = hub_.root() / "bomb.bundle";
  Git(bomb, {"bundle", "create", bomb_bundle.string(), "--all"});
  const std::string bomb_bytes = ReadFileText(bomb_bundle);
  ExpectRefused(Submit(http_, alice_, bomb_bytes, "application/x-git-bundle"), 413,
                "compression_ratio");
  ExpectRefused(Submit(http_, alice_, bomb_bytes.substr(0, bomb_bytes.size() / 2),
                       "application/x-git-bundle"),
                400, "not_a_bundle");
}

// --- what each role may do on the other write routes

TEST(RoleTest, EveryWriteRouteChecksItsRole) {
  HubProcess hub({.extra_args = kNoRateLimit});
  auto http = hub.Client();
  const std::string author = hub.CreateToken("author", "alice");
  const std::string reviewer = hub.CreateToken("reviewer", "rita");
  const std::string runner = hub.CreateToken("runner", "robot");
  const std::string unknown = "ahub_" + std::string(43, 'q');
  const json created = SubmitNew(
      http, author, TarGz(WritePackage(hub.root() / "p", PackageSpec{.id = "role-target"})));
  const json report = {{"format", "ahub-report/1"},
                       {"package", "role-target"},
                       {"version", 1},
                       {"content_sha256", created["content_sha256"]},
                       {"host", {{"fingerprint", std::string(64, 'e')}}},
                       {"claims", json::array()}};
  struct Route {
    std::string method, path, body;
    std::set<std::string> allowed;  // roles that may call it; the others get 403
    int status;                     // what an allowed role gets here
  };
  const std::vector<Route> routes = {
      {"POST", "/api/v1/packages/role-target/verify", "", {"reviewer", "admin"}, 202},
      {"POST", "/api/v1/attestations", report.dump(), {"runner", "admin"}, 201},
      // Allowed, and then not found: there is no tension yet.
      {"PATCH", "/api/v1/tensions/1", R"({"status": "explained"})", {"reviewer", "admin"}, 404},
  };
  const std::map<std::string, std::string> tokens = {{"author", author},
                                                     {"reviewer", reviewer},
                                                     {"runner", runner},
                                                     {"admin", hub.CreateToken("admin", "root")}};
  for (const Route& r : routes) {
    auto send = [&](const httplib::Headers& headers) {
      return r.method == "POST" ? http.Post(r.path, headers, r.body, "application/json")
                                : http.Patch(r.path, headers, r.body, "application/json");
    };
    SCOPED_TRACE(r.method + " " + r.path);
    for (const httplib::Headers& headers : {httplib::Headers{}, HubProcess::Auth(unknown)}) {
      auto res = send(headers);
      ASSERT_TRUE(res);
      EXPECT_EQ(res->status, 401) << res->body;
      EXPECT_EQ(ErrorCode(res), "unauthorized");
    }
    for (const auto& [role, token] : tokens) {
      SCOPED_TRACE(role);
      auto res = send(HubProcess::Auth(token));
      ASSERT_TRUE(res);
      if (r.allowed.count(role)) {
        EXPECT_EQ(res->status, r.status) << res->body;
      } else {
        EXPECT_EQ(res->status, 403) << res->body;
        EXPECT_EQ(ErrorCode(res), "forbidden");
      }
    }
  }
  // Reads need no token, and a wrong one is refused even there.
  EXPECT_EQ(GetJson(http, "/api/v1/packages/role-target")["id"], "role-target");
  auto res = http.Get("/api/v1/packages/role-target", HubProcess::Auth(unknown));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
}

// --- submissions from each source

// Every regular file under `dir` (skipping a top-level .git) with its content.
std::map<std::string, std::string> FilesUnder(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    const std::string rel = it->path().lexically_relative(dir).generic_string();
    if (rel == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) out[rel] = ReadFileText(it->path());
  }
  return out;
}

// GET an archive route; the files of the tar.gz as ExtractTarGz writes them.
std::map<std::string, std::string> DownloadedFiles(httplib::Client& http, const std::string& path) {
  auto res = http.Get(path);
  EXPECT_TRUE(res) << path;
  if (!res) return {};
  EXPECT_EQ(res->status, 200) << path << ": " << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/gzip") << path;
  TempDir dest("ahub-download-");
  auto extracted = ahub::hub::ExtractTarGz(res->body, dest.path(), ahub::hub::ExtractLimits{});
  EXPECT_TRUE(extracted.ok()) << path << ": " << (extracted.ok() ? "" : extracted.error().message);
  return extracted.ok() ? FilesUnder(dest.path()) : std::map<std::string, std::string>{};
}

TEST(SubmitTest, TarballBundleAndGitRepositoryStoreTheSameContent) {
  HubProcess hub({.extra_args = kNoRateLimit});
  auto http = hub.Client();
  const std::string alice = hub.CreateToken("author", "alice");

  PackageSpec v1{.id = "from-git", .files = {{"src/notes.md", "first\n"}}};
  const fs::path repo = WritePackage(hub.root() / "repo", v1);
  Git(repo, {"init", "-q", "-b", "main"});
  Git(repo, {"add", "-A"});
  Git(repo, {"commit", "-q", "-m", "v1"});
  Git(repo, {"tag", "v1"});
  const std::string v1_tgz = TarGz(repo);
  const std::map<std::string, std::string> v1_files = FilesUnder(repo);
  PackageSpec v2 = v1;
  v2.version = 2;
  v2.claims[0].value = "2.5";
  WriteFile(repo / "package.yaml", ManifestYaml(v2));
  WriteFile(repo / "src/more.md", "second\n");
  Git(repo, {"add", "-A"});
  Git(repo, {"commit", "-q", "-m", "v2"});
  const fs::path bundle = hub.root() / "from-git.bundle";
  Git(repo, {"bundle", "create", bundle.string(), "--all"});
  const std::string bundle_bytes = ReadFileText(bundle);
  ASSERT_EQ(bundle_bytes.rfind("# v", 0), 0u) << "not a git bundle";

  // A bundle, at a tag.
  auto res = Submit(http, alice, bundle_bytes, "application/x-git-bundle", "?ref=v1");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  const json first = ParseBody(res);
  EXPECT_EQ(first["version"], 1);
  // The tarball of the same files is the same content.
  res = Submit(http, alice, v1_tgz);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(ParseBody(res)["content_sha256"], first["content_sha256"]);
  // The bundle's HEAD, recognised by its first bytes.
  res = Submit(http, alice, bundle_bytes, "application/octet-stream");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  const json second = ParseBody(res);
  EXPECT_EQ(second["version"], 2);
  EXPECT_NE(second["content_sha256"], first["content_sha256"]);
  // The repository itself, by path and by file:// URL, is the same content again.
  const std::vector<std::tuple<std::string, std::string, int>> sources = {
      {repo.string(), "v1", 1}, {"file://" + repo.string(), "main", 2}, {repo.string(), "", 2}};
  for (const auto& [url, ref, version] : sources) {
    SCOPED_TRACE(url + " @ " + ref);
    json body = {{"git", url}};
    if (!ref.empty()) body["ref"] = ref;
    res = http.Post("/api/v1/packages", HubProcess::Auth(alice), body.dump(), "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(ParseBody(res)["duplicate"], true);
    EXPECT_EQ(ParseBody(res)["version"], version);
    EXPECT_EQ(ParseBody(res)["content_sha256"],
              version == 1 ? first["content_sha256"] : second["content_sha256"]);
  }
  // A new package from a repository by file:// URL.
  const fs::path other = WritePackage(hub.root() / "other", PackageSpec{.id = "from-file-url"});
  Git(other, {"init", "-q", "-b", "trunk"});
  Git(other, {"add", "-A"});
  Git(other, {"commit", "-q", "-m", "v1"});
  res = http.Post("/api/v1/packages", HubProcess::Auth(alice),
                  json{{"git", "file://" + other.string()}, {"ref", "trunk"}}.dump(),
                  "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 201) << res->body;

  // What was stored is what was committed.
  EXPECT_EQ(DownloadedFiles(http, "/api/v1/packages/from-git/versions/1/archive"), v1_files);
  EXPECT_EQ(DownloadedFiles(http, "/api/v1/packages/from-git/archive"), FilesUnder(repo));
  EXPECT_EQ(DownloadedFiles(http, "/api/v1/packages/from-file-url/archive"), FilesUnder(other));
  EXPECT_EQ(PackageTotal(http), 2);
  EXPECT_EQ(GetJson(http, "/api/v1/packages/from-git/versions")["versions"].size(), 2u);
  EXPECT_TRUE(StagingIsEmpty(hub));
}

// --- listings

TEST(ListingTest, SortsFiltersPagesAndCountsFacets) {
  HubProcess hub({.extra_args = kNoRateLimit});
  auto http = hub.Client();
  const std::string alice = hub.CreateToken("author", "alice");
  // alpha and bravo state conflicting values of one metric: alpha, published later, raises a
  // tension and earns 5 points; every other package has the 4 points of being published.
  const ClaimSpec shared_10{.metric = "test.shared_latency", .value = "10"};
  const ClaimSpec shared_20{.metric = "test.shared_latency", .value = "20"};
  const std::vector<PackageSpec> specs = {
      {.id = "list-alpha",
       .title = "Alpha caching study",
       .categories = {"cs.DC"},
       .tags = {"caching", "zipf"},
       .published = "2026-01-05",
       .claims = {shared_20}},
      {.id = "list-bravo",
       .title = "Bravo eviction study",
       .categories = {"cs.DC"},
       .tags = {"caching"},
       .published = "2026-01-03",
       .claims = {shared_10}},
      {.id = "list-charlie",
       .title = "Charlie search",
       .categories = {"cs.DC"},
       .tags = {"search"},
       .published = "2026-01-04"},
      {.id = "list-delta",
       .title = "Delta sorting",
       .categories = {"cs.DS", "cs.DC"},
       .tags = {"search", "sorting"},
       .published = "2026-01-02"},
      {.id = "list-echo",
       .title = "Echo sorting",
       .categories = {"cs.DS"},
       .tags = {"sorting"},
       .published = "2026-01-06"},
      {.id = "list-foxtrot",
       .title = "Foxtrot learning",
       .categories = {"stat.ML", "cs.PF"},
       .tags = {"learning"},
       .published = "2026-01-01"},
      {.id = "list-golf",
       .title = "Golf learning caches",
       .categories = {"stat.ML"},
       .tags = {"learning", "caching"},
       .published = "2026-01-07"},
  };
  for (const PackageSpec& spec : specs)
    SubmitNew(http, alice, TarGz(WritePackage(hub.root() / spec.id, spec)));

  const json full = GetJson(http, "/api/v1/packages?limit=100");
  ASSERT_EQ(full["total"], 7) << full.dump();
  EXPECT_TRUE(full["next_cursor"].is_null());
  EXPECT_EQ(full["sort"], "attention");
  ASSERT_EQ(full["items"].size(), 7u);
  EXPECT_EQ(full["items"][0]["id"], "list-alpha");
  EXPECT_EQ(full["items"][0]["score"], 9.0);
  EXPECT_EQ(full["items"][0]["open_tensions"], 1);
  for (size_t i = 1; i < 7; ++i) {
    EXPECT_EQ(full["items"][i]["score"], 4.0) << full["items"][i].dump();
    EXPECT_TRUE(full["items"][i]["links"]["self"].is_string());
  }
  const json recent = GetJson(http, "/api/v1/packages?sort=recent&limit=100");
  std::vector<std::string> published;
  for (const json& item : recent["items"])
    published.push_back(item["published"].get<std::string>());
  EXPECT_TRUE(std::is_sorted(published.rbegin(), published.rend())) << recent.dump();
  EXPECT_EQ(recent["items"][0]["id"], "list-golf");

  // Pages of every size give the same order, each package once.
  for (const std::string sort : {"attention", "recent"}) {
    const json whole = GetJson(http, "/api/v1/packages?limit=100&sort=" + sort);
    for (int limit : {1, 2, 3}) {
      SCOPED_TRACE(sort + " limit " + std::to_string(limit));
      const std::vector<std::string> ids =
          Ids(AllPages(http, "sort=" + sort + "&limit=" + std::to_string(limit)));
      EXPECT_EQ(ids, Ids(whole["items"].get<std::vector<json>>()));
      EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size()) << "a repeat";
    }
  }
  // A cursor made up by the client, or made for the other order, is refused, not trusted.
  const json first_page = GetJson(http, "/api/v1/packages?limit=2");
  ASSERT_TRUE(first_page["next_cursor"].is_string());
  for (const std::string& query :
       {std::string("cursor=bm90LWEtY3Vyc29y"),
        "sort=recent&cursor=" + first_page["next_cursor"].get<std::string>()}) {
    auto res = http.Get("/api/v1/packages?" + query);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << query << ": " << res->body;
    EXPECT_EQ(ErrorCode(res), "invalid_cursor") << query;
  }

  // Filters, alone and with pagination.
  auto ids_of = [&](const std::string& query) {
    std::vector<std::string> ids = Ids(AllPages(http, query + "&limit=2"));
    return std::set<std::string>(ids.begin(), ids.end());
  };
  using Set = std::set<std::string>;
  EXPECT_EQ(ids_of("tag=caching"), (Set{"list-alpha", "list-bravo", "list-golf"}));
  EXPECT_EQ(ids_of("tag=sorting"), (Set{"list-delta", "list-echo"}));
  EXPECT_EQ(ids_of("tag=nothing"), Set{});
  EXPECT_EQ(ids_of("category=cs.DS"), (Set{"list-delta", "list-echo"}));
  EXPECT_EQ(ids_of("category=stat.ML&tag=caching"), Set{"list-golf"});
  EXPECT_EQ(ids_of("q=sorting"), (Set{"list-delta", "list-echo"}));
  EXPECT_EQ(ids_of("q=foxtrot"), Set{"list-foxtrot"}) << "the id is searched";
  EXPECT_EQ(ids_of("q=Caching"), (Set{"list-alpha", "list-bravo", "list-golf"}))
      << "tags and titles are searched, without regard to case";
  EXPECT_EQ(ids_of("q=learn"), (Set{"list-foxtrot", "list-golf"})) << "words match by prefix";
  EXPECT_EQ(ids_of("q=caching&sort=recent&tag=learning"), Set{"list-golf"});

  // Facets count the packages of the same filter.
  auto facets = [&](const std::string& query, const char* kind) {
    std::map<std::string, int> out;
    const json page = GetJson(http, "/api/v1/packages?" + query);
    for (const json& f : page["facets"][kind])
      out[f["name"].get<std::string>()] = f["count"].get<int>();
    return out;
  };
  using Counts = std::map<std::string, int>;
  EXPECT_EQ(facets("", "categories"), (Counts{{"cs.DC", 3}, {"cs.DS", 2}, {"stat.ML", 2}}));
  EXPECT_EQ(facets("", "tags"),
            (Counts{{"caching", 3}, {"learning", 2}, {"search", 2}, {"sorting", 2}, {"zipf", 1}}));
  EXPECT_EQ(facets("tag=caching", "categories"), (Counts{{"cs.DC", 2}, {"stat.ML", 1}}));
  EXPECT_EQ(facets("category=cs.DS", "tags"), (Counts{{"search", 1}, {"sorting", 2}}));
  // A facet's count is the total its filter lists.
  for (const auto& [category, count] : facets("", "categories")) {
    EXPECT_EQ(GetJson(http, "/api/v1/packages?category=" + category)["total"], count) << category;
  }
}

// category= and the category facets go by a package's primary category (its first), never by
// the others it lists.
TEST(ListingTest, CategoryFilterAndFacetsUseThePrimaryCategory) {
  // As on arXiv listings' headline counts: a package counts (and is found) under its primary
  // category, so a chip's count is the number of cards its filter shows.
  HubProcess hub({.extra_args = kNoRateLimit});
  auto http = hub.Client();
  const std::string alice = hub.CreateToken("author", "alice");
  SubmitNew(
      http, alice,
      TarGz(WritePackage(hub.root() / "cross",
                         PackageSpec{.id = "cross-listed", .categories = {"cs.DS", "cs.PF"}})));
  SubmitNew(http, alice,
            TarGz(WritePackage(hub.root() / "plain",
                               PackageSpec{.id = "plain-listed", .categories = {"cs.PF"}})));
  const json page = GetJson(http, "/api/v1/packages?category=cs.PF");
  std::set<std::string> ids;
  for (const json& item : page["items"]) ids.insert(item["id"].get<std::string>());
  EXPECT_EQ(ids, (std::set<std::string>{"plain-listed"})) << page.dump();
  std::map<std::string, int> counts;
  const json all = GetJson(http, "/api/v1/packages");
  for (const json& f : all["facets"]["categories"]) counts[f["name"]] = f["count"];
  EXPECT_EQ(counts, (std::map<std::string, int>{{"cs.DS", 1}, {"cs.PF", 1}}));
}

// --- one package: versions, archives, diffs, claims

TEST(PackageTest, VersionsArchivesDiffAndClaims) {
  HubProcess hub({.extra_args = kNoRateLimit});
  auto http = hub.Client();
  const std::string alice = hub.CreateToken("author", "alice");
  PackageSpec v1{
      .id = "versioned",
      .title = "First title",
      .claims = {ClaimSpec{.value = "1.5"},
                 ClaimSpec{.id = "second", .metric = "test.versioned_b", .value = "7"}},
      .files = {{"data/notes.txt", "line one\nline two\n"}, {"data/old.txt", "to be removed\n"}}};
  PackageSpec v2 = v1;
  v2.version = 2;
  v2.title = "Second title";
  v2.claims[0].value = "2.5";
  v2.files = {{"data/notes.txt", "line one\nline 2\n"}, {"data/new.txt", "added\n"}};
  const fs::path v1_dir = WritePackage(hub.root() / "v1", v1);
  const fs::path v2_dir = WritePackage(hub.root() / "v2", v2);
  const json c1 = SubmitNew(http, alice, TarGz(v1_dir));
  const json c2 = SubmitNew(http, alice, TarGz(v2_dir));
  ASSERT_TRUE(c1.is_object() && c2.is_object());
  EXPECT_TRUE(c1["verification"].is_null()) << "declared claims need no job";

  const json latest = GetJson(http, "/api/v1/packages/versioned");
  EXPECT_EQ(latest["version"], 2);
  EXPECT_EQ(latest["latest_version"], 2);
  EXPECT_EQ(latest["title"], "Second title");
  EXPECT_EQ(latest["content_sha256"], c2["content_sha256"]);
  EXPECT_EQ(latest["manifest"]["id"], "versioned");
  ASSERT_EQ(latest["claims"].size(), 2u);
  EXPECT_EQ(latest["claims"][0]["value"], 2.5);
  EXPECT_EQ(latest["claims"][0]["level"], "declared");
  EXPECT_EQ(latest["level"], "declared");
  ASSERT_EQ(latest["versions"].size(), 2u);
  EXPECT_EQ(latest["attention"]["score"], 4.0);
  EXPECT_EQ(GetJson(http, "/api/v1/packages/versioned/versions/2"), latest);

  const json versions = GetJson(http, "/api/v1/packages/versioned/versions");
  EXPECT_EQ(versions["latest"], 2);
  ASSERT_EQ(versions["versions"].size(), 2u);
  EXPECT_EQ(versions["versions"][0]["version"], 1);
  EXPECT_EQ(versions["versions"][0]["content_sha256"], c1["content_sha256"]);
  EXPECT_EQ(versions["versions"][1]["content_sha256"], c2["content_sha256"]);
  EXPECT_EQ(versions["versions"][0]["links"]["archive"],
            "/api/v1/packages/versioned/versions/1/archive");

  const json old = GetJson(http, "/api/v1/packages/versioned/versions/1");
  EXPECT_EQ(old["version"], 1);
  EXPECT_EQ(old["latest_version"], 2);
  EXPECT_EQ(old["title"], "First title");
  EXPECT_EQ(old["content_sha256"], c1["content_sha256"]);
  EXPECT_EQ(old["claims"][0]["value"], 1.5);
  GetJson(http, "/api/v1/packages/versioned/versions/3", 404);
  GetJson(http, "/api/v1/packages/no-such-package/versions", 404);

  // Archives: the files as submitted, package.yaml byte for byte.
  auto res = http.Get("/api/v1/packages/versioned/archive");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Disposition"),
            "attachment; filename=\"versioned-v2.tar.gz\"");
  const auto v2_files = DownloadedFiles(http, "/api/v1/packages/versioned/archive");
  EXPECT_EQ(v2_files, FilesUnder(v2_dir));
  EXPECT_EQ(v2_files.count("package.yaml") ? v2_files.at("package.yaml") : "", ManifestYaml(v2));
  EXPECT_EQ(DownloadedFiles(http, "/api/v1/packages/versioned/versions/1/archive"),
            FilesUnder(v1_dir));
  GetJson(http, "/api/v1/packages/versioned/versions/9/archive", 404);

  const json diff = GetJson(http, "/api/v1/packages/versioned/diff?from=1&to=2");
  std::map<std::string, std::string> status;
  for (const json& f : diff["files"])
    status[f["path"].get<std::string>()] = f["status"].get<std::string>();
  EXPECT_EQ(status, (std::map<std::string, std::string>{{"data/new.txt", "added"},
                                                        {"data/notes.txt", "modified"},
                                                        {"data/old.txt", "deleted"},
                                                        {"package.yaml", "modified"}}))
      << diff.dump();
  const std::string patch = diff.value("patch", "");
  for (const char* line :
       {"-title: \"First title\"", "+title: \"Second title\"", "-line two", "+line 2",
        "-    value: 1.5", "+    value: 2.5", "+added", "-to be removed"}) {
    EXPECT_NE(patch.find(std::string("\n") + line + "\n"), std::string::npos) << line << "\n"
                                                                              << patch;
  }
  GetJson(http, "/api/v1/packages/versioned/diff?from=1&to=5", 404);

  const json claims = GetJson(http, "/api/v1/packages/versioned/claims");
  EXPECT_EQ(claims["version"], 2);
  ASSERT_EQ(claims["claims"].size(), 2u);
  EXPECT_EQ(claims["claims"][0]["id"], "headline");
  EXPECT_EQ(claims["claims"][0]["value"], 2.5);
  EXPECT_EQ(claims["claims"][1]["metric"], "test.versioned_b");
  EXPECT_EQ(claims["claims"][1]["verdict"], "declared");
  EXPECT_EQ(GetJson(http, "/api/v1/packages/versioned/claims?version=1")["claims"][0]["value"],
            1.5);
  GetJson(http, "/api/v1/packages/versioned/claims?version=4", 404);
  EXPECT_EQ(GetJson(http, "/api/v1/packages/versioned/runs")["runs"], json::array());
  EXPECT_EQ(GetJson(http, "/api/v1/packages/versioned/tensions")["tensions"], json::array());
  GetJson(http, "/api/v1/packages/no-such-package/tensions", 404);
  GetJson(http, "/api/v1/jobs/424242", 404);
}

// ?version= naming a version that does not exist is 404 on /claims, /archive and /versions/{n};
// /runs (schemas/openapi.yaml lists its 404) must agree rather than list nothing.
TEST(PackageTest, RunsOfAnUnknownVersionAre404) {
  HubProcess hub({.extra_args = kNoRateLimit});
  auto http = hub.Client();
  SubmitNew(http, hub.CreateToken("author", "alice"),
            TarGz(WritePackage(hub.root() / "p", PackageSpec{.id = "one-version"})));
  EXPECT_EQ(GetJson(http, "/api/v1/packages/one-version/runs?version=1")["runs"], json::array());
  GetJson(http, "/api/v1/packages/one-version/claims?version=4", 404);
  GetJson(http, "/api/v1/packages/one-version/runs?version=4", 404);
  GetJson(http, "/api/v1/packages/no-such-package/runs", 404);
}

// --- verification: a job, its runs, a re-queue, attestations

json ClaimById(const json& claims, const std::string& id) {
  for (const json& c : claims) {
    if (c.value("id", "") == id) return c;
  }
  ADD_FAILURE() << "no claim " << id << " in " << claims.dump();
  return json::object();
}

TEST(VerificationTest, AJobRunsTheSandboxAndAttestationsReplicate) {
  HubProcess hub({.extra_args = kNoRateLimit});
  auto http = hub.Client();
  const std::string author = hub.CreateToken("author", "alice");
  const std::string reviewer = hub.CreateToken("reviewer", "rita");
  const std::string runner = hub.CreateToken("runner", "robot");
  const json created =
      SubmitNew(http, author, TarGz(CopyOfBisect(hub.root() / "bisect", "bisect-copy")));
  ASSERT_TRUE(created["verification"].is_object()) << created.dump();
  const int64_t job_id = created["verification"]["id"];
  const json job = WaitForJob(http, job_id);
  ASSERT_EQ(job["state"], "done") << job.dump() << "\n" << hub.Stderr();
  EXPECT_EQ(job["level"], "reproduces") << job.dump();
  EXPECT_EQ(job["attempts"], 1);
  EXPECT_EQ(job["package"], "bisect-copy");

  const json claims = GetJson(http, "/api/v1/packages/bisect-copy/claims")["claims"];
  ASSERT_EQ(claims.size(), 3u);
  for (const json& c : claims) {
    EXPECT_EQ(c["verdict"], "reproduced") << c.dump();
    EXPECT_EQ(c["level"], "reproduces") << c.dump();
    EXPECT_TRUE(c["measured"].is_number()) << c.dump();
    EXPECT_EQ(c["hosts"], 1);
  }
  json package = GetJson(http, "/api/v1/packages/bisect-copy");
  EXPECT_EQ(package["score"], 10.0) << package["attention"].dump();
  EXPECT_EQ(package["level"], "reproduces");

  // The run: logs inline, results.json parsed inline, everything also by blob.
  const json runs = GetJson(http, "/api/v1/packages/bisect-copy/runs?version=1")["runs"];
  ASSERT_EQ(runs.size(), 1u) << runs.dump();
  const int64_t run_id = runs[0]["id"];
  const json run = GetJson(http, "/api/v1/packages/bisect-copy/runs/" + std::to_string(run_id));
  EXPECT_EQ(run["experiment"], "study");
  EXPECT_EQ(run["succeeded"], true) << run.dump();
  EXPECT_EQ(run["job"], job_id);
  for (const char* stream : {"stdout", "stderr"}) {
    ASSERT_TRUE(run[stream]["text"].is_string()) << run.dump();
    auto blob = http.Get(run[stream]["url"].get<std::string>());
    ASSERT_TRUE(blob);
    EXPECT_EQ(blob->status, 200);
    EXPECT_EQ(blob->body, run[stream]["text"].get<std::string>()) << stream;
  }
  json results;
  for (const json& o : run["outputs"]) {
    if (o["name"] == "results.json") results = o;
  }
  ASSERT_TRUE(results.is_object() && results["json"].is_object()) << run.dump();
  EXPECT_EQ(ClaimById(claims, "small-n")["measured"], results["json"]["small_n_speedup"]);
  EXPECT_EQ(ClaimById(claims, "crossover")["measured"], results["json"]["crossover_n"]);
  auto blob = http.Get("/api/v1/blobs/" + results["sha256"].get<std::string>());
  ASSERT_TRUE(blob);
  EXPECT_EQ(blob->status, 200);
  EXPECT_EQ(json::parse(blob->body, nullptr, false), results["json"]);
  GetJson(http, "/api/v1/blobs/" + std::string(64, '0'), 404);
  GetJson(http, "/api/v1/packages/bisect-copy/runs/999999", 404);
  GetJson(http, "/api/v1/packages/no-such-package/runs/" + std::to_string(run_id), 404);

  // Re-queue: reviewers only; the job runs again on the same host.
  const std::string verify = "/api/v1/packages/bisect-copy/verify";
  auto res = http.Post(verify, "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  for (const std::string& token : {author, runner}) {
    res = http.Post(verify, HubProcess::Auth(token), "", "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 403) << res->body;
  }
  res = http.Post("/api/v1/packages/no-such-package/verify", HubProcess::Auth(reviewer), "",
                  "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404) << res->body;
  res = http.Post(verify + "?version=7", HubProcess::Auth(reviewer), "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404) << res->body;
  res = http.Post(verify, HubProcess::Auth(reviewer), "", "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 202) << res->body;
  const json requeued = ParseBody(res);
  EXPECT_NE(requeued["id"], job_id);
  EXPECT_EQ(requeued["reason"], "requeued");
  const json second = WaitForJob(http, requeued["id"]);
  EXPECT_EQ(second["state"], "done") << second.dump();
  const json runs_after = GetJson(http, "/api/v1/packages/bisect-copy/runs?version=1")["runs"];
  ASSERT_EQ(runs_after.size(), 2u) << runs_after.dump();
  EXPECT_EQ(runs_after[0]["job"], requeued["id"]) << "newest first";
  EXPECT_EQ(runs_after[1]["id"], run_id);
  EXPECT_EQ(GetJson(http, "/api/v1/packages/bisect-copy")["score"], 10.0)
      << "the same host twice replicates nothing";

  // Attestations. The hub's own fingerprint is in the report its run stored.
  auto report_blob = http.Get("/api/v1/blobs/" + run.value("report", ""));
  ASSERT_TRUE(report_blob);
  const json hub_report = json::parse(report_blob->body, nullptr, false);
  ASSERT_TRUE(hub_report.is_object()) << run.dump();
  const std::string hub_fingerprint = hub_report["host"]["fingerprint"];
  auto report_from = [&](const std::string& fingerprint) {
    json r = {{"format", "ahub-report/1"},
              {"package", "bisect-copy"},
              {"version", 1},
              {"content_sha256", created["content_sha256"]},
              {"level", "reproduces"},
              {"host", {{"fingerprint", fingerprint}, {"cpu", "elsewhere"}}},
              {"claims", json::array()}};
    for (const json& c : claims) {
      r["claims"].push_back(
          {{"id", c["id"]}, {"verdict", "reproduced"}, {"measured", c["measured"]}});
    }
    return r;
  };
  auto attest = [&](const std::string& token, const std::string& body) {
    return http.Post("/api/v1/attestations", HubProcess::Auth(token), body, "application/json");
  };
  res = attest(runner, report_from(hub_fingerprint).dump());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 201) << res->body;
  EXPECT_EQ(ParseBody(res)["score"], 10.0) << "one fingerprint is one host";
  EXPECT_EQ(ParseBody(res)["claims"][0]["level"], "reproduces");

  const std::string elsewhere(64, 'f');
  ASSERT_NE(hub_fingerprint, elsewhere);
  res = attest(runner, report_from(elsewhere).dump());
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  const json attested = ParseBody(res);
  EXPECT_EQ(attested["fingerprint"], elsewhere);
  EXPECT_EQ(attested["score"], 11.0);
  EXPECT_EQ(attested["level"], "replicated");
  for (const json& c : attested["claims"]) {
    EXPECT_EQ(c["level"], "replicated") << c.dump();
    EXPECT_EQ(c["hosts"], 2) << c.dump();
  }
  package = GetJson(http, "/api/v1/packages/bisect-copy");
  EXPECT_EQ(package["score"], 11.0);
  EXPECT_EQ(package["level"], "replicated");
  EXPECT_EQ(package["attestations"].size(), 2u);
  EXPECT_EQ(GetJson(http, "/api/v1/packages?limit=1")["items"][0]["score"], 11.0);

  // Refused attestations change nothing.
  json mismatch = report_from(std::string(64, 'a'));
  mismatch["content_sha256"] = std::string(64, '0');
  res = attest(runner, mismatch.dump());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 409) << res->body;
  EXPECT_EQ(ErrorCode(res), "content_mismatch");
  for (const std::string& token : {author, reviewer}) {
    res = attest(token, report_from(std::string(64, 'b')).dump());
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 403) << res->body;
  }
  json unknown = report_from(std::string(64, 'c'));
  unknown["package"] = "no-such-package";
  res = attest(runner, unknown.dump());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404) << res->body;
  unknown = report_from(std::string(64, 'c'));
  unknown["version"] = 2;
  res = attest(runner, unknown.dump());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404) << res->body;
  json no_host = report_from(std::string(64, 'd'));
  no_host.erase("host");
  no_host["format"] = "ahub-report/0";
  json bad_claim = report_from(std::string(64, 'd'));
  bad_claim["claims"].push_back({{"id", "no-such-claim"}, {"verdict", "reproduced"}});
  for (const std::string& body :
       {no_host.dump(), bad_claim.dump(), std::string("[1, 2]"), std::string("\"report\"")}) {
    SCOPED_TRACE(body);
    res = attest(runner, body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 422) << res->body;
    EXPECT_EQ(ErrorCode(res), "invalid_report");
    EXPECT_FALSE(ParseBody(res)["error"]["details"].empty()) << res->body;
  }
  res = attest(runner, R"({"format": )");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400) << res->body;
  package = GetJson(http, "/api/v1/packages/bisect-copy");
  EXPECT_EQ(package["score"], 11.0);
  EXPECT_EQ(package["attestations"].size(), 2u);
}

// Reports that cannot be true are refused or change nothing. Checked on a package with declared
// claims only, which no host can reproduce (schemas/report.schema.json: the verdict of a claim
// without evidence is "declared").
class AttestationTest : public ::testing::Test {
 protected:
  AttestationTest() : hub_({.extra_args = kNoRateLimit}), http_(hub_.Client()) {}
  void SetUp() override {
    runner_ = hub_.CreateToken("runner", "robot");
    const json created =
        SubmitNew(http_, hub_.CreateToken("author", "alice"),
                  TarGz(WritePackage(hub_.root() / "p", PackageSpec{.id = "only-declared"})));
    content_sha256_ = created.value("content_sha256", "");
  }
  json Report(char fingerprint, const std::string& verdict) const {
    return json{
        {"format", "ahub-report/1"},
        {"package", "only-declared"},
        {"version", 1},
        {"content_sha256", content_sha256_},
        {"level", "reproduces"},
        {"host", {{"fingerprint", std::string(64, fingerprint)}}},
        {"claims", json::array({{{"id", "headline"}, {"verdict", verdict}, {"measured", 1.5}}})}};
  }
  httplib::Result Attest(const json& report) {
    return http_.Post("/api/v1/attestations", HubProcess::Auth(runner_), report.dump(),
                      "application/json");
  }
  void ExpectUnchanged(const std::string& what) {
    const json package = GetJson(http_, "/api/v1/packages/only-declared");
    EXPECT_EQ(package["score"], 4.0) << what << ": " << package["attention"].dump();
    EXPECT_EQ(package["level"], "declared") << what;
    EXPECT_EQ(package["claims"][0]["level"], "declared")
        << what << ": " << package["claims"].dump();
    EXPECT_EQ(package["claims"][0]["verdict"], "declared") << what;
  }

  HubProcess hub_;
  httplib::Client http_;
  std::string runner_;
  std::string content_sha256_;
};

TEST_F(AttestationTest, AVersionBeyondIntRangeIsNotVersionOne) {
  json report = Report('1', "declared");
  report["version"] = 4294967297LL;  // 2^32 + 1
  auto res = Attest(report);
  ASSERT_TRUE(res);
  EXPECT_TRUE(res->status == 404 || res->status == 422) << res->status << " " << res->body;
  EXPECT_EQ(GetJson(http_, "/api/v1/packages/only-declared")["attestations"].size(), 0u)
      << "the report for version 4294967297 was recorded against version 1";
}

TEST_F(AttestationTest, AVerdictOutsideTheReportFormatIs422) {
  auto res = Attest(Report('2', "banana"));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 422) << res->body;
  EXPECT_EQ(ErrorCode(res), "invalid_report");
  EXPECT_EQ(GetJson(http_, "/api/v1/packages/only-declared")["attestations"].size(), 0u);
}

TEST_F(AttestationTest, AClaimWithoutEvidenceCannotBeReproducedOrReplicated) {
  for (const char fingerprint : {'3', '4'}) {
    auto res = Attest(Report(fingerprint, "reproduced"));
    ASSERT_TRUE(res);
    EXPECT_TRUE(res->status == 201 || res->status == 422) << res->body;
    ExpectUnchanged(std::string("after a reproduction from host ") + fingerprint);
  }
}

// --- tensions

json OpenTensions(httplib::Client& http) {
  return GetJson(http, "/api/v1/tensions?status=open")["tensions"];
}

TEST(TensionTest, OpensOnAConflictIsReviewedAndClosesWhenTheClaimsAgree) {
  HubProcess hub({.extra_args = kNoRateLimit});
  auto http = hub.Client();
  const std::string alice = hub.CreateToken("author", "alice");
  const std::string bob = hub.CreateToken("author", "bob");
  const std::string reviewer = hub.CreateToken("reviewer", "rita");
  const ClaimSpec claim{.id = "latency",
                        .metric = "test.p99_latency",
                        .unit = "ms",
                        .value = "10",
                        .conditions = "{load: 100}"};
  PackageSpec a{.id = "tension-a", .published = "2026-01-01", .claims = {claim}};
  PackageSpec b{.id = "tension-b", .published = "2026-02-01", .claims = {claim}};
  b.claims[0].value = "20";
  SubmitNew(http, alice, TarGz(WritePackage(hub.root() / "a", a)));
  EXPECT_EQ(OpenTensions(http), json::array());
  SubmitNew(http, bob, TarGz(WritePackage(hub.root() / "b", b)));

  const json open = OpenTensions(http);
  ASSERT_EQ(open.size(), 1u) << open.dump();
  const json t = open[0];
  EXPECT_EQ(t["status"], "open");
  EXPECT_EQ(t["kind"], "contradiction") << "the same conditions";
  EXPECT_EQ(t["metric"], "test.p99_latency");
  EXPECT_EQ(t["unit"], "ms");
  EXPECT_EQ(t["raised_by"], "tension-b") << "the later-published package raises it";
  EXPECT_EQ(t["other"], "tension-a");
  EXPECT_EQ(t["divergence"], 10.0);
  EXPECT_EQ(t["condition_diff"], json::array());
  const int64_t id = t["id"];
  const std::string url = "/api/v1/tensions/" + std::to_string(id);
  EXPECT_EQ(GetJson(http, url), t);
  EXPECT_EQ(GetJson(http, "/api/v1/packages/tension-a/tensions")["tensions"], open);
  EXPECT_EQ(GetJson(http, "/api/v1/packages/tension-b")["score"], 9.0);
  EXPECT_EQ(GetJson(http, "/api/v1/packages/tension-b")["open_tensions"], 1);
  EXPECT_EQ(GetJson(http, "/api/v1/packages/tension-a")["score"], 4.0);
  EXPECT_EQ(GetJson(http, "/api/v1/packages/tension-a")["open_tensions"], 1);
  GetJson(http, "/api/v1/tensions/987654", 404);

  // Review: reviewers only, known statuses only.
  auto patch = [&](const std::string& token, const std::string& body,
                   const std::string& target = "") {
    return http.Patch(target.empty() ? url : target, HubProcess::Auth(token), body,
                      "application/json");
  };
  auto res = http.Patch(url, R"({"status": "explained"})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  res = patch(alice, R"({"status": "explained"})");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403) << res->body;
  for (const char* body : {R"({"status": "closed"})", R"({"status": "whatever"})",
                           R"({"status": 1})", R"({"colour": "red"})", R"(["explained"])"}) {
    SCOPED_TRACE(body);
    res = patch(reviewer, body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << res->body;
  }
  res = patch(reviewer, R"({"status": "explained"})", "/api/v1/tensions/987654");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404) << res->body;
  EXPECT_EQ(GetJson(http, url)["status"], "open") << "refused reviews changed nothing";

  res = patch(reviewer, R"({"status": "explained", "note": "different load generators"})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(ParseBody(res)["status"], "explained");
  EXPECT_EQ(GetJson(http, url)["note"], "different load generators");
  EXPECT_EQ(OpenTensions(http), json::array());
  EXPECT_EQ(GetJson(http, "/api/v1/tensions?status=explained")["tensions"].size(), 1u);
  EXPECT_EQ(GetJson(http, "/api/v1/packages/tension-b")["score"], 4.0)
      << "only open tensions earn points";
  res = patch(reviewer, R"({"status": "open"})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(GetJson(http, "/api/v1/packages/tension-b")["score"], 9.0);

  // A new version that agrees closes it, by itself.
  PackageSpec b2 = b;
  b2.version = 2;
  b2.claims[0].value = "10";
  SubmitNew(http, bob, TarGz(WritePackage(hub.root() / "b2", b2)));
  const json closed = GetJson(http, url);
  EXPECT_EQ(closed["status"], "closed") << closed.dump();
  EXPECT_EQ(OpenTensions(http), json::array());
  EXPECT_EQ(GetJson(http, "/api/v1/tensions?status=closed")["tensions"].size(), 1u);
  EXPECT_EQ(GetJson(http, "/api/v1/tensions?status=all")["tensions"].size(), 1u);
  EXPECT_EQ(GetJson(http, "/api/v1/packages/tension-b")["score"], 4.0);
  EXPECT_EQ(GetJson(http, "/api/v1/packages/tension-b")["open_tensions"], 0);
  EXPECT_EQ(GetJson(http, "/api/v1/packages/tension-a")["open_tensions"], 0);

  // Diverging again opens the same tension again.
  PackageSpec b3 = b;
  b3.version = 3;
  b3.claims[0].value = "30";
  SubmitNew(http, bob, TarGz(WritePackage(hub.root() / "b3", b3)));
  const json reopened = OpenTensions(http);
  ASSERT_EQ(reopened.size(), 1u);
  EXPECT_EQ(reopened[0]["id"], id);
  EXPECT_EQ(reopened[0]["divergence"], 20.0);
}

// --- the seed packages

TEST(SeedTest, VerifiedSeedsRankAndRaiseOneScopeTension) {
  HubProcess hub({.seed = true, .workers = 2});
  auto http = hub.Client();
  WaitForIdleQueue(http, kJobDeadline);
  const json page = GetJson(http, "/api/v1/packages?sort=attention");
  // The three executable seeds; the rest of packages/ (the seed corpus, GPU packages) is checked
  // by tests/hub/arxiv_hub_test.cc.
  const std::set<std::string> executable = {"cache-admission-zipfian-cap1000",
                                            "cache-admission-zipfian", "bisect-membership"};
  std::map<std::string, double> scores;
  for (const json& item : page["items"]) {
    if (executable.count(item["id"].get<std::string>())) {
      scores[item["id"].get<std::string>()] = item["score"].get<double>();
    }
  }
  EXPECT_EQ(scores, (std::map<std::string, double>{{"cache-admission-zipfian-cap1000", 13.0},
                                                   {"cache-admission-zipfian", 10.0},
                                                   {"bisect-membership", 10.0}}))
      << page.dump() << "\n"
      << hub.Stderr();
  ASSERT_FALSE(page["items"].empty());
  EXPECT_EQ(page["items"][0]["id"], "cache-admission-zipfian-cap1000");

  const json open = OpenTensions(http);
  ASSERT_EQ(open.size(), 1u) << open.dump();
  const json& t = open[0];
  EXPECT_EQ(t["metric"], "cache.hit_rate_gap_pp");
  EXPECT_EQ(t["kind"], "scope");
  EXPECT_EQ(t["raised_by"], "cache-admission-zipfian-cap1000");
  EXPECT_EQ(t["other"], "cache-admission-zipfian");
  const json expected_diff = json::parse(R"([{"key": "capacity", "a": 100, "b": 1000},
                                             {"key": "warmup", "a": 0, "b": 20000}])");
  EXPECT_EQ(t["condition_diff"], expected_diff) << t.dump();
  EXPECT_EQ(GetJson(http, "/api/v1/tensions/" + std::to_string(t["id"].get<int64_t>())), t);
  EXPECT_EQ(GetJson(http, "/api/v1/tensions")["tensions"].size(), 1u);

  const json health = GetJson(http, "/healthz");
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(MetricValue(metrics->body, "ahub_queue_depth"), 0) << metrics->body;
  // One job per package with evidence to re-measure: the three executable seeds and the GPU
  // packages, which end skipped here (no GPU) but done.
  int runnable = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(AHUB_SOURCE_DIR) / "packages")) {
    std::ifstream manifest(entry.path() / "package.yaml");
    const std::string text((std::istreambuf_iterator<char>(manifest)), std::istreambuf_iterator<char>());
    if (text.find("\n    evidence:") != std::string::npos) ++runnable;
  }
  EXPECT_GE(runnable, 3);
  EXPECT_EQ(MetricValue(metrics->body, "ahub_jobs{state=\"done\"}"), runnable) << metrics->body;
  EXPECT_EQ(MetricValue(metrics->body, "ahub_jobs{state=\"error\"}"), 0) << metrics->body;
  EXPECT_EQ(MetricValue(metrics->body, "ahub_claims{verdict=\"reproduced\"}"), 8) << metrics->body;
}

// --- package text is data

TEST(TextAsDataTest, HostileTextRoundTripsAndSearchSyntaxIsInert) {
  HubProcess hub({.extra_args = kNoRateLimit});
  auto http = hub.Client();
  const std::string alice = hub.CreateToken("author", "alice");
  const std::string title = "<script>alert(1)</script> \"double\" 'single' \\back\\slash";
  const std::string summary =
      "' OR 1=1; DROP TABLE packages; -- \"; DELETE FROM claims; /* é ✓ 漢字 */ "
      "<img src=x onerror=alert(2)> %s %n {{template}} ${env}";
  const std::string statement =
      "Robert'); DROP TABLE claims;-- <script>alert(3)</script> \"x\" `y`";
  PackageSpec spec{.id = "hostile-text", .title = title, .summary = summary, .tags = {"xss"}};
  spec.claims[0].statement = statement;
  const fs::path dir = WritePackage(hub.root() / "hostile", spec);
  auto res = Submit(http, alice, TarGz(dir));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json; charset=utf-8");

  const json package = GetJson(http, "/api/v1/packages/hostile-text");
  EXPECT_EQ(package["title"], title);
  EXPECT_EQ(package["summary"], summary);
  EXPECT_EQ(package["manifest"]["title"], title);
  EXPECT_EQ(package["claims"][0]["statement"], statement);
  EXPECT_EQ(GetJson(http, "/api/v1/packages/hostile-text/claims")["claims"][0]["statement"],
            statement);
  const json listed = GetJson(http, "/api/v1/packages")["items"];
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["title"], title);
  EXPECT_EQ(listed[0]["summary"], summary);
  const auto files = DownloadedFiles(http, "/api/v1/packages/hostile-text/archive");
  EXPECT_EQ(files.count("package.yaml") ? files.at("package.yaml") : "", ManifestYaml(spec));

  // Free text with FTS5 and SQL syntax is searched for, never interpreted.
  auto search = [&](const std::string& q) {
    auto r = http.Get("/api/v1/packages", httplib::Params{{"q", q}}, httplib::Headers{});
    EXPECT_TRUE(r) << q;
    if (!r) return json();
    EXPECT_EQ(r->status, 200) << q << ": " << r->body;
    const json j = ParseBody(r);
    EXPECT_TRUE(j.is_object() && j["items"].is_array()) << q << ": " << r->body;
    return j;
  };
  for (const std::string q : {"\"",
                              "*",
                              "NEAR(",
                              "-",
                              "NEAR(a b",
                              "\"unbalanced",
                              "a OR",
                              "OR",
                              "NOT",
                              "AND",
                              "(",
                              ")",
                              ":",
                              "^",
                              "title:alert",
                              "alert*",
                              "-alert",
                              "' OR 1=1; --",
                              "%",
                              "\\",
                              "{",
                              "+",
                              "\"\"",
                              "a\"b",
                              "NEAR(alert script, 2)",
                              "*alert",
                              "_",
                              "\x01"}) {
    SCOPED_TRACE(q);
    search(q);
  }
  EXPECT_EQ(search("DROP TABLE")["total"], 1);
  EXPECT_EQ(search("<script>alert")["total"], 1);
  // As FTS5 syntax this would match by "alert"; as words it needs "nomatch" too.
  EXPECT_EQ(search("nomatch OR alert")["total"], 0);
  GetJson(http, "/api/v1/packages/x'%20OR%201=1", 404);
  GetJson(http, "/api/v1/packages/%3Cscript%3E", 404);

  // The store still works.
  SubmitNew(http, alice,
            TarGz(WritePackage(hub.root() / "after", PackageSpec{.id = "after-the-attack"})));
  EXPECT_EQ(PackageTotal(http), 2);
  EXPECT_EQ(GetJson(http, "/api/v1/packages/hostile-text")["title"], title);
}

// --- health, metrics, the contract

TEST(ObservabilityTest, MetricsCountRequestsAndHealthzAndOpenApiAnswer) {
  HubProcess hub({.extra_args = kNoRateLimit});
  auto http = hub.Client();
  const std::string alice = hub.CreateToken("author", "alice");
  SubmitNew(http, alice, TarGz(WritePackage(hub.root() / "p", PackageSpec{.id = "observed"})));
  auto scrape = [&] {
    auto res = http.Get("/api/v1/metrics");
    EXPECT_TRUE(res);
    return res ? res->body : std::string();
  };
  auto count = [](const std::string& text, const std::string& series) {
    return std::max(0.0, MetricValue(text, "ahub_http_requests_total" + series));
  };
  const std::string found = R"({method="GET",route="/api/v1/packages/{id}",status="200"})";
  const std::string missing = R"({method="GET",route="/api/v1/packages/{id}",status="404"})";
  const std::string before = scrape();
  for (int i = 0; i < 3; ++i) GetJson(http, "/api/v1/packages/observed");
  for (int i = 0; i < 2; ++i) GetJson(http, "/api/v1/packages/not-there", 404);
  // A request is counted once its response is written, so the client may see the response
  // before the count: poll for it, then check that nothing else was counted.
  std::string after = scrape();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((count(after, found) < count(before, found) + 3 ||
          count(after, missing) < count(before, missing) + 2) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    after = scrape();
  }
  EXPECT_EQ(count(after, found), count(before, found) + 3) << after;
  EXPECT_EQ(count(after, missing), count(before, missing) + 2) << after;
  EXPECT_EQ(count(after, R"({method="POST",route="/api/v1/packages",status="201"})"), 1) << after;
  EXPECT_EQ(MetricValue(after, "ahub_packages"), 1) << after;
  EXPECT_EQ(MetricValue(after, "ahub_queue_depth"), 0) << after;
  EXPECT_EQ(MetricValue(after, "ahub_claims{verdict=\"declared\"}"), 1) << after;

  const json health = GetJson(http, "/api/v1/healthz");
  EXPECT_EQ(health["status"], "ok");
  EXPECT_EQ(health["queue"], (json{{"queued", 0}, {"running", 0}}));
  const json contract = GetJson(http, "/api/v1/openapi.json");
  EXPECT_TRUE(contract["paths"].contains("/api/v1/packages/{id}/diff"))
      << contract.dump().substr(0, 300);
}

}  // namespace
