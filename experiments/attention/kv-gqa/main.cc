// kv-gqa: decode attention at long context for one query-head count with several KV-head
// counts (MHA, GQA, MQA): time per step, bytes read, achieved bandwidth, and the speed-ups
// fewer KV heads buy. See README.md for the design and the JSON fields.
#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiments/attention/common/cli.h"
#include "experiments/attention/common/gpu.h"
#include "experiments/attention/common/report.h"
#include "experiments/attention/decode/check.h"
#include "experiments/attention/decode/decode.h"
#include "experiments/attention/decode/decode_gpu.h"
#include "experiments/attention/kv-gqa/gqa.h"

namespace attn::kvgqa {
namespace {

constexpr int32_t kMaxGroup = 32;  // the decode kernel's limit (two m16 tiles of query heads)
constexpr int64_t kCopyProbeBytes = int64_t{512} << 20;

struct Options {
  std::vector<int64_t> contexts = {4096, 8192, 16384, 32768};
  int64_t batch = 4;
  int64_t q_heads = 32;
  std::vector<int64_t> kv_heads = {32, 8, 1};
  int64_t head_dim = 128;
  std::string layout = "contiguous";
  int64_t block_size = 16;
  int64_t warmup = 5;
  int64_t reps = 20;
  int64_t tokens_per_split = 0;
  int64_t seed = 1;
  int64_t cpu_context = 1024;
  int64_t cpu_batch = 1;
  std::string device = "gpu";
  bool check = false;
};

nlohmann::json ConfigJson(const Options& o) {
  return {{"contexts", o.contexts},
          {"batch", o.batch},
          {"q_heads", o.q_heads},
          {"kv_heads", o.kv_heads},
          {"head_dim", o.head_dim},
          {"layout", o.layout},
          {"block_size", o.block_size},
          {"warmup", o.warmup},
          {"reps", o.reps},
          {"tokens_per_split", o.tokens_per_split},
          {"seed", o.seed},
          {"cpu_context", o.cpu_context},
          {"cpu_batch", o.cpu_batch},
          {"device", o.device},
          {"check", o.check}};
}

// Flag combinations the parser cannot see; "" or the usage error (exit status 2).
std::string ValidateOptions(const Options& o, std::vector<Variant>* variants) {
  if (o.head_dim != 64 && o.head_dim != 128) {
    return "--head-dim " + std::to_string(o.head_dim) + "; accepted: 64, 128";
  }
  if ((o.block_size & (o.block_size - 1)) != 0) {
    return "--block-size " + std::to_string(o.block_size) + "; accepted: a power of two";
  }
  return MakeVariants(static_cast<int32_t>(o.q_heads), o.kv_heads, kMaxGroup, variants);
}

nlohmann::json ResultJson(const Variant& v, int64_t context, int64_t batch, double ms,
                          int64_t bytes_read, int64_t kv_bytes, double peak_gbs, double copy_gbs) {
  const double gbs = static_cast<double>(bytes_read) / (ms * 1e-3) / 1e9;
  nlohmann::json j = {{"variant", v.name},        {"kv_heads", v.n_kv_heads}, {"group", v.group},
                      {"context", context},       {"batch", batch},           {"time_ms", ms},
                      {"bytes_read", bytes_read}, {"kv_bytes", kv_bytes},     {"gbs", gbs}};
  if (peak_gbs > 0) j["fraction_of_peak"] = gbs / peak_gbs;  // absent on the CPU
  if (copy_gbs > 0) j["fraction_of_copy"] = gbs / copy_gbs;
  return j;
}

// Fills the summary from the headline context's results and adds the per-context speed-ups.
void Summarise(const std::vector<Variant>& variants,
               const std::map<int64_t, std::map<std::string, double>>& times,
               const nlohmann::json& results, int64_t headline, nlohmann::json& summary) {
  summary.update(SpeedupSummary(times.at(headline)));
  summary["context"] = headline;
  for (const nlohmann::json& r : results) {
    if (r["context"] != headline) continue;
    const std::string name = r["variant"];
    summary["gbs_" + name] = r["gbs"];
    summary["kv_bytes_" + name] = r["kv_bytes"];
    if (r.contains("fraction_of_peak")) summary["fraction_of_peak_" + name] = r["fraction_of_peak"];
  }
  for (const Variant& v : variants) {
    if (v.name == "mha") continue;
    nlohmann::json by_context = nlohmann::json::object();
    for (const auto& [context, t] : times) {
      if (t.count("mha") && t.count(v.name))
        by_context[std::to_string(context)] = t.at("mha") / t.at(v.name);
    }
    if (!by_context.empty()) summary["speedup_mha_over_" + v.name + "_by_context"] = by_context;
  }
}

void RunGpu(const Options& o, const std::vector<Variant>& variants, const GpuInfo& gpu,
            nlohmann::json& results, nlohmann::json& summary) {
  const double copy_gbs = MeasureCopyBandwidthGbs(kCopyProbeBytes);
  std::map<int64_t, std::map<std::string, double>> times;
  double worst_spot = 0;
  for (int64_t context : o.contexts) {
    for (const Variant& v : variants) {
      decode::BenchSpec spec;
      spec.shape = {static_cast<int32_t>(o.batch), static_cast<int32_t>(o.q_heads), v.n_kv_heads,
                    static_cast<int32_t>(o.head_dim)};
      spec.context = static_cast<int32_t>(context);
      spec.time_contiguous = o.layout == "contiguous";
      spec.time_paged = o.layout == "paged";
      spec.block_size = static_cast<int32_t>(o.block_size);
      spec.seed = static_cast<uint64_t>(o.seed);
      spec.warmup = static_cast<int>(o.warmup);
      spec.reps = static_cast<int>(o.reps);
      spec.tokens_per_split = static_cast<int32_t>(o.tokens_per_split);
      const decode::BenchResult r = decode::BenchDecode(spec);
      const decode::LayoutBench& lb = spec.time_paged ? r.paged : r.contiguous;
      nlohmann::json j = ResultJson(v, context, o.batch, lb.median_ms, lb.bytes_read, r.kv_bytes,
                                    gpu.peak_bandwidth_gbs, copy_gbs);
      j["layout"] = o.layout;
      j["min_ms"] = lb.min_ms;
      j["max_ms"] = lb.max_ms;
      j["reps"] = lb.reps;
      j["num_splits"] = lb.plan.num_splits;
      j["tokens_per_split"] = lb.plan.tokens_per_split;
      j["thread_blocks"] = lb.thread_blocks;
      j["blocks_per_sm"] = lb.blocks_per_sm;
      j["cache_instances"] = lb.instances;
      j["steps_per_sample"] = lb.steps_per_sample;
      j["spot_rel_l2"] = lb.spot_rel_l2;
      results.push_back(j);
      times[context][v.name] = lb.median_ms;
      worst_spot = std::max(worst_spot, lb.spot_rel_l2);
    }
  }
  Summarise(variants, times, results, *std::max_element(o.contexts.begin(), o.contexts.end()),
            summary);
  summary["peak_bandwidth_gbs"] = gpu.peak_bandwidth_gbs;
  summary["copy_bandwidth_gbs"] = copy_gbs;
  summary["spot_check_rel_l2_max"] = worst_spot;
  summary["spot_check_bound"] = decode::kRelL2Bound;
}

// --device cpu: the CPU reference at a small context; the figures describe the CPU, whose
// double-precision arithmetic rather than its memory sets the pace.
void RunCpu(const Options& o, const std::vector<Variant>& variants, nlohmann::json& results,
            nlohmann::json& summary) {
  std::map<int64_t, std::map<std::string, double>> times;
  for (const Variant& v : variants) {
    const decode::DecodeShape shape{static_cast<int32_t>(o.cpu_batch),
                                    static_cast<int32_t>(o.q_heads), v.n_kv_heads,
                                    static_cast<int32_t>(o.head_dim)};
    const std::vector<int32_t> lens(static_cast<size_t>(o.cpu_batch),
                                    static_cast<int32_t>(o.cpu_context));
    const decode::DecodeInputs in =
        decode::RandomInputs(shape, lens, static_cast<uint64_t>(o.seed));
    const decode::ContiguousCache cache =
        decode::RandomContiguousCache(shape, lens, o.cpu_context, static_cast<uint64_t>(o.seed));
    const auto start = std::chrono::steady_clock::now();
    const std::vector<float> out = decode::DecodeReference(in, cache);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const StepBytes b = DecodeStepBytes(shape.batch, shape.n_q_heads, shape.n_kv_heads,
                                        shape.head_dim, o.cpu_context);
    nlohmann::json j = ResultJson(v, o.cpu_context, o.cpu_batch, ms, b.total(), b.kv, 0, 0);
    j["device"] = "cpu";
    results.push_back(j);
    times[o.cpu_context][v.name] = ms;
  }
  Summarise(variants, times, results, o.cpu_context, summary);
}

nlohmann::json Run(const Options& o) {
  std::vector<Variant> variants;
  if (std::string e = ValidateOptions(o, &variants); !e.empty()) throw std::runtime_error(e);
  nlohmann::json doc = {
      {"experiment", "kv-gqa"}, {"version", kAttentionVersion}, {"config", ConfigJson(o)}};
  const GpuInfo gpu = o.device == "gpu" ? RequireGpu() : GpuInfo{};
  doc["device"] = o.device == "gpu" ? GpuInfoJson(gpu) : CpuDeviceJson();
  if (o.check) {
    std::vector<int32_t> groups;
    for (const Variant& v : variants) groups.push_back(v.group);
    decode::RunCheckInto(groups, o.device == "gpu" ? decode::CheckBackend::kGpu : decode::CheckBackend::kCpu,
                         static_cast<uint64_t>(o.seed), doc);
    return doc;
  }
  nlohmann::json results = nlohmann::json::array();
  nlohmann::json summary = nlohmann::json::object();
  if (o.device == "gpu") {
    RunGpu(o, variants, gpu, results, summary);
  } else {
    RunCpu(o, variants, results, summary);
  }
  doc["results"] = std::move(results);
  doc["summary"] = std::move(summary);
  return doc;
}

}  // namespace
}  // namespace attn::kvgqa

int main(int argc, char** argv) {
  attn::kvgqa::Options o;
  attn::Flags flags(
      "kv-gqa",
      "Decode attention at long context with 32 query heads and 32 / 8 / 1 KV heads (MHA, GQA, "
      "MQA):\n"
      "time per step, bytes read, achieved bandwidth, and the speed-ups of fewer KV heads.");
  flags.AddIntList("contexts", &o.contexts, 1, 1 << 20,
                   "contexts to sweep; the largest is the headline");
  flags.AddInt("batch", &o.batch, 1, 65535, "sequences per step (the same for every variant)");
  flags.AddInt("q-heads", &o.q_heads, 1, 1024, "query heads");
  flags.AddIntList("kv-heads", &o.kv_heads, 1, 1024,
                   "KV-head counts to compare (each divides --q-heads)");
  flags.AddInt("head-dim", &o.head_dim, 64, 128, "head dimension (64 or 128)");
  flags.AddString("layout", &o.layout, {"contiguous", "paged"}, "KV cache layout");
  flags.AddInt("block-size", &o.block_size, 1, 1024, "paged: tokens per block (a power of two)");
  flags.AddInt("warmup", &o.warmup, 0, 1000, "untimed steps before timing");
  flags.AddInt("reps", &o.reps, 1, 100000,
               "timed samples of back-to-back steps (median per step reported)");
  flags.AddInt("tokens-per-split", &o.tokens_per_split, 0, 1 << 20,
               "force the split length (0: planned)");
  flags.AddInt("seed", &o.seed, 0, INT64_MAX, "seed of the inputs");
  flags.AddInt("cpu-context", &o.cpu_context, 1, 1 << 16,
               "--device cpu: context of the reference decode");
  flags.AddInt("cpu-batch", &o.cpu_batch, 1, 256, "--device cpu: batch of the reference decode");
  flags.AddString("device", &o.device, {"gpu", "cpu"}, "where the decode runs");
  flags.AddBool("check", &o.check,
                "check the kernels against the CPU reference at small sizes, then exit");
  std::vector<attn::kvgqa::Variant> variants;
  return attn::RunProgram(
      "kv-gqa", flags, argc, argv, [&] { return attn::kvgqa::Run(o); },
      [&] { return attn::kvgqa::ValidateOptions(o, &variants); });
}
