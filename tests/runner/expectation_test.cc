#include "runner/expectation.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ahub {
namespace {

TEST(ExpectationTest, ApproxAbsAcceptsTheClosedInterval) {
  const Expectation e = Expectation::ApproxAbs(11.81, 0.05);
  EXPECT_TRUE(e.Accepts(11.86));
  EXPECT_TRUE(e.Accepts(11.76));
  EXPECT_FALSE(e.Accepts(11.87));
  EXPECT_FALSE(e.Accepts(5.81));
  EXPECT_FALSE(e.Accepts(NAN));
  EXPECT_EQ(e.ToJson(), (nlohmann::json{{"approx", 11.81}, {"abs", 0.05}}));
}

TEST(ExpectationTest, ApproxRelScalesWithTheTarget) {
  const Expectation e = Expectation::ApproxRel(200, 0.1);
  EXPECT_TRUE(e.Accepts(181));
  EXPECT_FALSE(e.Accepts(179));
  // Re-centred on a measured value the width stays that of the stated target.
  const Interval i = e.AcceptedAround(100);
  EXPECT_DOUBLE_EQ(i.lo, 80);
  EXPECT_DOUBLE_EQ(i.hi, 120);
}

TEST(ExpectationTest, OneSidedAndBetweenForms) {
  EXPECT_TRUE(Expectation::AtLeast(15).Accepts(15));
  EXPECT_FALSE(Expectation::AtLeast(15).Accepts(14.99));
  EXPECT_TRUE(Expectation::AtMost(1).Accepts(-3));
  EXPECT_FALSE(Expectation::AtMost(1).Accepts(1.01));
  EXPECT_TRUE(Expectation::Between(2, 32).Accepts(8));
  EXPECT_FALSE(Expectation::Between(2, 32).Accepts(33));
  EXPECT_EQ(Expectation::Between(2, 32).ToJson()["between"][1], 32);
  EXPECT_EQ(Expectation::AtMost(1).ToJson()["at_most"], 1);
  EXPECT_TRUE(std::isinf(Expectation::AtLeast(1).Accepted().hi));
}

TEST(ExpectationTest, IntervalsOverlapWhenTheyShareAPoint) {
  const Interval a = Expectation::ApproxAbs(11.81, 0.005).Accepted();
  const Interval b = Expectation::ApproxAbs(5.81, 0.005).Accepted();
  EXPECT_FALSE(a.Overlaps(b));
  EXPECT_TRUE(a.Overlaps(Interval{11.815, 20}));
  EXPECT_TRUE(b.Overlaps(Expectation::AtMost(5.805).Accepted()));
}

}  // namespace
}  // namespace ahub
