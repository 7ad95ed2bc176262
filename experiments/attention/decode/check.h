// The correctness check behind --check of kv-paged and kv-gqa: the decode kernels at small sizes
// on fresh seeded inputs against the CPU reference (decode.h), for each layout, head dim and
// group size, with sequence lengths and split lengths that are not multiples of the tile, the
// block or each other. Outputs and workspace are poisoned (NaN) first, K/V past a sequence's
// end and unused pool blocks hold NaN, so an element not written or a row wrongly read fails.
// Not thread-safe (uses the current device).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiments/attention/decode/split_plan.h"

namespace attn::decode {

enum class CheckBackend {
  kGpu,  // kernels vs the CPU reference on the contiguous layout
  kCpu,  // CPU reference through the paged layout vs the same on the contiguous layout
};

struct CheckCase {
  std::string layout;  // "contiguous" | "paged"
  int32_t head_dim = 128;
  int32_t group = 1;
  int32_t n_kv_heads = 2;
  std::vector<int32_t> seq_lens;
  int32_t block_size = 16;
  int32_t tokens_per_split = 0;  // requested; 0: the device's plan
  float q_scale = 1.0f;          // 4: peaked softmax
  // Filled by RunChecks:
  SplitPlan plan;
  double rel_l2 = 0;
  double max_abs = 0;
  double p_rounding_rel_l2 = 0;  // fp16-probability error of the CPU emulation: the baseline
  bool passed = false;
};

struct CheckReport {
  std::vector<CheckCase> cases;
  double bound = 0;
  double worst_rel_l2 = 0;
  double worst_p_rounding_rel_l2 = 0;
  bool passed = false;
};

// The cases for these group sizes (n_q_heads = group x 2 KV heads). The CPU backend runs the
// paged cases only (a contiguous case would compare the reference with itself).
std::vector<CheckCase> CheckCases(std::span<const int32_t> groups, CheckBackend backend);

// Runs `cases` (seeded by `seed`); passes when every case's rel-L2 error is within kRelL2Bound
// (the CPU backend: exactly 0) and finite. Throws std::runtime_error only on a CUDA failure.
CheckReport RunChecks(std::vector<CheckCase> cases, CheckBackend backend, uint64_t seed);

// {"bound", "passed", "worst_rel_l2", "worst_p_rounding_rel_l2", "cases": [...]}
nlohmann::json CheckReportJson(const CheckReport& report);

// The one-line reason a failed report failed, naming the worst case.
std::string CheckFailure(const CheckReport& report);

// The --check mode of the decode programs (kv-paged, kv-gqa): the cases for group sizes 1, 4, 32
// and `groups` on `backend`; throws std::runtime_error(CheckFailure) when one fails, else sets
// `doc["results"]` to the cases and `doc["summary"]` to check_passed, check_backend, check_cases,
// check_bound, check_worst_rel_l2 and check_worst_p_rounding_rel_l2.
void RunCheckInto(std::span<const int32_t> groups, CheckBackend backend, uint64_t seed, nlohmann::json& doc);

}  // namespace attn::decode
