// End-to-end tests of the `ahub` binary: real sandbox, real built-in experiments, seed packages.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;

struct Ran {
  int exit_code;
  std::string out;  // stdout, or stdout+stderr when asked
};

Ran Ahub(const std::string& args, bool merge_stderr = false) {
  const std::string cmd = std::string(AHUB_BIN_DIR) + "/ahub " + args + (merge_stderr ? " 2>&1" : " 2>/dev/null");
  FILE* pipe = popen(cmd.c_str(), "r");
  Ran r{-1, ""};
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string Pkg(const std::string& name) { return std::string(AHUB_SOURCE_DIR) + "/packages/" + name; }

class TempPackage {
 public:
  explicit TempPackage(const std::string& from) {
    dir_ = fs::temp_directory_path() / ("ahub-cli-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::remove_all(dir_);
    fs::copy(Pkg(from), dir_, fs::copy_options::recursive);
    fs::permissions(dir_, fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
  }
  ~TempPackage() { fs::remove_all(dir_); }
  void Replace(const std::string& from, const std::string& to) {
    std::ifstream in(dir_ / "package.yaml");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t p = text.find(from);
    ASSERT_NE(p, std::string::npos) << from;
    text.replace(p, from.size(), to);
    std::ofstream(dir_ / "package.yaml") << text;
  }
  std::string path() const { return dir_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path dir_;
};

TEST(AhubCliTest, EverySubcommandHasHelp) {
  for (const char* sub : {"", "validate ", "verify "}) {
    Ran r = Ahub(std::string(sub) + "--help");
    EXPECT_EQ(r.exit_code, 0) << sub;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << sub;
  }
  EXPECT_EQ(Ahub("no-such-command").exit_code, 2);
  EXPECT_EQ(Ahub("").exit_code, 2);
}

TEST(AhubCliTest, VerifiesTheSeedCachePackageClaimByClaim) {
  Ran r = Ahub("verify --json " + Pkg("cache-admission-zipfian"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["package"], "cache-admission-zipfian");
  EXPECT_EQ(j["level"], "reproduces");
  ASSERT_EQ(j["claims"].size(), 3u);
  std::map<std::string, double> measured;
  for (const auto& c : j["claims"]) {
    EXPECT_EQ(c["verdict"], "reproduced") << c.dump();
    measured[c["metric"]] = c["measured"];
  }
  // The seed's published figures, to two decimals.
  EXPECT_NEAR(measured["cache.lfu_hit_rate_pct"], 64.50, 0.005);
  EXPECT_NEAR(measured["cache.lru_hit_rate_pct"], 52.68, 0.005);
  EXPECT_NEAR(measured["cache.hit_rate_gap_pp"], 11.81, 0.005);
  EXPECT_EQ(j["runs"][0]["killed_by"], "none");
  EXPECT_EQ(j["host"]["fingerprint"].get<std::string>().size(), 64u);
}

TEST(AhubCliTest, VerifiesTheCapacityRemeasurement) {
  Ran r = Ahub("verify --json " + Pkg("cache-admission-zipfian-cap1000"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  for (const auto& c : j["claims"]) {
    EXPECT_EQ(c["verdict"], "reproduced") << c.dump();
    if (c["metric"] == "cache.hit_rate_gap_pp") {
      EXPECT_NEAR(c["measured"].get<double>(), 5.81, 0.005);
    }
  }
}

TEST(AhubCliTest, PrintsAHumanTableWithTheVerdicts) {
  Ran r = Ahub("verify " + Pkg("cache-admission-zipfian"));
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_TRUE(std::regex_search(r.out, std::regex("CLAIM +CLAIMED +MEASURED +EXPECTATION +VERDICT")));
  EXPECT_TRUE(std::regex_search(r.out, std::regex("64\\.50 % +64\\.50 %.*reproduced")));
}

TEST(AhubCliTest, AFalseClaimIsRefutedWithExitOne) {
  TempPackage p("cache-admission-zipfian");
  p.Replace("value: 11.81", "value: 15.0");
  p.Replace("approx: 11.81", "approx: 15.0");
  Ran r = Ahub("verify --json " + p.path());
  EXPECT_EQ(r.exit_code, 1);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["level"], "refuted");
  int refuted = 0;
  for (const auto& c : j["claims"]) refuted += c["verdict"] == "refuted";
  EXPECT_EQ(refuted, 1);
}

TEST(AhubCliTest, AnExperimentThatFailsFailsItsClaims) {
  TempPackage p("cache-admission-zipfian");
  p.Replace("cache-sim,", "cache-sim, --no-such-option,");
  Ran r = Ahub("verify --json " + p.path());
  EXPECT_EQ(r.exit_code, 1);
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["level"], "failed");
  EXPECT_EQ(j["runs"][0]["exit"], 2);
  EXPECT_NE(j["claims"][0]["reason"].get<std::string>().find("exited with status 2"), std::string::npos);
}

TEST(AhubCliTest, ValidateLocatesEveryProblemAndExitsTwo) {
  TempPackage p("cache-admission-zipfian");
  p.Replace("version: 1", "version: first");
  p.Replace("format: ahub/1", "format: ahub/9");
  Ran r = Ahub("validate " + p.path(), /*merge_stderr=*/true);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(std::regex_search(r.out, std::regex("package\\.yaml:[0-9]+:[0-9]+: version: expected an integer")));
  EXPECT_TRUE(std::regex_search(r.out, std::regex("package\\.yaml:[0-9]+:9: format: .*accepted: ahub/1")));
  Ran j = Ahub("validate --json " + p.path());
  EXPECT_EQ(j.exit_code, 2);
  EXPECT_EQ(nlohmann::json::parse(j.out)["errors"].size(), 2u);
  EXPECT_EQ(Ahub("verify " + p.path()).exit_code, 2);
  EXPECT_EQ(Ahub("validate " + Pkg("cache-admission-zipfian")).exit_code, 0);
}

}  // namespace
