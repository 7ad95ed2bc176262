// The randomly initialised decoder-only transformer that stream-decode runs: its configuration,
// its fp16 weights, the rotary-embedding table and the per-token work of the two decoding methods.
//
// The model is Llama-shaped: token embedding, `layers` blocks of
//   h += Wo . Attention(RoPE(Wq . RMSNorm(h)), RoPE(Wk . RMSNorm(h)), Wv . RMSNorm(h))
//   h += Wdown . SiLU(Wup . RMSNorm(h))
// then a final RMSNorm and the LM head. The MLP is the plain (non-gated) `d_model -> ffn ->
// d_model` form with SiLU. RoPE rotates consecutive pairs (2i, 2i+1) by pos * base^(-2i /
// head_dim), as in Meta's reference Llama code. Nothing is downloaded: the weights are drawn from
// attn::Rng and rounded to fp16, so a seed fixes the model on every platform. Thread-safety: plain
// values; the functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attn::stream {

struct ModelConfig {
  int layers = 4;
  int d_model = 1024;
  int heads = 16;
  int ffn = 4096;  // MLP hidden width
  int vocab = 32000;
  float rope_base = 10000.0f;
  float norm_eps = 1e-5f;

  int head_dim() const { return d_model / heads; }
};

// "small": the benchmark's model (4 layers, d_model 1024, 16 heads of 64, MLP 4096, vocab 32000,
// about 116 M parameters); "tiny": the check's and the CPU path's (2 layers, d_model 128, 2 heads
// of 64, MLP 512, vocab 512). False for an unknown name.
bool PresetConfig(const std::string& name, ModelConfig* config);

// "" when the configuration is usable by the CPU reference, else what is wrong and what is
// accepted.
std::string ValidateConfig(const ModelConfig& c);
// "" when the CUDA kernels also accept it (head_dim 64, widths in multiples of 128), else why not.
std::string ValidateConfigForGpu(const ModelConfig& c);

// fp16 weights as raw bits (common/half.h), row-major with the output dimension first: a linear
// layer y = W x with W of shape [out][in] is stored as out rows of `in` values.
struct LayerWeights {
  std::vector<uint16_t> attn_norm;  // [d_model] RMSNorm gain
  std::vector<uint16_t> wqkv;       // [3 * d_model][d_model]: Q rows, then K rows, then V rows
  std::vector<uint16_t> wo;         // [d_model][d_model]
  std::vector<uint16_t> mlp_norm;   // [d_model]
  std::vector<uint16_t> w_up;       // [ffn][d_model]
  std::vector<uint16_t> w_down;     // [d_model][ffn]
};

struct ModelWeights {
  ModelConfig config;
  std::vector<uint16_t> embed;  // [vocab][d_model]
  std::vector<LayerWeights> layers;
  std::vector<uint16_t> final_norm;  // [d_model]
  std::vector<uint16_t> lm_head;     // [vocab][d_model]
};

// Seeded init: embeddings N(0, 1); linear layers N(0, 1 / fan_in), so activations keep unit
// scale through the stack; norm gains 1 + N(0, 0.1^2), so a kernel that ignores them is caught.
ModelWeights InitWeights(const ModelConfig& config, uint64_t seed);

int64_t ParameterCount(const ModelConfig& c);

// cos and sin of pos * base^(-2i / head_dim) for pos < max_positions, i < head_dim / 2, laid out
// [pos][i][cos, sin] in fp32 (computed in double, then rounded). The CPU reference and the GPU
// kernels read this same table, so their rotations agree to the last bit of the inputs.
std::vector<float> RopeTable(int head_dim, int max_positions, float base);

// Work per generated token, counted the same way for both methods: FLOPs are 2 per
// multiply-add of the linear layers and of attention (QK^T and PV, causal pairs only); bytes
// are the weights read once plus the KV states the attention reads (fp16), i.e. the traffic a
// kernel cannot avoid, not what a particular kernel moves.
struct TokenWork {
  double linear_flops = 0;
  double attention_flops = 0;
  double weight_bytes = 0;
  double kv_bytes = 0;
};
// Sink + window decode: one token through the stack, attending over sinks + window cached tokens.
TokenWork DecodeWork(const ModelConfig& c, int sinks, int window);
// Sliding window with re-computation: a prefill of `window` tokens (all layers, all rows, causal),
// then the LM head for the last row.
TokenWork RecomputeWork(const ModelConfig& c, int window);

}  // namespace attn::stream
