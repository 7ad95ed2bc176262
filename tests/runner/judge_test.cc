#include "runner/judge.h"
#include "runner/text.h"

#include <gtest/gtest.h>

namespace ahub {
namespace {

Claim MakeClaim(const std::string& id, const std::string& experiment, const std::string& pointer,
                Expectation expect) {
  Claim c;
  c.id = id;
  c.metric = "m." + id;
  c.expect = expect;
  c.evidence = Evidence{experiment, pointer, "results.json", ""};
  return c;
}

ExperimentRun Ran(const std::string& id, nlohmann::json output, int exit_code = 0,
                  KilledBy killed = KilledBy::kNone) {
  ExperimentRun r;
  r.experiment = id;
  r.outcome.exit_code = exit_code;
  r.outcome.killed_by = killed;
  r.read_output = [output](const std::string& name) -> Result<nlohmann::json> {
    if (name != "results.json" || output.is_null()) return Status::NotFound("the experiment wrote no such file");
    return output;
  };
  return r;
}

class JudgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pkg_.claims.push_back(MakeClaim("lfu", "sim", "/runs/0/hit_rate_pct/lfu", Expectation::ApproxAbs(64.50, 0.005)));
    pkg_.claims.push_back(MakeClaim("gap", "sim", "/runs/0/gap_pp", Expectation::ApproxAbs(11.81, 0.005)));
    Claim declared;
    declared.id = "declared";
    pkg_.claims.push_back(declared);
  }
  std::vector<ClaimResult> Judge(ExperimentRun run) {
    std::map<std::string, ExperimentRun> runs;
    runs.emplace("sim", std::move(run));
    return JudgeClaims(pkg_, runs);
  }
  Package pkg_;
  nlohmann::json good_ = {{"runs", {{{"hit_rate_pct", {{"lfu", 64.4995}}}, {"gap_pp", 11.8149}}}}};
};

TEST_F(JudgeTest, ReproducedWhenTheMeasuredValueIsAccepted) {
  auto r = Judge(Ran("sim", good_));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].verdict, Verdict::kReproduced);
  EXPECT_DOUBLE_EQ(*r[0].measured, 64.4995);
  EXPECT_EQ(r[1].verdict, Verdict::kReproduced);
  EXPECT_EQ(r[2].verdict, Verdict::kDeclared);
  EXPECT_EQ(r[2].level, Level::kDeclared);
  EXPECT_EQ(PackageLevel(r), Level::kReproduces);
}

TEST_F(JudgeTest, RefutedWhenTheMeasuredValueFallsOutside) {
  nlohmann::json out = good_;
  out["runs"][0]["gap_pp"] = 5.81;
  auto r = Judge(Ran("sim", out));
  EXPECT_EQ(r[0].verdict, Verdict::kReproduced);
  EXPECT_EQ(r[1].verdict, Verdict::kRefuted);
  EXPECT_DOUBLE_EQ(*r[1].measured, 5.81);
  EXPECT_NE(r[1].reason.find("outside"), std::string::npos);
  EXPECT_EQ(PackageLevel(r), Level::kRefuted);
}

TEST_F(JudgeTest, FailedWhenTheRunFailsOrTheEvidenceIsMissing) {
  auto exited = Judge(Ran("sim", good_, 3));
  EXPECT_EQ(exited[0].verdict, Verdict::kFailed);
  EXPECT_NE(exited[0].reason.find("status 3"), std::string::npos);
  EXPECT_EQ(PackageLevel(exited), Level::kFailed);

  auto killed = Judge(Ran("sim", good_, -1, KilledBy::kTimeout));
  EXPECT_EQ(killed[1].verdict, Verdict::kFailed);
  EXPECT_NE(killed[1].reason.find("wall-clock"), std::string::npos);

  auto no_output = Judge(Ran("sim", nullptr));
  EXPECT_EQ(no_output[0].verdict, Verdict::kFailed);
  EXPECT_NE(no_output[0].reason.find("results.json"), std::string::npos);

  auto wrong_shape = Judge(Ran("sim", {{"runs", nlohmann::json::array()}}));
  EXPECT_EQ(wrong_shape[1].verdict, Verdict::kFailed);
  EXPECT_NE(wrong_shape[1].reason.find("/runs/0/gap_pp"), std::string::npos);

  auto not_number = Judge(Ran("sim", {{"runs", {{{"gap_pp", "11.81"}}}}}));
  EXPECT_EQ(not_number[1].verdict, Verdict::kFailed);
  EXPECT_NE(not_number[1].reason.find("expected a number"), std::string::npos);
}

TEST_F(JudgeTest, ClaimsOfAnExperimentThatDidNotRunFail) {
  auto r = JudgeClaims(pkg_, {});
  EXPECT_EQ(r[0].verdict, Verdict::kFailed);
  EXPECT_NE(r[0].reason.find("not run"), std::string::npos);
}

TEST_F(JudgeTest, SkippedRunsLeaveClaimsWellFormed) {
  ExperimentRun run;
  run.skip_reason = "needs gpu";
  auto r = Judge(run);
  EXPECT_EQ(r[0].verdict, Verdict::kSkipped);
  EXPECT_EQ(r[0].reason, "needs gpu");
  EXPECT_EQ(PackageLevel(r), Level::kWellFormed);
}

TEST_F(JudgeTest, DivideByComputesARatioOfTwoPointers) {
  pkg_.claims[1].evidence->divide_by = "/runs/1/gap_pp";
  pkg_.claims[1].expect = Expectation::ApproxAbs(0.49, 0.01);
  nlohmann::json out = good_;
  out["runs"].push_back({{"gap_pp", 11.8149 / 0.4918}});
  auto r = Judge(Ran("sim", out));
  EXPECT_NEAR(*r[1].measured, 0.4918, 1e-9);
  EXPECT_EQ(r[1].verdict, Verdict::kReproduced);
  out["runs"][1]["gap_pp"] = 0;
  EXPECT_EQ(Judge(Ran("sim", out))[1].verdict, Verdict::kFailed);
}

TEST(PackageLevelTest, OrdersTheLadder) {
  EXPECT_EQ(PackageLevel({}), Level::kDeclared);
  ClaimResult reproduced{"a", 1.0, Verdict::kReproduced, Level::kReproduces, ""};
  ClaimResult failed{"b", std::nullopt, Verdict::kFailed, Level::kFailed, ""};
  ClaimResult refuted{"c", 2.0, Verdict::kRefuted, Level::kRefuted, ""};
  EXPECT_EQ(PackageLevel({reproduced, failed}), Level::kFailed);
  EXPECT_EQ(PackageLevel({reproduced, failed, refuted}), Level::kRefuted);
  EXPECT_STREQ(LevelName(Level::kWellFormed), "well-formed");
  EXPECT_STREQ(VerdictName(Verdict::kSkipped), "skipped");
}

}  // namespace
}  // namespace ahub

namespace ahub {
namespace {

TEST(TextTest, ValueKeepsTwoDecimalsFromOneAndThreeSignificantDigitsBelow) {
  EXPECT_EQ(Value(11.8123), "11.81");
  EXPECT_EQ(Value(64.5), "64.50");
  EXPECT_EQ(Value(0.0), "0.00");
  EXPECT_EQ(Value(0.190673828125), "0.191");
  EXPECT_EQ(Value(0.008171852417104941), "0.00817");
  EXPECT_EQ(Value(-0.45), "-0.45");
}

TEST(TextTest, CollapseWhitespaceJoinsWrappedLines) {
  EXPECT_EQ(CollapseWhitespace("  Attention\n    is all\t\tyou\r\n need \f"), "Attention is all you need");
  EXPECT_EQ(CollapseWhitespace(" \n\t "), "");
}

}  // namespace
}  // namespace ahub
