// GPU side of kv-quant, declared in plain C++17 so that main.cc compiles without the CUDA
// toolkit. Implemented by gpu_decode.cu, built and linked only when nvcc is found
// (AHUB_HAVE_CUDA); call nothing here otherwise.
//
// Both runs do the same: upload `heads` heads (head h is a copy of caches[h % caches.size()]),
// poison the output, run the decode (split kernel + combine kernel) once, download the output
// and hand it to the options' check, then, if asked, time it with CUDA events. Device memory is
// freed before returning. Supported: head_dim 128; KIVI group sizes 32, 64, 128, keys per channel;
// any lengths >= 1. Errors: CUDA failures and unsupported inputs throw std::runtime_error naming
// the call/place. Thread-safety: uses the calling thread's current device.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace attn::kvquant {

// One head's packed KIVI cache in host memory, in the layout of layout.h.
struct KiviHeadView {
  const uint32_t* key_codes = nullptr;       // [quantized][head_dim / 16]
  const uint16_t* key_params = nullptr;      // [quantized / G][head_dim][2]
  const uint32_t* value_codes = nullptr;     // [quantized][head_dim / 16]
  const uint16_t* value_params = nullptr;    // [quantized][head_dim / G][2]
  const uint16_t* key_residual = nullptr;    // [residual][head_dim]
  const uint16_t* value_residual = nullptr;  // [residual][head_dim]
};

struct KiviBatchView {
  int head_dim = 0;
  int group_size = 0;
  int64_t quantized = 0;  // tokens, the same for every head
  int64_t residual = 0;
  std::vector<KiviHeadView> caches;
};

// One head's fp16 keys and values in host memory, [tokens][head_dim] each.
struct Fp16HeadView {
  const uint16_t* k = nullptr;
  const uint16_t* v = nullptr;
};

struct Fp16BatchView {
  int head_dim = 0;
  int64_t tokens = 0;
  std::vector<Fp16HeadView> caches;
};

struct GpuRunOptions {
  bool time = false;
  int warmup = 3;
  int reps = 20;
  // Called with the first run's output before anything is timed; it throws to stop the run
  // (a benchmark checks its output before it times anything). May be empty.
  std::function<void(const std::vector<float>& output)> check_before_timing;
};

struct GpuDecodeResult {
  std::vector<float> output;  // [heads][head_dim]
  int splits = 0;             // thread blocks per head in the split kernel
  int64_t bytes_read = 0;     // cache + query bytes the split kernel reads, all heads
  int64_t device_bytes = 0;   // device memory the cache copies took, all heads
  bool timed = false;
  double median_ms = 0;
  double min_ms = 0;
  double max_ms = 0;
  int reps = 0;
};

// "" if the kernels are built for this shape, else why not and what is accepted.
std::string KiviGpuSupports(int head_dim, int group_size);

// `queries`: [heads][head_dim] fp16 bits.
GpuDecodeResult RunFp16DecodeGpu(const Fp16BatchView& batch, int64_t heads,
                                 const std::vector<uint16_t>& queries,
                                 const GpuRunOptions& options);
GpuDecodeResult RunKiviDecodeGpu(const KiviBatchView& batch, int64_t heads,
                                 const std::vector<uint16_t>& queries,
                                 const GpuRunOptions& options);

}  // namespace attn::kvquant
