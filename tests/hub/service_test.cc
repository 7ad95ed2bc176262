// The hub service in-process: seed loading, background verification with the real sandbox,
// attention, tensions, ingestion rules and attestations. The HTTP layer is tested apart
// (api_test.cc, hub_integration_test.cc).
#include "hub/service.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "hub/archive.h"
#include "runner/builtins.h"

namespace ahub::hub {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/ahub-service-test-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    hub_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  static std::shared_ptr<Executor> LocalExecutor() {
    LocalExecutorOptions exec;
    exec.builtin_dir = AHUB_BIN_DIR;
    return NewLocalExecutor(exec);
  }
  // A started hub on dir_/var; the executor is the local one unless given.
  void Open(bool seed, std::shared_ptr<Executor> executor = nullptr, int workers = 2) {
    HubConfig config;
    config.data_dir = dir_ / "var";
    config.seed = seed;
    config.seed_dir = fs::path(AHUB_SOURCE_DIR) / "packages";
    config.workers = workers;
    config.executor = executor ? std::move(executor) : LocalExecutor();
    auto hub = Hub::Open(config);
    ASSERT_TRUE(hub.ok()) << hub.status().ToString();
    hub_ = std::move(hub.value());
    ASSERT_TRUE(hub_->Start().ok());
  }
  Caller Token(Role role, const std::string& name) {
    auto token = hub_->CreateToken(role, name);
    EXPECT_TRUE(token.ok());
    auto caller = hub_->Authenticate("Bearer " + token.value());
    EXPECT_TRUE(caller.ok());
    return caller.value();
  }
  std::string Pack(const fs::path& dir) {
    auto tgz = PackTarGz(dir);
    EXPECT_TRUE(tgz.ok()) << tgz.status().ToString();
    return tgz.value();
  }
  // A copy of a seed package under a new id (and optionally other changes to the manifest text).
  fs::path CopySeed(const std::string& seed, const std::string& new_id,
                    const std::function<void(std::string&)>& edit = {}) {
    const fs::path to = dir_ / ("src-" + new_id + "-" + std::to_string(++copies_));
    fs::copy(fs::path(AHUB_SOURCE_DIR) / "packages" / seed, to, fs::copy_options::recursive);
    std::ifstream in(to / "package.yaml");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string from = "id: " + seed + "\n";
    text.replace(text.find(from), from.size(), "id: " + new_id + "\n");
    if (edit) edit(text);
    std::ofstream(to / "package.yaml") << text;
    return to;
  }

  fs::path dir_;
  int copies_ = 0;
  std::unique_ptr<Hub> hub_;
};

TEST_F(ServiceTest, SeedsRankAndRaiseTheCapacityTension) {
  Open(/*seed=*/true);
  hub_->WaitIdle();
  auto list = hub_->ListPackages({});
  ASSERT_TRUE(list.ok());
  // The three executable seeds, in rank order; the rest of packages/ (the seed corpus of
  // declared packages) is checked by tests/hub/arxiv_hub_test.cc.
  json items = json::array();
  for (const json& p : list.value()["items"]) {
    const std::string id = p["id"];
    if (id == "cache-admission-zipfian-cap1000" || id == "cache-admission-zipfian" ||
        id == "bisect-membership") {
      items.push_back(p);
    }
  }
  ASSERT_EQ(items.size(), 3u) << list.value().dump(2);
  EXPECT_EQ(items[0]["id"], "cache-admission-zipfian-cap1000");
  EXPECT_DOUBLE_EQ(items[0]["score"].get<double>(), 13.0);
  EXPECT_EQ(items[1]["id"], "cache-admission-zipfian");
  EXPECT_DOUBLE_EQ(items[1]["score"].get<double>(), 10.0);
  EXPECT_EQ(items[2]["id"], "bisect-membership");
  EXPECT_DOUBLE_EQ(items[2]["score"].get<double>(), 10.0);
  for (const json& p : items) EXPECT_EQ(p["level"], "reproduces") << p["id"];

  auto tensions = hub_->Tensions("open");
  ASSERT_TRUE(tensions.ok());
  const json& open = tensions.value()["tensions"];
  ASSERT_EQ(open.size(), 1u) << tensions.value().dump(2);
  EXPECT_EQ(open[0]["metric"], "cache.hit_rate_gap_pp");
  EXPECT_EQ(open[0]["kind"], "scope");
  EXPECT_EQ(open[0]["raised_by"], "cache-admission-zipfian-cap1000");
  EXPECT_EQ(open[0]["other"], "cache-admission-zipfian");
  std::map<std::string, std::pair<json, json>> diff;
  for (const json& d : open[0]["condition_diff"]) diff[d["key"]] = {d["a"], d["b"]};
  ASSERT_EQ(diff.size(), 2u) << open[0].dump(2);
  EXPECT_EQ(diff["capacity"].first, 100);
  EXPECT_EQ(diff["capacity"].second, 1000);
  EXPECT_EQ(diff["warmup"].first, 0);
  EXPECT_EQ(diff["warmup"].second, 20000);

  int systems = 0;
  for (const json& f : list.value()["facets"]["categories"]) {
    if (f["name"] == "cs.DC") systems = f["count"];
  }
  EXPECT_GE(systems, 3) << list.value()["facets"].dump();
}

// Counts how many GPU packages are being executed at once; each GPU execution lingers so that two
// workers free to run them together would overlap.
class GpuCountingExecutor final : public Executor {
 public:
  explicit GpuCountingExecutor(std::shared_ptr<Executor> inner) : inner_(std::move(inner)) {}
  Result<Report> Execute(const ExecutionRequest& request) override {
    const bool gpu = request.package->environment.gpu;
    if (gpu) {
      const int now = ++active_;
      int seen = max_.load();
      while (now > seen && !max_.compare_exchange_weak(seen, now)) {
        // `seen` now holds the current maximum; try again while ours is higher.
      }
      ++gpu_runs_;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    Result<Report> r = inner_->Execute(request);
    if (gpu) --active_;
    return r;
  }
  const HostInfo& host() const override { return inner_->host(); }
  int max_concurrent() const { return max_.load(); }
  int gpu_runs() const { return gpu_runs_.load(); }

 private:
  std::shared_ptr<Executor> inner_;
  std::atomic<int> active_{0}, max_{0}, gpu_runs_{0};
};

TEST_F(ServiceTest, GpuJobsRunOneAtATime) {
  auto counting = std::make_shared<GpuCountingExecutor>(LocalExecutor());
  ASSERT_NO_FATAL_FAILURE(Open(/*seed=*/true, counting, /*workers=*/3));
  hub_->WaitIdle();
  ASSERT_GE(counting->gpu_runs(), 2) << "packages/ should hold several gpu: true packages";
  EXPECT_EQ(counting->max_concurrent(), 1);
}

TEST_F(ServiceTest, SubmissionRulesOwnerDuplicateAndVersions) {
  Open(/*seed=*/false);
  const Caller alice = Token(Role::kAuthor, "alice");
  const Caller bob = Token(Role::kAuthor, "bob");
  const fs::path src = CopySeed("bisect-membership", "bisect-copy");
  Submission sub;
  sub.body = Pack(src);
  auto first = hub_->Submit(alice, sub);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->http, 201);
  EXPECT_EQ(first->body["version"], 1);
  auto again = hub_->Submit(alice, sub);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->http, 200);
  EXPECT_TRUE(again->body["duplicate"].get<bool>());

  // Same version number, other content: refused. Someone else's package: refused.
  std::ofstream(src / "NOTES.md") << "changed\n";
  sub.body = Pack(src);
  auto clash = hub_->Submit(alice, sub);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().http, 409);
  EXPECT_EQ(clash.error().code, "version_exists");
  auto foreign = hub_->Submit(bob, sub);
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().http, 403);

  const fs::path v2 = CopySeed("bisect-membership", "bisect-copy", [](std::string& t) {
    t.replace(t.find("version: 1"), 10, "version: 2");
  });
  sub.body = Pack(v2);
  auto second = hub_->Submit(alice, sub);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->body["version"], 2);
  auto versions = hub_->ListVersions("bisect-copy");
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions.value()["versions"].size(), 2u);
  auto diff = hub_->Diff("bisect-copy", 1, 2);
  ASSERT_TRUE(diff.ok());
  EXPECT_EQ(diff.value()["files"].size(), 1u) << diff.value().dump(2);
  auto archive = hub_->Archive("bisect-copy", 1);
  ASSERT_TRUE(archive.ok());

  // Readers and reviewers may not submit.
  const Caller rev = Token(Role::kReviewer, "rita");
  auto refused = hub_->Submit(rev, sub);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().http, 403);
  auto anon = hub_->Submit(Caller{}, sub);
  ASSERT_FALSE(anon.ok());
  EXPECT_EQ(anon.error().http, 401);
}

TEST_F(ServiceTest, InvalidManifestIsRefusedWithLocations) {
  Open(/*seed=*/false);
  const Caller alice = Token(Role::kAuthor, "alice");
  const fs::path src = CopySeed("bisect-membership", "broken-one", [](std::string& t) {
    t.replace(t.find("format: ahub/1"), 14, "format: ahub/9");
  });
  Submission sub;
  sub.body = Pack(src);
  auto r = hub_->Submit(alice, sub);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().http, 422);
  EXPECT_EQ(r.error().code, "invalid_manifest");
  ASSERT_FALSE(r.error().details.empty());
  EXPECT_EQ(r.error().details[0]["line"], 1);
  auto list = hub_->ListPackages({});
  EXPECT_EQ(list.value()["total"], 0);
}

TEST_F(ServiceTest, AttestationFromASecondHostReplicates) {
  Open(/*seed=*/true);
  hub_->WaitIdle();
  const Caller runner = Token(Role::kRunner, "agent");
  auto pkg = hub_->GetPackage("bisect-membership", 0);
  ASSERT_TRUE(pkg.ok());
  json report = {{"format", "ahub-report/1"},
                 {"package", "bisect-membership"},
                 {"version", 1},
                 {"content_sha256", pkg.value()["content_sha256"]},
                 {"level", "reproduces"},
                 {"host", {{"fingerprint", "another-host"}, {"cpu", "test"}}},
                 {"claims", json::array()}};
  for (const json& c : pkg.value()["claims"]) {
    report["claims"].push_back({{"id", c["id"]}, {"verdict", "reproduced"}, {"measured", c["measured"]}});
  }
  auto bad = report;
  bad["content_sha256"] = std::string(64, '0');
  auto mismatch = hub_->Attest(runner, bad);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.error().http, 409);

  // The hub re-judges: a "reproduced" whose measured value its expectation refuses is refused.
  auto outside = report;
  outside["claims"][0]["measured"] = 1e9;
  auto refused = hub_->Attest(runner, outside);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().http, 422);
  EXPECT_EQ(refused.error().details[0]["path"], "/claims/0/measured");

  auto ok = hub_->Attest(runner, report);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok.value()["level"], "replicated");
  EXPECT_DOUBLE_EQ(ok.value()["score"].get<double>(), 11.0);  // 4 + 2x3 + 1 replication
  const Caller author = Token(Role::kAuthor, "alice");
  auto forbidden = hub_->Attest(author, report);
  ASSERT_FALSE(forbidden.ok());
  EXPECT_EQ(forbidden.error().http, 403);
}

TEST_F(ServiceTest, ReviewerMarksTensionExplainedAndScoreFollows) {
  Open(/*seed=*/true);
  hub_->WaitIdle();
  const Caller reviewer = Token(Role::kReviewer, "rita");
  auto open = hub_->Tensions("open");
  ASSERT_EQ(open.value()["tensions"].size(), 1u);
  const int64_t id = open.value()["tensions"][0]["id"];
  auto bad = hub_->UpdateTension(reviewer, id, {{"status", "gone"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().http, 400);
  auto done = hub_->UpdateTension(reviewer, id, {{"status", "explained"}, {"note", "capacity differs"}});
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done.value()["status"], "explained");
  auto pkg = hub_->GetPackage("cache-admission-zipfian-cap1000", 0);
  EXPECT_DOUBLE_EQ(pkg.value()["score"].get<double>(), 8.0);
  EXPECT_EQ(hub_->Tensions("open").value()["tensions"].size(), 0u);
}

TEST_F(ServiceTest, RestartKeepsEverythingAndPaginates) {
  Open(/*seed=*/true);
  hub_->WaitIdle();
  hub_.reset();
  Open(/*seed=*/true);  // not empty: no second seeding
  int seeds = 0;  // every package folder of packages/
  for (const auto& e : fs::directory_iterator(fs::path(AHUB_SOURCE_DIR) / "packages")) {
    seeds += fs::exists(e.path() / "package.yaml") ? 1 : 0;
  }
  ListQuery everything;
  everything.limit = 100;
  const auto all = hub_->ListPackages(everything);
  ASSERT_TRUE(all.ok());
  std::vector<std::string> ranked;
  for (const json& p : all.value()["items"]) ranked.push_back(p["id"]);
  ASSERT_EQ(static_cast<int>(ranked.size()), seeds);
  EXPECT_EQ(ranked[2], "bisect-membership");
  // Pages of two, cursor to cursor, give the same ranking.
  ListQuery q;
  q.limit = 2;
  std::vector<std::string> paged;
  for (int page = 0; page <= seeds; ++page) {
    auto result = hub_->ListPackages(q);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.value()["total"], seeds);
    ASSERT_LE(result.value()["items"].size(), 2u);
    for (const json& p : result.value()["items"]) paged.push_back(p["id"]);
    if (result.value()["next_cursor"].is_null()) break;
    q.cursor = result.value()["next_cursor"];
  }
  EXPECT_EQ(paged, ranked);
  q.cursor = "garbage!";
  auto bad = hub_->ListPackages(q);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().http, 400);
  ListQuery text;
  text.q = "bisect";
  EXPECT_EQ(hub_->ListPackages(text).value()["total"], 1);
  ListQuery tag;
  tag.tag = "caching";
  EXPECT_EQ(hub_->ListPackages(tag).value()["total"], 2);
}

}  // namespace
}  // namespace ahub::hub
