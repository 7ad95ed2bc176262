// Tensions: pairs of claims from different packages that cannot both be right as stated.
//
// Two claims are compared when they come from different packages (their latest versions) and
// share `metric` and `unit`. Each claim accepts an interval of values (SideInterval); when the two
// intervals do not overlap (not even at one point) the claims are in tension. The tension's kind
// says what a reviewer should look at:
//   - "scope": the claims' conditions differ, so each may hold in its own setting and the
//     divergence tells how much the setting matters;
//   - "contradiction": the conditions are the same, so at least one claim is wrong.
// The later-published package raises the tension (it is the one that disagreed with the record);
// on the same date the later-ingested one (larger `sequence`) raises it.
//
// Thread-safety: pure functions over values.
//
// Invariants of every Tension returned by FindTensions:
//   1. earlier.package != later.package, and their metric and unit are equal.
//   2. !earlier_interval.Overlaps(later_interval), so divergence > 0.
//   3. kind == "scope" exactly when condition_diff is non-empty.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runner/expectation.h"

namespace ahub::hub {

inline constexpr const char* kTensionScope = "scope";
inline constexpr const char* kTensionContradiction = "contradiction";

// One claim of one package version, with what the hub knows of its verification.
struct TensionSide {
  std::string package;
  int version = 0;
  std::string claim;
  std::string metric;
  std::string unit;
  std::string published;  // YYYY-MM-DD
  int64_t sequence = 0;   // ingestion order in the store: larger is later
  std::optional<double> value;
  std::optional<Expectation> expect;
  std::optional<double> measured;  // the hub's measurement, when the claim was verified
  bool reproduced = false;         // the measurement was accepted by `expect`
  nlohmann::json conditions = nlohmann::json::object();  // key -> number | string | bool

  nlohmann::json ToJson() const;
};

// The values `side` accepts: for a reproduced claim with a measurement, its expectation's
// tolerance around the measurement (or the measurement alone without an expectation); otherwise
// the stated expectation's interval, or the point [value, value] when only a value is stated.
// nullopt when the claim states neither (or a bound is NaN): such a claim takes no part.
std::optional<Interval> SideInterval(const TensionSide& side);

struct ConditionDelta {
  std::string key;
  nlohmann::json a;  // null when absent on that side
  nlohmann::json b;
};

// The keys whose values differ between two condition objects, or that only one has, sorted by
// key. Numbers compare by value (1000 equals 1000.0); other values by JSON equality. A
// non-object counts as an empty object.
std::vector<ConditionDelta> DiffConditions(const nlohmann::json& a, const nlohmann::json& b);

struct Tension {
  TensionSide earlier;
  TensionSide later;  // the side that raises the tension
  std::string kind;   // kTensionScope or kTensionContradiction
  Interval earlier_interval{};
  Interval later_interval{};
  double divergence = 0;  // the gap between the two intervals, > 0
  // later's value minus earlier's, each side's value being its measurement when reproduced, else
  // its stated value, else its interval's midpoint; NaN when a side has an infinite interval and
  // no value.
  double value_difference = 0;
  std::vector<ConditionDelta> condition_diff;  // a = earlier's value, b = later's

  // A stable identity, "metric|unit|pkgA/claimA|pkgB/claimB" with the two sides ordered by
  // package id then claim id: the same whichever side raised it and across new versions, so a
  // reviewer's decision about a tension survives re-detection.
  std::string Key() const;
  // For the API. Infinite bounds and a NaN value_difference are written as null, since JSON has
  // no infinities.
  nlohmann::json ToJson() const;
};

// Every tension among `sides` (any order; many packages and metrics), sorted by Key(). Where a
// package appears with several versions only the sides of its highest version take part. Sides
// are grouped by (metric, unit) first. With `focus`, only pairs with a side from a package in it
// are compared: a change to one package cannot create or close a tension between two others, so
// a submission costs time linear, not quadratic, in the claims sharing its metrics.
std::vector<Tension> FindTensions(const std::vector<TensionSide>& sides,
                                  const std::set<std::string>* focus = nullptr);

}  // namespace ahub::hub
