// The GPU runs of stream-decode: the correctness check against the CPU reference and the
// benchmark. Built only with CUDA (it drives GpuStreamModel); see stream_gpu.h.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "experiments/attention/common/half.h"
#include "experiments/attention/stream-decode/gpu_model.h"
#include "experiments/attention/stream-decode/reference.h"
#include "experiments/attention/stream-decode/runs.h"
#include "experiments/attention/stream-decode/stream_gpu.h"

namespace attn::stream {
namespace {

constexpr uint16_t kHalfNaN = 0x7e00;
// The check's cases: the window wraps (eviction) in both decode cases, and the prefill's rows
// are not a multiple of the 64-row tile, the second spanning two tiles.
struct DecodeCase {
  int window, prefix, steps;
};
constexpr DecodeCase kDecodeCases[] = {{8, 13, 6}, {70, 75, 4}};
struct RecomputeCase {
  int window, steps;
};
constexpr RecomputeCase kRecomputeCases[] = {{24, 3}, {70, 3}};

// The reference cache as the GPU stores it: fp16 bits, [layer][slot][d_model]; empty slots NaN.
std::vector<uint16_t> CacheBits(const KvCache& kv, const std::vector<int>& positions, bool keys) {
  std::vector<uint16_t> bits;
  bits.reserve(kv.k.size() * kv.k[0].size());
  for (size_t l = 0; l < kv.k.size(); ++l) {
    for (int slot = 0; slot < kv.slots; ++slot) {
      const float* row = keys ? kv.K(static_cast<int>(l), slot) : kv.V(static_cast<int>(l), slot);
      for (int c = 0; c < kv.d_model; ++c) {
        bits.push_back(positions[static_cast<size_t>(slot)] >= 0 ? FloatToHalfBits(row[c])
                                                                 : kHalfNaN);
      }
    }
  }
  return bits;
}

struct CaseOutcome {
  nlohmann::json json;
  double worst_rel_l2 = 0;
  double worst_fp16_own = 0;
  bool consistent = true;  // the GPU's argmax and stream index agree with its own logits
};

nlohmann::json StepJson(int64_t index, const ErrorStats& e, const ErrorStats& own, bool argmax_ok) {
  return {{"token_index", index},
          {"error", ErrorJson(e)},
          {"fp32_reference_rel_l2", own.rel_l2},
          {"gpu_argmax_consistent", argmax_ok}};
}

CaseOutcome CheckDecode(GpuStreamModel& gpu, const ModelWeights& w, int sinks, const DecodeCase& c,
                        uint64_t seed) {
  gpu.Configure(sinks, c.window);
  const ReferenceModel ref(w, sinks + c.window, true), ref32(w, sinks + c.window, false);
  StreamingDecoder cpu(ref, sinks, c.window), cpu32(ref32, sinks, c.window);
  const std::vector<int32_t> prefix =
      SeededTokens(seed + static_cast<uint64_t>(c.window), c.prefix + 1, w.config.vocab);
  for (int i = 0; i < c.prefix; ++i) {
    cpu.Step(prefix[static_cast<size_t>(i)]);
    cpu32.Step(prefix[static_cast<size_t>(i)]);
  }
  const std::vector<int> positions = cpu.cache().Positions();
  gpu.SetDecodeState(CacheBits(cpu.kv(), positions, true), CacheBits(cpu.kv(), positions, false),
                     c.prefix, prefix.back());
  CaseOutcome out;
  nlohmann::json steps = nlohmann::json::array();
  int32_t token = prefix.back();
  for (int s = 0; s < c.steps; ++s) {
    const int64_t index = c.prefix + s;
    gpu.PoisonScratch();
    gpu.Step(Method::kSinkWindow);
    const std::vector<float> got = gpu.Logits();
    const std::vector<float> want = cpu.Step(token), want32 = cpu32.Step(token);
    const ErrorStats e = CompareLogits(got, want), own = CompareLogits(want32, want);
    const int32_t next = gpu.TokenAt(index + 1);
    const bool argmax_ok = next == Argmax(got);
    out.worst_rel_l2 = std::max(out.worst_rel_l2, e.rel_l2);
    out.worst_fp16_own = std::max(out.worst_fp16_own, own.rel_l2);
    out.consistent = out.consistent && argmax_ok;
    steps.push_back(StepJson(index, e, own, argmax_ok));
    token = next;  // both sides continue with the GPU's greedy token
  }
  const int64_t final_index = gpu.CurrentIndex();
  out.consistent = out.consistent && final_index == c.prefix + c.steps;
  out.json = {{"method", "sink_window"},
              {"sinks", sinks},
              {"window", c.window},
              {"tokens_before", c.prefix},
              {"evicting", c.prefix + 1 > sinks + c.window},
              {"steps", steps},
              {"final_stream_index", final_index},
              {"max_rel_l2", out.worst_rel_l2}};
  return out;
}

CaseOutcome CheckRecompute(GpuStreamModel& gpu, const ModelWeights& w, int sinks,
                           const RecomputeCase& c, uint64_t seed) {
  gpu.Configure(sinks, c.window);
  const ReferenceModel ref(w, c.window, true), ref32(w, c.window, false);
  std::vector<int32_t> window =
      SeededTokens(seed + 1000 + static_cast<uint64_t>(c.window), c.window, w.config.vocab);
  // Start past the first window so the ring has wrapped: index = window - 1 + an offset.
  const int64_t start = c.window + 4;
  gpu.SetWindow(window, start);
  CaseOutcome out;
  nlohmann::json steps = nlohmann::json::array();
  for (int s = 0; s < c.steps; ++s) {
    gpu.PoisonScratch();
    gpu.Step(Method::kRecompute);
    const std::vector<float> got = gpu.Logits();
    const std::vector<float> want = ref.Prefill(window), want32 = ref32.Prefill(window);
    const ErrorStats e = CompareLogits(got, want), own = CompareLogits(want32, want);
    const int32_t next = gpu.TokenAt(start + s + 1);
    const bool argmax_ok = next == Argmax(got);
    out.worst_rel_l2 = std::max(out.worst_rel_l2, e.rel_l2);
    out.worst_fp16_own = std::max(out.worst_fp16_own, own.rel_l2);
    out.consistent = out.consistent && argmax_ok;
    steps.push_back(StepJson(start + s, e, own, argmax_ok));
    window.erase(window.begin());
    window.push_back(next);
  }
  out.consistent = out.consistent && gpu.CurrentIndex() == start + c.steps;
  out.json = {{"method", "recompute"},
              {"window", c.window},
              {"steps", steps},
              {"max_rel_l2", out.worst_rel_l2}};
  return out;
}

// Runs every check case on `model`'s weights; fills `summary`, returns the cases. Throws with
// the failing cases' errors beyond kCheckBound.
nlohmann::json CheckCases(const ModelConfig& model, const RunOptions& o, nlohmann::json* summary) {
  const ModelWeights w = InitWeights(model, o.seed);
  GpuStreamModel gpu(w, o.launch);
  nlohmann::json cases = nlohmann::json::array();
  double sink_worst = 0, recompute_worst = 0, own_worst = 0;
  std::string failures;
  const auto record = [&](const CaseOutcome& c, double* worst, const std::string& name) {
    cases.push_back(c.json);
    *worst = std::max(*worst, c.worst_rel_l2);
    own_worst = std::max(own_worst, c.worst_fp16_own);
    if (!(c.worst_rel_l2 <= kCheckBound)) {
      failures += " " + name + ": max rel L2 " + std::to_string(c.worst_rel_l2) + ";";
    }
    if (!c.consistent) {
      failures += " " + name + ": the GPU's next token or stream index disagrees with its logits;";
    }
  };
  for (const DecodeCase& c : kDecodeCases) {
    record(CheckDecode(gpu, w, o.sinks, c, o.seed), &sink_worst,
           "sink_window(sinks " + std::to_string(o.sinks) + ", window " + std::to_string(c.window) +
               ")");
  }
  for (const RecomputeCase& c : kRecomputeCases) {
    record(CheckRecompute(gpu, w, o.sinks, c, o.seed), &recompute_worst,
           "recompute(window " + std::to_string(c.window) + ")");
  }
  *summary = {{"passed", failures.empty()},
              {"bound", kCheckBound},
              {"max_rel_l2", std::max(sink_worst, recompute_worst)},
              {"sink_window_max_rel_l2", sink_worst},
              {"recompute_max_rel_l2", recompute_worst},
              {"fp32_reference_rel_l2_max", own_worst},
              {"model", ModelJson(model)}};
  if (!failures.empty()) {
    throw std::runtime_error(
        "GPU check failed against the CPU reference (bound: logits rel L2 <= " +
        std::to_string(kCheckBound) + "):" + failures);
  }
  return cases;
}

int KernelsPerToken(const ModelConfig& c, Method m) {
  // embedding + per layer (decode: QKV GEMV, 2 attention, O, up, down; recompute: 2 norms, 4
  // GEMMs, RoPE, attention) + LM head + argmax
  return 3 + c.layers * (m == Method::kSinkWindow ? 6 : 8);
}

nlohmann::json TimingJson(const StepTiming& t) {
  return {{"ms_per_token", t.median_ms},
          {"min_ms", t.min_ms},
          {"max_ms", t.max_ms},
          {"reps", t.reps},
          {"sustained_ms_per_token", t.sustained_ms},
          {"sustained_steps", t.sustained_steps}};
}

}  // namespace

nlohmann::json RunGpuCheck(const RunOptions& o, const GpuInfo& info) {
  nlohmann::json summary;
  nlohmann::json cases = CheckCases(o.model, o, &summary);
  return Document(GpuInfoJson(info), o, std::move(cases), std::move(summary));
}

nlohmann::json RunGpuBenchmark(const RunOptions& o, const GpuInfo& info) {
  // A benchmark checks its output before it times anything: the tiny model against the CPU ...
  ModelConfig tiny;
  PresetConfig("tiny", &tiny);
  nlohmann::json check_summary;
  nlohmann::json check_cases = CheckCases(tiny, o, &check_summary);

  const ModelConfig& c = o.model;
  const ModelWeights weights = InitWeights(c, o.seed);
  GpuStreamModel gpu(weights, o.launch);
  nlohmann::json results = nlohmann::json::array();
  for (int window : o.windows) {
    gpu.Configure(o.sinks, window);
    // ... and, at full size, the two methods against each other: after `window` decoded tokens
    // nothing has been evicted and the cache positions are the stream positions, so the logits
    // must match a re-computation over the same tokens.
    gpu.StartStream(SeededTokens(o.seed, 1, c.vocab)[0]);
    for (int i = 0; i < window; ++i) gpu.Step(Method::kSinkWindow);
    const std::vector<float> decoded = gpu.Logits();
    gpu.SetCurrentIndex(window - 1);
    gpu.PoisonScratch();
    gpu.Step(Method::kRecompute);
    const ErrorStats cross = CompareLogits(gpu.Logits(), decoded);
    if (!(cross.rel_l2 <= kCheckBound)) {
      throw std::runtime_error("window " + std::to_string(window) +
                               ": sink+window decode and re-computation disagree on the same " +
                               std::to_string(window) + " tokens (logits rel L2 " +
                               std::to_string(cross.rel_l2) + " > " + std::to_string(kCheckBound) +
                               ")");
    }
    // Steady state: past sinks + window tokens every decode step evicts one.
    gpu.SetCurrentIndex(window);
    for (int i = 0; i <= o.sinks; ++i) gpu.Step(Method::kSinkWindow);
    const StepTiming sink_t = gpu.Time(Method::kSinkWindow, o.warmup, o.reps, o.sustained_steps);
    const PartTiming sink_parts = gpu.TimeParts(Method::kSinkWindow, o.reps);
    // The baseline re-computes the last `window` tokens of the same stream.
    const StepTiming recompute_t =
        gpu.Time(Method::kRecompute, o.warmup, o.reps, o.sustained_steps);
    const PartTiming recompute_parts = gpu.TimeParts(Method::kRecompute, o.reps);

    const TokenWork sw = DecodeWork(c, o.sinks, window), rw = RecomputeWork(c, window);
    nlohmann::json sink = TimingJson(sink_t);
    const double sink_bytes = sw.weight_bytes + sw.kv_bytes;
    sink["flops_per_token"] = sw.linear_flops + sw.attention_flops;
    sink["bytes_per_token"] = sink_bytes;
    sink["achieved_gbs"] = sink_bytes / (sink_t.median_ms * 1e-3) / 1e9;
    sink["fraction_of_peak_bandwidth"] =
        info.peak_bandwidth_gbs > 0
            ? sink_bytes / (sink_t.median_ms * 1e-3) / 1e9 / info.peak_bandwidth_gbs
            : 0.0;
    sink["attention_ms_per_layer"] = sink_parts.attention_ms;
    sink["kernels_per_token"] = KernelsPerToken(c, Method::kSinkWindow);

    nlohmann::json recompute = TimingJson(recompute_t);
    const double recompute_flops = rw.linear_flops + rw.attention_flops;
    const double layer_attention_flops = rw.attention_flops / c.layers;
    const double up_flops = 2.0 * window * c.ffn * c.d_model;
    recompute["flops_per_token"] = recompute_flops;
    recompute["bytes_per_token"] = rw.weight_bytes + rw.kv_bytes;
    recompute["achieved_tflops"] = recompute_flops / (recompute_t.median_ms * 1e-3) / 1e12;
    recompute["attention_ms_per_layer"] = recompute_parts.attention_ms;
    recompute["attention_tflops"] =
        layer_attention_flops / (recompute_parts.attention_ms * 1e-3) / 1e12;
    recompute["gemm_up_ms_per_layer"] = recompute_parts.gemm_ms;
    recompute["gemm_up_tflops"] = up_flops / (recompute_parts.gemm_ms * 1e-3) / 1e12;
    recompute["kernels_per_token"] = KernelsPerToken(c, Method::kRecompute);

    results.push_back(
        {{"window", window},
         {"cache_tokens", o.sinks + window},
         {"sink_window", sink},
         {"recompute", recompute},
         {"speedup", recompute_t.median_ms / sink_t.median_ms},
         {"sustained_speedup",
          sink_t.sustained_ms > 0 ? recompute_t.sustained_ms / sink_t.sustained_ms : 0.0},
         {"cross_check",
          {{"what",
            "sink+window logits after `window` tokens (nothing evicted) vs re-computation over the "
            "same tokens, both on the GPU"},
           {"error", ErrorJson(cross)},
           {"bound", kCheckBound},
           {"passed", true}}}});
  }
  nlohmann::json summary = Summarise(results);
  summary["check_passed"] = check_summary["passed"];
  summary["check_max_rel_l2"] = check_summary["max_rel_l2"];
  summary["launch"] = o.launch == LaunchMode::kGraph ? "graph" : "stream";
  summary["gpu"] = info.name;
  nlohmann::json doc = Document(GpuInfoJson(info), o, std::move(results), std::move(summary));
  doc["check"] = {{"cases", std::move(check_cases)}, {"summary", std::move(check_summary)}};
  return doc;
}

}  // namespace attn::stream
