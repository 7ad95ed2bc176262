// Judging: turns the runs of a package's experiments into a verdict per claim and a level on the
// verification ladder. Pure logic: outputs are read through a callback, so unit tests need no
// processes or files.
//
// Ladder per claim: declared -> well-formed -> executes -> reproduces -> replicated, or refuted /
// failed. `ahub verify` reaches at most "reproduces"; the hub raises a claim to "replicated" when
// reproductions come from two distinct host fingerprints.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runner/manifest.h"
#include "runner/sandbox.h"
#include "runner/status.h"

namespace ahub {

enum class Verdict { kReproduced, kRefuted, kFailed, kSkipped, kDeclared };
enum class Level { kDeclared, kWellFormed, kExecutes, kReproduces, kReplicated, kRefuted, kFailed };

const char* VerdictName(Verdict v);
const char* LevelName(Level l);
// The inverse of LevelName; nullopt for any other text (levels stored by the hub are read back).
std::optional<Level> LevelFromName(std::string_view name);

// What happened to one experiment. `skip_reason` non-empty: it was not run (e.g. "needs gpu").
struct ExperimentRun {
  std::string experiment;
  std::string skip_reason;
  RunOutcome outcome;
  // Reads and parses one file of the run's output directory (e.g. "results.json").
  std::function<Result<nlohmann::json>(const std::string& output)> read_output;
};

struct ClaimResult {
  std::string id;
  std::optional<double> measured;
  Verdict verdict = Verdict::kDeclared;
  Level level = Level::kDeclared;
  std::string reason;
};

// One result per claim of `package`, in manifest order. `runs` is keyed by experiment id; a claim
// whose experiment has no entry fails with reason "experiment was not run".
std::vector<ClaimResult> JudgeClaims(const Package& package,
                                     const std::map<std::string, ExperimentRun>& runs);

// The package's place on the ladder: refuted if any claim is refuted, else failed if any failed,
// else the lowest level among claims with evidence (declared when none has evidence).
Level PackageLevel(const std::vector<ClaimResult>& claims);

// A one-line explanation of why a run did not succeed, e.g. "killed: timeout after 60 s".
std::string DescribeFailure(const RunOutcome& outcome);

}  // namespace ahub
