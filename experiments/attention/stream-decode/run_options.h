// The options of a stream-decode run and the constants its reports are judged by. Plain C++17
// (the CUDA sources include it). Plain values; safe to copy between threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "experiments/attention/stream-decode/model.h"

namespace attn::stream {

// GPU logits within this relative L2 distance of the fp16-rounded CPU reference pass. fp16
// activations alone move the logits by ~1e-3 (reported beside it as the pipeline's own error).
inline constexpr double kCheckBound = 1e-2;
// The window whose speedup the issue names ("an order of magnitude ... at window 2k").
inline constexpr int kHeadlineWindow = 2048;

enum class LaunchMode { kGraph, kStream };
enum class Method { kSinkWindow, kRecompute };

struct RunOptions {
  std::string preset = "auto";  // auto: small on the GPU, tiny on the CPU and for --check
  ModelConfig model;            // filled by ResolveOptions
  std::vector<int> windows;     // empty: the preset's
  int sinks = 4;
  int reps = 50;
  int warmup = 5;
  int sustained_steps = 100;  // back-to-back steps timed together (0: skip)
  uint64_t seed = 1;
  LaunchMode launch = LaunchMode::kGraph;
  bool check = false;
  bool on_gpu = true;
};

// Per-dimension overrides of the preset; 0 keeps the preset's value.
struct ModelOverrides {
  int layers = 0, d_model = 0, heads = 0, ffn = 0, vocab = 0;
};

}  // namespace attn::stream
