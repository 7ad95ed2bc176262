// The command line: ParseCommandLine directly, then the built cache-sim binary end to end
// (exit codes, messages on stderr, the JSON document, atomic --out).
#include "cli.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.h"

namespace cachesim {
namespace {

using testing::CacheSimBinary;
using testing::CommandResult;
using testing::RunCommand;
using testing::TempDir;

Result<CommandLine> Parse(const std::vector<std::string_view>& args) {
  return ParseCommandLine(args);
}

CommandResult CacheSim(std::vector<std::string> args) {
  args.insert(args.begin(), CacheSimBinary());
  return RunCommand(args);
}

TEST(CliParseTest, DefaultsAreTheSeedConfiguration) {
  auto line = Parse({});
  ASSERT_TRUE(line.ok());
  const auto& zipf = std::get<ZipfWorkload>(line.value().options.workload);
  EXPECT_EQ(zipf.params.s, 1.1);
  EXPECT_EQ(zipf.params.catalog, 10000u);
  EXPECT_EQ(zipf.params.requests, 200000u);
  EXPECT_EQ(zipf.seed_key, std::vector<uint32_t>{42});
  ASSERT_EQ(line.value().options.runs.size(), 1u);
  EXPECT_EQ(line.value().options.runs[0].capacity, 100u);
  EXPECT_EQ(line.value().options.runs[0].warmup, 0u);
  EXPECT_EQ(line.value().options.policies, (std::vector<Policy>{Policy::kLfu, Policy::kLru}));
  EXPECT_FALSE(line.value().out_path.has_value());
}

TEST(CliParseTest, CapacityListWithPerEntryWarmupOverridingWarmup) {
  auto line = Parse({"--warmup", "7", "--capacity=1000@20000,100,5@0", "--policies=sieve,opt",
                     "--seed", "1099511627783", "--out", "x.json"});
  ASSERT_TRUE(line.ok()) << line.error().message();
  const auto& runs = line.value().options.runs;
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].capacity, 1000u);
  EXPECT_EQ(runs[0].warmup, 20000u);
  EXPECT_EQ(runs[1].capacity, 100u);
  EXPECT_EQ(runs[1].warmup, 7u);
  EXPECT_EQ(runs[2].warmup, 0u);
  EXPECT_EQ(line.value().options.policies, (std::vector<Policy>{Policy::kSieve, Policy::kOpt}));
  EXPECT_EQ(std::get<ZipfWorkload>(line.value().options.workload).seed_key,
            (std::vector<uint32_t>{7, 256}));
  EXPECT_EQ(line.value().out_path, "x.json");
}

TEST(CliParseTest, TraceWorkload) {
  auto line = Parse({"--trace", "t.bin", "--trace-format", "oracle-general", "--capacity", "9"});
  ASSERT_TRUE(line.ok()) << line.error().message();
  const auto& trace = std::get<TraceWorkload>(line.value().options.workload);
  EXPECT_EQ(trace.path, "t.bin");
  EXPECT_EQ(trace.format, TraceFormat::kOracleGeneral);
}

TEST(CliParseTest, HelpAndVersion) {
  EXPECT_EQ(Parse({"--capacity", "5", "--help"}).value().action, CommandLine::Action::kHelp);
  EXPECT_EQ(Parse({"--version"}).value().action, CommandLine::Action::kVersion);
}

TEST(CliParseTest, BadOptionsNameTheOptionAndWhatIsAccepted) {
  struct Case {
    std::vector<std::string_view> args;
    std::vector<std::string_view> message_parts;
  };
  const std::vector<Case> cases = {
      {{"--bogus"}, {"unknown option '--bogus'", "--capacity", "--policies"}},
      {{"extra"}, {"unexpected argument 'extra'"}},
      {{"--capacity", "0"}, {"--capacity", "'0'", "CAP >= 1"}},
      {{"--capacity", "100,"}, {"--capacity", "''"}},
      {{"--capacity", "100@x"}, {"--capacity", "'100@x'", "WARMUP"}},
      {{"--capacity", "100@200000"}, {"--capacity 100@200000", "smaller than --requests 200000"}},
      {{"--warmup", "200000"}, {"warm-up must be smaller"}},
      {{"--warmup", "-1"}, {"--warmup", "'-1'"}},
      {{"--policies", "lfu,xyz"},
       {"--policies", "'xyz'", "lfu, lru, lfu-forget, fifo, sieve, opt"}},
      {{"--policies", "lru,lru"}, {"--policies", "twice"}},
      {{"--policies", ""}, {"--policies", "''"}},
      {{"--zipf-s", "abc"}, {"--zipf-s", "'abc'", "finite number >= 0"}},
      {{"--zipf-s", "-1"}, {"--zipf-s", "'-1'"}},
      {{"--zipf-s", "inf"}, {"--zipf-s"}},
      {{"--catalog", "0"}, {"--catalog", "'0'", "from 1 to"}},
      {{"--requests", "4294967295"}, {"--requests", "from 1 to 4294967294"}},
      {{"--seed", "4x"}, {"--seed", "'4x'", "decimal integer"}},
      {{"--trace-format", "csv", "--trace", "f"},
       {"--trace-format", "'csv'", "text, oracle-general"}},
      {{"--trace-format", "text"}, {"--trace-format needs --trace"}},
      {{"--trace", "f", "--catalog", "5"}, {"--catalog", "cannot be combined with --trace"}},
      {{"--out"}, {"--out needs a value"}},
      {{"--out="}, {"--out: needs a file path"}},
  };
  for (const Case& c : cases) {
    auto line = Parse(c.args);
    ASSERT_FALSE(line.ok()) << c.args[0];
    for (const std::string_view part : c.message_parts) {
      EXPECT_NE(line.error().message().find(part), std::string::npos)
          << "message: " << line.error().message() << "\nmissing: " << part;
    }
  }
}

TEST(CliBinaryTest, HelpAndVersionExitZero) {
  const CommandResult help = CacheSim({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Usage:"), std::string::npos);
  EXPECT_NE(help.out.find("Examples:"), std::string::npos);
  EXPECT_NE(help.out.find("--trace-format"), std::string::npos);
  const CommandResult version = CacheSim({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out, "cache-sim 1.0.0 (output format 1)\n");
}

TEST(CliBinaryTest, UsageErrorsExitTwoWithAMessageOnStderr) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--bogus"}, {"--capacity", "0"}, {"--policies", "lfu,nope"}, {"--zipf-s"}}) {
    const CommandResult r = CacheSim(args);
    EXPECT_EQ(r.exit_code, 2) << args[0];
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_EQ(r.err.rfind("cache-sim: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(args[0]), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--help"), std::string::npos) << r.err;
  }
}

TEST(CliBinaryTest, OutWritesTheSeedDocument) {
  const TempDir dir;
  const std::string out = dir.File("results.json");
  const CommandResult r = CacheSim({"--capacity", "1000@20000,100@0", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  const auto doc = nlohmann::json::parse(testing::ReadFile(out));
  EXPECT_EQ(doc["experiment"], "cache-sim");
  EXPECT_EQ(doc["version"], "1");
  EXPECT_EQ(doc["workload"], nlohmann::json::parse(R"({"kind":"zipf","zipf_s":1.1,"catalog":10000,)"
                                                   R"("requests":200000,"seed":42})"));
  EXPECT_EQ(doc["policies"], nlohmann::json::parse(R"(["lfu","lru"])"));
  ASSERT_EQ(doc["runs"].size(), 2u);
  EXPECT_EQ(doc["runs"][0]["capacity"], 1000);
  EXPECT_EQ(doc["runs"][0]["hits"]["lfu"], 150764);
  EXPECT_EQ(doc["runs"][1]["hits"]["lru"], 105368);
  EXPECT_DOUBLE_EQ(doc["runs"][1]["gap_pp"].get<double>(),
                   100.0 * 128990 / 200000 - 100.0 * 105368 / 200000);
  for (const char* timing : {"seconds", "cpu_seconds"}) {
    for (const char* policy : {"lfu", "lru"}) {
      EXPECT_GE(doc["runs"][0][timing][policy].get<double>(), 0.0) << timing << " " << policy;
    }
  }
  EXPECT_GE(doc["elapsed_seconds"].get<double>(), 0.0);
  // Only the document is left behind: no temporary file.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(CliBinaryTest, StdoutDocumentAndSinglePolicyHasNoGap) {
  const CommandResult r = CacheSim({"--requests", "5000", "--policies", "sieve"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["runs"][0]["measured_requests"], 5000);
  EXPECT_TRUE(doc["runs"][0]["hits"].contains("sieve"));
  EXPECT_FALSE(doc["runs"][0].contains("gap_pp"));
}

TEST(CliBinaryTest, LargeSeedIsReportedExactly) {
  const CommandResult big =
      CacheSim({"--requests", "100", "--seed", "123456789012345678901234567890"});
  ASSERT_EQ(big.exit_code, 0) << big.err;
  EXPECT_EQ(nlohmann::json::parse(big.out)["workload"]["seed"], "123456789012345678901234567890");
  const CommandResult wide = CacheSim({"--requests", "100", "--seed", "1099511627783"});
  ASSERT_EQ(wide.exit_code, 0) << wide.err;
  EXPECT_EQ(nlohmann::json::parse(wide.out)["workload"]["seed"], 1099511627783);
}

TEST(CliBinaryTest, TraceRunReportsTheTraceWorkload) {
  const TempDir dir;
  const std::string trace = dir.File("t.txt");
  testing::WriteFile(trace, "1\n2\n1\n3\n1\n2\n");
  const CommandResult r =
      CacheSim({"--trace", trace, "--capacity", "2@1", "--policies", "lru,fifo"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["workload"], (nlohmann::json{{"kind", "trace"},
                                             {"path", trace},
                                             {"format", "text"},
                                             {"requests", 6},
                                             {"distinct_objects", 3}}));
  // LRU, capacity 2: 1 2 [1 hit] 3 (evicts 2) [1 hit] 2 (miss) -> 2 hits after the warm-up.
  EXPECT_EQ(doc["runs"][0]["hits"]["lru"], 2);
  EXPECT_EQ(doc["runs"][0]["measured_requests"], 5);
}

TEST(CliBinaryTest, BadTraceFailsWithoutWritingOutput) {
  const TempDir dir;
  const std::string out = dir.File("results.json");
  const std::string trace = dir.File("bad.txt");
  testing::WriteFile(trace, "1\n2\nthree\n");
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"--trace", trace}, trace + ":3: expected an object id"},
      {{"--trace", dir.File("missing.txt")}, dir.File("missing.txt") + ": cannot open trace"},
      {{"--trace", trace, "--trace-format", "oracle-general"}, "record 1 is truncated"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--out", out});
    const CommandResult r = CacheSim(args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(out));
    EXPECT_TRUE(r.out.empty());
  }
  // A warm-up as long as the trace is refused once the trace's length is known.
  testing::WriteFile(trace, "1\n2\n");
  const CommandResult r = CacheSim({"--trace", trace, "--capacity", "1@2", "--out", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--capacity 1@2: the warm-up must be smaller than the 2 requests"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(CliBinaryTest, UnwritableOutIsAnError) {
  const TempDir dir;
  const std::string out = dir.File("no-such-dir/results.json");
  const CommandResult r = CacheSim({"--requests", "100", "--out", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(out + ": cannot create output file"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace cachesim
