// Verification of one package: resolve each experiment's command, run it in the sandbox (several
// at once with jobs > 1), judge every claim, and build the report that `ahub verify` prints and
// the hub stores. The report's JSON is the public format of schemas/report.schema.json.
//
// Thread-safety: VerifyPackage() may run concurrently for different packages if the Sandbox
// allows it (BubblewrapSandbox does). The progress callback is called from worker threads, one
// call at a time.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runner/host.h"
#include "runner/judge.h"
#include "runner/manifest.h"
#include "runner/sandbox.h"
#include "runner/status.h"

namespace ahub {

// Where the command of an experiment points inside the sandbox, with {out} and {pkg} expanded.
// Fails for a command[0] that is not a built-in, the runtime's interpreter or a package file.
Result<std::vector<std::string>> ResolveCommand(const Experiment& experiment, const Package& package);

struct ProgressEvent {
  enum class Kind { kStarted, kFinished, kSkipped };
  Kind kind;
  std::string experiment;
  int done = 0;   // experiments finished so far
  int total = 0;  // experiments to run
  const RunOutcome* outcome = nullptr;  // kFinished only
};

struct VerifyOptions {
  std::filesystem::path builtin_dir;  // where the built-in experiments are (beside `ahub`)
  std::filesystem::path work_dir;     // outputs go to work_dir/<experiment>/; must exist
  int jobs = 1;
  bool host_has_gpu = false;
  std::function<void(const ProgressEvent&)> progress;
};

struct RunRecord {
  std::string experiment;
  std::string skip_reason;
  RunOutcome outcome;
  std::filesystem::path output_dir;
};

struct Report {
  Package package;
  std::string content_sha256;
  Level level = Level::kDeclared;
  std::vector<ClaimResult> claims;  // parallel to package.claims
  std::vector<RunRecord> runs;
  HostInfo host;
  std::string started_at;  // UTC, ISO 8601
  double elapsed_seconds = 0;

  nlohmann::json ToJson() const;
  // The documented exit status of `ahub verify`: 0 every claim with evidence reproduced (or none
  // has evidence), 1 any claim refuted or failed, 3 none refuted or failed but some skipped.
  int ExitCode() const;
};

// Verifies the valid package `package` found in `dir`. Only experiments that some claim cites
// are run. A non-ok Status means the verification could not take place (sandbox unavailable);
// anything the package's code does is reported in the Report.
Result<Report> VerifyPackage(const std::filesystem::path& dir, const Package& package,
                             Sandbox& sandbox, const HostInfo& host, const VerifyOptions& options);

// The human form: a table of claims (claimed, measured, expectation, verdict), then the runs.
std::string FormatReport(const Report& report);

}  // namespace ahub
