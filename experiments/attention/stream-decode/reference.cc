#include "experiments/attention/stream-decode/reference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "experiments/attention/common/half.h"

namespace attn::stream {
namespace {

std::vector<float> ToFloat(const std::vector<uint16_t>& bits) {
  std::vector<float> out(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) out[i] = HalfBitsToFloat(bits[i]);
  return out;
}

// y[o] = sum_k w[o][k] x[k], fp32 accumulation in k order.
float Dot(const float* w, const float* x, int n) {
  float acc = 0;
  for (int k = 0; k < n; ++k) acc += w[k] * x[k];
  return acc;
}

// Row `r` of a row-major matrix `width` wide.
const float* RowOf(const std::vector<float>& m, int r, int width) {
  return &m[static_cast<size_t>(r) * width];
}
float* RowOf(std::vector<float>& m, int r, int width) { return &m[static_cast<size_t>(r) * width]; }

float Silu(float x) { return x / (1.0f + std::exp(-x)); }

// softmax(scores) . values over `count` entries; `value(j)` is the j-th value row of `dim`.
template <typename ValueRow>
void Attend(const std::vector<float>& scores, int dim, ValueRow value, float* out) {
  float m = -std::numeric_limits<float>::infinity();
  for (float s : scores) m = std::max(m, s);
  std::vector<float> acc(dim, 0.0f);
  float sum = 0;
  for (size_t j = 0; j < scores.size(); ++j) {
    const float p = std::exp(scores[j] - m);
    sum += p;
    const float* v = value(j);
    for (int c = 0; c < dim; ++c) acc[c] += p * v[c];
  }
  for (int c = 0; c < dim; ++c) out[c] = acc[c] / sum;
}

}  // namespace

KvCache::KvCache(const ModelConfig& config, int slots_in)
    : slots(slots_in),
      d_model(config.d_model),
      k(static_cast<size_t>(config.layers),
        std::vector<float>(static_cast<size_t>(slots_in) * config.d_model)),
      v(k) {}

ReferenceModel::ReferenceModel(const ModelWeights& w, int max_positions, bool round_to_fp16)
    : config_(w.config),
      max_positions_(max_positions),
      round_(round_to_fp16),
      rope_(RopeTable(w.config.head_dim(), max_positions, w.config.rope_base)),
      embed_(ToFloat(w.embed)),
      final_norm_(ToFloat(w.final_norm)),
      lm_head_(ToFloat(w.lm_head)) {
  for (const LayerWeights& lw : w.layers) {
    layers_.push_back({ToFloat(lw.attn_norm), ToFloat(lw.wqkv), ToFloat(lw.wo),
                       ToFloat(lw.mlp_norm), ToFloat(lw.w_up), ToFloat(lw.w_down)});
  }
}

float ReferenceModel::Act(float x) const { return round_ ? Round(DType::kF16, x) : x; }

void ReferenceModel::Norm(const float* x, const std::vector<float>& gain, float* out) const {
  const int d = config_.d_model;
  float sum2 = 0;
  for (int i = 0; i < d; ++i) sum2 += x[i] * x[i];
  const float inv = 1.0f / std::sqrt(sum2 / static_cast<float>(d) + config_.norm_eps);
  for (int i = 0; i < d; ++i) out[i] = Act(x[i] * inv * gain[i]);
}

void ReferenceModel::Rotate(float* head, int position) const {
  if (position < 0 || position >= max_positions_) {
    throw std::out_of_range("ReferenceModel: RoPE position " + std::to_string(position) +
                            " outside the table's 0.." + std::to_string(max_positions_ - 1));
  }
  const int pairs = config_.head_dim() / 2;
  const float* cs = &rope_[static_cast<size_t>(position) * pairs * 2];
  for (int i = 0; i < pairs; ++i) {
    const float c = cs[2 * i], s = cs[2 * i + 1];
    const float x0 = head[2 * i], x1 = head[2 * i + 1];
    head[2 * i] = x0 * c - x1 * s;
    head[2 * i + 1] = x0 * s + x1 * c;
  }
}

void ReferenceModel::Mlp(const Layer& layer, float* x) const {
  const int d = config_.d_model, f = config_.ffn;
  std::vector<float> a(d), u(f);
  Norm(x, layer.mlp_norm, a.data());
  for (int o = 0; o < f; ++o) u[o] = Act(Silu(Dot(RowOf(layer.w_up, o, d), a.data(), d)));
  for (int o = 0; o < d; ++o) x[o] = Act(x[o] + Dot(RowOf(layer.w_down, o, f), u.data(), f));
}

std::vector<float> ReferenceModel::Logits(const float* x) const {
  const int d = config_.d_model;
  std::vector<float> a(d), logits(config_.vocab);
  Norm(x, final_norm_, a.data());
  for (int o = 0; o < config_.vocab; ++o) logits[o] = Dot(RowOf(lm_head_, o, d), a.data(), d);
  return logits;
}

std::vector<float> ReferenceModel::Decode(int32_t token, int write_slot,
                                          std::span<const int> positions, int query_position,
                                          KvCache& cache) const {
  const int d = config_.d_model, hd = config_.head_dim();
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  std::vector<int> held;  // the slots attended, in slot order
  for (size_t s = 0; s < positions.size(); ++s) {
    if (positions[s] >= 0) held.push_back(static_cast<int>(s));
  }
  std::vector<float> x(RowOf(embed_, token, d), RowOf(embed_, token, d) + d);
  std::vector<float> a(d), qkv(3 * d), attn(d);
  for (int l = 0; l < config_.layers; ++l) {
    const Layer& layer = layers_[l];
    Norm(x.data(), layer.attn_norm, a.data());
    for (int o = 0; o < 3 * d; ++o) qkv[o] = Act(Dot(RowOf(layer.wqkv, o, d), a.data(), d));
    // The cache keeps K before RoPE: it is rotated below to the position the slot has now.
    std::copy(qkv.begin() + d, qkv.begin() + 2 * d, cache.K(l, write_slot));
    std::copy(qkv.begin() + 2 * d, qkv.end(), cache.V(l, write_slot));
    for (int h = 0; h < config_.heads; ++h) {
      std::vector<float> q(&qkv[h * hd], &qkv[h * hd] + hd);
      Rotate(q.data(), query_position);
      std::vector<float> scores;
      for (int s : held) {
        std::vector<float> k(cache.K(l, s) + h * hd, cache.K(l, s) + (h + 1) * hd);
        Rotate(k.data(), positions[s]);
        scores.push_back(Dot(q.data(), k.data(), hd) * scale);
      }
      float* out = &attn[h * hd];
      Attend(
          scores, hd, [&](size_t j) { return cache.V(l, held[j]) + h * hd; }, out);
      for (int c = 0; c < hd; ++c) out[c] = Act(out[c]);
    }
    for (int o = 0; o < d; ++o) x[o] = Act(x[o] + Dot(RowOf(layer.wo, o, d), attn.data(), d));
    Mlp(layer, x.data());
  }
  return Logits(x.data());
}

std::vector<float> ReferenceModel::Prefill(std::span<const int32_t> tokens) const {
  const int d = config_.d_model, hd = config_.head_dim();
  const int n = static_cast<int>(tokens.size());
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  std::vector<float> x(n * d), a(d), q(n * d), k(n * d), v(n * d), attn(n * d);
  for (int r = 0; r < n; ++r) std::copy_n(RowOf(embed_, tokens[r], d), d, RowOf(x, r, d));
  for (int l = 0; l < config_.layers; ++l) {
    const Layer& layer = layers_[l];
    for (int r = 0; r < n; ++r) {
      float *qr = RowOf(q, r, d), *kr = RowOf(k, r, d), *vr = RowOf(v, r, d);
      Norm(RowOf(x, r, d), layer.attn_norm, a.data());
      for (int o = 0; o < d; ++o) {
        qr[o] = Act(Dot(RowOf(layer.wqkv, o, d), a.data(), d));
        kr[o] = Act(Dot(RowOf(layer.wqkv, d + o, d), a.data(), d));
        vr[o] = Act(Dot(RowOf(layer.wqkv, 2 * d + o, d), a.data(), d));
      }
      // The baseline's RoPE kernel rotates Q and K in place once, at the row's window position.
      for (int h = 0; h < config_.heads; ++h) {
        Rotate(qr + h * hd, r);
        Rotate(kr + h * hd, r);
      }
      for (int o = 0; o < d; ++o) {
        qr[o] = Act(qr[o]);
        kr[o] = Act(kr[o]);
      }
    }
    for (int h = 0; h < config_.heads; ++h) {
      for (int i = 0; i < n; ++i) {
        std::vector<float> scores;
        for (int j = 0; j <= i; ++j) {
          scores.push_back(Dot(RowOf(q, i, d) + h * hd, RowOf(k, j, d) + h * hd, hd) * scale);
        }
        float* out = RowOf(attn, i, d) + h * hd;
        Attend(
            scores, hd, [&](size_t j) { return RowOf(v, static_cast<int>(j), d) + h * hd; }, out);
        for (int c = 0; c < hd; ++c) out[c] = Act(out[c]);
      }
    }
    for (int r = 0; r < n; ++r) {
      float* xr = RowOf(x, r, d);
      const float* ar = RowOf(attn, r, d);
      for (int o = 0; o < d; ++o) xr[o] = Act(xr[o] + Dot(RowOf(layer.wo, o, d), ar, d));
      Mlp(layer, xr);
    }
  }
  return Logits(RowOf(x, n - 1, d));
}

int32_t Argmax(std::span<const float> logits) {
  int32_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > logits[static_cast<size_t>(best)]) best = static_cast<int32_t>(i);
  }
  return best;
}

StreamingDecoder::StreamingDecoder(const ReferenceModel& model, int sinks, int window)
    : model_(model), cache_(sinks, window), kv_(model.config(), sinks + window) {}

std::vector<float> StreamingDecoder::Step(int32_t token) {
  const SinkWindowCache::Admission admitted = cache_.Admit();
  const std::vector<int> positions = cache_.Positions();
  return model_.Decode(token, admitted.slot, positions, cache_.QueryPosition(), kv_);
}

FullAttentionDecoder::FullAttentionDecoder(const ReferenceModel& model, int max_tokens)
    : model_(model),
      kv_(model.config(), max_tokens),
      positions_(static_cast<size_t>(max_tokens), -1) {}

std::vector<float> FullAttentionDecoder::Step(int32_t token) {
  if (seen_ >= kv_.slots)
    throw std::out_of_range("FullAttentionDecoder: more tokens than max_tokens");
  positions_[static_cast<size_t>(seen_)] = seen_;
  const int slot = seen_++;
  return model_.Decode(token, slot, positions_, slot, kv_);
}

RecomputeDecoder::RecomputeDecoder(const ReferenceModel& model, int window)
    : model_(model), window_(window) {}

std::vector<float> RecomputeDecoder::Step(int32_t token) {
  tokens_.push_back(token);
  if (static_cast<int>(tokens_.size()) > window_) tokens_.erase(tokens_.begin());
  return model_.Prefill(tokens_);
}

}  // namespace attn::stream
