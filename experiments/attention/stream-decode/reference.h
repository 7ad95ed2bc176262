// CPU reference of the model's two ways to produce a token: one decode step against a KV cache
// (the sink + window method, and plain full attention when nothing is evicted), and the
// re-computation step of the sliding-window baseline (a causal prefill of the window).
//
// The arithmetic is fp32; with `round_to_fp16` every activation the CUDA path stores in fp16 is
// rounded at the same point (normalised inputs, projections, attention outputs, the residual
// stream), so the GPU is compared with what it should have computed from the same fp16 inputs.
// Without rounding the reference measures the fp16 pipeline's own error.
// Thread-safety: a ReferenceModel is immutable after construction and may be shared; the
// decoders own mutable caches and are used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "experiments/attention/stream-decode/model.h"
#include "experiments/attention/stream-decode/sink_window_cache.h"

namespace attn::stream {

// Raw (un-rotated) K and V of every layer, one d_model row per slot. StreamingLLM keeps keys
// before RoPE and rotates them by their current cache position at each step.
struct KvCache {
  KvCache(const ModelConfig& config, int slots);
  float* K(int layer, int slot) {
    return &k[static_cast<size_t>(layer)][static_cast<size_t>(slot) * d_model];
  }
  float* V(int layer, int slot) {
    return &v[static_cast<size_t>(layer)][static_cast<size_t>(slot) * d_model];
  }
  const float* K(int layer, int slot) const {
    return &k[static_cast<size_t>(layer)][static_cast<size_t>(slot) * d_model];
  }
  const float* V(int layer, int slot) const {
    return &v[static_cast<size_t>(layer)][static_cast<size_t>(slot) * d_model];
  }

  int slots;
  int d_model;
  std::vector<std::vector<float>> k, v;  // [layer][slot * d_model + channel]
};

class ReferenceModel {
 public:
  // Positions (RoPE) must stay below `max_positions`.
  ReferenceModel(const ModelWeights& weights, int max_positions, bool round_to_fp16 = true);

  const ModelConfig& config() const { return config_; }

  // One decode step: runs `token` through the stack, stores its raw K and V in `write_slot` of
  // `cache`, attends over every slot whose entry in `positions` is >= 0 (rotating its key to that
  // position) with the query at `query_position`, and returns the logits.
  std::vector<float> Decode(int32_t token, int write_slot, std::span<const int> positions,
                            int query_position, KvCache& cache) const;

  // A prefill of `tokens` at positions 0 .. n-1 with causal attention, every layer over every
  // row; returns the last token's logits.
  std::vector<float> Prefill(std::span<const int32_t> tokens) const;

 private:
  struct Layer {
    std::vector<float> attn_norm, wqkv, wo, mlp_norm, w_up, w_down;
  };
  float Act(float x) const;  // an activation as the CUDA path stores it
  void Norm(const float* x, const std::vector<float>& gain, float* out) const;
  void Rotate(float* head, int position) const;  // RoPE in place on one head's vector
  void Mlp(const Layer& layer, float* x) const;  // x += Wdown SiLU(Wup RMSNorm(x))
  std::vector<float> Logits(const float* x) const;

  ModelConfig config_;
  int max_positions_;
  bool round_;
  std::vector<float> rope_;
  std::vector<float> embed_, final_norm_, lm_head_;
  std::vector<Layer> layers_;
};

// Greedy choice; the lowest index wins a tie (as the GPU's argmax).
int32_t Argmax(std::span<const float> logits);

// StreamingLLM: `sinks` first tokens plus a window of the `window` most recent ones.
class StreamingDecoder {
 public:
  StreamingDecoder(const ReferenceModel& model, int sinks, int window);
  // Admits `token` (evicting the oldest window token when full) and returns its logits.
  std::vector<float> Step(int32_t token);
  const SinkWindowCache& cache() const { return cache_; }
  const KvCache& kv() const { return kv_; }

 private:
  const ReferenceModel& model_;
  SinkWindowCache cache_;
  KvCache kv_;
};

// Every token kept at its position in the stream: the dense attention that sink + window
// decoding must equal while nothing has been evicted.
class FullAttentionDecoder {
 public:
  FullAttentionDecoder(const ReferenceModel& model, int max_tokens);
  std::vector<float> Step(int32_t token);

 private:
  const ReferenceModel& model_;
  KvCache kv_;
  std::vector<int> positions_;
  int seen_ = 0;
};

// The baseline: keep the last `window` token ids, and for every new token rebuild their states
// with a prefill (positions 0 .. window-1) and take the last row's logits.
class RecomputeDecoder {
 public:
  RecomputeDecoder(const ReferenceModel& model, int window);
  std::vector<float> Step(int32_t token);
  const std::vector<int32_t>& window_tokens() const { return tokens_; }

 private:
  const ReferenceModel& model_;
  int window_;
  std::vector<int32_t> tokens_;  // oldest first
};

}  // namespace attn::stream
