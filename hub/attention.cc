#include "hub/attention.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <limits>
#include <utility>

namespace ahub::hub {
namespace {

constexpr const char* kKeys[] = {"published",        "per_reproduced",   "per_replication",
                                 "max_replications", "per_open_tension", "per_refuted"};

std::string AcceptedKeys() {
  std::string out;
  for (const char* k : kKeys) out += std::string(out.empty() ? "" : ", ") + k;
  return out;
}

// Weights and scores as people write them: whole numbers with one decimal ("4.0", "13.0"), others
// in their shortest exact form ("2.5", "0.25").
std::string FormatNumber(double v) {
  char buf[64];
  if (std::isfinite(v) && v == std::floor(v)) {
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
  }
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

struct Term {
  const char* name;     // in the breakdown
  const char* summary;  // in the formula
  int count;
  double weight;
};

}  // namespace

Result<AttentionWeights> AttentionWeights::FromJson(const nlohmann::json& json) {
  if (!json.is_object()) {
    return Status::InvalidArgument("attention weights: expected an object with keys " +
                                   AcceptedKeys() + ", got " + json.dump());
  }
  AttentionWeights w;
  const std::pair<const char*, double*> numbers[] = {
      {"published", &w.published},
      {"per_reproduced", &w.per_reproduced},
      {"per_replication", &w.per_replication},
      {"per_open_tension", &w.per_open_tension},
      {"per_refuted", &w.per_refuted},
  };
  // Not a structured binding: clang before 16 cannot capture one in the lambda below.
  for (const auto& item : json.items()) {
    const std::string& key = item.key();
    const nlohmann::json& value = item.value();
    if (key == "max_replications") {
      if (!value.is_number_integer() || value.get<int64_t>() < 0 ||
          value.get<int64_t>() > std::numeric_limits<int>::max()) {
        return Status::InvalidArgument(
            "attention weights: max_replications: expected a non-negative integer, got " +
            value.dump());
      }
      w.max_replications = value.get<int>();
      continue;
    }
    const auto* n = std::find_if(std::begin(numbers), std::end(numbers),
                                 [&](const auto& entry) { return key == entry.first; });
    if (n == std::end(numbers)) {
      return Status::InvalidArgument("attention weights: unknown key \"" + key +
                                     "\"; accepted: " + AcceptedKeys());
    }
    if (!value.is_number()) {
      return Status::InvalidArgument("attention weights: " + key + ": expected a number, got " +
                                     value.dump());
    }
    *n->second = value.get<double>();
  }
  return w;
}

nlohmann::json AttentionWeights::ToJson() const {
  return {{"published", published},
          {"per_reproduced", per_reproduced},
          {"per_replication", per_replication},
          {"max_replications", max_replications},
          {"per_open_tension", per_open_tension},
          {"per_refuted", per_refuted}};
}

Attention ComputeAttention(const AttentionInput& input, const AttentionWeights& weights) {
  const int replications =
      std::min(std::max(input.reproducing_hosts - 1, 0), weights.max_replications);
  const Term terms[] = {
      {"published", "published", 1, weights.published},
      {"reproduced claims", "reproduced", input.reproduced_claims, weights.per_reproduced},
      {"independent replications", "replications", replications, weights.per_replication},
      {"open tensions raised", "open tensions", input.open_tensions_raised,
       weights.per_open_tension},
      {"refuted claims", "refuted", input.refuted_claims, weights.per_refuted},
  };
  Attention a;
  for (const Term& t : terms) {
    // A term that does not apply contributes 0, not the -0.0 that 0 × a negative weight gives.
    const double points = t.count == 0 ? 0.0 : t.count * t.weight;
    a.score += points;
    a.breakdown.push_back(
        {{"term", t.name}, {"count", t.count}, {"weight", t.weight}, {"points", points}});
    if (t.count == 0) continue;
    // "published" has a count of one and reads better without "×1".
    const bool first = a.formula.empty();
    const bool negative = t.weight < 0;
    if (!first) a.formula += negative ? " - " : " + ";
    a.formula += FormatNumber(first || !negative ? t.weight : -t.weight);
    if (&t != &terms[0]) a.formula += "×" + std::to_string(t.count);
    a.formula += std::string(" ") + t.summary;
  }
  a.formula += " = " + FormatNumber(a.score);
  return a;
}

}  // namespace ahub::hub
