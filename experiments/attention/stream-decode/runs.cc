#include "experiments/attention/stream-decode/runs.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "experiments/attention/common/gpu.h"
#include "experiments/attention/common/report.h"
#include "experiments/attention/common/rng.h"
#include "experiments/attention/stream-decode/reference.h"

namespace attn::stream {
namespace {

// Sink + window with nothing evicted runs the same arithmetic as full attention in the same
// order, so anything above rounding noise is a bookkeeping bug.
constexpr double kSameMathBound = 1e-6;
// Token streams are drawn from their own generator, apart from the weights' seed.
constexpr uint64_t kTokenSeedSalt = 0x5eed70c3a5ull;

struct CpuTiming {
  double median_ms = 0, min_ms = 0, max_ms = 0, mean_ms = 0;
  int reps = 0;
};

CpuTiming TimingOf(std::vector<double> ms) {
  CpuTiming t;
  t.reps = static_cast<int>(ms.size());
  if (ms.empty()) return t;
  for (double m : ms) t.mean_ms += m / static_cast<double>(ms.size());
  std::sort(ms.begin(), ms.end());
  t.median_ms = ms[ms.size() / 2];
  t.min_ms = ms.front();
  t.max_ms = ms.back();
  return t;
}

nlohmann::json TimingJson(const CpuTiming& t) {
  return {{"ms_per_token", t.median_ms},
          {"min_ms", t.min_ms},
          {"max_ms", t.max_ms},
          {"reps", t.reps},
          {"sustained_ms_per_token", t.mean_ms}};
}

template <typename Step>
double TimeMs(Step step) {
  const auto start = std::chrono::steady_clock::now();
  step();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

nlohmann::json CheckCase(std::string name, std::string what, double rel_l2, double bound) {
  return {{"case", std::move(name)},
          {"what", std::move(what)},
          {"rel_l2", rel_l2},
          {"bound", bound},
          {"passed", rel_l2 <= bound}};
}

}  // namespace

std::vector<int> PresetWindows(const std::string& preset) {
  if (preset == "tiny") return {8, 16, 32, 64};
  return {256, 512, 1024, 2048, 4096};
}

std::string ResolveOptions(const ModelOverrides& ov, RunOptions* o) {
  if (o->preset == "auto") o->preset = o->on_gpu && !o->check ? "small" : "tiny";
  if (!PresetConfig(o->preset, &o->model)) {
    return "--model: '" + o->preset + "' is not a preset; accepted: auto | small | tiny";
  }
  ModelConfig& m = o->model;
  if (ov.layers > 0) m.layers = ov.layers;
  if (ov.d_model > 0) m.d_model = ov.d_model;
  if (ov.heads > 0) m.heads = ov.heads;
  if (ov.ffn > 0) m.ffn = ov.ffn;
  if (ov.vocab > 0) m.vocab = ov.vocab;
  const std::string error = o->on_gpu ? ValidateConfigForGpu(m) : ValidateConfig(m);
  if (!error.empty())
    return "model (--model " + o->preset +
           " with --layers/--d-model/--heads/--ffn/--vocab): " + error;
  if (o->windows.empty()) o->windows = PresetWindows(o->preset);
  return "";
}

nlohmann::json ModelJson(const ModelConfig& c) {
  const int64_t params = ParameterCount(c);
  return {
      {"layers", c.layers},
      {"d_model", c.d_model},
      {"heads", c.heads},
      {"head_dim", c.head_dim()},
      {"ffn", c.ffn},
      {"vocab", c.vocab},
      {"rope_base", c.rope_base},
      {"norm_eps", c.norm_eps},
      {"parameters", params},
      {"weight_mib", static_cast<double>(params) * 2 / (1 << 20)},
      {"architecture",
       "token embedding; per layer RMSNorm, fused QKV, RoPE (consecutive pairs), causal softmax "
       "attention, output projection, residual, RMSNorm, MLP d_model->ffn->d_model with SiLU, "
       "residual; final RMSNorm; LM head"},
      {"dtype", "fp16 weights and activations, fp32 accumulation"},
      {"init", "attn::Rng normal: embeddings N(0,1), linear N(0,1/fan_in), norm gains N(1,0.01)"}};
}

nlohmann::json ConfigJson(const RunOptions& o) {
  return {
      {"preset", o.preset},
      {"model", ModelJson(o.model)},
      {"sinks", o.sinks},
      {"windows", o.windows},
      {"reps", o.reps},
      {"warmup", o.warmup},
      {"sustained_steps", o.sustained_steps},
      {"seed", o.seed},
      {"launch", o.launch == LaunchMode::kGraph ? "graph" : "stream"},
      {"mode", o.check ? "check" : "benchmark"},
      {"sink_window_method",
       "StreamingLLM: KV of the first `sinks` tokens plus a ring of the `window` most recent; one "
       "query per token over sinks + window cached tokens, keys rotated at their cache position"},
      {"recompute_method",
       "sliding window with re-computation: per token, a causal prefill of the last `window` "
       "tokens "
       "(positions 0..window-1) through every layer, LM head on the last row"}};
}

ErrorStats CompareLogits(std::span<const float> got, std::span<const float> ref) {
  return Compare(got, ref);
}

nlohmann::json ErrorJson(const ErrorStats& e) {
  return {{"rel_l2", e.rel_l2}, {"max_abs", e.max_abs}, {"non_finite", e.non_finite}};
}

nlohmann::json Summarise(const nlohmann::json& results) {
  nlohmann::json s = {{"sink_window_ms_per_token", nlohmann::json::object()},
                      {"recompute_ms_per_token", nlohmann::json::object()},
                      {"speedup", nlohmann::json::object()},
                      {"speedup_w2048", nullptr},
                      {"speedup_min", nullptr},
                      {"speedup_max", nullptr},
                      {"speedup_max_window", nullptr}};
  for (const nlohmann::json& r : results) {
    const int window = r.at("window").get<int>();
    const std::string key = std::to_string(window);
    const double sink_ms = r.at("sink_window").at("ms_per_token").get<double>();
    const double recompute_ms = r.at("recompute").at("ms_per_token").get<double>();
    const double speedup = sink_ms > 0 ? recompute_ms / sink_ms : 0;
    s["sink_window_ms_per_token"][key] = sink_ms;
    s["recompute_ms_per_token"][key] = recompute_ms;
    s["speedup"][key] = speedup;
    if (window == kHeadlineWindow) s["speedup_w2048"] = speedup;
    if (s["speedup_min"].is_null() || speedup < s["speedup_min"].get<double>())
      s["speedup_min"] = speedup;
    if (s["speedup_max"].is_null() || speedup > s["speedup_max"].get<double>()) {
      s["speedup_max"] = speedup;
      s["speedup_max_window"] = window;
    }
  }
  return s;
}

nlohmann::json Document(const nlohmann::json& device, const RunOptions& o, nlohmann::json results,
                        nlohmann::json summary) {
  return {{"experiment", "stream-decode"},
          {"version", std::string(kAttentionVersion)},
          {"device", device},
          {"config", ConfigJson(o)},
          {"results", std::move(results)},
          {"summary", std::move(summary)}};
}

std::vector<int32_t> SeededTokens(uint64_t seed, int count, int vocab) {
  Rng rng(seed ^ kTokenSeedSalt);
  std::vector<int32_t> tokens(static_cast<size_t>(count));
  for (auto& t : tokens) t = static_cast<int32_t>(rng.Between(0, vocab - 1));
  return tokens;
}

nlohmann::json RunCpuBenchmark(const RunOptions& o) {
  const ModelWeights weights = InitWeights(o.model, o.seed);
  nlohmann::json results = nlohmann::json::array();
  for (int window : o.windows) {
    const ReferenceModel model(weights, o.sinks + window);
    // Sink + window: stream greedily from a seeded first token. The first `window` tokens evict
    // nothing, so their last logits must equal a re-computation over the same tokens.
    StreamingDecoder decoder(model, o.sinks, window);
    std::vector<int32_t> stream = SeededTokens(o.seed, 1, o.model.vocab);
    std::vector<float> logits;
    for (int i = 0; i < window; ++i) {
      logits = decoder.Step(stream.back());
      stream.push_back(Argmax(logits));
    }
    const std::vector<int32_t> first(stream.begin(), stream.begin() + window);
    const ErrorStats cross = CompareLogits(logits, model.Prefill(first));
    // Past sinks + window tokens the cache is full and every step evicts: the steady state.
    for (int i = 0; i < o.sinks + 1 + o.warmup; ++i) {
      stream.push_back(Argmax(decoder.Step(stream.back())));
    }
    std::vector<double> decode_ms;
    for (int i = 0; i < o.reps; ++i) {
      decode_ms.push_back(TimeMs([&] { logits = decoder.Step(stream.back()); }));
      stream.push_back(Argmax(logits));
    }
    // Re-computation over the last `window` tokens of the same stream, then its own greedy tokens.
    std::vector<int32_t> recent(stream.end() - window, stream.end());
    std::vector<double> recompute_ms;
    for (int i = 0; i < o.warmup + o.reps; ++i) {
      const double ms = TimeMs([&] { logits = model.Prefill(recent); });
      if (i >= o.warmup) recompute_ms.push_back(ms);
      recent.erase(recent.begin());
      recent.push_back(Argmax(logits));
    }
    const CpuTiming sink_t = TimingOf(decode_ms), recompute_t = TimingOf(recompute_ms);
    nlohmann::json sink_json = TimingJson(sink_t), recompute_json = TimingJson(recompute_t);
    const TokenWork sw = DecodeWork(o.model, o.sinks, window), rw = RecomputeWork(o.model, window);
    sink_json["flops_per_token"] = sw.linear_flops + sw.attention_flops;
    sink_json["bytes_per_token"] = sw.weight_bytes + sw.kv_bytes;
    recompute_json["flops_per_token"] = rw.linear_flops + rw.attention_flops;
    recompute_json["bytes_per_token"] = rw.weight_bytes + rw.kv_bytes;
    results.push_back(
        {{"window", window},
         {"cache_tokens", o.sinks + window},
         {"sink_window", sink_json},
         {"recompute", recompute_json},
         {"speedup", sink_t.median_ms > 0 ? recompute_t.median_ms / sink_t.median_ms : 0},
         {"cross_check",
          {{"what",
            "sink+window logits after `window` tokens (nothing evicted) vs "
            "re-computation over the same tokens"},
           {"error", ErrorJson(cross)},
           {"bound", kCheckBound},
           {"passed", cross.rel_l2 <= kCheckBound}}}});
    if (cross.rel_l2 > kCheckBound) {
      throw std::runtime_error(
          "window " + std::to_string(window) +
          ": sink+window and re-computation disagree on the same tokens (rel L2 " +
          std::to_string(cross.rel_l2) + " > " + std::to_string(kCheckBound) + ")");
    }
  }
  nlohmann::json summary = Summarise(results);
  summary["device"] = "cpu";
  return Document(CpuDeviceJson(), o, std::move(results), std::move(summary));
}

nlohmann::json RunCpuCheck(const RunOptions& o) {
  nlohmann::json cases = nlohmann::json::array();
  const ModelWeights weights = InitWeights(o.model, o.seed);
  const int sinks = o.sinks;
  {  // 1. Nothing evicted: sink + window is full attention.
    const int window = 32, tokens = 24;
    const ReferenceModel model(weights, sinks + window);
    StreamingDecoder streaming(model, sinks, window);
    FullAttentionDecoder full(model, tokens);
    double worst = 0;
    for (int32_t t : SeededTokens(o.seed, tokens, o.model.vocab)) {
      worst = std::max(worst, CompareLogits(streaming.Step(t), full.Step(t)).rel_l2);
    }
    cases.push_back(
        CheckCase("no_eviction_equals_full_attention",
                  "sink+window (window 32) vs dense attention over 24 tokens, every step", worst,
                  kSameMathBound));
  }
  {  // 2. Decode and re-computation agree on the same tokens (nothing evicted).
    const int window = 24;
    const ReferenceModel model(weights, sinks + window);
    StreamingDecoder streaming(model, sinks, window);
    const std::vector<int32_t> tokens = SeededTokens(o.seed, window, o.model.vocab);
    std::vector<float> logits;
    for (int32_t t : tokens) logits = streaming.Step(t);
    cases.push_back(
        CheckCase("decode_equals_recompute",
                  "sink+window decode after 24 tokens vs a prefill of the same 24 tokens",
                  CompareLogits(logits, model.Prefill(tokens)).rel_l2, kCheckBound));
  }
  {  // 3. After eviction, with one layer (K and V depend on the token alone), decoding equals a
     // prefill over the cache contents at cache positions: the positions are re-assigned.
    ModelConfig one_layer = o.model;
    one_layer.layers = 1;
    const ModelWeights w1 = InitWeights(one_layer, o.seed);
    const int window = 8, tokens = 20;
    const ReferenceModel model(w1, sinks + window);
    StreamingDecoder streaming(model, sinks, window);
    const std::vector<int32_t> stream = SeededTokens(o.seed, tokens, one_layer.vocab);
    double worst = 0;
    for (size_t i = 0; i < stream.size(); ++i) {
      const std::vector<float> logits = streaming.Step(stream[i]);
      std::vector<int32_t> held;
      for (int slot : streaming.cache().SlotsInOrder()) {
        held.push_back(stream[static_cast<size_t>(streaming.cache().TokenInSlot(slot))]);
      }
      worst = std::max(worst, CompareLogits(logits, model.Prefill(held)).rel_l2);
    }
    cases.push_back(CheckCase("evicted_cache_uses_cache_positions",
                              "1-layer model, window 8, 20 tokens: decode vs prefill over the held "
                              "tokens at positions 0..size-1, every step",
                              worst, kCheckBound));
  }
  bool passed = true;
  std::string failures;
  for (const nlohmann::json& c : cases) {
    if (!c["passed"].get<bool>()) {
      passed = false;
      failures += " " + c["case"].get<std::string>() + " (rel L2 " +
                  std::to_string(c["rel_l2"].get<double>()) + " > " +
                  std::to_string(c["bound"].get<double>()) + ")";
    }
  }
  if (!passed) throw std::runtime_error("CPU check failed:" + failures);
  return Document(CpuDeviceJson(), o, std::move(cases), {{"passed", passed}, {"device", "cpu"}});
}

}  // namespace attn::stream
