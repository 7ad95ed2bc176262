// attn-fwd's measurement records and the arithmetic on them that needs no GPU: which rows are
// checked against the float64 reference, error measures, error bounds, the per-case JSON and the
// summary (speed-ups, memory ratios, memory growth exponents, the issue's benchmark shape).
//
// Invariants:
//  1. A case is (shape, dtype, variant); a skipped case carries its reason and no figures.
//  2. Errors compare the stored output (rounded to the input type) with the float64 reference of
//     the same rounded inputs: every row at small sizes, a seeded sample of rows otherwise.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "experiments/attention/attn-fwd/attention_cpu.h"
#include "experiments/attention/common/stats.h"

namespace attn::fwd {

// Bound on the relative L2 error of the output: the input type's machine epsilon (fp16 2^-10,
// bf16 2^-7). Rounding the exact output to the type alone costs about eps/(2*sqrt(3)) relative
// L2; rounding P before P.V adds less than that again, so a correct kernel sits near a third of
// the bound and an indexing or masking error lands orders of magnitude above it.
double RelL2Bound(DType dtype);

// Bound on the absolute error of the tiled kernel's log-sum-exp (fp32 throughout): 1e-3 is
// several hundred fp32 ulps of the values seen here (|lse| < 16) and far below a dropped tile.
inline constexpr double kLseBound = 1e-3;

struct RowSample {
  int64_t bh = 0;
  int64_t row = 0;
};

// The float64 reference for the rows that will be checked.
struct ReferenceRows {
  bool full = false;            // every row (then `rows` is empty and `out` is [bh][seq][d])
  std::vector<RowSample> rows;  // otherwise the sampled rows, `out` is [sample][d]
  std::vector<float> out;
  std::vector<float> lse;
};

// Every row when batch_heads*seq*seq*head_dim <= full_limit, else `samples` rows: the first and
// last row of the first and last head (mask and sequence-end edges) and seeded random ones.
ReferenceRows ComputeReference(const Inputs& in, double full_limit, int samples, uint64_t seed);

// `got` is the whole output as floats, [bh][seq][d]; only the reference's rows are compared.
ErrorStats CompareWithReference(const ReferenceRows& ref, const Shape& shape,
                                std::span<const float> got);
// Max |lse_got - lse_ref| over the reference's rows; infinity if a value is not finite.
double LseMaxAbsError(const ReferenceRows& ref, const Shape& shape, std::span<const float> got_lse);

struct CaseResult {
  Shape shape;
  DType dtype = DType::kF16;
  Variant variant = Variant::kTiled;
  std::string
      layout;  // tiled kernel: block shape, "warps x rows per warp / keys per tile / stages"
  bool skipped = false;
  std::string skip_reason;
  double median_ms = 0, min_ms = 0, max_ms = 0;
  int reps = 0;
  int64_t extra_bytes_computed = 0;
  int64_t extra_bytes_measured =
      -1;                            // cudaMemGetInfo delta across the allocation; -1: not measured
  int64_t peak_bytes_measured = -1;  // Q, K, V, O and the extra memory, measured the same way
  ErrorStats error;
  bool full_check = false;
  int64_t rows_checked = 0;
  double lse_max_abs = -1;  // tiled only; -1: not checked
  bool within_bound = false;

  double Tflops() const;
};

// Marks `c.within_bound` from its errors and the bounds above.
void ApplyBounds(CaseResult& c);

nlohmann::json CaseJson(const CaseResult& c);

// Least-squares slope of log(bytes) over log(seq): 2 for memory quadratic in the sequence, 1 for
// linear, 0 for constant. NaN with fewer than two distinct sequence lengths or a non-positive size.
double GrowthExponent(const std::vector<std::pair<int64_t, int64_t>>& seq_bytes);

// The issue's benchmark shape: fp16, head dim 128, sequence 4096, batch*heads 32, non-causal.
bool IsIssueShape(const Shape& s, DType dtype);

// The headline figures (see README.md, "JSON"). Fields for one mask; the run's non-causal
// results lead, causal ones follow under "causal" when both ran.
nlohmann::json Summarise(const std::vector<CaseResult>& results);

}  // namespace attn::fwd
