// search-bench: linear scan vs binary search for membership in sorted int64 arrays.
//
// RunBench measures, for each size, the time per query of LinearContains and BinaryContains
// (membership.h) on the same seeded query batch (workload.h), after checking that both agree with
// each other and with the known answer on every query. Timing is timing.h's min-of-k with
// interleaved repeats. ReportToJson renders the one JSON document the program writes.
//
// Thread-safety: all functions are reentrant; RunBench uses only its arguments.
// Invariants of a Report:
//   1. sizes is in strictly increasing order of n, one entry per measured size.
//   2. speedup = linear_ns / binary_ns (> 1 where binary search is faster).
//   3. crossover_n is CrossoverSize(sizes).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "experiments/search-bench/timing.h"

namespace search_bench {

inline constexpr const char* kExperimentName = "search-bench";
inline constexpr const char* kFormatVersion = "1";  // of the JSON document
// Sizes reported by name under "speedup_at" when they were measured.
inline constexpr int64_t kReportedSizes[] = {1024, 1048576};

struct BenchConfig {
  std::vector<int64_t> sizes;  // strictly increasing, each in [1, kMaxSize]
  int64_t queries = 200;
  double hit_fraction = 0.5;
  uint64_t seed = 20260611;
  TimingConfig timing;
};

struct SizeTiming {
  int64_t n = 0;
  double linear_ns = 0;  // per query
  double binary_ns = 0;  // per query
  double speedup = 0;
};

struct Report {
  BenchConfig config;
  std::vector<SizeTiming> sizes;
  std::optional<int64_t> crossover_n;
};

struct BenchOutcome {
  std::string error;  // empty on success: then `report` is complete
  Report report;
};

// Smallest n from which binary search is strictly faster at that size and every larger one;
// nullopt when it is not faster at the largest size (or there are no rows). Rows ascend by n.
std::optional<int64_t> CrossoverSize(std::span<const SizeTiming> rows);

using MembershipFn = std::function<bool(std::span<const int64_t>, int64_t)>;

// Checks every query: linear(sorted, q) == binary(sorted, q) == truth(sorted, q). Returns ""
// when all agree, else a message naming n, the first failing query and the three answers.
std::string VerifyAgreement(std::span<const int64_t> sorted, std::span<const int64_t> queries,
                            const MembershipFn& truth, const MembershipFn& linear,
                            const MembershipFn& binary);

// Verifies, then times, every size of config. Fails (error set) on the first disagreement.
BenchOutcome RunBench(const BenchConfig& config, Clock& clock);

// The JSON document: {"experiment", "version", "config", "sizes", "crossover_n", "speedup_at"}.
std::string ReportToJson(const Report& report);

}  // namespace search_bench
