// The headline-claim rules (hub/claim_extract.h, documented in schemas/arxiv-import.md): each
// step on its own cases, then every abstract of the seed documents against the expected claim
// (tests/hub/data/seed_abstracts.txt and seed_claims.tsv; a failure prints the line to compare).
#include "hub/claim_extract.h"

#include <gtest/gtest.h>

#include <charconv>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace ahub::hub {
namespace {

// --- 1. TeX

TEST(PlainTextTest, RendersTheTexOfAbstracts) {
  EXPECT_EQ(PlainText("by 2-4$\\times$ with"), "by 2-4× with");
  EXPECT_EQ(PlainText("using $\\mathbf{2.6\\times}$ less"), "using 2.6× less");
  EXPECT_EQ(PlainText("$\\mathbf{2.35\\times \\sim 3.47\\times}$"), "2.35× ~ 3.47×");
  EXPECT_EQ(PlainText("Heavy Hitter Oracle (H$_2$O)"), "Heavy Hitter Oracle (H2O)");
  EXPECT_EQ(PlainText("25-40\\% of the maximum"), "25-40% of the maximum");
  EXPECT_EQ(PlainText("\\textbf{bold} and \\emph{it}"), "bold and it");
  EXPECT_EQ(PlainText("a $\\frac{1}{16}$ share"), "a 1/16 share");
  EXPECT_EQ(PlainText("approach -- but  we\n  show"), "approach – but we show");
  EXPECT_EQ(PlainText("$\\alpha$-entmax"), "alpha-entmax");
  // Braces outside math are text ("ScatterFormer{https://...}" in a rendered abstract).
  EXPECT_EQ(PlainText("1{16} rendered"), "1{16} rendered");
}

// --- 2. sentences

TEST(SplitSentencesTest, AbbreviationsDecimalsAndUrlsDoNotEndASentence) {
  const std::vector<std::string> s = SplitSentences(
      "Servers (e.g. arXiv) lack it. We reach 22.2x, cf. Fig. 3. Compared to v1 (Lu et al., 2024) "
      "it is better! Code: https://github.com/x/y.z. 4 million tokens work.");
  ASSERT_EQ(s.size(), 5u) << ::testing::PrintToString(s);
  EXPECT_EQ(s[0], "Servers (e.g. arXiv) lack it.");
  EXPECT_EQ(s[1], "We reach 22.2x, cf. Fig. 3.");
  EXPECT_EQ(s[2], "Compared to v1 (Lu et al., 2024) it is better!");
  EXPECT_EQ(s[3], "Code: https://github.com/x/y.z.");
  EXPECT_EQ(s[4], "4 million tokens work.");
}

TEST(SplitSentencesTest, AQuoteOrParenthesisClosesASentence) {
  const std::vector<std::string> s = SplitSentences("They are \"AI Scientists.\" However, no.");
  ASSERT_EQ(s.size(), 2u) << ::testing::PrintToString(s);
  EXPECT_EQ(s[0], "They are \"AI Scientists.\"");
}

// --- 3. quantities

struct Q {
  QuantityKind kind;
  double value;
  std::string unit;
};

std::vector<Q> Found(const std::string& sentence) {
  std::vector<Q> out;
  for (const Quantity& q : FindQuantities(sentence)) out.push_back({q.kind, q.value, q.unit});
  return out;
}

TEST(FindQuantitiesTest, FactorsInEveryWritingOfTheSeeds) {
  for (std::string s : {"by up to 22.2x speedup", "a 22.2× speedup", "22.2 times faster",
                        "22.2-fold faster", "22.2X speedup", "22.2times speedup"}) {
    const std::vector<Quantity> q = FindQuantities(s);
    ASSERT_EQ(q.size(), 1u) << s;
    EXPECT_EQ(q[0].kind, QuantityKind::kFactor) << s;
    EXPECT_EQ(q[0].value, 22.2) << s;
    EXPECT_EQ(q[0].unit, "x") << s;
  }
  EXPECT_EQ(FindQuantities("by up to 22.2x")[0].qualifier, "up to");
  EXPECT_EQ(FindQuantities("more than 3x speedup")[0].qualifier, "more than");
  EXPECT_EQ(FindQuantities("reaching ~45x at n=1024")[0].qualifier, "~");
}

TEST(FindQuantitiesTest, RangesAndChanges) {
  for (std::string s : {"by 2-4× with", "by 2–4x", "2 to 4x", "2x to 4x", "2.0~4x"}) {
    const std::vector<Quantity> q = FindQuantities(s);
    ASSERT_EQ(q.size(), 1u) << s;
    ASSERT_TRUE(q[0].low.has_value()) << s;
    EXPECT_EQ(*q[0].low, 2) << s;
    EXPECT_EQ(q[0].value, 4) << s;
  }
  const std::vector<Quantity> kivi =
      FindQuantities(PlainText("$\\mathbf{2.35\\times \\sim 3.47\\times}$ throughput"));
  ASSERT_EQ(kivi.size(), 1u);
  EXPECT_EQ(*kivi[0].low, 2.35);
  EXPECT_EQ(kivi[0].value, 3.47);
  const std::vector<Quantity> ara = FindQuantities("raises accuracy from 72.4% to 93.7% and");
  ASSERT_EQ(ara.size(), 1u);
  EXPECT_EQ(ara[0].value, 93.7);
  EXPECT_EQ(*ara[0].from, 72.4);
  EXPECT_FALSE(ara[0].low.has_value());
  // A "range" that runs backwards is not read as a quantity.
  EXPECT_TRUE(FindQuantities("4-2x").empty());
}

TEST(FindQuantitiesTest, PercentagesPointsAndAbsoluteFigures) {
  const auto q = Found(
      "reduces the KV cache by 93.3%, a gap of 11.81 percentage points, 5.81pp, "
      "up to 740 TFLOPs/s, 0.188s/token, 4 million tokens, 8.1T tokens, 12 hours");
  ASSERT_EQ(q.size(), 8u);
  EXPECT_EQ(q[0].kind, QuantityKind::kPercent);
  EXPECT_EQ(q[0].value, 93.3);
  EXPECT_EQ(q[1].kind, QuantityKind::kPercentagePoints);
  EXPECT_EQ(q[1].value, 11.81);
  EXPECT_EQ(q[2].unit, "pp");
  EXPECT_EQ(q[3].kind, QuantityKind::kAbsolute);
  EXPECT_EQ(q[3].unit, "TFLOPs/s");
  EXPECT_EQ(q[4].unit, "s/token");
  EXPECT_EQ(q[5].value, 4e6);
  EXPECT_EQ(q[5].unit, "tokens");
  EXPECT_EQ(q[6].value, 8.1e12);
  EXPECT_EQ(q[7].unit, "hours");
  EXPECT_EQ(Found("42,000 lines and 1,500 papers, 1,500 tokens")[0].value, 1500);
}

TEST(FindQuantitiesTest, BareNumbersAndNamesAreNotQuantities) {
  // Years, citations, model names and sizes, enumerations, compound adjectives, hardware.
  EXPECT_TRUE(Found("In 2024 (v1, Lu et al., 2024 arXiv:2408.06292) we (1) trained Llama-2, "
                    "GPT-4o, OPT-6.7B and a 236B model with 21B active on H100 and FP16 in "
                    "8-bit and 2bit with 5-shot MMLU, a 20-cycle run, 3D scenes, 128K context, "
                    "n≈8, Mixtral-8x7B, W8A8 and INT8.")
                  .empty());
}

// --- 4. the headline claim

TEST(HeadlineClaimTest, TheIssuesExamples) {
  // A range of factors written in TeX: the range is the expectation, no single value.
  HeadlineClaim vllm = ExtractHeadlineClaim(
      "We propose PagedAttention. Our evaluations show that vLLM improves the throughput of "
      "popular LLMs by 2-4$\\times$ with the same level of latency compared to the "
      "state-of-the-art systems.");
  EXPECT_EQ(vllm.rule, HeadlineClaim::Rule::kQuantitative);
  EXPECT_EQ(vllm.measure, "throughput_x");
  EXPECT_EQ(vllm.unit, "x");
  EXPECT_FALSE(vllm.value.has_value());
  ASSERT_TRUE(vllm.between.has_value());
  EXPECT_EQ(*vllm.between, std::make_pair(2.0, 4.0));
  EXPECT_EQ(vllm.statement.rfind("Our evaluations show that vLLM improves the throughput", 0), 0u);

  HeadlineClaim kv = ExtractHeadlineClaim("We present X. It reduces the KV cache by 93.3%.");
  EXPECT_EQ(kv.measure, "kv_cache_reduction_pct");
  EXPECT_EQ(kv.unit, "%");
  EXPECT_EQ(kv.value, 93.3);

  HeadlineClaim flops =
      ExtractHeadlineClaim("We present X. X reaches a training speed of 225 TFLOPs/s.");
  EXPECT_EQ(flops.measure, "training_speed_tflops_per_s");
  EXPECT_EQ(flops.unit, "TFLOPs/s");
  EXPECT_EQ(flops.value, 225);

  HeadlineClaim bound = ExtractHeadlineClaim("We present X, with more than 3x speedup over FP16.");
  EXPECT_EQ(bound.value, 3);
  EXPECT_EQ(bound.at_least, 3);
}

TEST(HeadlineClaimTest, WithoutANumberTheContributionSentenceWithoutAValue) {
  HeadlineClaim c = ExtractHeadlineClaim(
      "Papers are static. To address this, we introduce Paper2Agent, a framework. It works "
      "well in case studies.");
  EXPECT_EQ(c.rule, HeadlineClaim::Rule::kContribution);
  EXPECT_EQ(c.statement, "To address this, we introduce Paper2Agent, a framework.");
  EXPECT_EQ(c.measure, "contribution");
  EXPECT_EQ(c.unit, "");
  EXPECT_FALSE(c.value.has_value());
  EXPECT_FALSE(c.between.has_value());

  HeadlineClaim none = ExtractHeadlineClaim("Memory matters. Models forget.");
  EXPECT_EQ(none.rule, HeadlineClaim::Rule::kFirstSentence);
  EXPECT_EQ(none.statement, "Memory matters.");
  EXPECT_EQ(ExtractHeadlineClaim("").statement, "");
}

TEST(HeadlineClaimTest, ResultsBeatBackgroundAndFactorsBeatPercentages) {
  // The prior work's 2-4x comes before the contribution; 35% is in a "However" sentence.
  HeadlineClaim c = ExtractHeadlineClaim(
      "FlashAttention brings runtime speedup (2-4x compared to optimized baselines). However, "
      "it reaches only 35% utilization. We propose FlashAttention-2. These yield around 2x "
      "speedup compared to FlashAttention, reaching 50-73% of the theoretical maximum.");
  EXPECT_EQ(c.value, 2);
  EXPECT_EQ(c.measure, "speedup_x");
  EXPECT_EQ(c.statement.rfind("These yield", 0), 0u);
}

TEST(HeadlineClaimTest, MeasureNamesAndDirections) {
  auto measure = [](const std::string& result) {
    return ExtractHeadlineClaim("We propose X. " + result).measure;
  };
  EXPECT_EQ(measure("X achieves 2.6× less peak memory."), "peak_memory_reduction_x");
  EXPECT_EQ(measure("X enables up to 4x larger batch size."), "batch_size_x");
  EXPECT_EQ(measure("X reduces the latency by up to 1.9x."), "latency_reduction_x");
  EXPECT_EQ(measure("X boosts the maximum generation throughput to 5.76 times."),
            "maximum_generation_throughput_x");
  EXPECT_EQ(measure("X raises question-answering accuracy from 72.4% to 93.7%."),
            "question_answering_accuracy_pct");
  EXPECT_EQ(measure("X improves accuracy by 5% on average."), "accuracy_gain_pct");
  EXPECT_EQ(measure("X shows a 30% accuracy drop."), "accuracy_reduction_pct");
  EXPECT_EQ(measure("X achieves over a 20x and 8x KV cache compression ratio."),
            "kv_cache_compression_ratio_x");
  EXPECT_EQ(measure("X achieves a 3.6x increase in generation speed."), "generation_speed_x");
  EXPECT_EQ(measure("Scientists found 79.4% of statements to be accurate."), "accuracy_pct");
  EXPECT_EQ(measure("X wins by 45x at n=1024."), "headline_x");
}

// --- every abstract of the seed documents

struct Record {
  std::string label;
  std::string abstract;
};

std::vector<Record> SeedAbstracts() {
  std::ifstream in(std::string(AHUB_SOURCE_DIR) + "/tests/hub/data/seed_abstracts.txt");
  std::vector<Record> out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("== ", 0) == 0) {
      out.push_back({line.substr(3), ""});
    } else if (!line.empty() && line[0] != '#' && !out.empty()) {
      out.back().abstract = line;
    }
  }
  return out;
}

std::string Num(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// LABEL, rule, measure, unit, value, expectation, statement: the claim as one TSV line.
std::string Line(const std::string& label, const HeadlineClaim& c) {
  std::string expect = "-";
  if (c.between) expect = "between " + Num(c.between->first) + " " + Num(c.between->second);
  if (c.at_least) expect = "at_least " + Num(*c.at_least);
  return label + "\t" + RuleName(c.rule) + "\t" + c.measure + "\t" +
         (c.unit.empty() ? "-" : c.unit) + "\t" + (c.value ? Num(*c.value) : "-") + "\t" + expect +
         "\t" + c.statement;
}

TEST(SeedAbstractsTest, EveryAbstractGivesItsExpectedClaim) {
  const std::vector<Record> abstracts = SeedAbstracts();
  // 25 cards of the discovery page and 86 papers of the daily-papers page.
  ASSERT_EQ(abstracts.size(), 111u);
  std::map<std::string, std::string> expected;
  std::ifstream in(std::string(AHUB_SOURCE_DIR) + "/tests/hub/data/seed_claims.tsv");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    expected[line.substr(0, line.find('\t'))] = line;
  }
  ASSERT_EQ(expected.size(), abstracts.size()) << "seed_claims.tsv: one line per abstract";
  int quantitative = 0;
  for (const Record& r : abstracts) {
    SCOPED_TRACE(r.label);
    ASSERT_FALSE(r.abstract.empty());
    const HeadlineClaim c = ExtractHeadlineClaim(r.abstract);
    EXPECT_EQ(Line(r.label, c), expected[r.label]);
    EXPECT_FALSE(c.statement.empty());
    EXPECT_NE(PlainText(r.abstract).find(c.statement), std::string::npos)
        << "the statement is a sentence of the abstract";
    if (c.rule == HeadlineClaim::Rule::kQuantitative) {
      ++quantitative;
      EXPECT_TRUE(c.value || c.between);
      EXPECT_FALSE(FindQuantities(c.statement).empty());
    } else {
      EXPECT_FALSE(c.value || c.between || c.at_least);
      EXPECT_EQ(c.unit, "");
    }
  }
  EXPECT_EQ(quantitative, 64);
}

}  // namespace
}  // namespace ahub::hub
