#include "experiments/attention/kv-quant/reference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "experiments/attention/common/half.h"

namespace attn::kvquant {
namespace {

// One split's softmax partial: m = max score (base 2), l = sum 2^(s - m), o = sum 2^(s - m) v.
struct Partial {
  float m = -std::numeric_limits<float>::infinity();
  float l = 0;
  std::vector<float> o;
};

std::vector<float> Combine(const std::vector<Partial>& parts, int d) {
  float m = -std::numeric_limits<float>::infinity();
  for (const Partial& p : parts) m = std::max(m, p.m);
  float l = 0;
  std::vector<float> out(d, 0.0f);
  for (const Partial& p : parts) {
    const float w = std::exp2(p.m - m);
    l += p.l * w;
    for (int c = 0; c < d; ++c) out[c] += p.o[c] * w;
  }
  for (float& x : out) x /= l;
  return out;
}

// Turns scores into weights in place; returns (max, sum of weights).
std::pair<float, float> Softmax2(std::vector<float>& scores) {
  const float m = *std::max_element(scores.begin(), scores.end());
  float l = 0;
  for (float& s : scores) {
    s = std::exp2(s - m);
    l += s;
  }
  return {m, l};
}

// The fp16 path of both kernels: rows [begin, end) of fp16 keys and values.
Partial Fp16Split(const std::vector<float>& q2, const uint16_t* k, const uint16_t* v, int64_t begin,
                  int64_t end, int d) {
  std::vector<float> scores(static_cast<size_t>(end - begin));
  for (int64_t t = begin; t < end; ++t) {
    float s = 0;
    for (int c = 0; c < d; ++c) s = std::fma(q2[c], HalfBitsToFloat(k[t * d + c]), s);
    scores[t - begin] = s;
  }
  Partial p;
  std::tie(p.m, p.l) = Softmax2(scores);
  p.o.assign(d, 0.0f);
  for (int64_t t = begin; t < end; ++t) {
    for (int c = 0; c < d; ++c)
      p.o[c] = std::fma(scores[t - begin], HalfBitsToFloat(v[t * d + c]), p.o[c]);
  }
  return p;
}

std::vector<float> ScaledQuery(std::span<const uint16_t> q, int d) {
  std::vector<float> q2(d);
  const float scale = QueryScale(d);
  for (int c = 0; c < d; ++c) q2[c] = HalfBitsToFloat(q[c]) * scale;
  return q2;
}

}  // namespace

float QueryScale(int head_dim) {
  return static_cast<float>(1.4426950408889634 / std::sqrt(static_cast<double>(head_dim)));
}

std::vector<float> ReferenceDecode(std::span<const float> q, std::span<const float> keys,
                                   std::span<const float> values, int head_dim) {
  const size_t d = static_cast<size_t>(head_dim);
  const size_t n = keys.size() / d;
  if (n == 0 || q.size() != d || values.size() != keys.size()) {
    throw std::invalid_argument("ReferenceDecode: need >= 1 token and matching shapes");
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
  std::vector<double> logits(n);
  double m = -std::numeric_limits<double>::infinity();
  for (size_t t = 0; t < n; ++t) {
    double s = 0;
    for (size_t c = 0; c < d; ++c) s += static_cast<double>(q[c]) * keys[t * d + c];
    logits[t] = s * scale;
    m = std::max(m, logits[t]);
  }
  double l = 0;
  std::vector<double> acc(d, 0.0);
  for (size_t t = 0; t < n; ++t) {
    const double p = std::exp(logits[t] - m);
    l += p;
    for (size_t c = 0; c < d; ++c) acc[c] += p * values[t * d + c];
  }
  std::vector<float> out(d);
  for (size_t c = 0; c < d; ++c) out[c] = static_cast<float>(acc[c] / l);
  return out;
}

std::vector<float> ModelDecodeFp16(std::span<const uint16_t> q, const HeadKv& kv) {
  const int d = kv.head_dim;
  const std::vector<float> q2 = ScaledQuery(q, d);
  std::vector<Partial> parts;
  for (int64_t b = 0; b < kv.tokens; b += kFp16SplitTokens) {
    parts.push_back(Fp16Split(q2, kv.k.data(), kv.v.data(), b,
                              std::min<int64_t>(kv.tokens, b + kFp16SplitTokens), d));
  }
  return Combine(parts, d);
}

std::vector<float> ModelDecodeKivi(std::span<const uint16_t> q, const KiviCache& cache) {
  const KiviConfig& cfg = cache.config();
  if (cfg.key_axis != KeyAxis::kPerChannel)
    throw std::invalid_argument("ModelDecodeKivi: keys must be per channel");
  const int d = cfg.head_dim;
  const int g = cfg.group_size;
  const int groups_per_row = d / g;
  const size_t words_per_row = static_cast<size_t>(d / kCodesPerWord);
  const std::vector<float> q2 = ScaledQuery(q, d);
  auto code = [&](const std::vector<uint32_t>& codes, int64_t t, int c) {
    return static_cast<float>(
        CodeAt(std::span<const uint32_t>(codes.data() + t * words_per_row, words_per_row), c));
  };
  auto half = [](const std::vector<uint16_t>& p, size_t i) { return HalfBitsToFloat(p[i]); };

  const KiviSplitPlan plan = PlanKiviSplits(cache.quantized_tokens(), cache.residual_tokens());
  std::vector<Partial> parts;
  for (int split = 0; split < plan.quant_splits; ++split) {
    const int64_t begin = static_cast<int64_t>(split) * kQuantSplitTokens;
    const int64_t end = std::min(plan.quantized, begin + kQuantSplitTokens);
    std::vector<float> scores(static_cast<size_t>(end - begin));
    for (int64_t g0 = begin; g0 < end; g0 += g) {
      // The query folded into this key group's per-channel scales and zeros.
      const size_t group = static_cast<size_t>(g0 / g);
      std::vector<float> qs(d);
      float bias = 0;
      for (int c = 0; c < d; ++c) {
        qs[c] = q2[c] * half(cache.key_params(), 2 * (group * d + c));
        bias = std::fma(q2[c], half(cache.key_params(), 2 * (group * d + c) + 1), bias);
      }
      for (int64_t t = g0; t < g0 + g; ++t) {
        float s = 0;
        for (int c = 0; c < d; ++c) s = std::fma(qs[c], code(cache.key_codes(), t, c), s);
        scores[t - begin] = s + bias;
      }
    }
    Partial p;
    std::tie(p.m, p.l) = Softmax2(scores);
    std::vector<float> acc(d, 0.0f), bias(groups_per_row, 0.0f);
    for (int64_t t = begin; t < end; ++t) {
      const float w = scores[t - begin];
      for (int j = 0; j < groups_per_row; ++j) {
        const size_t i = 2 * (static_cast<size_t>(t) * groups_per_row + j);
        const float ws = w * half(cache.value_params(), i);
        bias[j] = std::fma(w, half(cache.value_params(), i + 1), bias[j]);
        for (int c = j * g; c < (j + 1) * g; ++c)
          acc[c] = std::fma(ws, code(cache.value_codes(), t, c), acc[c]);
      }
    }
    p.o.resize(d);
    for (int c = 0; c < d; ++c) p.o[c] = acc[c] + bias[c / g];
    parts.push_back(std::move(p));
  }
  for (int split = 0; split < plan.residual_splits; ++split) {
    const int64_t begin = static_cast<int64_t>(split) * kFp16SplitTokens;
    parts.push_back(Fp16Split(q2, cache.key_residual().data(), cache.value_residual().data(), begin,
                              std::min(plan.residual, begin + kFp16SplitTokens), d));
  }
  return Combine(parts, d);
}

}  // namespace attn::kvquant
