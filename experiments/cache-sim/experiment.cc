#include "experiment.h"

#include <time.h>

#include <charconv>
#include <chrono>
#include <limits>

namespace cachesim {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU time of the calling thread: unlike wall time it does not grow while the thread waits
// for a core, so replay timings stay comparable on a shared, busy machine.
double ThreadCpuSeconds() {
  timespec now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

// The seed as a JSON integer when it fits in 64 bits, otherwise as its decimal text.
nlohmann::ordered_json SeedJson(const std::string& text) {
  const char* first = text.data() + (!text.empty() && text.front() == '+' ? 1 : 0);
  const char* last = text.data() + text.size();
  int64_t as_signed = 0;
  if (auto [p, ec] = std::from_chars(first, last, as_signed); ec == std::errc() && p == last) {
    return as_signed;
  }
  uint64_t as_unsigned = 0;
  if (auto [p, ec] = std::from_chars(first, last, as_unsigned); ec == std::errc() && p == last) {
    return as_unsigned;
  }
  return text;
}

nlohmann::ordered_json WorkloadJson(const ExperimentOptions& options,
                                    const RequestStream& requests) {
  if (const auto* zipf = std::get_if<ZipfWorkload>(&options.workload)) {
    return {{"kind", "zipf"},
            {"zipf_s", zipf->params.s},
            {"catalog", zipf->params.catalog},
            {"requests", zipf->params.requests},
            {"seed", SeedJson(zipf->seed_text)}};
  }
  const auto& trace = std::get<TraceWorkload>(options.workload);
  return {{"kind", "trace"},
          {"path", trace.path},
          {"format", TraceFormatName(trace.format)},
          {"requests", requests.size()},
          {"distinct_objects", requests.distinct_objects()}};
}

}  // namespace

Result<RequestStream> LoadRequests(const ExperimentOptions& options) {
  if (const auto* zipf = std::get_if<ZipfWorkload>(&options.workload)) {
    return RequestStream::FromIds(GenerateZipfRequests(zipf->params, zipf->seed_key));
  }
  const auto& trace_options = std::get<TraceWorkload>(options.workload);
  auto trace = ReadTrace(trace_options.path, trace_options.format);
  if (!trace.ok()) return trace.error();
  return std::move(trace.value().requests);
}

Result<nlohmann::ordered_json> RunExperiment(const ExperimentOptions& options) {
  const auto start = Clock::now();
  auto loaded = LoadRequests(options);
  if (!loaded.ok()) return loaded.error();
  const RequestStream& requests = loaded.value();
  const double workload_seconds = SecondsSince(start);

  for (const CapacityRun& run : options.runs) {
    if (run.warmup >= requests.size()) {
      return Error("--capacity " + std::to_string(run.capacity) + "@" + std::to_string(run.warmup) +
                   ": the warm-up must be smaller than the " + std::to_string(requests.size()) +
                   " requests of the workload");
    }
  }

  nlohmann::ordered_json doc;
  doc["experiment"] = "cache-sim";
  doc["version"] = kOutputFormatVersion;
  doc["workload"] = WorkloadJson(options, requests);
  doc["policies"] = nlohmann::ordered_json::array();
  for (const Policy policy : options.policies) doc["policies"].push_back(PolicyName(policy));

  doc["runs"] = nlohmann::ordered_json::array();
  for (const CapacityRun& run : options.runs) {
    const uint64_t measured = requests.size() - run.warmup;
    nlohmann::ordered_json hit_rates = nlohmann::ordered_json::object();
    nlohmann::ordered_json hits = nlohmann::ordered_json::object();
    nlohmann::ordered_json seconds = nlohmann::ordered_json::object();
    nlohmann::ordered_json cpu_seconds = nlohmann::ordered_json::object();
    std::vector<double> rates;
    for (const Policy policy : options.policies) {
      const auto replay_start = Clock::now();
      const double cpu_start = ThreadCpuSeconds();
      const uint64_t h = CountHits(policy, requests, run.capacity, run.warmup);
      cpu_seconds[PolicyName(policy)] = ThreadCpuSeconds() - cpu_start;
      seconds[PolicyName(policy)] = SecondsSince(replay_start);
      const double rate = 100.0 * static_cast<double>(h) / static_cast<double>(measured);
      rates.push_back(rate);
      hit_rates[PolicyName(policy)] = rate;
      hits[PolicyName(policy)] = h;
    }
    nlohmann::ordered_json entry = {{"capacity", run.capacity},
                                    {"warmup", run.warmup},
                                    {"measured_requests", measured},
                                    {"hit_rate_pct", std::move(hit_rates)},
                                    {"hits", std::move(hits)}};
    if (rates.size() >= 2) entry["gap_pp"] = rates[0] - rates[1];
    entry["seconds"] = std::move(seconds);
    entry["cpu_seconds"] = std::move(cpu_seconds);
    doc["runs"].push_back(std::move(entry));
  }
  doc["workload_seconds"] = workload_seconds;
  doc["elapsed_seconds"] = SecondsSince(start);
  return doc;
}

}  // namespace cachesim
