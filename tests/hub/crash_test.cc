// Crash safety of `ahub serve` (hub/service.h, "Durability"): several threads submit small
// distinct packages at once, the server is SIGKILLed while some submissions are in flight, and a
// new server on the same data directory must show
//   1. every acknowledged (201) version, with the content_sha256 it was acknowledged with and an
//      archive that downloads with the submitted package.yaml;
//   2. no version that was never acknowledged, except those whose request was in flight at the
//      kill, and those complete (archive downloadable, claims present);
//   3. an empty staging/;
//   4. the verification job that was running at the kill queued again ("restarted") and, in the
//      end, done.
// The kill comes at a different point of each round: after the first acknowledgement, after a
// few, after many. Rounds after the first also submit new versions of packages acknowledged
// earlier, so versions, not only packages, are checked.
//
// The running job belongs to a package whose one experiment sleeps for kSlowSeconds, long
// enough to be still running when a round's kill comes; whether it was is observed just before
// each kill, never assumed from timing.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "hub/archive.h"
#include "tests/hub/hub_process.h"

namespace {

namespace fs = std::filesystem;
using ahub::testing::HubProcess;
using nlohmann::json;

constexpr int kThreads = 4;
constexpr int kAttemptsPerRound = 400;  // more than any round sends before its kill
constexpr int kSlowSeconds = 8;
// Deadlines against a hung server, not expectations of speed.
constexpr std::chrono::seconds kDeadline{240};
// Acknowledgements after which each round's kill comes.
const std::vector<int> kKillAfterAcks = {1, 8, 30};

struct Attempt {
  enum class Outcome { kNotSent, kInFlight, kAcknowledged, kRefused };
  std::string id;
  int version = 1;
  std::string manifest;  // package.yaml as submitted
  std::string tgz;
  Outcome outcome = Outcome::kNotSent;  // written by the one thread that sends it
  std::string content_sha256;           // from the 201
  std::string answer;                   // status and body of a refusal
};

std::string Manifest(const std::string& id, int version) {
  std::string metric = "crash." + id;  // metrics are dotted lower-case words
  std::replace(metric.begin(), metric.end(), '-', '_');
  return "format: ahub/1\nid: " + id + "\nversion: " + std::to_string(version) +
         "\ntitle: Crash test package " + id + "\nsummary: Declared claims only, v" +
         std::to_string(version) +
         ".\ncategories: [cs.DC]\nauthors:\n  - {name: Crash Test}\npublished: 2026-03-01\n"
         "provenance:\n  kind: original\nclaims:\n  - id: only\n    statement: A number.\n"
         "    metric: " +
         metric + "\n    unit: ms\n    value: " + std::to_string(version) + "\n";
}

Attempt MakeAttempt(const std::string& id, int version) {
  Attempt a;
  a.id = id;
  a.version = version;
  a.manifest = Manifest(id, version);
  ahub::hub::TarGzWriter writer;
  EXPECT_TRUE(writer.AddFile("package.yaml", a.manifest, false).ok());
  auto tgz = writer.Finish();
  EXPECT_TRUE(tgz.ok()) << tgz.status().ToString();
  if (tgz.ok()) a.tgz = tgz.value();
  return a;
}

// A runnable package whose experiment sleeps, then reports 1.0.
std::string SlowPackageTgz() {
  const std::string manifest =
      "format: ahub/1\nid: crash-slow-job\nversion: 1\ntitle: Sleeps, then measures one\n"
      "summary: Keeps a verification job running while the server is killed.\n"
      "categories: [cs.DC]\nauthors:\n  - {name: Crash Test}\npublished: 2026-03-01\n"
      "provenance:\n  kind: original\nenvironment:\n  runtime: python3\n"
      "  limits: {wall_seconds: 120, memory_mb: 256}\nexperiments:\n  - id: slow\n"
      "    command: [python3, slow.py, \"{out}/results.json\"]\nclaims:\n  - id: one\n"
      "    statement: The experiment reports one.\n    metric: crash.slow_one\n    unit: x\n"
      "    value: 1\n    expect: {approx: 1, abs: 0.5}\n"
      "    evidence: {experiment: slow, pointer: /value}\n";
  const std::string script =
      "import json, sys, time\ntime.sleep(" + std::to_string(kSlowSeconds) +
      ")\nwith open(sys.argv[1], 'w') as f:\n    json.dump({'value': 1.0}, f)\n";
  ahub::hub::TarGzWriter writer;
  EXPECT_TRUE(writer.AddFile("package.yaml", manifest, false).ok());
  EXPECT_TRUE(writer.AddFile("slow.py", script, false).ok());
  auto tgz = writer.Finish();
  EXPECT_TRUE(tgz.ok());
  return tgz.ok() ? tgz.value() : std::string();
}

json GetJson(httplib::Client& http, const std::string& path, int status = 200) {
  auto res = http.Get(path);
  EXPECT_TRUE(res) << "GET " << path;
  if (!res) return json();
  EXPECT_EQ(res->status, status) << "GET " << path << ": " << res->body;
  json j = json::parse(res->body, nullptr, false);
  return j.is_discarded() ? json() : j;
}

// Polls a job until `done(state)`; returns its last JSON.
template <typename Pred>
json PollJob(httplib::Client& http, int64_t job, Pred done) {
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  json j;
  while (std::chrono::steady_clock::now() < deadline) {
    j = GetJson(http, "/api/v1/jobs/" + std::to_string(job));
    if (!j.is_object() || done(j.value("state", ""))) return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "job " << job << " did not reach the awaited state in time: " << j.dump();
  return j;
}

// The files of a downloaded archive, as ExtractTarGz writes them; empty when it failed.
std::map<std::string, std::string> ArchiveFiles(httplib::Client& http, const std::string& path) {
  auto res = http.Get(path);
  if (!res || res->status != 200) {
    ADD_FAILURE() << "GET " << path << ": " << (res ? res->body : "no response");
    return {};
  }
  ahub::testing::TempDir dest("ahub-crash-archive-");
  auto extracted = ahub::hub::ExtractTarGz(res->body, dest.path(), ahub::hub::ExtractLimits{});
  if (!extracted.ok()) {
    ADD_FAILURE() << path << ": " << extracted.error().message;
    return {};
  }
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dest.path())) {
    if (e.is_regular_file()) {
      files[e.path().lexically_relative(dest.path()).string()] =
          ahub::testing::ReadFileText(e.path());
    }
  }
  return files;
}

// Sends `attempts` from kThreads threads until told to stop or the server is gone; counts 201s.
class Submitters {
 public:
  Submitters(const HubProcess& hub, const std::string& token, std::vector<Attempt>& attempts)
      : attempts_(attempts) {
    for (int t = 0; t < kThreads; ++t) {
      threads_.emplace_back([this, &hub, token] {
        Send(hub.Client(), token);
        std::lock_guard<std::mutex> lock(mu_);
        ++finished_;
        cv_.notify_all();
      });
    }
  }
  ~Submitters() { Join(); }

  // Waits until `n` submissions were acknowledged, every thread gave up, or the deadline passed;
  // returns the number acknowledged.
  int WaitForAcks(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_until(lock, std::chrono::steady_clock::now() + kDeadline,
                   [&] { return acks_ >= n || finished_ == kThreads; });
    return acks_;
  }
  void Join() {
    stop_ = true;
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void Send(httplib::Client http, const std::string& token) {
    while (!stop_) {
      const size_t i = next_.fetch_add(1);
      if (i >= attempts_.size()) return;
      Attempt& a = attempts_[i];
      a.outcome = Attempt::Outcome::kInFlight;
      auto res = http.Post("/api/v1/packages", HubProcess::Auth(token), a.tgz, "application/gzip");
      if (!res) return;  // the server is gone: this one stays in flight
      if (res->status == 201) {
        const json body = json::parse(res->body, nullptr, false);
        a.content_sha256 = body.is_object() ? body.value("content_sha256", "") : "";
        a.outcome = Attempt::Outcome::kAcknowledged;
        std::lock_guard<std::mutex> lock(mu_);
        ++acks_;
        cv_.notify_all();
      } else {
        a.outcome = Attempt::Outcome::kRefused;
        a.answer = std::to_string(res->status) + " " + res->body;
      }
    }
  }

  std::vector<Attempt>& attempts_;
  std::atomic<size_t> next_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  int acks_ = 0;      // GUARDED_BY(mu_)
  int finished_ = 0;  // threads that stopped sending; GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

TEST(CrashTest, AcknowledgedSubmissionsAndRunningJobsSurviveSigkill) {
  HubProcess hub({.workers = 1, .extra_args = {"--rate", "100000", "--rate-burst", "100000"}});
  const std::string author = hub.CreateToken("author", "crash-author");
  const std::string reviewer = hub.CreateToken("reviewer", "crash-reviewer");
  // httplib::Client cannot be assigned; each restart (a new port) makes a new one.
  auto http = std::make_unique<httplib::Client>(hub.Client());

  auto slow = http->Post("/api/v1/packages", HubProcess::Auth(author), SlowPackageTgz(),
                         "application/gzip");
  ASSERT_TRUE(slow);
  ASSERT_EQ(slow->status, 201) << slow->body;
  int64_t slow_job = json::parse(slow->body)["verification"]["id"];
  int kills_while_running = 0;  // of any job
  int kills_of_slow_job = 0;    // of the current slow_job

  std::vector<std::vector<Attempt>> rounds;
  for (size_t round = 0; round < kKillAfterAcks.size(); ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // This round's submissions: new packages, and new versions of packages acknowledged before.
    std::vector<Attempt> attempts;
    std::vector<const Attempt*> upgradable;  // acknowledged at v1, no v2 attempted yet
    std::set<std::string> has_v2;
    for (const auto& earlier : rounds) {
      for (const Attempt& a : earlier) {
        if (a.version == 2) has_v2.insert(a.id);
      }
    }
    for (const auto& earlier : rounds) {
      for (const Attempt& a : earlier) {
        if (a.outcome == Attempt::Outcome::kAcknowledged && a.version == 1 && !has_v2.count(a.id)) {
          upgradable.push_back(&a);
        }
      }
    }
    for (int i = 0; i < kAttemptsPerRound; ++i) {
      if (i % 3 == 2 && !upgradable.empty()) {
        const Attempt* base = upgradable.back();
        upgradable.pop_back();
        attempts.push_back(MakeAttempt(base->id, 2));
      } else {
        attempts.push_back(
            MakeAttempt("crash-r" + std::to_string(round) + "-" + std::to_string(i), 1));
      }
    }
    rounds.push_back(std::move(attempts));

    // A verification job is running: the slow package's, re-queued whenever it finished.
    json job;
    for (int tries = 0; tries < 10; ++tries) {
      job = PollJob(*http, slow_job, [](const std::string& s) { return s != "queued"; });
      if (job.value("state", "") == "running") break;
      auto res = http->Post("/api/v1/packages/crash-slow-job/verify", HubProcess::Auth(reviewer),
                            "", "application/json");
      ASSERT_TRUE(res);
      ASSERT_EQ(res->status, 202) << res->body;
      slow_job = json::parse(res->body)["id"];
      kills_of_slow_job = 0;
    }
    ASSERT_EQ(job.value("state", ""), "running") << job.dump();
    const int attempts_before = job.value("attempts", 0);

    {
      Submitters submitters(hub, author, rounds.back());
      ASSERT_GE(submitters.WaitForAcks(kKillAfterAcks[round]), kKillAfterAcks[round])
          << hub.Stderr();
      job = GetJson(*http, "/api/v1/jobs/" + std::to_string(slow_job));
      const bool running_at_kill = job.value("state", "") == "running";
      hub.Kill();
      submitters.Join();
      if (running_at_kill) {
        ++kills_while_running;
        ++kills_of_slow_job;
      }

      hub.Restart();
      http = std::make_unique<httplib::Client>(hub.Client());
      if (running_at_kill) {
        job = GetJson(*http, "/api/v1/jobs/" + std::to_string(slow_job));
        EXPECT_EQ(job.value("reason", ""), "restarted") << job.dump();
        EXPECT_NE(job.value("state", ""), "error") << job.dump();
        // Not yet claimed again, or claimed once more by the new process.
        EXPECT_TRUE(job.value("attempts", 0) == attempts_before ||
                    job.value("attempts", 0) == attempts_before + 1)
            << job.dump();
      }
    }
    EXPECT_TRUE(fs::is_empty(hub.data_dir() / "staging")) << "staging/ after the restart";

    // What every round so far submitted, by (id, version).
    std::map<std::pair<std::string, int>, const Attempt*> sent;
    int acknowledged = 0, in_flight = 0;
    for (const auto& r : rounds) {
      for (const Attempt& a : r) {
        EXPECT_NE(a.outcome, Attempt::Outcome::kRefused)
            << a.id << " v" << a.version << ": " << a.answer;
        if (a.outcome == Attempt::Outcome::kNotSent) continue;
        sent[{a.id, a.version}] = &a;
        acknowledged += a.outcome == Attempt::Outcome::kAcknowledged;
        in_flight += a.outcome == Attempt::Outcome::kInFlight;
      }
    }
    EXPECT_GE(acknowledged, kKillAfterAcks[round]);

    // 1. Every acknowledged version is there, as acknowledged.
    for (const auto& [key, a] : sent) {
      if (a->outcome != Attempt::Outcome::kAcknowledged) continue;
      const std::string url =
          "/api/v1/packages/" + a->id + "/versions/" + std::to_string(a->version);
      const json v = GetJson(*http, url);
      EXPECT_EQ(v.value("content_sha256", ""), a->content_sha256) << url;
      const auto files = ArchiveFiles(*http, url + "/archive");
      EXPECT_EQ(files.count("package.yaml") ? files.at("package.yaml") : "", a->manifest) << url;
    }
    // 2. Every stored version was acknowledged or in flight; those in flight are complete.
    std::set<std::string> ids;
    std::string cursor;
    do {
      const json page = GetJson(*http, "/api/v1/packages?sort=recent&limit=100" +
                                           (cursor.empty() ? "" : "&cursor=" + cursor));
      for (const json& item : page["items"]) ids.insert(item["id"].get<std::string>());
      cursor = page["next_cursor"].is_string() ? page["next_cursor"].get<std::string>() : "";
    } while (!cursor.empty());
    int stored_in_flight = 0;
    for (const std::string& id : ids) {
      if (id == "crash-slow-job") continue;
      const json versions = GetJson(*http, "/api/v1/packages/" + id + "/versions");
      for (const json& v : versions["versions"]) {
        const int version = v["version"];
        const auto it = sent.find({id, version});
        if (it == sent.end()) {
          ADD_FAILURE() << id << " v" << version << " is stored but was never submitted this way";
          continue;
        }
        const Attempt& a = *it->second;
        if (a.outcome != Attempt::Outcome::kInFlight) continue;
        ++stored_in_flight;
        EXPECT_EQ(v["content_sha256"],
                  GetJson(*http, "/api/v1/packages/" + id + "/versions/" +
                                     std::to_string(version))["content_sha256"]);
        const std::string url = "/api/v1/packages/" + id + "/versions/" + std::to_string(version);
        const auto files = ArchiveFiles(*http, url + "/archive");
        EXPECT_EQ(files.count("package.yaml") ? files.at("package.yaml") : "", a.manifest) << url;
        const json claims =
            GetJson(*http, "/api/v1/packages/" + id + "/claims?version=" + std::to_string(version));
        ASSERT_EQ(claims["claims"].size(), 1u) << claims.dump();
        EXPECT_EQ(claims["claims"][0]["id"], "only");
        EXPECT_EQ(claims["claims"][0]["value"], version);
      }
    }
    EXPECT_LE(stored_in_flight, in_flight);
    // For the test's XML report: how much each round exercised.
    const std::string prefix = "round" + std::to_string(round) + "_";
    ::testing::Test::RecordProperty(prefix + "acknowledged", acknowledged);
    ::testing::Test::RecordProperty(prefix + "in_flight", in_flight);
    ::testing::Test::RecordProperty(prefix + "in_flight_stored", stored_in_flight);
    EXPECT_EQ(GetJson(*http, "/api/v1/packages")["total"], static_cast<int64_t>(ids.size()));
  }
  EXPECT_GE(kills_while_running, 1)
      << "no kill came while the job ran; the test proved nothing about it";

  // 4. The interrupted job runs to the end, once more per kill that interrupted it.
  const json job =
      PollJob(*http, slow_job, [](const std::string& s) { return s == "done" || s == "error"; });
  EXPECT_EQ(job.value("state", ""), "done") << job.dump() << "\n" << hub.Stderr();
  EXPECT_EQ(job.value("level", ""), "reproduces") << job.dump();
  EXPECT_EQ(job.value("attempts", 0), 1 + kills_of_slow_job) << job.dump();
  // An in-flight submission that was not stored can be made again (a git tag left by the kill
  // is replaced); one that was stored is a duplicate.
  for (const auto& r : rounds) {
    for (const Attempt& a : r) {
      if (a.outcome != Attempt::Outcome::kInFlight) continue;
      SCOPED_TRACE(a.id + " v" + std::to_string(a.version));
      const std::string url = "/api/v1/packages/" + a.id + "/versions/" + std::to_string(a.version);
      auto stored = http->Get(url);
      ASSERT_TRUE(stored);
      auto again =
          http->Post("/api/v1/packages", HubProcess::Auth(author), a.tgz, "application/gzip");
      ASSERT_TRUE(again);
      EXPECT_EQ(again->status, stored->status == 200 ? 200 : 201) << again->body;
      const auto files = ArchiveFiles(*http, url + "/archive");
      EXPECT_EQ(files.count("package.yaml") ? files.at("package.yaml") : "", a.manifest);
    }
  }
  // The store still takes submissions.
  Attempt after = MakeAttempt("crash-after-the-crashes", 1);
  auto res =
      http->Post("/api/v1/packages", HubProcess::Auth(author), after.tgz, "application/gzip");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 201) << res->body;
}

}  // namespace
