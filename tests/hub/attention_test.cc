#include "hub/attention.h"

#include <gtest/gtest.h>

namespace ahub::hub {
namespace {

// The points of the breakdown term named `term`.
double Points(const Attention& a, const std::string& term) {
  for (const auto& t : a.breakdown) {
    if (t["term"] == term) return t["points"].get<double>();
  }
  ADD_FAILURE() << "no term " << term << " in " << a.breakdown.dump();
  return 0;
}

TEST(AttentionTest, DeclaredOnlyPackageEarnsThePublishedPoints) {
  const Attention a = ComputeAttention({}, {});
  EXPECT_EQ(a.score, 4.0);
  EXPECT_EQ(a.formula, "4.0 published = 4.0");
}

TEST(AttentionTest, ThreeReproducedClaims) {
  const Attention a = ComputeAttention({.reproduced_claims = 3}, {});
  EXPECT_EQ(a.score, 10.0);
  EXPECT_EQ(a.formula, "4.0 published + 2.0×3 reproduced = 10.0");
}

TEST(AttentionTest, TwoReproducedAndOneOpenTension) {
  const Attention a = ComputeAttention(
      {.reproduced_claims = 2, .reproducing_hosts = 1, .open_tensions_raised = 1}, {});
  EXPECT_EQ(a.score, 13.0);
  EXPECT_EQ(a.formula, "4.0 published + 2.0×2 reproduced + 5.0×1 open tensions = 13.0");
}

TEST(AttentionTest, BreakdownListsEveryTermInOrder) {
  const Attention a = ComputeAttention({.reproduced_claims = 2,
                                        .refuted_claims = 1,
                                        .reproducing_hosts = 3,
                                        .open_tensions_raised = 1},
                                       {});
  const nlohmann::json expected = nlohmann::json::parse(R"([
    {"term": "published", "count": 1, "weight": 4.0, "points": 4.0},
    {"term": "reproduced claims", "count": 2, "weight": 2.0, "points": 4.0},
    {"term": "independent replications", "count": 2, "weight": 1.0, "points": 2.0},
    {"term": "open tensions raised", "count": 1, "weight": 5.0, "points": 5.0},
    {"term": "refuted claims", "count": 1, "weight": -3.0, "points": -3.0}
  ])");
  EXPECT_EQ(a.breakdown, expected);
  EXPECT_EQ(a.score, 12.0);
  EXPECT_EQ(a.formula,
            "4.0 published + 2.0×2 reproduced + 1.0×2 replications + 5.0×1 open tensions"
            " - 3.0×1 refuted = 12.0");
}

TEST(AttentionTest, ReplicationsCountHostsBeyondTheFirstAndAreCapped) {
  EXPECT_EQ(Points(ComputeAttention({.reproduced_claims = 1, .reproducing_hosts = 1}, {}),
                   "independent replications"),
            0);
  EXPECT_EQ(Points(ComputeAttention({.reproduced_claims = 1, .reproducing_hosts = 2}, {}),
                   "independent replications"),
            1);
  EXPECT_EQ(Points(ComputeAttention({.reproduced_claims = 1, .reproducing_hosts = 4}, {}),
                   "independent replications"),
            3);
  const Attention capped = ComputeAttention({.reproduced_claims = 1, .reproducing_hosts = 10}, {});
  EXPECT_EQ(Points(capped, "independent replications"), 3);
  EXPECT_EQ(capped.breakdown[2]["count"], 3);
  EXPECT_EQ(capped.score, 4 + 2 + 3);
  AttentionWeights w;
  w.max_replications = 5;
  EXPECT_EQ(ComputeAttention({.reproduced_claims = 1, .reproducing_hosts = 10}, w).score,
            4 + 2 + 5);
}

TEST(AttentionTest, RefutedClaimsSubtract) {
  const Attention a = ComputeAttention({.reproduced_claims = 1, .refuted_claims = 2}, {});
  EXPECT_EQ(a.score, 4 + 2 - 6);
  EXPECT_EQ(a.formula, "4.0 published + 2.0×1 reproduced - 3.0×2 refuted = 0.0");
  EXPECT_EQ(ComputeAttention({.refuted_claims = 3}, {}).score, -5.0);
}

TEST(AttentionTest, WeightsFromPartialJsonOverrideDefaults) {
  const auto w = AttentionWeights::FromJson({{"per_open_tension", 2.5}, {"max_replications", 1}});
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(w->per_open_tension, 2.5);
  EXPECT_EQ(w->max_replications, 1);
  EXPECT_EQ(w->published, 4.0);
  EXPECT_EQ(w->per_refuted, -3.0);
  const Attention a =
      ComputeAttention({.reproducing_hosts = 3, .open_tensions_raised = 1}, w.value());
  EXPECT_EQ(a.score, 4 + 1 + 2.5);
  EXPECT_EQ(a.formula, "4.0 published + 1.0×1 replications + 2.5×1 open tensions = 7.5");
}

TEST(AttentionTest, WeightsRoundTripThroughJson) {
  AttentionWeights w;
  w.published = 1;
  w.per_reproduced = 0.25;
  w.per_replication = 3;
  w.max_replications = 7;
  w.per_open_tension = 0;
  w.per_refuted = -10;
  const auto back = AttentionWeights::FromJson(w.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToJson(), w.ToJson());
  EXPECT_EQ(AttentionWeights().ToJson(),
            nlohmann::json::parse(R"({"published": 4.0, "per_reproduced": 2.0,
              "per_replication": 1.0, "max_replications": 3, "per_open_tension": 5.0,
              "per_refuted": -3.0})"));
  EXPECT_TRUE(AttentionWeights::FromJson(nlohmann::json::object()).ok());
}

TEST(AttentionTest, BadWeightsNameTheKey) {
  const auto unknown = AttentionWeights::FromJson({{"per_citation", 1}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("per_citation"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("accepted: published"), std::string::npos);

  const auto text = AttentionWeights::FromJson({{"per_reproduced", "2"}});
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(text.status().message().find("per_reproduced"), std::string::npos);

  for (const nlohmann::json& bad : {nlohmann::json(2.5), nlohmann::json(-1), nlohmann::json("3")}) {
    const auto r = AttentionWeights::FromJson({{"max_replications", bad}});
    ASSERT_FALSE(r.ok()) << bad.dump();
    EXPECT_NE(r.status().message().find("max_replications"), std::string::npos);
  }
  EXPECT_FALSE(AttentionWeights::FromJson(nlohmann::json::array()).ok());
  EXPECT_FALSE(AttentionWeights::FromJson(nullptr).ok());
}

}  // namespace
}  // namespace ahub::hub
