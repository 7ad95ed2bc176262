#include "hub/tensions.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace ahub::hub {
namespace {

const nlohmann::json kZipfConditions = {
    {"zipf_s", 1.1}, {"catalog", 10000}, {"requests", 200000},      {"capacity", 100},
    {"warmup", 0},   {"seed", 42},       {"policy_pair", "lfu-lru"}};

// The `gap` claims of the two seed packages, both reproduced.
TensionSide ZipfGap() {
  TensionSide s;
  s.package = "cache-admission-zipfian";
  s.version = 1;
  s.claim = "gap";
  s.metric = "cache.hit_rate_gap_pp";
  s.unit = "pp";
  s.published = "2026-06-11";
  s.sequence = 1;
  s.value = 11.81;
  s.expect = Expectation::ApproxAbs(11.81, 0.005);
  s.measured = 11.81;
  s.reproduced = true;
  s.conditions = kZipfConditions;
  return s;
}

TensionSide Cap1000Gap() {
  TensionSide s = ZipfGap();
  s.package = "cache-admission-zipfian-cap1000";
  s.sequence = 2;
  s.value = 5.81;
  s.expect = Expectation::ApproxAbs(5.81, 0.005);
  s.measured = 5.81;
  s.conditions["capacity"] = 1000;
  s.conditions["warmup"] = 20000;
  return s;
}

// A stated-only claim of metric "m" in unit "u".
TensionSide Side(std::string package, std::string claim, std::optional<Expectation> expect,
                 std::optional<double> value = std::nullopt) {
  TensionSide s;
  s.package = std::move(package);
  s.version = 1;
  s.claim = std::move(claim);
  s.metric = "m";
  s.unit = "u";
  s.published = "2026-01-01";
  s.expect = expect;
  s.value = value;
  return s;
}

TEST(TensionsTest, SeedPackagesAreInScopeTension) {
  const std::vector<Tension> ts = FindTensions({ZipfGap(), Cap1000Gap()});
  ASSERT_EQ(ts.size(), 1u);
  const Tension& t = ts[0];
  EXPECT_EQ(t.kind, "scope");
  EXPECT_EQ(t.earlier.package, "cache-admission-zipfian");
  EXPECT_EQ(t.later.package, "cache-admission-zipfian-cap1000");  // same date, ingested later
  ASSERT_EQ(t.condition_diff.size(), 2u);
  EXPECT_EQ(t.condition_diff[0].key, "capacity");
  EXPECT_EQ(t.condition_diff[0].a, 100);
  EXPECT_EQ(t.condition_diff[0].b, 1000);
  EXPECT_EQ(t.condition_diff[1].key, "warmup");
  EXPECT_EQ(t.condition_diff[1].a, 0);
  EXPECT_EQ(t.condition_diff[1].b, 20000);
  EXPECT_NEAR(t.earlier_interval.lo, 11.805, 1e-12);
  EXPECT_NEAR(t.earlier_interval.hi, 11.815, 1e-12);
  EXPECT_NEAR(t.later_interval.lo, 5.805, 1e-12);
  EXPECT_NEAR(t.later_interval.hi, 5.815, 1e-12);
  EXPECT_NEAR(t.divergence, 11.805 - 5.815, 1e-12);
  EXPECT_NEAR(t.value_difference, 5.81 - 11.81, 1e-12);
  EXPECT_EQ(
      t.Key(),
      "cache.hit_rate_gap_pp|pp|cache-admission-zipfian/gap|cache-admission-zipfian-cap1000/gap");

  const nlohmann::json j = t.ToJson();
  EXPECT_EQ(j["kind"], "scope");
  EXPECT_EQ(j["key"], t.Key());
  EXPECT_EQ(j["raised_by"],
            (nlohmann::json{{"package", "cache-admission-zipfian-cap1000"}, {"version", 1}}));
  EXPECT_EQ(j["condition_diff"], nlohmann::json::parse(R"([
    {"key": "capacity", "a": 100, "b": 1000}, {"key": "warmup", "a": 0, "b": 20000}])"));
  EXPECT_EQ(j["earlier"]["expect"], (nlohmann::json{{"approx", 11.81}, {"abs", 0.005}}));
  EXPECT_EQ(j["later"]["measured"], 5.81);
  EXPECT_EQ(j["metric"], "cache.hit_rate_gap_pp");
}

TEST(TensionsTest, TheLaterDateRaisesTheTensionWhateverTheSequence) {
  TensionSide older = Cap1000Gap();
  older.published = "2026-05-01";  // published earlier although ingested later
  const std::vector<Tension> ts = FindTensions({ZipfGap(), older});
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].later.package, "cache-admission-zipfian");
  EXPECT_EQ(ts[0].earlier.package, "cache-admission-zipfian-cap1000");
  EXPECT_EQ(ts[0].condition_diff[0].a, 1000);  // a is the earlier side
  EXPECT_NEAR(ts[0].value_difference, 6.0, 1e-12);
  // The key does not depend on which side raised it.
  EXPECT_EQ(ts[0].Key(), FindTensions({ZipfGap(), Cap1000Gap()})[0].Key());
}

TEST(TensionsTest, SameConditionsAreAContradiction) {
  TensionSide other = Cap1000Gap();
  other.conditions = kZipfConditions;
  other.conditions["catalog"] = 10000.0;  // numbers compare by value
  const std::vector<Tension> ts = FindTensions({ZipfGap(), other});
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].kind, "contradiction");
  EXPECT_TRUE(ts[0].condition_diff.empty());
}

TEST(TensionsTest, OverlappingIntervalsAreNoTension) {
  TensionSide near = Cap1000Gap();
  near.value = 11.8;
  near.expect = Expectation::ApproxAbs(11.8, 0.01);  // [11.79, 11.81] overlaps [11.805, 11.815]
  near.measured = 11.8;
  EXPECT_TRUE(FindTensions({ZipfGap(), near}).empty());
  near.expect = Expectation::ApproxAbs(11.8, 0.004);
  EXPECT_EQ(FindTensions({ZipfGap(), near}).size(), 1u);
  // Intervals that share one point overlap (bounds chosen to be exact in binary).
  EXPECT_TRUE(FindTensions({Side("a", "c", Expectation::ApproxAbs(1, 0.5)),
                            Side("b", "c", Expectation::ApproxAbs(2, 0.5))})
                  .empty());
  EXPECT_EQ(FindTensions({Side("a", "c", Expectation::ApproxAbs(1, 0.5)),
                          Side("b", "c", Expectation::ApproxAbs(2, 0.25))})
                .size(),
            1u);
}

TEST(TensionsTest, FocusComparesOnlyPairsWithAFocusedPackage) {
  const std::vector<TensionSide> sides = {Side("a", "c", Expectation::ApproxAbs(1, 0.1)),
                                          Side("b", "c", Expectation::ApproxAbs(2, 0.1)),
                                          Side("c", "c", Expectation::ApproxAbs(3, 0.1))};
  EXPECT_EQ(FindTensions(sides).size(), 3u);
  const std::set<std::string> focus = {"c"};
  const std::vector<Tension> focused = FindTensions(sides, &focus);
  ASSERT_EQ(focused.size(), 2u);  // a-c and b-c; a-b cannot change when only c did
  for (const Tension& t : focused) {
    EXPECT_TRUE(t.earlier.package == "c" || t.later.package == "c") << t.Key();
  }
}

TEST(TensionsTest, SamePackageIsNoTension) {
  TensionSide second = Cap1000Gap();
  second.package = "cache-admission-zipfian";
  second.claim = "gap-at-1000";
  EXPECT_TRUE(FindTensions({ZipfGap(), second}).empty());
}

TEST(TensionsTest, DifferentUnitOrMetricIsNoTension) {
  TensionSide unit = Cap1000Gap();
  unit.unit = "ratio";
  EXPECT_TRUE(FindTensions({ZipfGap(), unit}).empty());
  TensionSide metric = Cap1000Gap();
  metric.metric = "cache.hit_rate_gap";
  EXPECT_TRUE(FindTensions({ZipfGap(), metric}).empty());
}

TEST(TensionsTest, OnlyTheLatestVersionOfAPackageTakesPart) {
  TensionSide v1 = Cap1000Gap();
  TensionSide v2 = Cap1000Gap();
  v2.version = 2;
  v2.value = 11.81;
  v2.expect = Expectation::ApproxAbs(11.81, 0.005);
  v2.measured = 11.81;
  EXPECT_TRUE(FindTensions({v1, ZipfGap(), v2}).empty());
  EXPECT_EQ(FindTensions({v1, ZipfGap()}).size(), 1u);
}

TEST(TensionsTest, SideIntervalUsesMeasurementOnlyWhenReproduced) {
  TensionSide s = Side("p", "c", Expectation::ApproxRel(100, 0.1), 100);
  s.measured = 50;  // measured but refuted: the stated interval stands
  Interval i = *SideInterval(s);
  EXPECT_DOUBLE_EQ(i.lo, 90);
  EXPECT_DOUBLE_EQ(i.hi, 110);
  s.reproduced = true;
  s.measured = 105;
  i = *SideInterval(s);
  EXPECT_DOUBLE_EQ(i.lo, 95);
  EXPECT_DOUBLE_EQ(i.hi, 115);
  s.expect.reset();
  i = *SideInterval(s);
  EXPECT_EQ(i.lo, 105);
  EXPECT_EQ(i.hi, 105);
  s.reproduced = false;
  i = *SideInterval(s);  // a value alone is a point
  EXPECT_EQ(i.lo, 100);
  EXPECT_EQ(i.hi, 100);
  s.value.reset();
  EXPECT_FALSE(SideInterval(s).has_value());
  s.reproduced = true;
  s.measured = NAN;
  EXPECT_FALSE(SideInterval(s).has_value());
}

TEST(TensionsTest, ClaimWithNeitherValueNorExpectationTakesNoPart) {
  EXPECT_TRUE(
      FindTensions({Side("a", "c", std::nullopt), Side("b", "c", std::nullopt, 1)}).empty());
  // A stated value without an expectation is a point that can be in tension.
  EXPECT_EQ(FindTensions({Side("a", "c", std::nullopt, 2), Side("b", "c", std::nullopt, 1)}).size(),
            1u);
}

TEST(TensionsTest, OneSidedIntervals) {
  // at_least 15 vs at_most 10: a gap of 5, no finite centre on either side.
  const std::vector<Tension> ts = FindTensions(
      {Side("a", "x", Expectation::AtLeast(15)), Side("b", "y", Expectation::AtMost(10))});
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_DOUBLE_EQ(ts[0].divergence, 5);
  EXPECT_TRUE(std::isnan(ts[0].value_difference));
  EXPECT_EQ(ts[0].kind, "contradiction");
  const nlohmann::json j = ts[0].ToJson();
  EXPECT_TRUE(j["value_difference"].is_null());
  // Sequence and package break the date tie: "b" is later.
  EXPECT_EQ(j["later_interval"], (nlohmann::json{{"lo", nullptr}, {"hi", 10.0}}));
  EXPECT_EQ(j["earlier_interval"], (nlohmann::json{{"lo", 15.0}, {"hi", nullptr}}));
  EXPECT_EQ(j["divergence"], 5.0);
  // Open intervals that reach each other overlap.
  EXPECT_TRUE(FindTensions({Side("a", "x", Expectation::AtLeast(10)),
                            Side("b", "y", Expectation::AtMost(10))})
                  .empty());
  EXPECT_TRUE(FindTensions({Side("a", "x", Expectation::AtLeast(1)),
                            Side("b", "y", Expectation::AtLeast(99))})
                  .empty());
  // A stated value gives the centre even when the interval is open.
  const std::vector<Tension> valued = FindTensions(
      {Side("a", "x", Expectation::AtLeast(15), 20), Side("b", "y", Expectation::Between(2, 4))});
  ASSERT_EQ(valued.size(), 1u);
  EXPECT_DOUBLE_EQ(valued[0].value_difference, 3 - 20);
}

TEST(TensionsTest, DiffConditionsIncludesOneSidedKeysSortedWithNullForAbsent) {
  const nlohmann::json a = {{"z", true}, {"n", 1000}, {"s", "x"}, {"only_a", 1}};
  const nlohmann::json b = {{"z", true}, {"n", 1000.0}, {"s", "y"}, {"only_b", "q"}};
  const std::vector<ConditionDelta> d = DiffConditions(a, b);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].key, "only_a");
  EXPECT_EQ(d[0].a, 1);
  EXPECT_TRUE(d[0].b.is_null());
  EXPECT_EQ(d[1].key, "only_b");
  EXPECT_TRUE(d[1].a.is_null());
  EXPECT_EQ(d[1].b, "q");
  EXPECT_EQ(d[2].key, "s");
  EXPECT_EQ(d[2].a, "x");
  EXPECT_EQ(d[2].b, "y");
  // Different types never compare equal, even when they read alike.
  EXPECT_EQ(DiffConditions({{"k", 1}}, {{"k", "1"}}).size(), 1u);
  EXPECT_EQ(DiffConditions({{"k", true}}, {{"k", 1}}).size(), 1u);
  EXPECT_EQ(DiffConditions({{"k", 1.5}}, {{"k", 1}}).size(), 1u);
  EXPECT_TRUE(DiffConditions(nlohmann::json::object(), nullptr).empty());
}

TEST(TensionsTest, OneSidedConditionKeyMakesAScopeTension) {
  TensionSide a = Side("a", "c", Expectation::ApproxAbs(1, 0.1));
  TensionSide b = Side("b", "c", Expectation::ApproxAbs(2, 0.1));
  a.conditions = {{"threads", 4}};
  b.conditions = {{"threads", 4}, {"gpu", "h100"}};
  const std::vector<Tension> ts = FindTensions({a, b});
  ASSERT_EQ(ts.size(), 1u);
  EXPECT_EQ(ts[0].kind, "scope");
  ASSERT_EQ(ts[0].condition_diff.size(), 1u);
  EXPECT_EQ(ts[0].condition_diff[0].key, "gpu");
  EXPECT_TRUE(ts[0].condition_diff[0].a.is_null());
  EXPECT_EQ(ts[0].condition_diff[0].b, "h100");
}

TEST(TensionsTest, ManySidesAcrossMetricsIndependentOfOrder) {
  // 50 metrics; in each, 20 packages whose point values 0, 10, 20, ... never overlap, except that
  // packages 0 and 1 both state 0. Every other pair is in tension.
  std::vector<TensionSide> sides;
  for (int m = 0; m < 50; ++m) {
    for (int p = 0; p < 20; ++p) {
      TensionSide s =
          Side("pkg" + std::to_string(p), "c", Expectation::ApproxAbs(10 * std::max(p - 1, 0), 1));
      s.metric = "metric" + std::to_string(m);
      s.sequence = p;
      sides.push_back(s);
    }
  }
  const std::vector<Tension> ts = FindTensions(sides);
  EXPECT_EQ(ts.size(), 50u * (20 * 19 / 2 - 1));
  for (const Tension& t : ts) {
    EXPECT_EQ(t.earlier.metric, t.later.metric);
    EXPECT_NE(t.earlier.package, t.later.package);
    EXPECT_GT(t.divergence, 0);
    EXPECT_LT(t.earlier.sequence, t.later.sequence);
  }
  EXPECT_TRUE(std::is_sorted(ts.begin(), ts.end(),
                             [](const Tension& x, const Tension& y) { return x.Key() < y.Key(); }));
  std::shuffle(sides.begin(), sides.end(), std::mt19937(7));
  const std::vector<Tension> shuffled = FindTensions(sides);
  ASSERT_EQ(shuffled.size(), ts.size());
  for (size_t i = 0; i < ts.size(); ++i) {
    EXPECT_EQ(shuffled[i].ToJson(), ts[i].ToJson()) << i;
  }
}

}  // namespace
}  // namespace ahub::hub
