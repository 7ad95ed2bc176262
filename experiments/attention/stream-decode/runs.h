// The runs of stream-decode that need no GPU, and the JSON shape that the CPU and the GPU runs
// share: option resolution, the config block, the CPU benchmark and self-check, and the summary.
//
// A benchmark result is one object per window; Summarise turns the list into the headline
// figures (per-token times, speedups, the speedup at window 2048). Thread-safety: pure functions
// of their arguments; a run uses the calling thread only.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "experiments/attention/common/stats.h"
#include "experiments/attention/stream-decode/model.h"
#include "experiments/attention/stream-decode/run_options.h"

namespace attn::stream {

// Resolves the preset and the default windows and validates the model (for the GPU when
// `options->on_gpu`). Returns "" or what is wrong, naming the flag.
std::string ResolveOptions(const ModelOverrides& overrides, RunOptions* options);

std::vector<int> PresetWindows(const std::string& preset);

nlohmann::json ModelJson(const ModelConfig& c);
nlohmann::json ConfigJson(const RunOptions& o);

// GPU (or fp32) logits against the fp16-rounded reference: {"rel_l2", "max_abs", "non_finite"}.
nlohmann::json ErrorJson(const ErrorStats& e);
ErrorStats CompareLogits(std::span<const float> got, std::span<const float> ref);

// Summary of benchmark results (objects with "window", "sink_window": {"ms_per_token"},
// "recompute": {"ms_per_token"}):
//   {"sink_window_ms_per_token": {"<W>": ms}, "recompute_ms_per_token": {"<W>": ms},
//    "speedup": {"<W>": x}, "speedup_w2048": x or null, "speedup_min", "speedup_max",
//    "speedup_max_window"}.
nlohmann::json Summarise(const nlohmann::json& results);

// The document every run returns.
nlohmann::json Document(const nlohmann::json& device, const RunOptions& o, nlohmann::json results,
                        nlohmann::json summary);

// The CPU reference timed per token at each window (--device cpu).
nlohmann::json RunCpuBenchmark(const RunOptions& o);
// --check --device cpu: the reference's own consistency (sink + window with nothing evicted
// equals full attention; decode equals re-computation on the same tokens; after eviction a
// one-layer model's decode equals a prefill over the cache contents at cache positions).
// Throws std::runtime_error when a case fails.
nlohmann::json RunCpuCheck(const RunOptions& o);

// The seeded token stream the runs start from.
std::vector<int32_t> SeededTokens(uint64_t seed, int count, int vocab);

}  // namespace attn::stream
