#include "runner/verify.h"

#include <gtest/gtest.h>

#include <fstream>
#include <mutex>

namespace ahub {
namespace {

namespace fs = std::filesystem;

// Stands in for bubblewrap: records each spec and "runs" the command by writing the output that
// the test scripted for the experiment's first argument.
class FakeSandbox : public Sandbox {
 public:
  std::map<std::string, std::string> outputs;  // argv[1] -> results.json content
  std::vector<SandboxSpec> specs;
  Status fail_with;

  Result<RunOutcome> Run(const SandboxSpec& spec) override {
    std::lock_guard<std::mutex> lock(mu_);
    specs.push_back(spec);
    if (!fail_with.ok()) return fail_with;
    RunOutcome o;
    o.exit_code = 0;
    o.wall_seconds = 0.01;
    const std::string key = spec.argv.size() > 1 ? spec.argv[1] : "";
    if (auto it = outputs.find(key); it != outputs.end()) {
      std::ofstream(spec.output_dir / "results.json") << it->second;
    } else {
      o.exit_code = 1;
      o.stderr_text = "no such mode\n";
    }
    return o;
  }

 private:
  std::mutex mu_;
};

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("ahub-verify-test-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "pkg");
    fs::create_directories(root_ / "work");
    std::ofstream(root_ / "pkg/package.yaml") << "placeholder\n";
    pkg_.id = "demo";
    pkg_.version = 1;
    pkg_.experiments = {{"a", {"cache-sim", "mode-a", "--out", "{out}/results.json"}, ""},
                        {"b", {"cache-sim", "mode-b"}, ""},
                        {"unused", {"cache-sim", "never"}, ""}};
    Claim ca;
    ca.id = "ca";
    ca.expect = Expectation::AtLeast(1);
    ca.evidence = Evidence{"a", "/x", "results.json", ""};
    Claim cb = ca;
    cb.id = "cb";
    cb.evidence->experiment = "b";
    pkg_.claims = {ca, cb};
    options_.builtin_dir = "/opt/builtins";
    options_.work_dir = root_ / "work";
    sandbox_.outputs = {{"mode-a", R"({"x": 2})"}, {"mode-b", R"({"x": 0.5})"}};
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
  Package pkg_;
  VerifyOptions options_;
  FakeSandbox sandbox_;
  HostInfo host_;
};

TEST(ResolveCommandTest, MapsTheFirstWordIntoTheSandbox) {
  Package p;
  Experiment builtin{"e", {"cache-sim", "--out", "{out}/r.json", "{pkg}/data"}, ""};
  EXPECT_EQ(ResolveCommand(builtin, p).value(),
            (std::vector<std::string>{"/opt/ahub/bin/cache-sim", "--out", "/out/r.json", "/pkg/data"}));
  Experiment script{"e", {"bin/run.sh"}, ""};
  EXPECT_EQ(ResolveCommand(script, p).value()[0], "/pkg/bin/run.sh");
  Experiment python{"e", {"python3", "study.py"}, ""};
  EXPECT_FALSE(ResolveCommand(python, p).ok());
  p.environment.runtime = Runtime::kPython3;
  EXPECT_EQ(ResolveCommand(python, p).value()[0], "/usr/bin/python3");
  EXPECT_FALSE(ResolveCommand(Experiment{"e", {"/bin/sh"}, ""}, p).ok());
  EXPECT_FALSE(ResolveCommand(Experiment{"e", {"../x"}, ""}, p).ok());
  EXPECT_FALSE(ResolveCommand(Experiment{"e", {"{pkg}/x"}, ""}, p).ok());
  // The same rule as validation: only a ".." segment escapes, not ".." inside a name.
  EXPECT_EQ(ResolveCommand(Experiment{"e", {"bin/v1..2.sh"}, ""}, p).value()[0], "/pkg/bin/v1..2.sh");
}

TEST_F(VerifyTest, RunsTheCitedExperimentsAndJudgesEveryClaim) {
  options_.jobs = 2;
  auto r = VerifyPackage(root_ / "pkg", pkg_, sandbox_, host_, options_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(sandbox_.specs.size(), 2u);  // "unused" is not run
  for (const SandboxSpec& s : sandbox_.specs) {
    EXPECT_EQ(s.package_dir, fs::absolute(root_ / "pkg"));
    EXPECT_EQ(s.ro_binds.at(0).second, kBuiltinMount);
    EXPECT_EQ(s.output_dir.parent_path(), root_ / "work");
  }
  EXPECT_EQ(r->claims[0].verdict, Verdict::kReproduced);
  EXPECT_EQ(r->claims[1].verdict, Verdict::kRefuted);
  EXPECT_EQ(r->level, Level::kRefuted);
  EXPECT_EQ(r->ExitCode(), 1);
  EXPECT_EQ(r->content_sha256.size(), 64u);

  const nlohmann::json j = r->ToJson();
  EXPECT_EQ(j["format"], "ahub-report/1");
  EXPECT_EQ(j["package"], "demo");
  EXPECT_EQ(j["claims"][1]["verdict"], "refuted");
  EXPECT_EQ(j["claims"][1]["measured"], 0.5);
  EXPECT_EQ(j["runs"].size(), 2u);
  EXPECT_EQ(j["runs"][0]["killed_by"], "none");
  const std::string text = FormatReport(r.value());
  EXPECT_NE(text.find("refuted"), std::string::npos);
  EXPECT_NE(text.find("ca"), std::string::npos);
}

TEST_F(VerifyTest, ReportsProgressForEachExperiment) {
  std::vector<std::string> events;
  options_.progress = [&](const ProgressEvent& ev) {
    events.push_back(ev.experiment + (ev.kind == ProgressEvent::Kind::kFinished ? ":done" : ":start") +
                     "/" + std::to_string(ev.total));
  };
  ASSERT_TRUE(VerifyPackage(root_ / "pkg", pkg_, sandbox_, host_, options_).ok());
  EXPECT_EQ(events, (std::vector<std::string>{"a:start/2", "a:done/2", "b:start/2", "b:done/2"}));
}

TEST_F(VerifyTest, SkipsGpuPackagesOnAHostWithoutAGpu) {
  pkg_.environment.gpu = true;
  auto r = VerifyPackage(root_ / "pkg", pkg_, sandbox_, host_, options_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(sandbox_.specs.empty());
  EXPECT_EQ(r->claims[0].verdict, Verdict::kSkipped);
  EXPECT_EQ(r->claims[0].reason, "needs gpu");
  EXPECT_EQ(r->ExitCode(), 3);
  EXPECT_EQ(r->ToJson()["runs"][0]["skipped"], "needs gpu");
  EXPECT_EQ(r->ToJson()["runs"][0]["stderr_tail"], "");
  options_.host_has_gpu = true;
  ASSERT_TRUE(VerifyPackage(root_ / "pkg", pkg_, sandbox_, host_, options_).ok());
  ASSERT_EQ(sandbox_.specs.size(), 2u);
  EXPECT_TRUE(sandbox_.specs[0].gpu);
}

TEST_F(VerifyTest, ASandboxThatCannotStartIsAnErrorNotAVerdict) {
  sandbox_.fail_with = Status::FailedPrecondition("bwrap: not found");
  auto r = VerifyPackage(root_ / "pkg", pkg_, sandbox_, host_, options_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("bwrap"), std::string::npos);
}

TEST_F(VerifyTest, AFailingExperimentFailsItsClaimsOnly) {
  sandbox_.outputs.erase("mode-b");
  auto r = VerifyPackage(root_ / "pkg", pkg_, sandbox_, host_, options_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->claims[0].verdict, Verdict::kReproduced);
  EXPECT_EQ(r->claims[1].verdict, Verdict::kFailed);
  EXPECT_NE(r->claims[1].reason.find("no such mode"), std::string::npos);
  EXPECT_EQ(r->level, Level::kFailed);
}

}  // namespace
}  // namespace ahub
