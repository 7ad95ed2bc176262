// kv-paged: a paged KV cache's memory waste against contiguous reservation on a realistic
// request workload, and decode bandwidth through a block table against a contiguous cache.
// See README.md for the design, the workload's sources and the JSON fields.
#include <algorithm>
#include <chrono>
#include <cstdint>
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
#include "experiments/attention/kv-paged/paged_cache.h"
#include "experiments/attention/kv-paged/replay.h"
#include "experiments/attention/kv-paged/workload.h"

namespace attn::kvpaged {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;
// Bytes of the device-to-device copy whose bandwidth is the practical ceiling reported beside
// the datasheet peak.
constexpr int64_t kCopyProbeBytes = 512 * kMiB;

struct Options {
  // Workload and replay.
  std::string workload = "sharegpt";
  int64_t requests = 2000;
  int64_t seed = 1;
  double prompt_sigma = 1.0;
  double output_sigma = 1.0;
  int64_t max_len = 4096;
  int64_t prefix_groups = 4;
  int64_t prefix_len = 600;
  double prefix_fraction = 0.5;
  int64_t concurrency = 64;
  int64_t block_size = 16;
  // Decode.
  std::vector<int64_t> contexts = {1024, 4096, 16384, 32768};
  int64_t q_heads = 32;
  int64_t kv_heads = 8;
  int64_t head_dim = 128;
  int64_t min_kv_mib = 1024;
  int64_t max_batch = 256;
  int64_t warmup = 5;
  int64_t reps = 20;
  int64_t tokens_per_split = 0;
  int64_t cpu_context = 1024;
  int64_t cpu_batch = 2;
  std::string device = "gpu";
  bool check = false;
};

nlohmann::json ConfigJson(const Options& o) {
  return {{"workload", o.workload},
          {"requests", o.requests},
          {"seed", o.seed},
          {"prompt_sigma", o.prompt_sigma},
          {"output_sigma", o.output_sigma},
          {"max_len", o.max_len},
          {"prefix_groups", o.prefix_groups},
          {"prefix_len", o.prefix_len},
          {"prefix_fraction", o.prefix_fraction},
          {"concurrency", o.concurrency},
          {"block_size", o.block_size},
          {"contexts", o.contexts},
          {"q_heads", o.q_heads},
          {"kv_heads", o.kv_heads},
          {"head_dim", o.head_dim},
          {"min_kv_mib", o.min_kv_mib},
          {"max_batch", o.max_batch},
          {"warmup", o.warmup},
          {"reps", o.reps},
          {"tokens_per_split", o.tokens_per_split},
          {"cpu_context", o.cpu_context},
          {"cpu_batch", o.cpu_batch},
          {"device", o.device},
          {"check", o.check}};
}

decode::DecodeShape Shape(const Options& o, int32_t batch) {
  return {batch, static_cast<int32_t>(o.q_heads), static_cast<int32_t>(o.kv_heads),
          static_cast<int32_t>(o.head_dim)};
}

// Flag combinations the parser cannot see; "" or the usage error (exit status 2).
std::string ValidateOptions(const Options& o) {
  if (o.q_heads % o.kv_heads != 0) {
    return "--q-heads " + std::to_string(o.q_heads) + " is not a multiple of --kv-heads " +
           std::to_string(o.kv_heads);
  }
  if (o.device == "gpu" && o.q_heads / o.kv_heads > 32) {
    return "--q-heads / --kv-heads is " + std::to_string(o.q_heads / o.kv_heads) +
           "; accepted: at most 32 (the kernel's group limit)";
  }
  if (o.head_dim != 64 && o.head_dim != 128) {
    return "--head-dim " + std::to_string(o.head_dim) + "; accepted: 64, 128";
  }
  if ((o.block_size & (o.block_size - 1)) != 0) {
    return "--block-size " + std::to_string(o.block_size) + "; accepted: a power of two";
  }
  if (o.prefix_len + 2 > o.max_len) {
    return "--max-len " + std::to_string(o.max_len) + " leaves no room after --prefix-len " +
           std::to_string(o.prefix_len) + "; accepted: max-len >= prefix-len + 2";
  }
  return "";
}

// ---- memory waste -------------------------------------------------------------------------

struct WasteResult {
  Workload workload;
  ReplayStats unshared, shared;
};

WasteResult RunWaste(const Options& o) {
  WorkloadSpec spec;
  if (std::string e = ApplyPreset(o.workload, &spec); !e.empty()) throw std::runtime_error(e);
  spec.prompt.sigma = o.prompt_sigma;
  spec.output.sigma = o.output_sigma;
  spec.requests = o.requests;
  spec.max_len = static_cast<int32_t>(o.max_len);
  spec.prefix_groups = static_cast<int32_t>(o.prefix_groups);
  spec.prefix_len = static_cast<int32_t>(o.prefix_len);
  spec.prefix_fraction = o.prefix_fraction;
  spec.seed = static_cast<uint64_t>(o.seed);
  if (std::string e = ValidateWorkloadSpec(spec); !e.empty()) throw std::runtime_error(e);
  WasteResult r{GenerateWorkload(spec), {}, {}};
  ReplaySpec replay;
  replay.block_size = static_cast<int32_t>(o.block_size);
  replay.concurrency = static_cast<int32_t>(o.concurrency);
  replay.shuffle_seed = static_cast<uint64_t>(o.seed);
  r.unshared = Replay(r.workload, replay);
  replay.share_prefixes = true;
  r.shared = Replay(r.workload, replay);
  for (const ReplayStats* s : {&r.unshared, &r.shared}) {
    if (!s->invariant_error.empty())
      throw std::runtime_error("paged cache invariant broken: " + s->invariant_error);
  }
  return r;
}

nlohmann::json WorkloadJson(const Workload& w) {
  double prompt = 0, output = 0, final_len = 0;
  int64_t with_prefix = 0;
  for (const Request& r : w.requests) {
    prompt += r.prompt_len;
    output += r.output_len;
    final_len += w.FinalLen(r);
    with_prefix += r.prefix_group >= 0;
  }
  const double n = std::max<double>(1, static_cast<double>(w.requests.size()));
  auto dist = [](const LengthDistribution& d) {
    return nlohmann::json{{"mean", d.mean}, {"sigma", d.sigma}, {"mu", LogNormalMu(d)}};
  };
  return {{"part", "workload"},
          {"preset", w.spec.preset},
          {"requests", w.requests.size()},
          {"seed", w.spec.seed},
          {"prompt_lognormal", dist(w.spec.prompt)},
          {"output_lognormal", dist(w.spec.output)},
          {"mean_prompt_len", prompt / n},
          {"mean_output_len", output / n},
          {"mean_final_len", final_len / n},
          {"requests_with_prefix", with_prefix},
          {"prefix_len", w.spec.prefix_len},
          {"max_len", w.spec.max_len}};
}

nlohmann::json MemoryJson(const std::string& policy, double reserved, double held,
                          const ReplayStats& s) {
  return {{"part", "memory"},
          {"policy", policy},
          {"reserved_token_steps", reserved},
          {"held_token_steps", held},
          {"waste", ReplayStats::Waste(reserved, held)},
          {"steps", s.steps}};
}

void AddWaste(const WasteResult& w, nlohmann::json& results, nlohmann::json& summary) {
  const ReplayStats& u = w.unshared;
  const ReplayStats& s = w.shared;
  results.push_back(WorkloadJson(w.workload));
  results.push_back(MemoryJson("contiguous-max", u.reserved_contiguous_max, u.used, u));
  results.push_back(MemoryJson("contiguous-pow2", u.reserved_contiguous_pow2, u.used, u));
  results.push_back(MemoryJson("contiguous-exact", u.reserved_contiguous_exact, u.used, u));
  results.push_back(MemoryJson("paged", u.reserved_paged, u.stored_paged, u));
  results.push_back(MemoryJson("paged-shared-prefix", s.reserved_paged, s.stored_paged, s));
  summary["waste_contiguous"] = u.WasteContiguousMax();
  summary["waste_contiguous_pow2"] = u.WasteContiguousPow2();
  summary["waste_contiguous_exact"] = u.WasteContiguousExact();
  summary["waste_paged"] = u.WastePaged();
  summary["waste_paged_shared_prefix"] = s.WastePaged();
  summary["prefix_sharing_saving"] = 1.0 - s.reserved_paged / u.reserved_paged;
  summary["prefix_sharing_saving_peak"] =
      1.0 - static_cast<double>(s.peak_paged_blocks) / static_cast<double>(u.peak_paged_blocks);
  summary["cow_copies"] = s.cow_copies;
  summary["replay_steps"] = u.steps;
}

// ---- decode -------------------------------------------------------------------------------

struct PagedTables {
  std::vector<int32_t> tables;
  int32_t max_blocks_per_seq = 0;
  int32_t num_blocks = 0;
  double adjacent_fraction = 0;  // consecutive table entries with consecutive ids
};

// Block tables for `batch` sequences of `context` tokens, from the allocator with a shuffled
// free list: what the decode kernel reads through is what the cache manager hands out.
PagedTables TablesFromAllocator(int32_t batch, int32_t context, int32_t block_size, uint64_t seed) {
  PagedTables t;
  t.max_blocks_per_seq = (context + block_size - 1) / block_size;
  t.num_blocks = batch * t.max_blocks_per_seq;
  PagedKvCache cache(t.num_blocks, block_size, seed);
  std::vector<int32_t> tokens(static_cast<size_t>(context), 0);
  int64_t adjacent = 0, pairs = 0;
  for (int32_t b = 0; b < batch; ++b) {
    const SeqId seq = cache.Create();
    if (!cache.Append(seq, tokens))
      throw std::logic_error("kv-paged: pool sized for the batch ran out");
    const auto table = cache.BlockTable(seq);
    t.tables.insert(t.tables.end(), table.begin(), table.end());
    for (size_t j = 1; j < table.size(); ++j, ++pairs) adjacent += table[j] == table[j - 1] + 1;
  }
  t.adjacent_fraction = pairs > 0 ? static_cast<double>(adjacent) / static_cast<double>(pairs) : 0;
  return t;
}

int32_t BatchFor(const Options& o, int64_t context) {
  const int64_t per_seq = context * o.kv_heads * o.head_dim * 2 * 2;
  const int64_t want = (o.min_kv_mib * kMiB + per_seq - 1) / per_seq;
  return static_cast<int32_t>(std::clamp<int64_t>(want, 1, o.max_batch));
}

nlohmann::json LayoutJson(const char* layout, int64_t context, int32_t batch,
                          const decode::LayoutBench& lb, const GpuInfo& gpu, double copy_gbs) {
  const double gbs = static_cast<double>(lb.bytes_read) / (lb.median_ms * 1e-3) / 1e9;
  return {{"part", "decode"},
          {"layout", layout},
          {"context", context},
          {"batch", batch},
          {"time_ms", lb.median_ms},
          {"min_ms", lb.min_ms},
          {"max_ms", lb.max_ms},
          {"reps", lb.reps},
          {"bytes_read", lb.bytes_read},
          {"gbs", gbs},
          {"fraction_of_peak", gpu.peak_bandwidth_gbs > 0 ? gbs / gpu.peak_bandwidth_gbs : 0.0},
          {"fraction_of_copy", copy_gbs > 0 ? gbs / copy_gbs : 0.0},
          {"num_splits", lb.plan.num_splits},
          {"tokens_per_split", lb.plan.tokens_per_split},
          {"thread_blocks", lb.thread_blocks},
          {"blocks_per_sm", lb.blocks_per_sm},
          {"cache_instances", lb.instances},
          {"steps_per_sample", lb.steps_per_sample},
          {"spot_rel_l2", lb.spot_rel_l2},
          {"spot_max_abs", lb.spot_max_abs}};
}

void AddGpuDecode(const Options& o, const GpuInfo& gpu, nlohmann::json& results,
                  nlohmann::json& summary) {
  const double copy_gbs = MeasureCopyBandwidthGbs(kCopyProbeBytes);
  summary["peak_bandwidth_gbs"] = gpu.peak_bandwidth_gbs;
  summary["copy_bandwidth_gbs"] = copy_gbs;
  double worst_ratio = 0, worst_spot = 0;
  bool all_identical = true;
  const int64_t headline = *std::max_element(o.contexts.begin(), o.contexts.end());
  for (int64_t context : o.contexts) {
    const int32_t batch = BatchFor(o, context);
    const PagedTables t =
        TablesFromAllocator(batch, static_cast<int32_t>(context),
                            static_cast<int32_t>(o.block_size), static_cast<uint64_t>(o.seed));
    decode::BenchSpec spec;
    spec.shape = Shape(o, batch);
    spec.context = static_cast<int32_t>(context);
    spec.block_size = static_cast<int32_t>(o.block_size);
    spec.block_tables = t.tables;
    spec.max_blocks_per_seq = t.max_blocks_per_seq;
    spec.num_blocks = t.num_blocks;
    spec.seed = static_cast<uint64_t>(o.seed);
    spec.warmup = static_cast<int>(o.warmup);
    spec.reps = static_cast<int>(o.reps);
    spec.tokens_per_split = static_cast<int32_t>(o.tokens_per_split);
    const decode::BenchResult r = decode::BenchDecode(spec);
    nlohmann::json c = LayoutJson("contiguous", context, batch, r.contiguous, gpu, copy_gbs);
    nlohmann::json p = LayoutJson("paged", context, batch, r.paged, gpu, copy_gbs);
    const double ratio = r.paged.median_ms / r.contiguous.median_ms;
    p["paged_over_contiguous_time"] = ratio;
    p["outputs_identical_to_contiguous"] = r.outputs_identical;
    p["max_abs_difference_to_contiguous"] = r.max_abs_difference;
    p["adjacent_block_fraction"] = t.adjacent_fraction;
    p["num_blocks"] = t.num_blocks;
    results.push_back(c);
    results.push_back(p);
    worst_ratio = std::max(worst_ratio, ratio);
    worst_spot = std::max({worst_spot, r.contiguous.spot_rel_l2, r.paged.spot_rel_l2});
    all_identical = all_identical && r.outputs_identical;
    if (context == headline) {
      summary["decode_context"] = context;
      summary["decode_batch"] = batch;
      summary["decode_kv_bytes"] = r.kv_bytes;
      summary["paged_bandwidth_gbs"] = p["gbs"];
      summary["contiguous_bandwidth_gbs"] = c["gbs"];
      summary["paged_bandwidth_fraction_of_peak"] = p["fraction_of_peak"];
      summary["contiguous_bandwidth_fraction_of_peak"] = c["fraction_of_peak"];
      summary["paged_bandwidth_fraction_of_copy"] = p["fraction_of_copy"];
      summary["paged_over_contiguous_time"] = ratio;
      summary["paged_time_ms"] = r.paged.median_ms;
      summary["contiguous_time_ms"] = r.contiguous.median_ms;
    }
  }
  summary["paged_over_contiguous_time_max"] = worst_ratio;
  summary["outputs_identical"] = all_identical;
  summary["spot_check_rel_l2_max"] = worst_spot;
  summary["spot_check_bound"] = decode::kRelL2Bound;
}

// --device cpu: the CPU reference through the allocator's block table and through a
// contiguous cache on the same values; they must agree exactly.
void AddCpuDecode(const Options& o, nlohmann::json& results, nlohmann::json& summary) {
  const int32_t batch = static_cast<int32_t>(o.cpu_batch);
  const int32_t context = static_cast<int32_t>(o.cpu_context);
  const decode::DecodeShape shape = Shape(o, batch);
  const std::vector<int32_t> lens(static_cast<size_t>(batch), context);
  const decode::DecodeInputs in = decode::RandomInputs(shape, lens, static_cast<uint64_t>(o.seed));
  const decode::ContiguousCache contiguous =
      decode::RandomContiguousCache(shape, lens, context, static_cast<uint64_t>(o.seed));
  const PagedTables t = TablesFromAllocator(batch, context, static_cast<int32_t>(o.block_size),
                                            static_cast<uint64_t>(o.seed));
  decode::ScatteredTables st;
  st.num_blocks = t.num_blocks;
  st.max_blocks_per_seq = t.max_blocks_per_seq;
  st.block_tables = t.tables;
  const decode::PagedCache paged =
      decode::ToPaged(shape, lens, contiguous, static_cast<int32_t>(o.block_size), st);
  auto timed = [](auto&& f) {
    const auto start = std::chrono::steady_clock::now();
    auto out = f();
    return std::make_pair(std::move(out), std::chrono::duration<double, std::milli>(
                                              std::chrono::steady_clock::now() - start)
                                              .count());
  };
  const auto [c_out, c_ms] = timed([&] { return decode::DecodeReference(in, contiguous); });
  const auto [p_out, p_ms] = timed([&] { return decode::DecodeReference(in, paged); });
  const bool equal = c_out == p_out;
  for (const auto& [layout, ms] : {std::pair{"contiguous", c_ms}, std::pair{"paged", p_ms}}) {
    results.push_back({{"part", "decode"},
                       {"layout", layout},
                       {"device", "cpu"},
                       {"context", context},
                       {"batch", batch},
                       {"time_ms", ms},
                       {"bytes_read", decode::KvBytes(shape, lens)}});
  }
  summary["cpu_paged_equals_contiguous"] = equal;
  summary["cpu_paged_over_contiguous_time"] = p_ms / c_ms;
  if (!equal)
    throw std::runtime_error(
        "the CPU reference differs between the paged and the contiguous layout");
}

// ---- program ------------------------------------------------------------------------------

nlohmann::json Run(const Options& o) {
  nlohmann::json doc = {
      {"experiment", "kv-paged"}, {"version", kAttentionVersion}, {"config", ConfigJson(o)}};
  const GpuInfo gpu = o.device == "gpu" ? RequireGpu() : GpuInfo{};
  doc["device"] = o.device == "gpu" ? GpuInfoJson(gpu) : CpuDeviceJson();
  if (o.check) {
    const int32_t group = static_cast<int32_t>(o.q_heads / o.kv_heads);
    decode::RunCheckInto({&group, 1}, o.device == "gpu" ? decode::CheckBackend::kGpu : decode::CheckBackend::kCpu,
                         static_cast<uint64_t>(o.seed), doc);
    return doc;
  }

  nlohmann::json results = nlohmann::json::array();
  nlohmann::json summary = nlohmann::json::object();
  AddWaste(RunWaste(o), results, summary);
  if (o.device == "gpu") {
    AddGpuDecode(o, gpu, results, summary);
  } else {
    AddCpuDecode(o, results, summary);
  }
  doc["results"] = std::move(results);
  doc["summary"] = std::move(summary);
  return doc;
}

}  // namespace
}  // namespace attn::kvpaged

int main(int argc, char** argv) {
  using attn::kvpaged::Options;
  Options o;
  attn::Flags flags(
      "kv-paged",
      "Paged KV cache (vLLM PagedAttention): memory waste of paged vs contiguous reservation on a\n"
      "seeded request workload, and decode bandwidth through a block table vs a contiguous cache.");
  flags.AddString("workload", &o.workload, {"sharegpt", "lmsys"},
                  "length-distribution preset (means from the papers)");
  flags.AddInt("requests", &o.requests, 1, 10'000'000, "requests in the workload");
  flags.AddInt("seed", &o.seed, 0, INT64_MAX,
               "seed of the workload, the block shuffle and the decode inputs");
  flags.AddDouble("prompt-sigma", &o.prompt_sigma, 0.01, 5, "log-normal sigma of prompt lengths");
  flags.AddDouble("output-sigma", &o.output_sigma, 0.01, 5, "log-normal sigma of output lengths");
  flags.AddInt("max-len", &o.max_len, 2, 1 << 20,
               "context limit; contiguous-max reserves this per request");
  flags.AddInt("prefix-groups", &o.prefix_groups, 1, 1 << 16, "distinct shared system prompts");
  flags.AddInt("prefix-len", &o.prefix_len, 0, 1 << 20, "tokens per system prompt");
  flags.AddDouble("prefix-fraction", &o.prefix_fraction, 0, 1,
                  "share of requests that start with a system prompt");
  flags.AddInt("concurrency", &o.concurrency, 1, 1 << 16,
               "requests decoded together (continuous batching)");
  flags.AddInt("block-size", &o.block_size, 1, 1024, "tokens per KV block (a power of two)");
  flags.AddIntList("contexts", &o.contexts, 1, 1 << 20,
                   "decode contexts to time; the largest is the headline");
  flags.AddInt("q-heads", &o.q_heads, 1, 1024, "query heads");
  flags.AddInt("kv-heads", &o.kv_heads, 1, 1024, "KV heads (q-heads / kv-heads <= 32)");
  flags.AddInt("head-dim", &o.head_dim, 64, 128, "head dimension (64 or 128)");
  flags.AddInt("min-kv-mib", &o.min_kv_mib, 1, 1 << 20,
               "batch chosen so one step reads at least this much K+V");
  flags.AddInt("max-batch", &o.max_batch, 1, 65535, "largest batch");
  flags.AddInt("warmup", &o.warmup, 0, 1000, "untimed steps before timing");
  flags.AddInt("reps", &o.reps, 1, 100000,
               "timed samples of back-to-back steps (median per step reported)");
  flags.AddInt("tokens-per-split", &o.tokens_per_split, 0, 1 << 20,
               "force the split length (0: planned)");
  flags.AddInt("cpu-context", &o.cpu_context, 1, 1 << 16,
               "--device cpu: context of the reference decode");
  flags.AddInt("cpu-batch", &o.cpu_batch, 1, 256, "--device cpu: batch of the reference decode");
  flags.AddString("device", &o.device, {"gpu", "cpu"}, "where the decode runs");
  flags.AddBool("check", &o.check,
                "check the kernels against the CPU reference at small sizes, then exit");
  return attn::RunProgram(
      "kv-paged", flags, argc, argv, [&] { return attn::kvpaged::Run(o); },
      [&] { return attn::kvpaged::ValidateOptions(o); });
}
