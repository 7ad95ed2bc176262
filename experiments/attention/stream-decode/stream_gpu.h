// The CUDA entry points of stream-decode, declared in plain C++ so main.cc compiles without
// the toolkit: main.cc calls them only #ifdef AHUB_HAVE_CUDA, and their definitions
// (gpu_runs.cc, over GpuStreamModel in gpu_model.cu) are built only with CUDA.
// Thread-safety: run from one thread; they use the current CUDA device.
#pragma once

#include <nlohmann/json.hpp>

#include "experiments/attention/common/gpu.h"
#include "experiments/attention/stream-decode/run_options.h"

namespace attn::stream {

// --check on the GPU: the tiny model's decode and recompute steps against the CPU reference.
// Throws std::runtime_error (with the errors) beyond kCheckBound.
nlohmann::json RunGpuCheck(const RunOptions& o, const GpuInfo& gpu);
// The benchmark: the check above first, then per window a full-size cross-check of the two
// methods on the same tokens and the per-token timings.
nlohmann::json RunGpuBenchmark(const RunOptions& o, const GpuInfo& gpu);

}  // namespace attn::stream
