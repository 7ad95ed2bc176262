// Option parsing, and the search-bench program itself: bad options exit 2 naming the option,
// --out writes one valid JSON document with every requested size.
#include "experiments/search-bench/cli.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "experiments/search-bench/workload.h"

namespace search_bench {
namespace {

namespace fs = std::filesystem;

ParsedArgs Parse(std::vector<std::string_view> args) { return ParseArgs(args); }

TEST(SearchBenchParseArgsTest, DefaultsAreTheDocumentedOnes) {
  const ParsedArgs parsed = Parse({});
  ASSERT_EQ(parsed.action, ParsedArgs::Action::kRun);
  EXPECT_EQ(parsed.config.sizes, SizeLadder(kMaxSize));
  EXPECT_EQ(parsed.config.queries, 200);
  EXPECT_EQ(parsed.config.timing.repeats, 7);
  EXPECT_EQ(parsed.config.hit_fraction, 0.5);
  EXPECT_EQ(parsed.config.seed, 20260611u);
  EXPECT_EQ(parsed.config.timing.min_batch_ns, 500000);
  EXPECT_EQ(parsed.out_path, "");
}

TEST(SearchBenchParseArgsTest, EveryOptionInBothSpellings) {
  const ParsedArgs parsed =
      Parse({"--sizes", "64,2,8,2", "--queries=30", "--repeats", "3", "--seed=18446744073709551615",
             "--hit-fraction", "0.25", "--out=r.json", "--min-batch-us", "250"});
  ASSERT_EQ(parsed.action, ParsedArgs::Action::kRun) << parsed.error;
  EXPECT_EQ(parsed.config.sizes, std::vector<int64_t>({2, 8, 64}));  // sorted, deduplicated
  EXPECT_EQ(parsed.config.queries, 30);
  EXPECT_EQ(parsed.config.timing.repeats, 3);
  EXPECT_EQ(parsed.config.seed, 18446744073709551615u);
  EXPECT_EQ(parsed.config.hit_fraction, 0.25);
  EXPECT_EQ(parsed.out_path, "r.json");
  EXPECT_EQ(parsed.config.timing.min_batch_ns, 250000);
}

TEST(SearchBenchParseArgsTest, MaxSizeCutsTheLadderOrTheGivenSizes) {
  EXPECT_EQ(Parse({"--max-size", "10"}).config.sizes, std::vector<int64_t>({1, 2, 3, 4, 6, 8}));
  EXPECT_EQ(Parse({"--sizes", "5,50,500", "--max-size", "50"}).config.sizes,
            std::vector<int64_t>({5, 50}));
  const ParsedArgs none = Parse({"--sizes", "5,50", "--max-size", "4"});
  EXPECT_EQ(none.action, ParsedArgs::Action::kUsageError);
  EXPECT_NE(none.error.find("--max-size"), std::string::npos) << none.error;
}

TEST(SearchBenchParseArgsTest, HelpAndVersion) {
  EXPECT_EQ(Parse({"--queries", "5", "--help"}).action, ParsedArgs::Action::kHelp);
  EXPECT_EQ(Parse({"--version"}).action, ParsedArgs::Action::kVersion);
  EXPECT_NE(Usage().find("--hit-fraction"), std::string::npos);
}

struct BadCase {
  std::vector<std::string_view> args;
  std::string names;     // the option the message must name
  std::string accepted;  // part of what the message says is accepted
};

TEST(SearchBenchParseArgsTest, BadOptionsNameTheOptionAndWhatIsAccepted) {
  const std::vector<BadCase> cases = {
      {{"--sizes", "0"}, "--sizes", "[1, 1048576]"},
      {{"--sizes", "1,,2"}, "--sizes", "comma-separated"},
      {{"--sizes", "1048577"}, "--sizes", "[1, 1048576]"},
      {{"--sizes"}, "--sizes", "needs a value"},
      {{"--max-size", "-3"}, "--max-size", "[1, 1048576]"},
      {{"--queries", "0"}, "--queries", "[1, 1000000]"},
      {{"--queries", "12x"}, "--queries", "[1, 1000000]"},
      {{"--repeats", "1001"}, "--repeats", "[1, 1000]"},
      {{"--min-batch-us", "0"}, "--min-batch-us", "[1, 10000000]"},
      {{"--seed", "-1"}, "--seed", "unsigned 64-bit"},
      {{"--seed", "18446744073709551616"}, "--seed", "unsigned 64-bit"},
      {{"--hit-fraction", "1.5"}, "--hit-fraction", "[0, 1]"},
      {{"--hit-fraction", "nan"}, "--hit-fraction", "[0, 1]"},
      {{"--out="}, "--out", "a file path"},
      {{"--frobnicate"}, "--frobnicate", "--sizes, --max-size"},
      {{"extra"}, "extra", "--queries"},
  };
  for (const BadCase& c : cases) {
    const ParsedArgs parsed = Parse(c.args);
    EXPECT_EQ(parsed.action, ParsedArgs::Action::kUsageError) << c.names;
    EXPECT_NE(parsed.error.find(c.names), std::string::npos) << parsed.error;
    EXPECT_NE(parsed.error.find("accepted"), std::string::npos) << parsed.error;
    EXPECT_NE(parsed.error.find(c.accepted), std::string::npos) << parsed.error;
  }
}

// Runs the built program; captures its exit status, stdout and stderr.
struct ProgramRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class SearchBenchProgramTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sb-cli-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  ProgramRun Run(const std::string& args) {
    const std::string command = std::string("'") + AHUB_BIN_DIR + "/search-bench' " + args + " >'" +
                                (dir_ / "stdout").string() + "' 2>'" + (dir_ / "stderr").string() +
                                "'";
    const int status = std::system(command.c_str());
    ProgramRun run;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.out = ReadAll(dir_ / "stdout");
    run.err = ReadAll(dir_ / "stderr");
    return run;
  }

  fs::path dir_;
};

TEST_F(SearchBenchProgramTest, BadOptionsExitTwoNamingTheOption) {
  for (const std::string option : {"--queries", "--repeats", "--max-size", "--hit-fraction"}) {
    const ProgramRun run = Run(option + " nope");
    EXPECT_EQ(run.exit_code, 2) << option;
    EXPECT_NE(run.err.find(option), std::string::npos) << run.err;
    EXPECT_NE(run.err.find("accepted"), std::string::npos) << run.err;
    EXPECT_EQ(run.out, "");
  }
  const ProgramRun unknown = Run("--fast");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("'--fast'"), std::string::npos) << unknown.err;
}

TEST_F(SearchBenchProgramTest, HelpAndVersionExitZero) {
  const ProgramRun help = Run("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--sizes"), std::string::npos);
  const ProgramRun version = Run("--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out, "search-bench 1\n");
}

TEST_F(SearchBenchProgramTest, OutWritesOneJsonDocumentWithAllSizes) {
  const fs::path out = dir_ / "results.json";
  const ProgramRun run =
      Run("--sizes 1,2,3,64,1024 --queries 40 --repeats 2 --seed 5 --hit-fraction 0.75 --out '" +
          out.string() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "");  // the document went to the file only
  const nlohmann::json doc = nlohmann::json::parse(ReadAll(out));
  EXPECT_EQ(doc["experiment"], "search-bench");
  EXPECT_EQ(doc["config"]["seed"], 5);
  EXPECT_EQ(doc["config"]["queries"], 40);
  EXPECT_EQ(doc["config"]["repeats"], 2);
  EXPECT_EQ(doc["config"]["hit_fraction"], 0.75);
  const std::vector<int64_t> expected_sizes = {1, 2, 3, 64, 1024};
  ASSERT_EQ(doc["sizes"].size(), expected_sizes.size());
  for (std::size_t i = 0; i < expected_sizes.size(); ++i) {
    const nlohmann::json& row = doc["sizes"][i];
    EXPECT_EQ(row["n"], expected_sizes[i]);
    EXPECT_GT(row["linear_ns"].get<double>(), 0.0);
    EXPECT_GT(row["binary_ns"].get<double>(), 0.0);
    EXPECT_DOUBLE_EQ(row["speedup"].get<double>(),
                     row["linear_ns"].get<double>() / row["binary_ns"].get<double>());
  }
  EXPECT_TRUE(doc.contains("crossover_n"));
  EXPECT_TRUE(doc["speedup_at"].contains("1024"));
  EXPECT_FALSE(doc["speedup_at"].contains("1048576"));
  // Nothing but the document is left in the output directory.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 3);
}

TEST_F(SearchBenchProgramTest, WithoutOutTheDocumentGoesToStdout) {
  const ProgramRun run = Run("--sizes 4 --queries 10 --repeats 1");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const nlohmann::json doc = nlohmann::json::parse(run.out);
  ASSERT_EQ(doc["sizes"].size(), 1u);
  EXPECT_EQ(doc["sizes"][0]["n"], 4);
}

TEST_F(SearchBenchProgramTest, UnwritableOutExitsOne) {
  const ProgramRun run = Run("--sizes 4 --queries 10 --repeats 1 --out '" +
                             (dir_ / "missing" / "r.json").string() + "'");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("--out"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace search_bench
