// The bisect-membership package's study.py, run small: its document has every field the
// package's claims point at, and its derived figures agree with its own per-size rows.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr const char* kPython = "/usr/bin/python3";  // the interpreter the sandbox maps python3 to

fs::path PackageDir() { return fs::path(AHUB_SOURCE_DIR) / "packages" / "bisect-membership"; }

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class SearchBenchPythonStudyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kPython)) {
      GTEST_SKIP() << kPython << " is not installed";
    }
    dir_ = fs::temp_directory_path() / ("sb-study-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs study.py from the package directory, as the sandbox does; returns its exit status.
  int RunStudy(const std::string& args) {
    const std::string command = "cd '" + PackageDir().string() + "' && " + kPython +
                                " -I study.py " + args + " 2>'" + (dir_ / "stderr").string() + "'";
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  fs::path dir_;
};

TEST_F(SearchBenchPythonStudyTest, DocumentHoldsEveryClaimedFigureConsistently) {
  const fs::path out = dir_ / "results.json";
  // Up to 1024 (the headline size), one short repeat: a shape check, not a measurement.
  ASSERT_EQ(RunStudy("--max-size 1024 --repeats 1 --min-batch-seconds 0.00005 --out '" +
                     out.string() + "'"),
            0)
      << ReadAll(dir_ / "stderr");
  const nlohmann::json doc = nlohmann::json::parse(ReadAll(out));
  EXPECT_EQ(doc["experiment"], "bisect-membership");

  // Every evidence pointer of package.yaml resolves to a number.
  const std::string manifest = ReadAll(PackageDir() / "package.yaml");
  const std::regex pointer_re(R"(pointer:\s*(/[A-Za-z0-9_/~]+))");
  int pointers = 0;
  for (std::sregex_iterator it(manifest.begin(), manifest.end(), pointer_re), end; it != end;
       ++it) {
    ++pointers;
    const nlohmann::json::json_pointer pointer((*it)[1].str());
    ASSERT_TRUE(doc.contains(pointer)) << pointer.to_string();
    EXPECT_TRUE(doc[pointer].is_number()) << pointer.to_string() << " = " << doc[pointer];
  }
  EXPECT_EQ(pointers, 3);

  // The ladder 1, 2, 3, 4, 6, ... 1024, each row's speedup its own ratio.
  const std::vector<int> ladder = {1,  2,  3,  4,   6,   8,   12,  16,  24,  32,
                                   48, 64, 96, 128, 192, 256, 384, 512, 768, 1024};
  ASSERT_EQ(doc["sizes"].size(), ladder.size());
  double log_sum = 0;
  for (std::size_t i = 0; i < ladder.size(); ++i) {
    const nlohmann::json& row = doc["sizes"][i];
    EXPECT_EQ(row["n"], ladder[i]);
    const double ratio = row["linear_ns"].get<double>() / row["binary_ns"].get<double>();
    EXPECT_NEAR(row["speedup"].get<double>(), ratio, 0.01 * ratio);  // rows round to 0.01 ns
    if (ladder[i] <= 4) {
      log_sum += std::log(row["speedup"].get<double>());
    }
  }
  EXPECT_NEAR(doc["small_n_speedup"].get<double>(), std::exp(log_sum / 4), 1e-3);
  EXPECT_EQ(doc["speedup_at_1024"], doc["sizes"][ladder.size() - 1]["speedup"]);

  // crossover_n: binary faster there and at every larger size, and not just below it.
  if (!doc["crossover_n"].is_null()) {
    bool reached = false;
    for (std::size_t i = 0; i < ladder.size(); ++i) {
      const nlohmann::json& row = doc["sizes"][i];
      reached = reached || row["n"] == doc["crossover_n"];
      if (reached) {
        EXPECT_LT(row["binary_ns"].get<double>(), row["linear_ns"].get<double>());
      }
      if (i + 1 < ladder.size() && doc["sizes"][i + 1]["n"] == doc["crossover_n"]) {
        EXPECT_GE(row["binary_ns"].get<double>(), row["linear_ns"].get<double>());
      }
    }
    EXPECT_TRUE(reached);
  } else {
    EXPECT_GE(doc["sizes"][ladder.size() - 1]["binary_ns"].get<double>(),
              doc["sizes"][ladder.size() - 1]["linear_ns"].get<double>());
  }
}

TEST_F(SearchBenchPythonStudyTest, BadOptionExitsTwoNamingIt) {
  EXPECT_EQ(RunStudy("--max-size 0"), 2);
  EXPECT_NE(ReadAll(dir_ / "stderr").find("--max-size"), std::string::npos);
}

}  // namespace
