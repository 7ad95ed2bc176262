// Expectation: the acceptance rule a claim states for its measured value, and the interval it
// accepts (used for judging and, by the hub, for tension detection).
//
// Forms (exactly one per claim): approx+abs, approx+rel, at_least, at_most, between.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace ahub {

struct Interval {
  double lo;  // may be -infinity
  double hi;  // may be +infinity
  bool Overlaps(const Interval& o) const { return lo <= o.hi && o.lo <= hi; }
};

class Expectation {
 public:
  enum class Kind { kApproxAbs, kApproxRel, kAtLeast, kAtMost, kBetween };

  static Expectation ApproxAbs(double target, double abs) { return {Kind::kApproxAbs, target, abs}; }
  static Expectation ApproxRel(double target, double rel) { return {Kind::kApproxRel, target, rel}; }
  static Expectation AtLeast(double a) { return {Kind::kAtLeast, a, 0}; }
  static Expectation AtMost(double b) { return {Kind::kAtMost, b, 0}; }
  static Expectation Between(double a, double b) { return {Kind::kBetween, a, b}; }

  Kind kind() const { return kind_; }
  // The closed interval of accepted values.
  Interval Accepted() const;
  // The same tolerance re-centred on `center` (approx forms); other forms are unchanged. The hub
  // uses it to place a reproduced claim's measured value in tension detection.
  Interval AcceptedAround(double center) const;
  bool Accepts(double measured) const;
  nlohmann::json ToJson() const;  // the manifest form, e.g. {"approx": 11.81, "abs": 0.05}
  // The inverse of ToJson(); nullopt for anything that is not one of its forms (the manifest's own
  // YAML is checked with located diagnostics by manifest.cc, not here).
  static std::optional<Expectation> FromJson(const nlohmann::json& j);
  std::string ToString() const;   // human form, e.g. "11.81 ± 0.05"

 private:
  Expectation(Kind kind, double a, double b) : kind_(kind), a_(a), b_(b) {}
  Kind kind_;
  double a_;  // approx target, at_least bound, at_most bound, or between lower bound
  double b_;  // abs or rel tolerance, or between upper bound
};

}  // namespace ahub
