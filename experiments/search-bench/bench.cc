#include "experiments/search-bench/bench.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <sstream>

#include "experiments/search-bench/membership.h"
#include "experiments/search-bench/workload.h"

namespace search_bench {
namespace {

// Found-counts land here so that no pass's result is dead.
volatile int64_t found_sink = 0;

// Runs the queries once through `contains`; the asm barriers keep the compiler from hoisting the
// pass out of the timing loop (the array "may have changed") or dropping the count.
template <bool (*Contains)(std::span<const int64_t>, int64_t)>
void CountPass(std::span<const int64_t> sorted, std::span<const int64_t> queries) {
  DoNotOptimize(sorted.data());
  int64_t found = 0;
  for (int64_t q : queries) {
    found += Contains(sorted, q) ? 1 : 0;
  }
  DoNotOptimize(found);
  found_sink = found_sink + found;
}

}  // namespace

std::optional<int64_t> CrossoverSize(std::span<const SizeTiming> rows) {
  std::optional<int64_t> crossover;
  for (auto row = rows.rbegin(); row != rows.rend(); ++row) {
    if (!(row->binary_ns < row->linear_ns)) {
      break;
    }
    crossover = row->n;
  }
  return crossover;
}

std::string VerifyAgreement(std::span<const int64_t> sorted, std::span<const int64_t> queries,
                            const MembershipFn& truth, const MembershipFn& linear,
                            const MembershipFn& binary) {
  for (int64_t q : queries) {
    const bool expected = truth(sorted, q);
    const bool by_linear = linear(sorted, q);
    const bool by_binary = binary(sorted, q);
    if (by_linear != expected || by_binary != expected) {
      std::ostringstream message;
      message << "n=" << sorted.size() << " query " << q << ": linear says " << by_linear
              << ", binary says " << by_binary << ", expected " << expected;
      return message.str();
    }
  }
  return "";
}

BenchOutcome RunBench(const BenchConfig& config, Clock& clock) {
  BenchOutcome outcome;
  outcome.report.config = config;
  for (int64_t n : config.sizes) {
    const std::vector<int64_t> sorted = MakeSortedArray(n);
    const QuerySet queries = MakeQueries(n, config.queries, config.hit_fraction, config.seed);
    // The ladder's arrays hold 0, 2, ..., 2(n-1): membership has a closed form, independent of
    // both contenders and O(1) even at n = 2^20.
    const MembershipFn truth = [n](std::span<const int64_t>, int64_t q) {
      return q >= 0 && q < 2 * n && q % 2 == 0;
    };
    const int64_t hits = std::count_if(queries.values.begin(), queries.values.end(),
                                       [&](int64_t q) { return truth(sorted, q); });
    std::string error =
        VerifyAgreement(sorted, queries.values, truth, LinearContains, BinaryContains);
    if (error.empty() && hits != queries.hits) {
      error = "n=" + std::to_string(n) + ": " + std::to_string(hits) +
              " of the queries are hits, the generator promised " + std::to_string(queries.hits);
    }
    if (!error.empty()) {
      outcome.error = "verification failed before timing: " + error;
      return outcome;
    }

    const std::array<std::function<void()>, 2> passes = {
        [&] { CountPass<LinearContains>(sorted, queries.values); },
        [&] { CountPass<BinaryContains>(sorted, queries.values); },
    };
    const std::vector<Timing> timings = MeasureInterleaved(clock, config.timing, passes);
    SizeTiming row;
    row.n = n;
    row.linear_ns = timings[0].per_pass_ns / static_cast<double>(config.queries);
    row.binary_ns = timings[1].per_pass_ns / static_cast<double>(config.queries);
    row.speedup = row.linear_ns / row.binary_ns;
    outcome.report.sizes.push_back(row);
  }
  outcome.report.crossover_n = CrossoverSize(outcome.report.sizes);
  return outcome;
}

std::string ReportToJson(const Report& report) {
  const BenchConfig& config = report.config;
  nlohmann::ordered_json doc;
  doc["experiment"] = kExperimentName;
  doc["version"] = kFormatVersion;
  doc["config"] = {
      {"seed", config.seed},
      {"queries", config.queries},
      {"repeats", config.timing.repeats},
      {"hit_fraction", config.hit_fraction},
      {"min_batch_ns", config.timing.min_batch_ns},
      {"linear", "scan from the front, stop at the first element >= x"},
      {"binary", "std::binary_search"},
      {"element", "int64"},
  };
  nlohmann::ordered_json sizes = nlohmann::ordered_json::array();
  nlohmann::ordered_json speedup_at = nlohmann::ordered_json::object();
  for (const SizeTiming& row : report.sizes) {
    sizes.push_back({{"n", row.n},
                     {"linear_ns", row.linear_ns},
                     {"binary_ns", row.binary_ns},
                     {"speedup", row.speedup}});
    if (std::find(std::begin(kReportedSizes), std::end(kReportedSizes), row.n) !=
        std::end(kReportedSizes)) {
      speedup_at[std::to_string(row.n)] = row.speedup;
    }
  }
  doc["sizes"] = std::move(sizes);
  doc["crossover_n"] = report.crossover_n ? nlohmann::ordered_json(*report.crossover_n) : nullptr;
  doc["speedup_at"] = std::move(speedup_at);
  return doc.dump(1) + "\n";
}

}  // namespace search_bench
