#include "experiments/attention/attn-fwd/experiment.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "experiments/attention/common/rng.h"

namespace attn::fwd {
namespace {

using nlohmann::json;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// NaN and infinities become null: JSON has no such numbers.
json Number(double x) { return std::isfinite(x) ? json(x) : json(nullptr); }

// The sequence-length window of the issue's claim ("at sequence 2k-8k").
constexpr int64_t kClaimSeqMin = 2048;
constexpr int64_t kClaimSeqMax = 8192;

json GroupSummary(const std::vector<const CaseResult*>& cases) {
  std::map<int64_t, const CaseResult*> naive, tiled;
  json skipped = json::array();
  double max_abs = 0, max_rel = 0;
  bool within = true;
  for (const CaseResult* c : cases) {
    if (c->skipped) {
      skipped.push_back({{"seq", c->shape.seq},
                         {"variant", VariantName(c->variant)},
                         {"reason", c->skip_reason}});
      continue;
    }
    (c->variant == Variant::kNaive ? naive : tiled)[c->shape.seq] = c;
    max_abs = std::max(max_abs, c->error.max_abs);
    max_rel = std::max(max_rel, c->error.rel_l2);
    within = within && c->within_bound;
  }
  json tiled_tflops = json::object(), naive_tflops = json::object(), speedup = json::object();
  json mem_naive = json::object(), mem_tiled = json::object(), mem_ratio = json::object();
  double speedup_min = kInf, ratio_min = kInf;
  std::vector<std::pair<int64_t, int64_t>> naive_bytes, tiled_bytes, naive_measured, tiled_measured;
  for (const auto& [seq, c] : tiled) {
    tiled_tflops[std::to_string(seq)] = Number(c->Tflops());
    mem_tiled[std::to_string(seq)] = c->extra_bytes_computed;
    tiled_bytes.emplace_back(seq, c->extra_bytes_computed);
    if (c->extra_bytes_measured > 0) tiled_measured.emplace_back(seq, c->extra_bytes_measured);
  }
  for (const auto& [seq, c] : naive) {
    naive_tflops[std::to_string(seq)] = Number(c->Tflops());
    mem_naive[std::to_string(seq)] = c->extra_bytes_computed;
    naive_bytes.emplace_back(seq, c->extra_bytes_computed);
    if (c->extra_bytes_measured > 0) naive_measured.emplace_back(seq, c->extra_bytes_measured);
    const auto t = tiled.find(seq);
    if (t == tiled.end()) continue;
    const double s = c->median_ms / t->second->median_ms;
    const double r = static_cast<double>(c->extra_bytes_computed) /
                     static_cast<double>(t->second->extra_bytes_computed);
    speedup[std::to_string(seq)] = Number(s);
    mem_ratio[std::to_string(seq)] = Number(r);
    if (seq >= kClaimSeqMin && seq <= kClaimSeqMax) {
      speedup_min = std::min(speedup_min, s);
      ratio_min = std::min(ratio_min, r);
    }
  }
  const CaseResult& first = *cases.front();
  return {{"mask", first.shape.causal ? "causal" : "none"},
          {"dtype", DTypeName(first.dtype)},
          {"head_dim", first.shape.head_dim},
          {"batch_heads", first.shape.batch_heads},
          {"tiled_tflops", tiled_tflops},
          {"naive_tflops", naive_tflops},
          {"speedup_tiled_over_naive", speedup},
          {"speedup_min_2k_8k", Number(speedup_min)},
          {"extra_memory_bytes", {{"naive", mem_naive}, {"tiled", mem_tiled}}},
          {"extra_memory_ratio_naive_over_tiled", mem_ratio},
          {"extra_memory_ratio_min_2k_8k", Number(ratio_min)},
          {"memory_growth_exponent",
           {{"naive", Number(GrowthExponent(naive_bytes))},
            {"tiled", Number(GrowthExponent(tiled_bytes))}}},
          {"memory_growth_exponent_measured",
           {{"naive", Number(GrowthExponent(naive_measured))},
            {"tiled", Number(GrowthExponent(tiled_measured))}}},
          {"skipped", skipped},
          {"max_abs_error", Number(max_abs)},
          {"max_rel_l2_error", Number(max_rel)},
          {"errors_within_bound", within}};
}

}  // namespace

double RelL2Bound(DType dtype) {
  return dtype == DType::kF16 ? std::ldexp(1.0, -10) : std::ldexp(1.0, -7);
}

ReferenceRows ComputeReference(const Inputs& in, double full_limit, int samples, uint64_t seed) {
  const Shape& s = in.shape;
  ReferenceRows ref;
  const double work = static_cast<double>(s.batch_heads) * static_cast<double>(s.seq) *
                      static_cast<double>(s.seq) * static_cast<double>(s.head_dim);
  if (work <= full_limit) {
    ref.full = true;
    ref.out = ReferenceAttention(in, &ref.lse);
    return ref;
  }
  ref.rows = {{0, 0}, {0, s.seq - 1}, {s.batch_heads - 1, 0}, {s.batch_heads - 1, s.seq - 1}};
  Rng rng(seed ^ 0x5eed0f5a3d1e5ull);
  while (static_cast<int>(ref.rows.size()) < samples) {
    ref.rows.push_back({rng.Between(0, s.batch_heads - 1), rng.Between(0, s.seq - 1)});
  }
  const int64_t d = s.head_dim, count = static_cast<int64_t>(ref.rows.size());
  ref.out.resize(static_cast<size_t>(count * d));
  ref.lse.resize(static_cast<size_t>(count));
  ParallelFor(count, [&](int64_t begin, int64_t end) {
    std::vector<double> row(static_cast<size_t>(d));
    for (int64_t i = begin; i < end; ++i) {
      double lse = 0;
      ReferenceRow(in, ref.rows[i].bh, ref.rows[i].row, row.data(), &lse);
      for (int64_t c = 0; c < d; ++c) ref.out[i * d + c] = static_cast<float>(row[c]);
      ref.lse[i] = static_cast<float>(lse);
    }
  });
  return ref;
}

ErrorStats CompareWithReference(const ReferenceRows& ref, const Shape& shape,
                                std::span<const float> got) {
  if (ref.full) return Compare(got, ref.out);
  const int64_t d = shape.head_dim;
  std::vector<float> picked;
  picked.reserve(ref.out.size());
  for (const RowSample& r : ref.rows) {
    const int64_t at = (r.bh * shape.seq + r.row) * d;
    if (at + d > static_cast<int64_t>(got.size())) break;  // Compare counts the shortfall
    picked.insert(picked.end(), got.begin() + at, got.begin() + at + d);
  }
  return Compare(picked, ref.out);
}

double LseMaxAbsError(const ReferenceRows& ref, const Shape& shape,
                      std::span<const float> got_lse) {
  double worst = 0;
  auto one = [&](float got, float want) {
    if (!std::isfinite(got)) return kInf;
    return std::fabs(static_cast<double>(got) - want);
  };
  if (ref.full) {
    if (got_lse.size() != ref.lse.size()) return kInf;
    for (size_t i = 0; i < got_lse.size(); ++i)
      worst = std::max(worst, one(got_lse[i], ref.lse[i]));
    return worst;
  }
  for (size_t i = 0; i < ref.rows.size(); ++i) {
    const int64_t at = ref.rows[i].bh * shape.seq + ref.rows[i].row;
    if (at >= static_cast<int64_t>(got_lse.size())) return kInf;
    worst = std::max(worst, one(got_lse[at], ref.lse[i]));
  }
  return worst;
}

double CaseResult::Tflops() const {
  if (skipped || median_ms <= 0) return kNaN;
  return FlopCount(shape) / (median_ms * 1e-3) / 1e12;
}

void ApplyBounds(CaseResult& c) {
  c.within_bound = !c.skipped && c.error.non_finite == 0 && c.error.rel_l2 <= RelL2Bound(c.dtype) &&
                   (c.lse_max_abs < 0 || c.lse_max_abs <= kLseBound);
}

json CaseJson(const CaseResult& c) {
  json j = {{"seq", c.shape.seq},           {"batch_heads", c.shape.batch_heads},
            {"head_dim", c.shape.head_dim}, {"dtype", DTypeName(c.dtype)},
            {"causal", c.shape.causal},     {"variant", VariantName(c.variant)},
            {"skipped", c.skipped}};
  if (!c.layout.empty()) j["layout"] = c.layout;
  j["extra_memory_bytes"] = {
      {"computed", c.extra_bytes_computed},
      {"measured", c.extra_bytes_measured >= 0 ? json(c.extra_bytes_measured) : json(nullptr)}};
  if (c.skipped) {
    j["skip_reason"] = c.skip_reason;
    return j;
  }
  j["time_ms"] = {{"median", c.median_ms}, {"min", c.min_ms}, {"max", c.max_ms}, {"reps", c.reps}};
  j["flops"] = FlopCount(c.shape);
  j["tflops"] = Number(c.Tflops());
  j["peak_memory_bytes_measured"] =
      c.peak_bytes_measured >= 0 ? json(c.peak_bytes_measured) : json(nullptr);
  j["error"] = {{"max_abs", Number(c.error.max_abs)},
                {"rel_l2", Number(c.error.rel_l2)},
                {"non_finite", c.error.non_finite},
                {"rows_checked", c.rows_checked},
                {"scope", c.full_check ? "all rows" : "sampled rows"},
                {"rel_l2_bound", RelL2Bound(c.dtype)},
                {"within_bound", c.within_bound}};
  if (c.lse_max_abs >= 0) j["error"]["lse_max_abs"] = Number(c.lse_max_abs);
  return j;
}

double GrowthExponent(const std::vector<std::pair<int64_t, int64_t>>& seq_bytes) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const double n = static_cast<double>(seq_bytes.size());
  for (const auto& [seq, bytes] : seq_bytes) {
    if (seq <= 0 || bytes <= 0) return kNaN;
    const double x = std::log(static_cast<double>(seq)), y = std::log(static_cast<double>(bytes));
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const double var = n * sxx - sx * sx;
  if (seq_bytes.size() < 2 || var <= 1e-12) return kNaN;
  return (n * sxy - sx * sy) / var;
}

bool IsIssueShape(const Shape& s, DType dtype) {
  return dtype == DType::kF16 && s.head_dim == 128 && s.seq == 4096 && s.batch_heads == 32 &&
         !s.causal;
}

json Summarise(const std::vector<CaseResult>& results) {
  std::vector<const CaseResult*> plain, causal;
  double max_abs = 0, max_rel = 0;
  bool within = true;
  json issue = nullptr;
  for (const CaseResult& c : results) {
    (c.shape.causal ? causal : plain).push_back(&c);
    if (c.skipped) continue;
    max_abs = std::max(max_abs, c.error.max_abs);
    max_rel = std::max(max_rel, c.error.rel_l2);
    within = within && c.within_bound;
    if (c.variant == Variant::kTiled && IsIssueShape(c.shape, c.dtype)) issue = Number(c.Tflops());
  }
  json summary = json::object();
  if (!plain.empty()) summary = GroupSummary(plain);
  if (!causal.empty()) {
    if (plain.empty()) {
      summary = GroupSummary(causal);
    } else {
      summary["causal"] = GroupSummary(causal);
    }
  }
  summary["tiled_tflops_at_issue_shape"] = issue;
  summary["max_abs_error"] = Number(max_abs);
  summary["max_rel_l2_error"] = Number(max_rel);
  summary["errors_within_bound"] = within;
  return summary;
}

}  // namespace attn::fwd
