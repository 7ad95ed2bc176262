#include "experiments/attention/kv-quant/experiment.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "experiments/attention/kv-quant/reference.h"

namespace attn::kvquant {
namespace {

std::vector<float> QueryFloats(const Workload& w, int64_t head) {
  const std::span<const uint16_t> q = w.Query(head);
  return HalfToFloat(std::vector<uint16_t>(q.begin(), q.end()));
}

// Relative L2 distance of a cache's dequantized rows [0, rows) from the fp16 originals.
double RelL2(const std::vector<float>& got, const std::vector<uint16_t>& original, size_t count) {
  const std::vector<float> ref =
      HalfToFloat(std::vector<uint16_t>(original.begin(), original.begin() + count));
  return Compare(std::span<const float>(got.data(), count), ref).rel_l2;
}

}  // namespace

Workload MakeWorkload(const WorkloadSpec& spec) {
  if (spec.batch_heads < 1 || spec.tokens < 1)
    throw std::invalid_argument("MakeWorkload: need >= 1 head and token");
  Workload w;
  w.spec = spec;
  const int64_t distinct = std::clamp<int64_t>(spec.distinct, 1, spec.batch_heads);
  for (int64_t h = 0; h < distinct; ++h) {
    w.distinct.push_back(
        MakeHeadInputs(spec.tokens, spec.head_dim, spec.outliers, spec.seed, static_cast<int>(h)));
  }
  w.queries = MakeQueries(spec.batch_heads, spec.head_dim, spec.seed);
  const int64_t eval = std::clamp<int64_t>(spec.eval, 1, spec.batch_heads);
  for (int64_t i = 0; i < eval; ++i) {
    w.eval_heads.push_back(eval == 1 ? 0 : i * (spec.batch_heads - 1) / (eval - 1));
  }
  w.eval_heads.erase(std::unique(w.eval_heads.begin(), w.eval_heads.end()), w.eval_heads.end());
  return w;
}

std::vector<std::vector<float>> ReferenceFp16(const Workload& w) {
  // Convert each distinct head once; eval heads share them.
  std::vector<std::vector<float>> k(w.distinct.size()), v(w.distinct.size());
  for (size_t i = 0; i < w.distinct.size(); ++i) {
    k[i] = HalfToFloat(w.distinct[i].kv.k);
    v[i] = HalfToFloat(w.distinct[i].kv.v);
  }
  std::vector<std::vector<float>> out;
  for (int64_t head : w.eval_heads) {
    const size_t i = static_cast<size_t>(head) % w.distinct.size();
    out.push_back(ReferenceDecode(QueryFloats(w, head), k[i], v[i], w.spec.head_dim));
  }
  return out;
}

ErrorStats CompareHeads(const std::vector<std::vector<float>>& got,
                        const std::vector<std::vector<float>>& ref) {
  std::vector<float> g, r;
  for (const auto& x : got) g.insert(g.end(), x.begin(), x.end());
  for (const auto& x : ref) r.insert(r.end(), x.begin(), x.end());
  return Compare(g, r);
}

Evaluation Evaluate(const Workload& w, const KiviConfig& config,
                    const std::vector<std::vector<float>>& reference_fp16) {
  Evaluation e;
  e.config = config;
  e.config.key_axis = KeyAxis::kPerChannel;
  KiviConfig per_token = e.config;
  per_token.key_axis = KeyAxis::kPerToken;

  const size_t n = w.distinct.size();
  std::vector<std::vector<float>> k(n), v(n), k_token(n), v_token(n);
  double key_channel_err2 = 0, key_token_err2 = 0, value_err2 = 0;
  for (size_t i = 0; i < n; ++i) {
    const HeadKv& kv = w.distinct[i].kv;
    e.caches.push_back(BuildKiviCache(kv, e.config));
    const KiviCache token_cache = BuildKiviCache(kv, per_token);
    e.caches.back().Dequantize(&k[i], &v[i]);
    token_cache.Dequantize(&k_token[i], &v_token[i]);
    // Reconstruction error of the quantized prefix alone (the window is exact), averaged over
    // heads as mean squared relative error.
    const size_t count = static_cast<size_t>(e.caches.back().quantized_tokens()) * kv.head_dim;
    if (count > 0) {
      key_channel_err2 += std::pow(RelL2(k[i], kv.k, count), 2);
      key_token_err2 += std::pow(RelL2(k_token[i], kv.k, count), 2);
      value_err2 += std::pow(RelL2(v[i], kv.v, count), 2);
    }
  }
  e.key_rel_l2_per_channel = std::sqrt(key_channel_err2 / static_cast<double>(n));
  e.key_rel_l2_per_token = std::sqrt(key_token_err2 / static_cast<double>(n));
  e.value_rel_l2 = std::sqrt(value_err2 / static_cast<double>(n));
  e.quantized_tokens = e.caches.front().quantized_tokens();
  e.residual_tokens = e.caches.front().residual_tokens();
  e.payload_bytes_per_head = e.caches.front().PayloadBytes();

  std::vector<std::vector<float>> token_outputs;
  for (int64_t head : w.eval_heads) {
    const size_t i = static_cast<size_t>(head) % n;
    const std::vector<float> q = QueryFloats(w, head);
    e.reference_kivi.push_back(ReferenceDecode(q, k[i], v[i], w.spec.head_dim));
    token_outputs.push_back(ReferenceDecode(q, k_token[i], v_token[i], w.spec.head_dim));
  }
  e.kivi_vs_fp16 = CompareHeads(e.reference_kivi, reference_fp16);
  e.per_token_keys_vs_fp16 = CompareHeads(token_outputs, reference_fp16);
  return e;
}

std::vector<CheckCase> CheckCases() {
  return {
      {32, 128, 1},      // one token, window only
      {32, 128, 100},    // window partly filled, nothing quantized
      {32, 128, 177},    // one group quantized, window R + 17
      {64, 20, 1000},    // 960 quantized (one partial split), window 40
      {128, 128, 2500},  // 2304 quantized: splits of 1024, 1024, 256; window 196
      {32, 0, 2048},     // no window: two full quantized splits, no fp16 split
      {32, 600, 1300},   // window 628 tokens: two fp16 splits after 672 quantized
  };
}

}  // namespace attn::kvquant
