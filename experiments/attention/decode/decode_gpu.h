// Decode attention on the GPU, from plain C++: run the kernels once on host inputs (for the
// correctness checks) or benchmark them on device-generated inputs of any size.
//
// Implemented by decode_gpu.cu when the build has CUDA, by decode_gpu_none.cc otherwise (every
// call then throws std::runtime_error saying so). Failures (no device, a CUDA error, inputs that
// break decode.h's invariants, a failed spot check) throw std::runtime_error naming the place.
// Thread-safety: uses the calling thread's current device and the default stream.
//
// The kernel (see decode_gpu.cu): one thread block per (split, KV head, sequence) streams that
// range of K and V through shared memory (cp.async, 16-byte chunks, 3 stages of 64 tokens) and
// computes all query heads of the KV head's group with tensor-core mma (fp16 in, fp32
// accumulate), so each K/V byte is read once per KV head. A second kernel combines the splits.
// Head dims 64 and 128; groups up to 32; paged block sizes a power of two.
#pragma once

#include <cstdint>
#include <vector>

#include "experiments/attention/decode/decode.h"
#include "experiments/attention/decode/split_plan.h"

namespace attn::decode {

struct GpuDecodeResult {
  std::vector<float> out;  // [batch][n_q_heads][head_dim]
  SplitPlan plan;
  int32_t blocks_per_sm = 0;  // resident thread blocks per SM (occupancy)
};

// Uploads, runs one decode step with poisoned (NaN) output and workspace, downloads.
// tokens_per_split 0: ChooseSplitPlan for this device; else FixedSplitPlan.
GpuDecodeResult DecodeOnGpu(const DecodeInputs& in, const ContiguousCache& cache,
                            int32_t tokens_per_split = 0);
GpuDecodeResult DecodeOnGpu(const DecodeInputs& in, const PagedCache& cache,
                            int32_t tokens_per_split = 0);

struct BenchSpec {
  DecodeShape shape;
  int32_t context = 0;  // every sequence's length
  bool time_contiguous = true;
  bool time_paged = true;
  int32_t block_size = 16;
  // Paged: [batch][max_blocks_per_seq] ids into a pool of num_blocks, e.g. from the kv-paged
  // allocator; empty: MakeScatteredTables with `seed`.
  std::vector<int32_t> block_tables;
  int32_t max_blocks_per_seq = 0;
  int32_t num_blocks = 0;
  uint64_t seed = 1;
  int warmup = 5;
  int reps = 20;
  int32_t tokens_per_split = 0;  // 0: ChooseSplitPlan
  // (sequence, KV head) pairs compared with the CPU reference before anything is timed.
  int spot_checks = 2;
};

struct LayoutBench {
  bool ran = false;
  SplitPlan plan;
  int64_t thread_blocks = 0;  // of the split kernel
  int32_t blocks_per_sm = 0;
  // Copies of the cache the timed launches rotate through, so that consecutive steps do not
  // find the previous step's K/V in L2 (at least 3 x L2 bytes in all).
  int32_t instances = 1;
  // Per step: each of `reps` timed samples runs `steps_per_sample` back-to-back steps (enough
  // for 256 MiB of K+V, at most 64) and counts as its time / steps_per_sample.
  double median_ms = 0, min_ms = 0, max_ms = 0;
  int reps = 0;
  int steps_per_sample = 1;
  int64_t bytes_read = 0;  // K + V + q + out (+ the block-table entries the paged kernel reads)
  double spot_rel_l2 = 0;  // worst over the spot checks
  double spot_max_abs = 0;
};

struct BenchResult {
  LayoutBench contiguous, paged;
  int64_t kv_bytes = 0;
  // Both layouts ran on the same values: their outputs agree bit for bit when their split plans
  // are equal (the arithmetic is then identical); max |difference| either way.
  bool outputs_identical = false;
  double max_abs_difference = 0;
  double check_bound = 0;  // the rel-L2 bound the spot checks passed
};

BenchResult BenchDecode(const BenchSpec& spec);

// The rel-L2 error bound of the checks (fp16 inputs, probabilities rounded to fp16 for the
// P V product, fp32 accumulation). On the check inputs the rounding of P alone costs 2e-5 to
// 2e-4 (reported per case as p_rounding_rel_l2); a kernel that reads a wrong row, mask or
// block is off by 1e-1 or more.
inline constexpr double kRelL2Bound = 1e-3;

}  // namespace attn::decode
