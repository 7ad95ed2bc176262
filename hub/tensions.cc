#include "hub/tensions.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <utility>

namespace ahub::hub {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// JSON has no infinities or NaN; an unbounded side or an unknown value is null.
nlohmann::json Number(double v) {
  if (!std::isfinite(v)) return nullptr;
  return v;
}

nlohmann::json IntervalJson(const Interval& i) {
  return {{"lo", Number(i.lo)}, {"hi", Number(i.hi)}};
}

bool SameCondition(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  return a == b;
}

// The value a side stands for: the centre its interval was built around where there is one.
double PointValue(const TensionSide& s, const Interval& i) {
  if (s.reproduced && s.measured) return *s.measured;
  if (s.value) return *s.value;
  if (std::isfinite(i.lo) && std::isfinite(i.hi)) return (i.lo + i.hi) / 2;
  return kNaN;
}

// Whether `b` was published after `a`: by date, then by ingestion order. Identical dates and
// sequences (not expected from one store) fall back to package ids so the answer is stable.
bool PublishedAfter(const TensionSide& b, const TensionSide& a) {
  return std::tie(b.published, b.sequence, b.package) >
         std::tie(a.published, a.sequence, a.package);
}

}  // namespace

nlohmann::json TensionSide::ToJson() const {
  return {{"package", package},
          {"version", version},
          {"claim", claim},
          {"metric", metric},
          {"unit", unit},
          {"published", published},
          {"sequence", sequence},
          {"value", value ? Number(*value) : nullptr},
          {"expect", expect ? expect->ToJson() : nullptr},
          {"measured", measured ? Number(*measured) : nullptr},
          {"reproduced", reproduced},
          {"conditions", conditions}};
}

std::optional<Interval> SideInterval(const TensionSide& side) {
  std::optional<Interval> i;
  if (side.reproduced && side.measured) {
    i = side.expect ? side.expect->AcceptedAround(*side.measured)
                    : Interval{*side.measured, *side.measured};
  } else if (side.expect) {
    i = side.expect->Accepted();
  } else if (side.value) {
    i = Interval{*side.value, *side.value};
  }
  if (i && (std::isnan(i->lo) || std::isnan(i->hi))) return std::nullopt;
  return i;
}

std::vector<ConditionDelta> DiffConditions(const nlohmann::json& a, const nlohmann::json& b) {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  const nlohmann::json& ca = a.is_object() ? a : kEmpty;
  const nlohmann::json& cb = b.is_object() ? b : kEmpty;
  std::set<std::string> keys;
  for (const auto& [k, v] : ca.items()) keys.insert(k);
  for (const auto& [k, v] : cb.items()) keys.insert(k);
  std::vector<ConditionDelta> out;
  for (const std::string& k : keys) {
    const auto ia = ca.find(k);
    const auto ib = cb.find(k);
    nlohmann::json va = ia == ca.end() ? nlohmann::json(nullptr) : *ia;
    nlohmann::json vb = ib == cb.end() ? nlohmann::json(nullptr) : *ib;
    if (ia != ca.end() && ib != cb.end() && SameCondition(va, vb)) continue;
    out.push_back({k, std::move(va), std::move(vb)});
  }
  return out;
}

std::string Tension::Key() const {
  const TensionSide* x = &earlier;
  const TensionSide* y = &later;
  if (std::tie(y->package, y->claim) < std::tie(x->package, x->claim)) std::swap(x, y);
  return earlier.metric + "|" + earlier.unit + "|" + x->package + "/" + x->claim + "|" +
         y->package + "/" + y->claim;
}

nlohmann::json Tension::ToJson() const {
  nlohmann::json diff = nlohmann::json::array();
  for (const ConditionDelta& d : condition_diff) {
    diff.push_back({{"key", d.key}, {"a", d.a}, {"b", d.b}});
  }
  return {{"key", Key()},
          {"kind", kind},
          {"metric", earlier.metric},
          {"unit", earlier.unit},
          {"raised_by", {{"package", later.package}, {"version", later.version}}},
          {"earlier", earlier.ToJson()},
          {"later", later.ToJson()},
          {"earlier_interval", IntervalJson(earlier_interval)},
          {"later_interval", IntervalJson(later_interval)},
          {"divergence", Number(divergence)},
          {"value_difference", Number(value_difference)},
          {"condition_diff", std::move(diff)}};
}

std::vector<Tension> FindTensions(const std::vector<TensionSide>& sides, const std::set<std::string>* focus) {
  // A package's older versions are history: only its latest version takes part.
  std::map<std::string, int> latest;
  for (const TensionSide& s : sides) {
    auto [it, inserted] = latest.try_emplace(s.package, s.version);
    if (!inserted) it->second = std::max(it->second, s.version);
  }
  // The sides that take part, with their intervals, grouped by what they measure.
  struct Placed {
    const TensionSide* side;
    Interval interval;
  };
  std::map<std::pair<std::string, std::string>, std::vector<Placed>> groups;
  for (const TensionSide& s : sides) {
    if (s.version != latest[s.package]) continue;
    if (std::optional<Interval> i = SideInterval(s)) {
      groups[{s.metric, s.unit}].push_back({&s, *i});
    }
  }
  std::vector<Tension> out;
  for (const auto& [metric_unit, group] : groups) {
    for (size_t i = 0; i < group.size(); ++i) {
      for (size_t j = i + 1; j < group.size(); ++j) {
        Placed a = group[i];
        Placed b = group[j];
        if (a.side->package == b.side->package || a.interval.Overlaps(b.interval)) continue;
        if (focus && !focus->count(a.side->package) && !focus->count(b.side->package)) continue;
        if (PublishedAfter(*a.side, *b.side)) std::swap(a, b);
        const Interval& ia = a.interval;
        const Interval& ib = b.interval;
        Tension t;
        t.earlier = *a.side;
        t.later = *b.side;
        t.earlier_interval = ia;
        t.later_interval = ib;
        t.divergence = ia.hi < ib.lo ? ib.lo - ia.hi : ia.lo - ib.hi;
        t.value_difference = PointValue(*b.side, ib) - PointValue(*a.side, ia);
        t.condition_diff = DiffConditions(a.side->conditions, b.side->conditions);
        t.kind = t.condition_diff.empty() ? kTensionContradiction : kTensionScope;
        out.push_back(std::move(t));
      }
    }
  }
  // Keys are computed once each for the sort.
  std::vector<std::pair<std::string, size_t>> order;
  order.reserve(out.size());
  for (size_t i = 0; i < out.size(); ++i) order.emplace_back(out[i].Key(), i);
  std::sort(order.begin(), order.end());
  std::vector<Tension> sorted;
  sorted.reserve(out.size());
  for (const auto& [key, i] : order) sorted.push_back(std::move(out[i]));
  return sorted;
}

}  // namespace ahub::hub
