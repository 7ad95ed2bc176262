#include "runner/manifest.h"

#include <gtest/gtest.h>

#include <fstream>

#include "runner/sha256.h"

namespace ahub {
namespace {

namespace fs = std::filesystem;

const char* kValid = R"(format: ahub/1
id: demo-package
version: 2
title: A demo
summary: What it shows.
categories: [cs.DC, cs.PF]
tags: [caching]
authors:
  - {name: Ada Lovelace, orcid: 0000-0002-1825-0097}
published: 2026-06-11
provenance: {kind: original, arxiv: 2309.17453v4}
relations: [{kind: remeasures, package: other-package}]
environment:
  runtime: native
  limits: {wall_seconds: 30, memory_mb: 256, processes: 4}
experiments:
  - id: sim
    command: [cache-sim, --out, "{out}/results.json"]
claims:
  - id: gap
    statement: LFU beats LRU.
    metric: cache.hit_rate_gap_pp
    unit: pp
    value: 11.81
    expect: {approx: 11.81, abs: 0.05}
    conditions: {capacity: 100, zipf_s: 1.1, policy: lfu, warm: false}
    evidence: {experiment: sim, pointer: /runs/0/gap_pp}
  - id: declared
    statement: Something only stated.
    metric: other.thing
    unit: x
)";

// Returns the diagnostics of `text` (no package directory: file checks are skipped).
std::vector<Diagnostic> Problems(const std::string& text) { return ParseManifest(text, {}).diagnostics; }

// kValid with the first occurrence of each `from` replaced by its `to`.
std::string Edit(std::initializer_list<std::pair<std::string, std::string>> edits) {
  std::string s = kValid;
  for (const auto& [from, to] : edits) {
    const size_t p = s.find(from);
    EXPECT_NE(p, std::string::npos) << from;
    if (p != std::string::npos) s.replace(p, from.size(), to);
  }
  return s;
}
std::string Edit(const std::string& from, const std::string& to) { return Edit({{from, to}}); }

const Diagnostic* FindPath(const std::vector<Diagnostic>& ds, const std::string& path) {
  for (const auto& d : ds) {
    if (d.path == path) return &d;
  }
  return nullptr;
}

TEST(ManifestTest, ReadsEveryFieldOfAValidManifest) {
  LoadResult r = ParseManifest(kValid, {});
  ASSERT_TRUE(r.ok()) << r.diagnostics[0].ToString();
  const Package& p = r.package;
  EXPECT_EQ(p.id, "demo-package");
  EXPECT_EQ(p.version, 2);
  EXPECT_EQ(p.categories, (std::vector<std::string>{"cs.DC", "cs.PF"}));
  EXPECT_EQ(p.authors.at(0).orcid, "0000-0002-1825-0097");
  EXPECT_EQ(p.provenance.arxiv, "2309.17453v4");
  EXPECT_EQ(p.relations.at(0).kind, "remeasures");
  EXPECT_EQ(p.environment.limits.memory_mb, 256);
  EXPECT_DOUBLE_EQ(p.environment.limits.wall_seconds, 30);
  ASSERT_EQ(p.claims.size(), 2u);
  EXPECT_DOUBLE_EQ(*p.claims[0].value, 11.81);
  EXPECT_EQ(p.claims[0].evidence->pointer, "/runs/0/gap_pp");
  EXPECT_EQ(p.claims[0].evidence->output, "results.json");
  EXPECT_EQ(p.claims[0].conditions["capacity"], 100);
  EXPECT_EQ(p.claims[0].conditions["policy"], "lfu");
  EXPECT_EQ(p.claims[0].conditions["warm"], false);
  EXPECT_FALSE(p.claims[1].evidence.has_value());
  EXPECT_FALSE(p.claims[1].value.has_value());
  EXPECT_EQ(p.ToJson()["claims"][0]["expect"]["abs"], 0.05);
}

TEST(ManifestTest, LocatesAProblemByLineColumnAndFieldPath) {
  auto ds = Problems(Edit("expect: {approx: 11.81, abs: 0.05}", "expect: {approx: 11.81, at_least: 3}"));
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].path, "claims[0].expect");
  EXPECT_EQ(ds[0].line, 25);
  EXPECT_EQ(ds[0].column, 13);
  EXPECT_NE(ds[0].message.find("accepted"), std::string::npos);
  EXPECT_EQ(ds[0].ToString().rfind("package.yaml:25:13: claims[0].expect: ", 0), 0u) << ds[0].ToString();
}

TEST(ManifestTest, ReportsEveryProblemAtOnce) {
  std::string s = Edit("id: demo-package", "id: Demo");
  s.replace(s.find("version: 2"), 10, "version: 0");
  s.replace(s.find("kind: original"), 14, "kind: stolen");
  auto ds = ParseManifest(s, {}).diagnostics;
  EXPECT_NE(FindPath(ds, "id"), nullptr);
  EXPECT_NE(FindPath(ds, "version"), nullptr);
  EXPECT_NE(FindPath(ds, "provenance.kind"), nullptr);
  EXPECT_EQ(ds.size(), 3u);
  // Sorted by position in the file.
  EXPECT_LT(ds[0].line, ds[2].line);
}

TEST(ManifestTest, ResolvesScalarsLikeYaml12CoreSchema) {
  EXPECT_NE(FindPath(Problems(Edit("version: 2", "version: \"2\"")), "version"), nullptr);
  EXPECT_TRUE(Problems(Edit("version: 2", "version: 2.0")).empty());
  EXPECT_NE(FindPath(Problems(Edit("version: 2", "version: 2.5")), "version"), nullptr);
  EXPECT_NE(FindPath(Problems(Edit("arxiv: 2309.17453v4", "arxiv: 2309.17453")), "provenance.arxiv"), nullptr);
  EXPECT_TRUE(Problems(Edit("arxiv: 2309.17453v4", "arxiv: \"2309.17453\"")).empty());
  EXPECT_NE(FindPath(Problems(Edit("value: 11.81", "value: .nan")), "claims[0].value"), nullptr);
  EXPECT_NE(FindPath(Problems(Edit("title: A demo", "title: 12")), "title"), nullptr);
  EXPECT_NE(FindPath(Problems(Edit("runtime: native", "runtime: yes-please")), "environment.runtime"), nullptr);
}

TEST(ManifestTest, RefusesASecondYamlDocument) {
  auto ds = Problems(std::string(kValid) + "---\nfoo: bar\n");
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_NE(ds[0].message.find("2 YAML documents"), std::string::npos);
}

TEST(ManifestTest, RefusesUnknownAndDuplicateKeysButAllowsExtensions) {
  auto ds = Problems(Edit("tags: [caching]", "tags: [caching]\ncolour: blue"));
  ASSERT_NE(FindPath(ds, "colour"), nullptr);
  EXPECT_EQ(FindPath(ds, "colour")->line, 8);
  EXPECT_TRUE(Problems(Edit("tags: [caching]", "tags: [caching]\nx-colour: blue")).empty());
  EXPECT_NE(FindPath(Problems(Edit("tags: [caching]", "tags: [caching]\ntitle: Again")), "title"), nullptr);
}

TEST(ManifestTest, ReportsMissingRequiredFieldsAtTheirParent) {
  auto ds = Problems(Edit("    statement: LFU beats LRU.\n", ""));
  const Diagnostic* d = FindPath(ds, "claims[0].statement");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->line, 20);  // the claim mapping
  EXPECT_NE(FindPath(Problems(Edit("format: ahub/1\n", "")), "format"), nullptr);
}

TEST(ManifestTest, ChecksExpectationForms) {
  EXPECT_NE(FindPath(Problems(Edit("{approx: 11.81, abs: 0.05}", "{approx: 11.81, abs: -1}")), "claims[0].expect.abs"), nullptr);
  EXPECT_NE(FindPath(Problems(Edit("{approx: 11.81, abs: 0.05}", "{approx: 11.81, rel: 0}")), "claims[0].expect.rel"), nullptr);
  EXPECT_NE(FindPath(Problems(Edit("{approx: 11.81, abs: 0.05}", "{between: [12, 11]}")), "claims[0].expect.between"), nullptr);
  EXPECT_NE(FindPath(Problems(Edit("{approx: 11.81, abs: 0.05}", "{between: [11]}")), "claims[0].expect.between"), nullptr);
  EXPECT_NE(FindPath(Problems(Edit("{approx: 11.81, abs: 0.05}", "{approx: 11.81, abs: 1, rel: 1}")), "claims[0].expect"), nullptr);
  EXPECT_TRUE(Problems(Edit("{approx: 11.81, abs: 0.05}", "{between: [11, 12]}")).empty());
  EXPECT_TRUE(Problems(Edit("{approx: 11.81, abs: 0.05}", "{at_least: 10}")).empty());
  EXPECT_TRUE(Problems(Edit("{approx: 11.81, abs: 0.05}", "{approx: 12, rel: 0.1}")).empty());
}

TEST(ManifestTest, ChecksCrossReferences) {
  EXPECT_NE(FindPath(Problems(Edit("{experiment: sim,", "{experiment: simulate,")), "claims[0].evidence.experiment"), nullptr);
  EXPECT_NE(FindPath(Problems(Edit("  - id: declared", "  - id: gap")), "claims[1].id"), nullptr);
  EXPECT_NE(FindPath(Problems(Edit("value: 11.81", "value: 20")), "claims[0].value"), nullptr);
  EXPECT_NE(FindPath(Problems(Edit("pointer: /runs/0/gap_pp", "pointer: runs/0")), "claims[0].evidence.pointer"), nullptr);
  EXPECT_NE(FindPath(Problems(Edit("pointer: /runs/0/gap_pp", "pointer: /a~2b")), "claims[0].evidence.pointer"), nullptr);
  EXPECT_NE(FindPath(Problems(Edit("    expect: {approx: 11.81, abs: 0.05}\n", "")), "claims[0].expect"), nullptr);
  EXPECT_NE(FindPath(Problems(Edit("command: [cache-sim", "command: [python3")), "experiments[0].command[0]"), nullptr);
  EXPECT_NE(FindPath(Problems(Edit("command: [cache-sim", "command: [/bin/sh")), "experiments[0].command[0]"), nullptr);
  EXPECT_NE(FindPath(Problems(Edit("command: [cache-sim", "command: [../escape.sh")), "experiments[0].command[0]"), nullptr);
  EXPECT_TRUE(Problems(Edit({{"runtime: native", "runtime: python3"},
                             {"command: [cache-sim", "command: [python3, study.py"}})).empty());
}

class PackageDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ahub-manifest-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "evidence");
    std::ofstream(dir_ / "evidence/results.json") << "{\"gap_pp\": 11.81}\n";
    std::ofstream(dir_ / "run.sh") << "#!/bin/sh\n";
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& text) { std::ofstream(dir_ / "package.yaml") << text; }
  fs::path dir_;
};

TEST_F(PackageDirTest, ChecksRecordedFilesAndTheirHashes) {
  const std::string sha = Sha256File(dir_ / "evidence/results.json").value();
  Write(std::string(kValid) + "recorded: [{path: evidence/results.json, sha256: " + sha + "}]\n");
  EXPECT_TRUE(LoadPackage(dir_).ok());
  Write(std::string(kValid) + "recorded: [{path: evidence/results.json, sha256: " + std::string(64, 'a') + "}]\n");
  auto r = LoadPackage(dir_);
  ASSERT_NE(FindPath(r.diagnostics, "recorded[0].sha256"), nullptr);
  EXPECT_NE(FindPath(r.diagnostics, "recorded[0].sha256")->message.find(sha), std::string::npos);
  Write(std::string(kValid) + "recorded: [{path: evidence/missing.json, sha256: " + sha + "}]\n");
  EXPECT_NE(FindPath(LoadPackage(dir_).diagnostics, "recorded[0].path"), nullptr);
  Write(std::string(kValid) + "recorded: [{path: ../etc/passwd, sha256: " + sha + "}]\n");
  EXPECT_NE(FindPath(LoadPackage(dir_).diagnostics, "recorded[0].path"), nullptr);
}

TEST_F(PackageDirTest, AcceptsACommandThatIsAFileInThePackage) {
  std::string s = kValid;
  s.replace(s.find("command: [cache-sim"), 19, "command: [run.sh");
  Write(s);
  EXPECT_TRUE(LoadPackage(dir_).ok());
  s.replace(s.find("command: [run.sh"), 16, "command: [nope.sh");
  Write(s);
  EXPECT_NE(FindPath(LoadPackage(dir_).diagnostics, "experiments[0].command[0]"), nullptr);
}

TEST_F(PackageDirTest, ReportsYamlSyntaxErrorsWithTheirPosition) {
  Write("format: ahub/1\nid: [unclosed\n");
  auto r = LoadPackage(dir_);
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_GE(r.diagnostics[0].line, 2);
  EXPECT_NE(r.diagnostics[0].message.find("YAML"), std::string::npos);
  Write("");
  EXPECT_FALSE(LoadPackage(dir_).ok());
  EXPECT_FALSE(LoadPackage(dir_ / "nothing-here").ok());
}

TEST(SeedPackagesTest, EveryCheckedInPackageIsValid) {
  int seen = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(AHUB_SOURCE_DIR) / "packages")) {
    if (!fs::exists(entry.path() / kManifestName)) continue;
    ++seen;
    LoadResult r = LoadPackage(entry.path());
    for (const auto& d : r.diagnostics) ADD_FAILURE() << entry.path() << ": " << d.ToString();
    EXPECT_EQ(r.package.id, entry.path().filename().string());
  }
  EXPECT_GE(seen, 3);
}

}  // namespace
}  // namespace ahub
