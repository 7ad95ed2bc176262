#include "experiments/attention/stream-decode/model.h"

#include <cmath>

#include "experiments/attention/common/half.h"
#include "experiments/attention/common/rng.h"

namespace attn::stream {
namespace {

constexpr double kNormGainStddev = 0.1;
// The CUDA kernels tile d_model and ffn by 128 columns and give each head 64 dimensions.
constexpr int kGpuHeadDim = 64;
constexpr int kGpuWidthMultiple = 128;
constexpr int kGpuMaxWidth = 16384;

std::vector<uint16_t> Normal(Rng& rng, int64_t count, double mean, double stddev) {
  std::vector<uint16_t> out(static_cast<size_t>(count));
  for (auto& v : out) v = FloatToHalfBits(static_cast<float>(mean + stddev * rng.Normal()));
  return out;
}

}  // namespace

bool PresetConfig(const std::string& name, ModelConfig* config) {
  ModelConfig c;
  if (name == "small") {
    c.layers = 4, c.d_model = 1024, c.heads = 16, c.ffn = 4096, c.vocab = 32000;
  } else if (name == "tiny") {
    c.layers = 2, c.d_model = 128, c.heads = 2, c.ffn = 512, c.vocab = 512;
  } else {
    return false;
  }
  *config = c;
  return true;
}

std::string ValidateConfig(const ModelConfig& c) {
  if (c.layers < 1) return "layers is " + std::to_string(c.layers) + "; accepted: >= 1";
  if (c.heads < 1 || c.d_model % c.heads != 0) {
    return "d_model " + std::to_string(c.d_model) + " is not a multiple of heads " +
           std::to_string(c.heads) + "; accepted: d_model = heads x head_dim";
  }
  if (c.head_dim() % 2 != 0) {
    return "head_dim " + std::to_string(c.head_dim()) +
           " is odd; accepted: even (RoPE rotates pairs)";
  }
  if (c.ffn < 1) return "ffn is " + std::to_string(c.ffn) + "; accepted: >= 1";
  if (c.vocab < 2) return "vocab is " + std::to_string(c.vocab) + "; accepted: >= 2";
  return "";
}

std::string ValidateConfigForGpu(const ModelConfig& c) {
  if (std::string e = ValidateConfig(c); !e.empty()) return e;
  if (c.head_dim() != kGpuHeadDim) {
    return "head_dim (d_model / heads) is " + std::to_string(c.head_dim()) +
           "; the CUDA kernels accept 64";
  }
  if (c.d_model % kGpuWidthMultiple != 0 || c.ffn % kGpuWidthMultiple != 0) {
    return "d_model " + std::to_string(c.d_model) + " and ffn " + std::to_string(c.ffn) +
           " must be multiples of 128 for the CUDA GEMM tiles";
  }
  if (c.d_model > kGpuMaxWidth || c.ffn > kGpuMaxWidth) {
    return "d_model " + std::to_string(c.d_model) + " and ffn " + std::to_string(c.ffn) +
           " must be <= 16384: the decode GEMV stages its input row in 48 KiB of shared memory";
  }
  return "";
}

ModelWeights InitWeights(const ModelConfig& c, uint64_t seed) {
  Rng rng(seed);
  const int64_t d = c.d_model;
  ModelWeights w;
  w.config = c;
  w.embed = Normal(rng, c.vocab * d, 0.0, 1.0);
  for (int l = 0; l < c.layers; ++l) {
    LayerWeights lw;
    lw.attn_norm = Normal(rng, d, 1.0, kNormGainStddev);
    lw.wqkv = Normal(rng, 3 * d * d, 0.0, 1.0 / std::sqrt(static_cast<double>(d)));
    lw.wo = Normal(rng, d * d, 0.0, 1.0 / std::sqrt(static_cast<double>(d)));
    lw.mlp_norm = Normal(rng, d, 1.0, kNormGainStddev);
    lw.w_up = Normal(rng, c.ffn * d, 0.0, 1.0 / std::sqrt(static_cast<double>(d)));
    lw.w_down = Normal(rng, d * c.ffn, 0.0, 1.0 / std::sqrt(static_cast<double>(c.ffn)));
    w.layers.push_back(std::move(lw));
  }
  w.final_norm = Normal(rng, d, 1.0, kNormGainStddev);
  w.lm_head = Normal(rng, c.vocab * d, 0.0, 1.0 / std::sqrt(static_cast<double>(d)));
  return w;
}

int64_t ParameterCount(const ModelConfig& c) {
  const int64_t d = c.d_model;
  const int64_t per_layer = 2 * d + 4 * d * d + 2 * d * c.ffn;
  return 2 * c.vocab * d + c.layers * per_layer + d;
}

std::vector<float> RopeTable(int head_dim, int max_positions, float base) {
  const int pairs = head_dim / 2;
  std::vector<float> table(static_cast<size_t>(max_positions) * pairs * 2);
  for (int pos = 0; pos < max_positions; ++pos) {
    for (int i = 0; i < pairs; ++i) {
      const double angle = pos * std::pow(static_cast<double>(base), -2.0 * i / head_dim);
      const size_t at = (static_cast<size_t>(pos) * pairs + i) * 2;
      table[at] = static_cast<float>(std::cos(angle));
      table[at + 1] = static_cast<float>(std::sin(angle));
    }
  }
  return table;
}

namespace {

// Weights of the layer stack (everything but the embedding and the head), in parameters.
double LayerParameters(const ModelConfig& c) {
  const double d = c.d_model;
  return c.layers * (4 * d * d + 2 * d * c.ffn);
}

}  // namespace

TokenWork DecodeWork(const ModelConfig& c, int sinks, int window) {
  const double d = c.d_model, cached = sinks + window;
  TokenWork w;
  w.linear_flops = 2 * (LayerParameters(c) + c.vocab * d);
  w.attention_flops = c.layers * 4.0 * cached * d;  // QK^T and PV over every cached token
  w.weight_bytes = 2 * (LayerParameters(c) + c.vocab * d + (2 * c.layers + 1) * d) + 2 * d;
  w.kv_bytes = c.layers * 2.0 * cached * d * 2;  // K and V, fp16
  return w;
}

TokenWork RecomputeWork(const ModelConfig& c, int window) {
  const double d = c.d_model, rows = window;
  TokenWork w;
  w.linear_flops = 2 * (rows * LayerParameters(c) + c.vocab * d);
  w.attention_flops = c.layers * 4.0 * d * (rows * (rows + 1) / 2);  // causal pairs
  w.weight_bytes = 2 * (LayerParameters(c) + c.vocab * d + (2 * c.layers + 1) * d) + 2 * rows * d;
  w.kv_bytes = c.layers * 2.0 * rows * d * 2;  // the window's K and V, written and read once
  return w;
}

}  // namespace attn::stream
