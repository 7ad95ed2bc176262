// CrossoverSize on synthetic timing tables, VerifyAgreement's report of a disagreement, and
// RunBench / ReportToJson driven by a fake clock (no real timing is asserted anywhere).
#include "experiments/search-bench/bench.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "experiments/search-bench/membership.h"
#include "experiments/search-bench/workload.h"

namespace search_bench {
namespace {

// Rows from (n, linear_ns, binary_ns).
std::vector<SizeTiming> Table(std::initializer_list<std::array<double, 3>> rows) {
  std::vector<SizeTiming> table;
  for (const auto& [n, linear, binary] : rows) {
    table.push_back({static_cast<int64_t>(n), linear, binary, linear / binary});
  }
  return table;
}

TEST(SearchBenchCrossoverTest, FirstSizeFromWhichBinaryStaysFaster) {
  EXPECT_EQ(CrossoverSize(Table({{1, 1, 5}, {2, 2, 5}, {4, 4, 5}, {8, 8, 6}, {16, 16, 7}})), 8);
}

TEST(SearchBenchCrossoverTest, LaterLossMovesTheCrossoverUp) {
  // Binary wins at 4, loses at 8 (noise or a real bump), wins from 16 on: "stays faster" is 16.
  EXPECT_EQ(CrossoverSize(Table({{2, 2, 5}, {4, 6, 5}, {8, 4, 5}, {16, 16, 7}, {32, 32, 8}})), 16);
}

TEST(SearchBenchCrossoverTest, BinaryFasterEverywhereGivesTheSmallestSize) {
  EXPECT_EQ(CrossoverSize(Table({{3, 9, 5}, {6, 12, 5}, {12, 20, 6}})), 3);
}

TEST(SearchBenchCrossoverTest, NoCrossoverWhenLinearWinsAtTheLargestSize) {
  EXPECT_EQ(CrossoverSize(Table({{1, 1, 5}, {2, 6, 5}, {4, 4, 5}})), std::nullopt);
  EXPECT_EQ(CrossoverSize({}), std::nullopt);
}

TEST(SearchBenchCrossoverTest, ATieIsNotAWinForBinarySearch) {
  EXPECT_EQ(CrossoverSize(Table({{1, 1, 5}, {2, 5, 5}, {4, 9, 5}})), 4);
  EXPECT_EQ(CrossoverSize(Table({{1, 1, 5}, {2, 7, 5}, {4, 5, 5}})), std::nullopt);
}

bool InSet(std::span<const int64_t> sorted, int64_t q) {
  const std::set<int64_t> s(sorted.begin(), sorted.end());
  return s.count(q) == 1;
}

TEST(SearchBenchVerifyAgreementTest, AgreementGivesNoError) {
  const std::vector<int64_t> sorted = MakeSortedArray(50);
  const QuerySet queries = MakeQueries(50, 200, 0.5, 3);
  EXPECT_EQ(VerifyAgreement(sorted, queries.values, InSet, LinearContains, BinaryContains), "");
}

TEST(SearchBenchVerifyAgreementTest, ADisagreementIsReportedWithItsQuery) {
  const std::vector<int64_t> sorted = MakeSortedArray(8);
  const std::vector<int64_t> queries = {0, 3, 14, 15};
  // A scan with an off-by-one: it never looks at the last element.
  const MembershipFn misses_last = [](std::span<const int64_t> s, int64_t q) {
    return LinearContains(s.first(s.size() - 1), q);
  };
  const std::string error = VerifyAgreement(sorted, queries, InSet, misses_last, BinaryContains);
  EXPECT_EQ(error, "n=8 query 14: linear says 0, binary says 1, expected 1");
  const std::string swapped = VerifyAgreement(sorted, queries, InSet, LinearContains, misses_last);
  EXPECT_EQ(swapped, "n=8 query 14: linear says 1, binary says 0, expected 1");
}

// Advances a fixed step on every reading, whatever ran in between.
class SteppingClock final : public Clock {
 public:
  explicit SteppingClock(int64_t step) : step_(step) {}
  int64_t NowNs() override { return now_ += step_; }

 private:
  int64_t step_;
  int64_t now_ = 0;
};

TEST(SearchBenchRunBenchTest, OneRowPerSizeWithTimesFromTheClock) {
  BenchConfig config;
  config.sizes = {1, 2, 1024};
  config.queries = 50;
  config.timing = {.repeats = 3, .min_batch_ns = 1000};
  SteppingClock clock(1000);  // every batch reads as 1000 ns, so one pass per batch
  const BenchOutcome outcome = RunBench(config, clock);
  ASSERT_EQ(outcome.error, "");
  ASSERT_EQ(outcome.report.sizes.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const SizeTiming& row = outcome.report.sizes[i];
    EXPECT_EQ(row.n, config.sizes[i]);
    EXPECT_DOUBLE_EQ(row.linear_ns, 20.0);  // 1000 ns / 50 queries
    EXPECT_DOUBLE_EQ(row.binary_ns, 20.0);
    EXPECT_DOUBLE_EQ(row.speedup, 1.0);
  }
  EXPECT_EQ(outcome.report.crossover_n, std::nullopt);  // a tie everywhere
}

TEST(SearchBenchReportToJsonTest, DocumentCarriesConfigSizesCrossoverAndNamedSpeedups) {
  Report report;
  report.config.sizes = {2, 1024};
  report.config.seed = 99;
  report.config.queries = 10;
  report.config.hit_fraction = 0.25;
  report.config.timing.repeats = 5;
  report.sizes = Table({{2, 1, 2}, {1024, 300, 10}});
  report.crossover_n = 1024;
  const nlohmann::json doc = nlohmann::json::parse(ReportToJson(report));
  EXPECT_EQ(doc["experiment"], "search-bench");
  EXPECT_EQ(doc["version"], "1");
  EXPECT_EQ(doc["config"]["seed"], 99);
  EXPECT_EQ(doc["config"]["queries"], 10);
  EXPECT_EQ(doc["config"]["repeats"], 5);
  EXPECT_EQ(doc["config"]["hit_fraction"], 0.25);
  ASSERT_EQ(doc["sizes"].size(), 2u);
  EXPECT_EQ(doc["sizes"][0]["n"], 2);
  EXPECT_EQ(doc["sizes"][0]["speedup"], 0.5);
  EXPECT_EQ(doc["sizes"][1]["linear_ns"], 300.0);
  EXPECT_EQ(doc["sizes"][1]["binary_ns"], 10.0);
  EXPECT_EQ(doc["crossover_n"], 1024);
  // Only the named sizes that were measured.
  EXPECT_EQ(doc["speedup_at"], nlohmann::json({{"1024", 30.0}}));

  report.crossover_n.reset();
  EXPECT_TRUE(nlohmann::json::parse(ReportToJson(report))["crossover_n"].is_null());
}

}  // namespace
}  // namespace search_bench
