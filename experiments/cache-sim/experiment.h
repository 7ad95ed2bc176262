// The cache-sim experiment: build one request stream (a Zipf workload or a trace), replay it
// through every (capacity, policy) pair, and describe the outcome as one JSON document.
//
// Output document (format version "1"):
//   {"experiment": "cache-sim", "version": "1",
//    "workload": {"kind": "zipf", "zipf_s", "catalog", "requests", "seed"}
//              | {"kind": "trace", "path", "format", "requests", "distinct_objects"},
//    "policies": [names in the order given],
//    "runs": [{"capacity", "warmup", "measured_requests",
//              "hit_rate_pct": {policy: %}, "hits": {policy: n},
//              "gap_pp": hit_rate_pct[policies[0]] - hit_rate_pct[policies[1]]  (>= 2 policies),
//              "seconds": {policy: replay wall time},
//              "cpu_seconds": {policy: replay CPU time of the simulating thread}}],
//    "workload_seconds": time to generate or load the stream,
//    "elapsed_seconds": total}
// Numbers are unrounded; hit_rate_pct = 100 * hits / measured_requests.
//
// Thread-safety: RunExperiment shares no state between calls.
#ifndef AHUB_EXPERIMENTS_CACHE_SIM_EXPERIMENT_H_
#define AHUB_EXPERIMENTS_CACHE_SIM_EXPERIMENT_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "policy.h"
#include "result.h"
#include "trace_reader.h"
#include "zipf_stream.h"

namespace cachesim {

inline constexpr std::string_view kOutputFormatVersion = "1";

struct ZipfWorkload {
  ZipfParams params;
  std::string seed_text = "42";  // as given, reported back
  std::vector<uint32_t> seed_key = {42};
};

struct TraceWorkload {
  std::string path;
  TraceFormat format = TraceFormat::kText;
};

struct CapacityRun {
  uint64_t capacity = 100;
  uint64_t warmup = 0;  // requests replayed before hits are counted
};

struct ExperimentOptions {
  std::variant<ZipfWorkload, TraceWorkload> workload;
  std::vector<CapacityRun> runs = {CapacityRun{}};
  std::vector<Policy> policies = {Policy::kLfu, Policy::kLru};
};

// The stream the workload describes. Errors name the trace file and line or record.
Result<RequestStream> LoadRequests(const ExperimentOptions& options);

// Fails when the trace cannot be read or a warm-up is not smaller than the stream.
Result<nlohmann::ordered_json> RunExperiment(const ExperimentOptions& options);

}  // namespace cachesim

#endif  // AHUB_EXPERIMENTS_CACHE_SIM_EXPERIMENT_H_
