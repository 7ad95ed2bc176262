#include "experiments/attention/decode/check.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "experiments/attention/common/stats.h"
#include "experiments/attention/decode/decode.h"
#include "experiments/attention/decode/decode_gpu.h"

namespace attn::decode {
namespace {

// Lengths that are not multiples of the 64-token tile, of 16-token blocks or of the forced
// split lengths below; one sequence of a single token.
const std::vector<int32_t> kLengths = {1237, 1, 515};
// Forced split lengths: 64 (one tile), 100 (splits start mid-tile and mid-block), 4096 (one
// split: the thread block writes the output itself, no combine).
const int32_t kForcedSplits[] = {64, 100, 4096};

std::string Describe(const CheckCase& c) {
  std::string lens;
  for (int32_t l : c.seq_lens) lens += (lens.empty() ? "" : ",") + std::to_string(l);
  return c.layout + " d=" + std::to_string(c.head_dim) + " group=" + std::to_string(c.group) +
         " lens=" + lens + " block=" + std::to_string(c.block_size) +
         " split=" + std::to_string(c.plan.tokens_per_split) + "x" +
         std::to_string(c.plan.num_splits) + " q_scale=" + std::to_string(c.q_scale);
}

}  // namespace

std::vector<CheckCase> CheckCases(std::span<const int32_t> groups, CheckBackend backend) {
  std::vector<CheckCase> cases;
  auto add = [&](const std::string& layout, int32_t d, int32_t g, std::vector<int32_t> lens,
                 int32_t block, int32_t split, float q_scale) {
    if (backend == CheckBackend::kCpu && (layout != "paged" || split != 0)) return;
    CheckCase c;
    c.layout = layout;
    c.head_dim = d;
    c.group = g;
    c.seq_lens = std::move(lens);
    c.block_size = block;
    c.tokens_per_split = split;
    c.q_scale = q_scale;
    cases.push_back(std::move(c));
  };
  for (int32_t d : {128, 64}) {
    for (int32_t g : groups) {
      for (const char* layout : {"contiguous", "paged"}) {
        add(layout, d, g, kLengths, 16, 0, 1.0f);
        for (int32_t split : kForcedSplits) add(layout, d, g, kLengths, 16, split, 1.0f);
      }
    }
  }
  for (int32_t g : groups) add("paged", 128, g, kLengths, 16, 0, 4.0f);  // peaked softmax
  if (!groups.empty()) {
    // Other block sizes, and an empty sequence beside short ones.
    add("paged", 128, groups.front(), kLengths, 8, 100, 1.0f);
    add("paged", 128, groups.front(), kLengths, 32, 100, 1.0f);
    add("paged", 128, groups.front(), kLengths, 32, 0, 1.0f);
    for (const char* layout : {"contiguous", "paged"}) {
      for (int32_t split : {64, 4096})
        add(layout, 128, groups.back(), {0, 77, 300}, 16, split, 1.0f);
    }
  }
  return cases;
}

CheckReport RunChecks(std::vector<CheckCase> cases, CheckBackend backend, uint64_t seed) {
  CheckReport report;
  report.bound = backend == CheckBackend::kGpu ? kRelL2Bound : 0.0;
  report.passed = true;
  uint64_t case_seed = seed;
  for (CheckCase& c : cases) {
    ++case_seed;
    DecodeShape shape;
    shape.batch = static_cast<int32_t>(c.seq_lens.size());
    shape.n_kv_heads = c.n_kv_heads;
    shape.n_q_heads = c.group * c.n_kv_heads;
    shape.head_dim = c.head_dim;
    const int32_t longest = std::max(1, *std::max_element(c.seq_lens.begin(), c.seq_lens.end()));
    const DecodeInputs in = RandomInputs(shape, c.seq_lens, case_seed, c.q_scale);
    const ContiguousCache contiguous = RandomContiguousCache(shape, c.seq_lens, longest, case_seed);
    const std::vector<float> ref = DecodeReference(in, contiguous);
    const std::vector<float> rounded = DecodeReference(in, contiguous, /*round_p=*/true);
    c.p_rounding_rel_l2 = Compare(rounded, ref).rel_l2;

    std::vector<float> got;
    if (c.layout == "paged") {
      const ScatteredTables tables = MakeScatteredTables(c.seq_lens, c.block_size, 3, case_seed);
      const PagedCache paged = ToPaged(shape, c.seq_lens, contiguous, c.block_size, tables);
      if (backend == CheckBackend::kGpu) {
        GpuDecodeResult r = DecodeOnGpu(in, paged, c.tokens_per_split);
        got = std::move(r.out);
        c.plan = r.plan;
      } else {
        got = DecodeReference(in, paged);
      }
    } else {
      GpuDecodeResult r = DecodeOnGpu(in, contiguous, c.tokens_per_split);
      got = std::move(r.out);
      c.plan = r.plan;
    }
    const ErrorStats e = Compare(got, ref);
    c.rel_l2 = e.rel_l2;
    c.max_abs = e.max_abs;
    c.passed = e.non_finite == 0 && e.rel_l2 <= report.bound;
    report.passed = report.passed && c.passed;
    report.worst_rel_l2 = std::max(report.worst_rel_l2, c.rel_l2);
    report.worst_p_rounding_rel_l2 = std::max(report.worst_p_rounding_rel_l2, c.p_rounding_rel_l2);
  }
  report.cases = std::move(cases);
  return report;
}

nlohmann::json CheckReportJson(const CheckReport& report) {
  nlohmann::json cases = nlohmann::json::array();
  for (const CheckCase& c : report.cases) {
    cases.push_back({{"layout", c.layout},
                     {"head_dim", c.head_dim},
                     {"group", c.group},
                     {"n_kv_heads", c.n_kv_heads},
                     {"seq_lens", c.seq_lens},
                     {"block_size", c.block_size},
                     {"tokens_per_split", c.plan.tokens_per_split},
                     {"num_splits", c.plan.num_splits},
                     {"q_scale", c.q_scale},
                     {"rel_l2", c.rel_l2},
                     {"max_abs", c.max_abs},
                     {"p_rounding_rel_l2", c.p_rounding_rel_l2},
                     {"passed", c.passed}});
  }
  return {{"bound", report.bound},
          {"passed", report.passed},
          {"worst_rel_l2", report.worst_rel_l2},
          {"worst_p_rounding_rel_l2", report.worst_p_rounding_rel_l2},
          {"cases", cases}};
}

void RunCheckInto(std::span<const int32_t> groups, CheckBackend backend, uint64_t seed, nlohmann::json& doc) {
  std::set<int32_t> all = {1, 4, 32};
  all.insert(groups.begin(), groups.end());
  const std::vector<int32_t> sizes(all.begin(), all.end());
  const CheckReport report = RunChecks(CheckCases(sizes, backend), backend, seed);
  if (!report.passed) throw std::runtime_error(CheckFailure(report));
  doc["results"] = CheckReportJson(report)["cases"];
  doc["summary"] = {{"check_passed", true},
                    {"check_backend", backend == CheckBackend::kGpu ? "gpu" : "cpu"},
                    {"check_cases", report.cases.size()},
                    {"check_bound", report.bound},
                    {"check_worst_rel_l2", report.worst_rel_l2},
                    {"check_worst_p_rounding_rel_l2", report.worst_p_rounding_rel_l2}};
}

std::string CheckFailure(const CheckReport& report) {
  const CheckCase* worst = nullptr;
  int failed = 0;
  for (const CheckCase& c : report.cases) {
    if (c.passed) continue;
    ++failed;
    if (worst == nullptr || !(c.rel_l2 <= worst->rel_l2)) worst = &c;
  }
  if (worst == nullptr) return "";
  return "check failed: " + std::to_string(failed) + " of " + std::to_string(report.cases.size()) +
         " cases beyond the rel-L2 bound " + std::to_string(report.bound) + "; worst " +
         Describe(*worst) + ": rel L2 " + std::to_string(worst->rel_l2) + ", max abs " +
         std::to_string(worst->max_abs);
}

}  // namespace attn::decode
