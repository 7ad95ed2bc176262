// Synthetic packages for the hub benchmarks (hub-bench-fill, hub-bench-ingest): small,
// declared-only packages (no experiments, claims without evidence) whose ids, titles, summaries,
// categories, tags, dates and claims are drawn from fixed vocabularies by a seeded generator, so
// two runs with the same seed produce the same store.
//
// Words of titles and summaries are drawn with Zipfian frequencies (s = 1 over kWords), so a
// free-text query for a frequent word matches many packages and one for a rare word few, as in
// real text; categories are skewed towards cs.LG/cs.CL/cs.AI as on arXiv.
//
// Invariants of every SyntheticPackage:
//   1. ManifestYaml(p) is a valid package.yaml (format ahub/1), and ParseManifest of it gives
//      exactly ManifestJson(p) as Package::ToJson() (CheckAgainstParser() verifies this).
//   2. ids are `<prefix>-<index>` with the index zero-padded to six digits.
//
// Thread-safety: a SyntheticGenerator is used by one thread at a time; the free functions are
// reentrant.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runner/status.h"

namespace ahub::bench {

struct SyntheticClaim {
  std::string id;
  std::string statement;
  std::string metric;
  std::string unit;
  double value = 0;
  nlohmann::json conditions = nlohmann::json::object();  // small integers only
};

struct SyntheticPackage {
  std::string id;
  std::string title;
  std::string summary;
  std::vector<std::string> categories;  // primary first
  std::vector<std::string> tags;
  std::vector<std::string> authors;
  std::string published;  // YYYY-MM-DD
  std::vector<SyntheticClaim> claims;
};

struct SyntheticOptions {
  std::string id_prefix = "bench";
  int min_claims = 1;
  int max_claims = 4;
  // true: claims use metrics of a shared set of kMetrics names, as packages of one field do (and
  // the hub then compares them for tensions); false: every package has metrics of its own.
  bool shared_metrics = true;
};

class SyntheticGenerator {
 public:
  SyntheticGenerator(uint64_t seed, SyntheticOptions options);
  // The package with this index; consecutive calls draw from one random stream.
  SyntheticPackage Next(int64_t index);

 private:
  std::string Words(int count, bool capitalise_first);
  std::string Pick(const std::vector<std::string>& from);

  std::mt19937_64 rng_;
  SyntheticOptions options_;
  std::discrete_distribution<size_t> word_;
  std::discrete_distribution<size_t> category_;
};

// package.yaml text, block style, every string double-quoted.
std::string ManifestYaml(const SyntheticPackage& p);
// The manifest as the hub stores it (the shape of runner's Package::ToJson()).
nlohmann::json ManifestJson(const SyntheticPackage& p);
// Parses ManifestYaml(p) with the runner's validator and compares the result with
// ManifestJson(p): invariant 1 for one package. The error names the package and the difference.
Status CheckAgainstParser(const SyntheticPackage& p);

// The vocabulary, for choosing benchmark queries that match: a category and a word of the
// given Zipf rank (0 = most frequent).
const std::string& CategoryName(size_t i);
const std::string& WordOfRank(size_t rank);

}  // namespace ahub::bench
