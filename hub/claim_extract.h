// Claim extraction: the headline claim of a paper, read out of its abstract by fixed rules (no
// model, no network). `ahub import-arxiv` turns it into the one declared claim of an imported
// package. The rules are documented, with examples, in schemas/arxiv-import.md ("Headline
// claim"); tests/hub/claim_extract_test.cc holds them to every abstract of the seed documents.
//
// The steps, each a function below so that a reader (and a test) can look at each one:
//   1. PlainText: TeX markup rendered as text ($2.6\times$ -> "2.6×", H$_2$O -> "H2O").
//   2. SplitSentences: sentence boundaries that survive "e.g.", "et al." and decimals.
//   3. FindQuantities: the numbers that carry a unit: factors ("22.2x", "2-4×", "5.76 times"),
//      percentages and percentage points, absolute figures with a unit ("740 TFLOPs/s"). Bare
//      numbers (years, model sizes, "(1)", "Llama-2", "8-bit") are not quantities.
//   4. ExtractHeadlineClaim: scores the sentences that hold a quantity, picks one and its
//      quantity, and names what it measures; without any quantity, the contribution sentence.
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ahub::hub {

// `tex` with its TeX rendered as plain text and its whitespace collapsed to single spaces.
std::string PlainText(std::string_view tex);

// Plain text cut into sentences, each without surrounding spaces.
std::vector<std::string> SplitSentences(std::string_view plain);

enum class QuantityKind { kFactor, kPercent, kPercentagePoints, kAbsolute };

struct Quantity {
  QuantityKind kind = QuantityKind::kFactor;
  double value = 0;            // the number stated; a range's upper end; a change's result
  std::optional<double> low;   // "2-4x": 2
  std::optional<double> from;  // "from 72.4% to 93.7%": 72.4
  std::string unit;            // "x", "%", "pp", or an absolute unit as written ("TFLOPs/s")
  std::string qualifier;       // "up to", "more than", "around", "~", ... (lower case) or ""
  size_t begin = 0, end = 0;   // byte range in the sentence, qualifier excluded
};

// The quantities of one sentence, in order.
std::vector<Quantity> FindQuantities(std::string_view sentence);

struct HeadlineClaim {
  enum class Rule { kQuantitative, kContribution, kFirstSentence };
  Rule rule = Rule::kFirstSentence;
  std::string statement;  // the chosen sentence, plain text
  // The last part of the metric key, [a-z0-9_]: what is measured, its direction and its unit,
  // e.g. "throughput_x", "kv_cache_reduction_pct", "peak_memory_reduction_x";
  // "contribution" for a claim without a value.
  std::string measure;
  std::string unit;                // "" when there is no value
  std::optional<double> value;     // absent for a range and for a claim without a number
  std::optional<double> at_least;  // "more than 3x": 3
  std::optional<std::pair<double, double>> between;  // "2-4x": {2, 4}
};

// The headline claim of an abstract (TeX allowed). An empty abstract gives an empty statement.
HeadlineClaim ExtractHeadlineClaim(std::string_view abstract);

const char* RuleName(HeadlineClaim::Rule rule);

}  // namespace ahub::hub
