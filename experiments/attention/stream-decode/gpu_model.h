// GpuStreamModel: the model's weights on the device and, for one (sinks, window)
// configuration, the state of a token stream: the index t of the current token, a ring of the
// last window + 1 token ids, the sink + window KV cache and the baseline's activations. A step
// (either method) consumes token t, writes the logits, appends their argmax as token t + 1 and
// advances t, all on the device, so a step captured once in a CUDA graph replays as the next
// token each time. The ring keeps window + 1 tokens so that the next token is written without
// overwriting the oldest token of the window being recomputed.
//
// Plain C++17 without CUDA types (the implementation, gpu_model.cu, is built only with CUDA).
// Thread-safety: one thread per object; it uses the calling thread's current CUDA device.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "experiments/attention/stream-decode/model.h"
#include "experiments/attention/stream-decode/run_options.h"

namespace attn::stream {

struct StepTiming {
  double median_ms = 0, min_ms = 0, max_ms = 0;  // one step per CUDA-event pair
  int reps = 0;
  double sustained_ms = 0;  // per step over `sustained_steps` steps launched back to back
  int sustained_steps = 0;
};

// Single kernels of a step, timed alone (milliseconds per call), to show where the time goes.
struct PartTiming {
  double attention_ms = 0;  // one layer's attention (decode: partial + combine; recompute: prefill)
  double gemm_ms = 0;  // recompute only: one layer's MLP up-projection (window x ffn x d_model)
};

class GpuStreamModel {
 public:
  // Uploads the weights. Every CUDA failure throws std::runtime_error naming the call and place.
  GpuStreamModel(const ModelWeights& weights, LaunchMode launch);
  ~GpuStreamModel();
  GpuStreamModel(const GpuStreamModel&) = delete;
  GpuStreamModel& operator=(const GpuStreamModel&) = delete;

  // (Re)allocates the per-window buffers; drops captured graphs. window >= 1, sinks >= 0.
  void Configure(int sinks, int window);

  // A new stream whose token 0 is `token`; the sink + window cache is empty.
  void StartStream(int32_t token);
  // Sink + window state after `seen` tokens: K and V ([layer][slot][d_model] fp16 bits, slots =
  // sinks + window, RoPE not applied) and the token to consume next (index `seen`).
  void SetDecodeState(const std::vector<uint16_t>& k, const std::vector<uint16_t>& v, int64_t seen,
                      int32_t next_token);
  // Baseline state: `tokens` are tokens t - window + 1 .. t (oldest first), t = `current`.
  void SetWindow(const std::vector<int32_t>& tokens, int64_t current);
  // Moves the current index without touching the ring or the cache (ring entries must be valid).
  void SetCurrentIndex(int64_t t);
  // Fills the activations and logits with NaN so anything a kernel fails to write shows.
  void PoisonScratch();

  // One token by `method` (the CUDA graph, captured on first use, or direct launches). The
  // recompute method needs t >= window - 1 (a full window).
  void Step(Method method);
  std::vector<float> Logits() const;
  int64_t CurrentIndex() const;
  int32_t TokenAt(int64_t index) const;  // from the ring: valid for the last window + 1 tokens

  StepTiming Time(Method method, int warmup, int reps, int sustained_steps);
  PartTiming TimeParts(Method method, int reps);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace attn::stream
