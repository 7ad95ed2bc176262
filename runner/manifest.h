// The package model (format ahub/1) and its loader/validator.
//
// LoadPackage() reads DIR/package.yaml, checks it against the format documented in
// schemas/README.md (the same rules as schemas/package.schema.json) plus the rules a schema cannot
// express (cross-references, recorded sha256, command resolution), and returns every problem at
// once, each located as package.yaml:LINE:COL with the field path.
//
// Invariants of a Package returned with no diagnostics:
//   1. Claim ids and experiment ids are unique; every evidence names an existing experiment.
//   2. Every claim with evidence has an expectation; a stated value satisfies its expectation.
//   3. Every recorded file exists inside the package and matches its sha256.
//   4. Every experiment's command[0] resolves (see ResolveCommand in runner/verify.h).
//
// Thread-safety: the functions are pure apart from reading files; values are plain data.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runner/expectation.h"

namespace ahub {

inline constexpr const char* kFormatTag = "ahub/1";
inline constexpr const char* kManifestName = "package.yaml";

// One problem in a manifest, e.g. "package.yaml:12:5: claims[0].expect: ...".
struct Diagnostic {
  std::string file = kManifestName;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
  std::string path;  // field path such as claims[0].expect; empty for the whole document
  std::string message;

  std::string ToString() const;
  nlohmann::json ToJson() const;
};

enum class Runtime { kNative, kPython3, kCuda };
const char* RuntimeName(Runtime r);

struct Limits {
  double wall_seconds = 60;
  int64_t memory_mb = 1024;
  int processes = 32;
};

struct Environment {
  Runtime runtime = Runtime::kNative;
  bool gpu = false;
  Limits limits;
};

struct Author {
  std::string name;
  std::string orcid;
  std::string affiliation;
};

struct Provenance {
  std::string kind;  // original | arxiv-import | ai-generated
  std::string arxiv;
  std::string url;
  std::string doi;
};

struct Relation {
  std::string kind;  // remeasures | replicates | extends
  std::string package;
  int version = 0;  // 0: any version
};

struct Experiment {
  std::string id;
  std::vector<std::string> command;
  std::string description;
};

struct Evidence {
  std::string experiment;
  std::string pointer;  // RFC 6901 into the experiment's output document
  std::string output = "results.json";
  std::string divide_by;  // optional second pointer: measured = pointer / divide_by
};

struct Claim {
  std::string id;
  std::string statement;
  std::string metric;
  std::string unit;
  std::optional<double> value;
  std::optional<Expectation> expect;
  nlohmann::json conditions = nlohmann::json::object();  // key -> number | string | bool
  std::optional<Evidence> evidence;
};

struct RecordedFile {
  std::string path;
  std::string sha256;
};

struct Package {
  std::string id;
  int version = 0;
  std::string title;
  std::string summary;
  std::vector<std::string> categories;
  std::vector<std::string> tags;
  std::vector<Author> authors;
  std::string published;  // YYYY-MM-DD
  std::string license;
  Provenance provenance;
  std::vector<Relation> relations;
  Environment environment;
  std::vector<Experiment> experiments;
  std::vector<Claim> claims;
  std::vector<RecordedFile> recorded;

  const Experiment* FindExperiment(const std::string& id) const;
  // The manifest as JSON (the same shape as package.yaml), for the API and reports.
  nlohmann::json ToJson() const;
};

// What an experiment's command[0] names. The one rule shared by validation and execution.
enum class CommandKind {
  kBuiltin,       // a built-in experiment (runner/builtins.h)
  kInterpreter,   // python3 under runtime python3
  kWrongRuntime,  // python3 under another runtime
  kPackageFile,   // a relative path without '..' segments or placeholders (existence is checked apart)
  kInvalid,       // anything else: absolute paths, '..', placeholders, empty
};
CommandKind ClassifyCommand(const std::string& word, Runtime runtime);

struct LoadResult {
  Package package;                      // as far as it could be read
  std::vector<Diagnostic> diagnostics;  // empty when the package is valid
  bool ok() const { return diagnostics.empty(); }
};

// Parses and validates `text` as the manifest of the package in `dir` (used for the checks that
// read files: recorded sha256 and relative commands; pass an empty dir to skip them).
LoadResult ParseManifest(const std::string& text, const std::filesystem::path& dir);

// Reads DIR/package.yaml (or the file itself when `path` names a manifest) and validates it.
LoadResult LoadPackage(const std::filesystem::path& path);

}  // namespace ahub
