// The CPU half of the kv-quant experiment: the workload (heads, queries), the caches per group
// size, and every figure that does not need a GPU (bytes, output error vs fp16, key
// reconstruction error per channel vs per token). main.cc adds the GPU runs and writes JSON.
//
// A benchmark batch has batch x heads heads; drawing and quantizing 32k tokens for each of them
// on one CPU core would take minutes, so `distinct` heads are drawn and head h reads distinct
// head h % distinct (the GPU still reads every head's own copy, so the bytes moved are real).
// Errors are measured on `eval` heads spread over the batch, each with its own query.
// Thread-safety: none needed; used from main() only.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "experiments/attention/common/stats.h"
#include "experiments/attention/kv-quant/kivi_cache.h"
#include "experiments/attention/kv-quant/workload.h"

namespace attn::kvquant {

struct WorkloadSpec {
  int64_t batch_heads = 1;
  int64_t tokens = 1;
  int head_dim = 128;
  int64_t distinct = 4;  // distinct K/V heads (capped at batch_heads)
  int64_t eval = 16;     // heads whose outputs the CPU reference computes (capped at batch_heads)
  OutlierSpec outliers;
  uint64_t seed = 1;
};

struct Workload {
  WorkloadSpec spec;
  std::vector<HeadInputs> distinct;  // head h reads distinct[h % distinct.size()]
  std::vector<uint16_t> queries;     // [batch_heads][head_dim], fp16 bits
  std::vector<int64_t> eval_heads;   // ascending; the first and the last head included

  const HeadKv& Kv(int64_t head) const {
    return distinct[static_cast<size_t>(head) % distinct.size()].kv;
  }
  std::span<const uint16_t> Query(int64_t head) const {
    return {queries.data() + head * spec.head_dim, static_cast<size_t>(spec.head_dim)};
  }
};

Workload MakeWorkload(const WorkloadSpec& spec);

// ReferenceDecode of the fp16 cache for every eval head, in eval_heads order.
std::vector<std::vector<float>> ReferenceFp16(const Workload& w);

// Everything the CPU measures for one KIVI configuration.
struct Evaluation {
  KiviConfig config;
  std::vector<KiviCache> caches;  // one per distinct head, keys per channel (what the kernel reads)
  int64_t quantized_tokens = 0;
  int64_t residual_tokens = 0;
  int64_t payload_bytes_per_head = 0;              // KiviCache::PayloadBytes at this context
  std::vector<std::vector<float>> reference_kivi;  // ReferenceDecode of the cache, per eval head
  ErrorStats kivi_vs_fp16;                         // over all eval heads' outputs
  ErrorStats per_token_keys_vs_fp16;               // the same with keys quantized per token
  double key_rel_l2_per_channel = 0;               // dequantized vs original keys, quantized prefix
  double key_rel_l2_per_token = 0;
  double value_rel_l2 = 0;
};

Evaluation Evaluate(const Workload& w, const KiviConfig& config,
                    const std::vector<std::vector<float>>& reference_fp16);

// Error of `got` against `ref`, both per eval head, taken over all values together.
ErrorStats CompareHeads(const std::vector<std::vector<float>>& got,
                        const std::vector<std::vector<float>>& ref);

// --check: kernel output vs the CPU reference on the same (dequantized) inputs must be within
// these bounds. The CPU model of the kernels' fp32 arithmetic (reference.h) stays below 4.2e-6
// (max_abs) and 2.2e-5 (rel_l2) on the check cases; the bounds leave 10x for the kernels' other
// summation order. rel_l2 is the looser one because diffuse attention averages values to
// outputs of ~0.05 rms while the folded value sums (p s code and p z) are each ~2 and cancel.
// Values are N(0, 1), so max_abs is 1e-5 of their range. A wrong code, scale, row, group or
// split changes outputs by the 2-bit error itself, 0.1 to 1 relative (the check's
// kivi_vs_fp16_reference), three orders of magnitude above the bounds.
inline constexpr double kCheckMaxAbs = 5e-5;
inline constexpr double kCheckRelL2 = 2e-4;

struct CheckCase {
  int group_size;
  int residual;
  int64_t tokens;
};

// Short contexts that reach every path: window only (partly filled), a prefix of one group,
// lengths that are not multiples of G, several quantized splits with a partial last one, no
// window at all, a window of two fp16 splits.
std::vector<CheckCase> CheckCases();

}  // namespace attn::kvquant
