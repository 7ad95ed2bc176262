// kv-quant: KIVI-style 2-bit KV cache (keys per channel, values per token, groups of G, an fp16
// window of the newest tokens) against an fp16 cache: bytes per token, attention-output error on
// inputs with outlier key channels (and the same with keys per token, the contrast KIVI argues
// against), and decode time of kernels that read each cache. See README.md.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "experiments/attention/common/cli.h"
#include "experiments/attention/common/gpu.h"
#include "experiments/attention/common/report.h"
#include "experiments/attention/common/stats.h"
#include "experiments/attention/kv-quant/experiment.h"
#include "experiments/attention/kv-quant/gpu_decode.h"
#include "experiments/attention/kv-quant/kivi_cache.h"
#include "experiments/attention/kv-quant/layout.h"
#include "experiments/attention/kv-quant/reference.h"

namespace attn::kvquant {
namespace {

using nlohmann::json;

constexpr int kHeadDim = 128;
// Heads of the --check batch (2 sequences x 3 heads), each with its own keys and values.
constexpr int64_t kCheckHeads = 6;
// Bytes the copy-bandwidth ceiling is measured with: far past the L2.
constexpr int64_t kCopyBytes = int64_t{1} << 30;
// Below this multiple of the L2 size a cache may partly stay in L2 between timed runs.
constexpr int64_t kL2Multiple = 4;

struct Options {
  std::string device = "gpu";
  bool check = false;
  int64_t batch = 8;
  int64_t heads = 32;
  int64_t context = 32768;
  std::vector<int64_t> groups = {32, 64, 128};
  int64_t residual = 128;
  int64_t outlier_channels = 4;
  std::string outlier_kind = "offset";
  double outlier_min = 10;
  double outlier_max = 20;
  int64_t distinct = 4;
  int64_t eval = 16;
  int64_t seed = 1;
  int64_t warmup = 3;
  int64_t reps = 20;
};

OutlierSpec Outliers(const Options& o) {
  return {static_cast<int>(o.outlier_channels), o.outlier_min, o.outlier_max,
          o.outlier_kind == "scale" ? OutlierKind::kScale : OutlierKind::kOffset};
}

json ErrorJson(const ErrorStats& e) {
  json j = {{"rel_l2", e.rel_l2}, {"max_abs", e.max_abs}};
  if (e.non_finite > 0) j["non_finite"] = e.non_finite;
  return j;
}

bool WithinCheckBound(const ErrorStats& e) {
  return e.non_finite == 0 && e.max_abs <= kCheckMaxAbs && e.rel_l2 <= kCheckRelL2;
}

std::string Describe(const ErrorStats& e) {
  std::ostringstream os;
  os << "max_abs " << e.max_abs << ", rel_l2 " << e.rel_l2;
  if (e.non_finite > 0) os << ", " << e.non_finite << " non-finite values (unwritten output?)";
  return os.str();
}

std::vector<KiviConfig> GroupConfigs(const Options& o) {
  std::vector<KiviConfig> out;
  for (int64_t g : o.groups) {
    KiviConfig c;
    c.head_dim = kHeadDim;
    c.group_size = static_cast<int>(g);
    c.residual = static_cast<int>(o.residual);
    if (const std::string e = ValidateConfig(c); !e.empty())
      throw std::runtime_error("--groups: " + e);
#ifdef AHUB_HAVE_CUDA
    if (o.device == "gpu") {
      if (const std::string e = KiviGpuSupports(kHeadDim, c.group_size); !e.empty()) {
        throw std::runtime_error("--groups: " + e + " (--device cpu accepts any divisor of 128)");
      }
    }
#endif
    out.push_back(c);
  }
  return out;
}

GpuInfo RequireDevice(const Options& o) {
  return o.device == "gpu" ? RequireGpu() : GpuInfo{};
}

json DeviceJson(const Options& o, const GpuInfo& gpu) {
  return o.device == "cpu" ? CpuDeviceJson() : GpuInfoJson(gpu);
}

#ifdef AHUB_HAVE_CUDA
// The eval heads' rows of a [heads][head_dim] output.
std::vector<std::vector<float>> EvalRows(const std::vector<float>& output, const Workload& w) {
  std::vector<std::vector<float>> rows;
  for (int64_t h : w.eval_heads) {
    const auto begin = output.begin() + h * w.spec.head_dim;
    rows.emplace_back(begin, begin + w.spec.head_dim);
  }
  return rows;
}

Fp16BatchView Fp16View(const Workload& w) {
  Fp16BatchView v;
  v.head_dim = w.spec.head_dim;
  v.tokens = w.spec.tokens;
  for (const HeadInputs& in : w.distinct) v.caches.push_back({in.kv.k.data(), in.kv.v.data()});
  return v;
}

KiviBatchView KiviView(const Evaluation& e) {
  KiviBatchView v;
  v.head_dim = e.config.head_dim;
  v.group_size = e.config.group_size;
  v.quantized = e.quantized_tokens;
  v.residual = e.residual_tokens;
  for (const KiviCache& c : e.caches) {
    v.caches.push_back({c.key_codes().data(), c.key_params().data(), c.value_codes().data(),
                        c.value_params().data(), c.key_residual().data(),
                        c.value_residual().data()});
  }
  return v;
}

// A check_before_timing that compares the eval heads with the CPU reference of the same cache.
std::function<void(const std::vector<float>&)> CheckAgainst(
    const Workload& w, const std::vector<std::vector<float>>& reference, const std::string& what,
    ErrorStats* stats) {
  return [&w, &reference, what, stats](const std::vector<float>& output) {
    *stats = CompareHeads(EvalRows(output, w), reference);
    if (!WithinCheckBound(*stats)) {
      throw std::runtime_error(
          what + " kernel disagrees with the CPU reference on the same cache: " + Describe(*stats) +
          " (bound: max_abs " + std::to_string(kCheckMaxAbs) + ", rel_l2 " +
          std::to_string(kCheckRelL2) + "); nothing was timed");
    }
  };
}

json TimingJson(const GpuDecodeResult& r, const GpuInfo& gpu, double copy_gbs) {
  const double gbs = static_cast<double>(r.bytes_read) / (r.median_ms * 1e-3) / 1e9;
  json j = {{"decode_ms",
             {{"median", r.median_ms}, {"min", r.min_ms}, {"max", r.max_ms}, {"reps", r.reps}}},
            {"bytes_read", r.bytes_read},
            {"gbs", gbs},
            {"splits_per_head", r.splits}};
  if (gpu.peak_bandwidth_gbs > 0) j["fraction_of_peak_bandwidth"] = gbs / gpu.peak_bandwidth_gbs;
  if (copy_gbs > 0) j["fraction_of_copy_bandwidth"] = gbs / copy_gbs;
  return j;
}
#endif

json RunBenchmark(const Options& o) {
  const GpuInfo gpu = RequireDevice(o);
  const std::vector<KiviConfig> configs = GroupConfigs(o);
  [[maybe_unused]] const bool on_gpu = o.device == "gpu";

  WorkloadSpec spec;
  spec.batch_heads = o.batch * o.heads;
  spec.tokens = o.context;
  spec.head_dim = kHeadDim;
  spec.distinct = o.distinct;
  spec.eval = o.eval;
  spec.outliers = Outliers(o);
  spec.seed = static_cast<uint64_t>(o.seed);
  const Workload w = MakeWorkload(spec);
  const std::vector<std::vector<float>> fp16_reference = ReferenceFp16(w);

  json outliers = json::array();
  for (const HeadInputs& in : w.distinct) {
    json head = json::array();
    for (const KeyOutlier& k : in.outliers)
      head.push_back({{"channel", k.channel}, {"factor", k.factor}});
    outliers.push_back(head);
  }
  json doc = {
      {"experiment", "kv-quant"},
      {"version", std::string(kAttentionVersion)},
      {"device", DeviceJson(o, gpu)},
      {"config",
       {{"mode", "benchmark"},
        {"batch", o.batch},
        {"heads", o.heads},
        {"context", o.context},
        {"head_dim", kHeadDim},
        {"bits", kBits},
        {"groups", o.groups},
        {"residual", o.residual},
        {"key_axis", "per-channel (KIVI); per-token keys measured on the CPU as the contrast"},
        {"value_axis", "per-token"},
        {"inputs",
         {{"keys", o.outlier_kind == "scale"
                       ? "N(0,1); outlier channels f N(0,1), |f| ~ U[outlier_min, outlier_max]"
                       : "N(0,1); outlier channels f + N(0,1), |f| ~ U[outlier_min, outlier_max]"},
          {"values", "N(0,1)"},
          {"queries", "N(0,1)"},
          {"outlier_kind", o.outlier_kind},
          {"outlier_channels", o.outlier_channels},
          {"outlier_min", o.outlier_min},
          {"outlier_max", o.outlier_max},
          {"key_outliers_per_distinct_head", outliers}}},
        {"distinct_kv_heads", w.distinct.size()},
        {"eval_heads", w.eval_heads},
        {"seed", o.seed},
        {"split_tokens", {{"quantized", kQuantSplitTokens}, {"fp16", kFp16SplitTokens}}},
        {"warmup", o.warmup},
        {"reps", o.reps}}}};

  const double fp16_per_token = Fp16BytesPerToken(kHeadDim);
  json results = json::array();
  json summary;
  double copy_gbs = 0;
  [[maybe_unused]] GpuDecodeResult fp16_run;

  json fp16_entry = {{"cache", "fp16"},
                     {"bytes_per_token", fp16_per_token},
                     {"cache_bytes_per_head", static_cast<int64_t>(fp16_per_token) * o.context}};
#ifdef AHUB_HAVE_CUDA
  GpuRunOptions run_options;
  run_options.time = true;
  run_options.warmup = static_cast<int>(o.warmup);
  run_options.reps = static_cast<int>(o.reps);
  if (on_gpu) {
    copy_gbs = MeasureCopyBandwidthGbs(kCopyBytes);
    ErrorStats vs_cpu;
    GpuRunOptions options = run_options;
    options.check_before_timing = CheckAgainst(w, fp16_reference, "fp16", &vs_cpu);
    fp16_run = RunFp16DecodeGpu(Fp16View(w), spec.batch_heads, w.queries, options);
    fp16_entry["gpu_vs_cpu_reference"] = ErrorJson(vs_cpu);
    fp16_entry["timing"] = TimingJson(fp16_run, gpu, copy_gbs);
    if (fp16_run.device_bytes < kL2Multiple * gpu.l2_bytes) {
      fp16_entry["note"] = "the cache is under 4x the L2 size: part of it may be served from L2";
    }
  }
#endif
  results.push_back(fp16_entry);

  for (const KiviConfig& cfg : configs) {
    const Evaluation e = Evaluate(w, cfg, fp16_reference);
    const double asymptotic = KiviBytesPerToken(kHeadDim, cfg.group_size);
    const double at_context =
        static_cast<double>(e.payload_bytes_per_head) / static_cast<double>(o.context);
    json entry = {{"cache", "kivi-2bit"},
                  {"group_size", cfg.group_size},
                  {"residual", cfg.residual},
                  {"quantized_tokens", e.quantized_tokens},
                  {"residual_tokens", e.residual_tokens},
                  {"bytes_per_token", {{"at_context", at_context}, {"asymptotic", asymptotic}}},
                  {"cache_bytes_per_head", e.payload_bytes_per_head},
                  {"bytes_ratio_vs_fp16", at_context / fp16_per_token},
                  {"bytes_ratio_vs_fp16_asymptotic", asymptotic / fp16_per_token},
                  {"output_error_vs_fp16", ErrorJson(e.kivi_vs_fp16)},
                  {"per_token_keys_output_error_vs_fp16", ErrorJson(e.per_token_keys_vs_fp16)},
                  {"reconstruction_rel_l2",
                   {{"keys_per_channel", e.key_rel_l2_per_channel},
                    {"keys_per_token", e.key_rel_l2_per_token},
                    {"values_per_token", e.value_rel_l2}}}};
    json headline = {{"group_size", cfg.group_size},
                     {"context", o.context},
                     {"head_dim", kHeadDim},
                     {"bytes_per_token_fp16", fp16_per_token},
                     {"bytes_per_token_kivi", at_context},
                     {"bytes_ratio_vs_fp16", at_context / fp16_per_token},
                     {"bytes_ratio_vs_fp16_asymptotic", asymptotic / fp16_per_token},
                     {"output_rel_error", e.kivi_vs_fp16.rel_l2},
                     {"output_max_abs_error", e.kivi_vs_fp16.max_abs},
                     {"per_token_key_rel_error", e.per_token_keys_vs_fp16.rel_l2},
                     {"per_token_key_max_abs_error", e.per_token_keys_vs_fp16.max_abs}};
    if (e.kivi_vs_fp16.rel_l2 > 0) {  // 0 when the window holds every token
      headline["per_token_over_per_channel_error"] =
          e.per_token_keys_vs_fp16.rel_l2 / e.kivi_vs_fp16.rel_l2;
    }
#ifdef AHUB_HAVE_CUDA
    if (on_gpu) {
      ErrorStats vs_cpu;
      GpuRunOptions options = run_options;
      options.check_before_timing =
          CheckAgainst(w, e.reference_kivi, "KIVI G=" + std::to_string(cfg.group_size), &vs_cpu);
      const GpuDecodeResult r = RunKiviDecodeGpu(KiviView(e), spec.batch_heads, w.queries, options);
      const double speedup = fp16_run.median_ms / r.median_ms;
      entry["gpu_vs_cpu_reference"] = ErrorJson(vs_cpu);
      entry["gpu_output_error_vs_fp16_all_heads"] = ErrorJson(Compare(r.output, fp16_run.output));
      entry["timing"] = TimingJson(r, gpu, copy_gbs);
      entry["decode_speedup_vs_fp16"] = speedup;
      const double gbs = entry["timing"]["gbs"].get<double>();
      headline["decode_ms_fp16"] = fp16_run.median_ms;
      headline["decode_ms_kivi"] = r.median_ms;
      headline["decode_speedup_vs_fp16"] = speedup;
      headline["kivi_gbs"] = gbs;
      headline["fp16_gbs"] =
          static_cast<double>(fp16_run.bytes_read) / (fp16_run.median_ms * 1e-3) / 1e9;
      if (gpu.peak_bandwidth_gbs > 0)
        headline["kivi_fraction_of_peak_bandwidth"] = gbs / gpu.peak_bandwidth_gbs;
      headline["gpu_vs_cpu_max_abs"] = vs_cpu.max_abs;
      if (r.device_bytes < kL2Multiple * gpu.l2_bytes) {
        entry["note"] = "the cache is under 4x the L2 size: part of it may be served from L2";
      }
    }
#endif
    results.push_back(entry);
    if (summary.is_null()) summary = headline;  // the first --groups entry is the headline
  }
  if (copy_gbs > 0) summary["copy_bandwidth_gbs"] = copy_gbs;
  doc["results"] = results;
  doc["summary"] = summary;
  return doc;
}

json RunCheck(const Options& o) {
  const GpuInfo gpu = RequireDevice(o);
  const bool on_gpu = o.device == "gpu";
  json results = json::array();
  ErrorStats worst;
  std::string failure;
  for (const CheckCase& c : CheckCases()) {
    WorkloadSpec spec;
    spec.batch_heads = kCheckHeads;
    spec.tokens = c.tokens;
    spec.head_dim = kHeadDim;
    spec.distinct = kCheckHeads;
    spec.eval = kCheckHeads;
    spec.outliers = Outliers(o);
    spec.seed = static_cast<uint64_t>(o.seed);
    const Workload w = MakeWorkload(spec);
    KiviConfig cfg;
    cfg.head_dim = kHeadDim;
    cfg.group_size = c.group_size;
    cfg.residual = c.residual;
    const std::vector<std::vector<float>> fp16_reference = ReferenceFp16(w);
    const Evaluation e = Evaluate(w, cfg, fp16_reference);

    // The CPU model of the kernels' arithmetic, always; the kernels themselves on a GPU.
    std::vector<std::vector<float>> model_fp16, model_kivi;
    for (int64_t h : w.eval_heads) {
      model_fp16.push_back(ModelDecodeFp16(w.Query(h), w.Kv(h)));
      model_kivi.push_back(
          ModelDecodeKivi(w.Query(h), e.caches[static_cast<size_t>(h) % e.caches.size()]));
    }
    std::vector<std::pair<std::string, ErrorStats>> checks = {
        {"cpu_model_fp16", CompareHeads(model_fp16, fp16_reference)},
        {"cpu_model_kivi", CompareHeads(model_kivi, e.reference_kivi)}};
#ifdef AHUB_HAVE_CUDA
    if (on_gpu) {
      const GpuDecodeResult f = RunFp16DecodeGpu(Fp16View(w), spec.batch_heads, w.queries, {});
      const GpuDecodeResult k = RunKiviDecodeGpu(KiviView(e), spec.batch_heads, w.queries, {});
      checks.emplace_back("gpu_fp16", CompareHeads(EvalRows(f.output, w), fp16_reference));
      checks.emplace_back("gpu_kivi", CompareHeads(EvalRows(k.output, w), e.reference_kivi));
    }
#endif
    const KiviSplitPlan plan = PlanKiviSplits(e.quantized_tokens, e.residual_tokens);
    json entry = {
        {"group_size", c.group_size},
        {"residual", c.residual},
        {"tokens", c.tokens},
        {"quantized_tokens", e.quantized_tokens},
        {"residual_tokens", e.residual_tokens},
        {"kivi_splits", {{"quantized", plan.quant_splits}, {"fp16_window", plan.residual_splits}}},
        {"fp16_splits", Fp16Splits(c.tokens)},
        {"kivi_vs_fp16_reference", ErrorJson(e.kivi_vs_fp16)}};
    bool pass = true;
    for (const auto& [name, stats] : checks) {
      entry[name] = ErrorJson(stats);
      worst.max_abs = std::max(worst.max_abs, stats.max_abs);
      worst.rel_l2 = std::max(worst.rel_l2, stats.rel_l2);
      worst.non_finite += stats.non_finite;
      if (!WithinCheckBound(stats)) {
        pass = false;
        if (failure.empty()) {
          failure = name + " at G=" + std::to_string(c.group_size) + ", residual " +
                    std::to_string(c.residual) + ", " + std::to_string(c.tokens) +
                    " tokens: " + Describe(stats);
        }
      }
    }
    entry["pass"] = pass;
    results.push_back(entry);
  }
  if (!failure.empty()) {
    throw std::runtime_error("--check failed: " + failure + " (bound: max_abs " +
                             std::to_string(kCheckMaxAbs) + ", rel_l2 " +
                             std::to_string(kCheckRelL2) + ")");
  }
  return {{"experiment", "kv-quant"},
          {"version", std::string(kAttentionVersion)},
          {"device", DeviceJson(o, gpu)},
          {"config",
           {{"mode", "check"},
            {"head_dim", kHeadDim},
            {"heads_per_case", kCheckHeads},
            {"seed", o.seed},
            {"checked",
             on_gpu ? "GPU kernels and their CPU model vs the CPU reference on the same caches"
                    : "the CPU model of the kernels vs the CPU reference (no GPU run)"},
            {"bound", {{"max_abs", kCheckMaxAbs}, {"rel_l2", kCheckRelL2}}}}},
          {"results", results},
          {"summary",
           {{"check_passed", true},
            {"cases", results.size()},
            {"gpu_checked", on_gpu},
            {"worst_max_abs", worst.max_abs},
            {"worst_rel_l2", worst.rel_l2}}}};
}

}  // namespace
}  // namespace attn::kvquant

int main(int argc, char** argv) {
  using attn::kvquant::Options;
  Options o;
  attn::Flags flags(
      "kv-quant",
      "KIVI-style 2-bit KV cache vs fp16: bytes per token, attention-output error on inputs with\n"
      "outlier key channels (keys per channel vs per token), and decode time of kernels that read\n"
      "the packed cache (head dim 128). --check runs the kernels at small sizes against the CPU\n"
      "reference on the same quantized data.");
  flags.AddString("device", &o.device, {"gpu", "cpu"},
                  "where to run; cpu: the CPU reference, no timing");
  flags.AddBool("check", &o.check,
                "check the kernels (or, with --device cpu, their CPU model) at small sizes");
  flags.AddInt("batch", &o.batch, 1, 256, "sequences in the decode batch");
  flags.AddInt("heads", &o.heads, 1, 128, "KV heads per sequence (one query head each)");
  flags.AddInt("context", &o.context, 1, int64_t{1} << 20, "tokens in every sequence's cache");
  flags.AddIntList(
      "groups", &o.groups, 1, 128,
      "group sizes G; the first is the summary's (GPU: 32, 64, 128; CPU: divisors of 128)");
  flags.AddInt("residual", &o.residual, 0, 1 << 16, "R: newest tokens kept in fp16");
  flags.AddInt("outlier-channels", &o.outlier_channels, 0, 128,
               "outlier key channels per head (see --outlier-kind)");
  flags.AddString("outlier-kind", &o.outlier_kind, {"offset", "scale"},
                  "outlier key channels: offset = +-f + N(0,1) at every token, scale = f x N(0,1)");
  flags.AddDouble("outlier-min", &o.outlier_min, 1, 1000, "smallest outlier channel factor");
  flags.AddDouble("outlier-max", &o.outlier_max, 1, 1000, "largest outlier channel factor");
  flags.AddInt("distinct-heads", &o.distinct, 1, 1 << 16,
               "distinct K/V heads drawn; head h reads h % this");
  flags.AddInt("eval-heads", &o.eval, 1, 1 << 16,
               "heads whose outputs the CPU reference checks and measures");
  flags.AddInt("seed", &o.seed, 0, int64_t{1} << 62, "seed of the inputs");
  flags.AddInt("warmup", &o.warmup, 0, 1000, "untimed runs before timing");
  flags.AddInt("reps", &o.reps, 1, 10000, "timed runs; the median is reported");
  // Combinations of flags are usage errors (exit 2), found before anything runs.
  auto validate = [&]() -> std::string {
    if (o.outlier_min > o.outlier_max) return "--outlier-min must not exceed --outlier-max";
    try {
      attn::kvquant::GroupConfigs(o);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "";
  };
  return attn::RunProgram(
      "kv-quant", flags, argc, argv,
      [&] { return o.check ? attn::kvquant::RunCheck(o) : attn::kvquant::RunBenchmark(o); }, validate);
}
