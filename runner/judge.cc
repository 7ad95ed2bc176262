#include "runner/judge.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "runner/json_pointer.h"

namespace ahub {
namespace {

std::string Num(double v) {
  std::ostringstream os;
  os.precision(6);
  os << v;
  return os.str();
}

std::string LastLine(const std::string& text) {
  size_t end = text.find_last_not_of(" \n\r\t");
  if (end == std::string::npos) return "";
  size_t begin = text.rfind('\n', end);
  begin = begin == std::string::npos ? 0 : begin + 1;
  return text.substr(begin, std::min<size_t>(end - begin + 1, 200));
}

ClaimResult Fail(ClaimResult r, std::string reason) {
  r.verdict = Verdict::kFailed;
  r.level = Level::kFailed;
  r.reason = std::move(reason);
  return r;
}

Result<double> Measure(const Evidence& ev, const ExperimentRun& run) {
  Result<nlohmann::json> doc = run.read_output(ev.output);
  if (!doc.ok()) return Status::NotFound("output " + ev.output + ": " + doc.status().ToString());
  Result<double> value = NumberAt(doc.value(), ev.pointer);
  if (!value.ok()) return value.status();
  if (ev.divide_by.empty()) return value;
  Result<double> divisor = NumberAt(doc.value(), ev.divide_by);
  if (!divisor.ok()) return divisor.status();
  if (divisor.value() == 0) return Status::InvalidArgument(ev.divide_by + ": divisor is zero");
  return value.value() / divisor.value();
}

}  // namespace

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kReproduced: return "reproduced";
    case Verdict::kRefuted: return "refuted";
    case Verdict::kFailed: return "failed";
    case Verdict::kSkipped: return "skipped";
    case Verdict::kDeclared: return "declared";
  }
  return "?";
}

const char* LevelName(Level l) {
  switch (l) {
    case Level::kDeclared: return "declared";
    case Level::kWellFormed: return "well-formed";
    case Level::kExecutes: return "executes";
    case Level::kReproduces: return "reproduces";
    case Level::kReplicated: return "replicated";
    case Level::kRefuted: return "refuted";
    case Level::kFailed: return "failed";
  }
  return "?";
}

std::optional<Level> LevelFromName(std::string_view name) {
  for (Level l : {Level::kDeclared, Level::kWellFormed, Level::kExecutes, Level::kReproduces, Level::kReplicated,
                  Level::kRefuted, Level::kFailed}) {
    if (name == LevelName(l)) return l;
  }
  return std::nullopt;
}

std::string DescribeFailure(const RunOutcome& o) {
  std::string why;
  switch (o.killed_by) {
    case KilledBy::kNone:
      if (o.exit_code == 0) return "succeeded";
      why = "exited with status " + std::to_string(o.exit_code);
      break;
    case KilledBy::kTimeout:
      why = "killed: wall-clock limit reached after " + Num(o.wall_seconds) + " s";
      break;
    case KilledBy::kMemory:
      why = "killed: memory limit reached (peak " + Num(o.peak_memory_mb) + " MB)";
      break;
    case KilledBy::kProcesses:
      why = "killed: process limit reached";
      break;
    case KilledBy::kOutputSize:
      why = "killed: output size limit reached";
      break;
    case KilledBy::kSignal:
      why = "killed by signal " + std::to_string(o.term_signal);
      break;
  }
  const std::string last = LastLine(o.stderr_text);
  return last.empty() ? why : why + ": " + last;
}

std::vector<ClaimResult> JudgeClaims(const Package& package,
                                     const std::map<std::string, ExperimentRun>& runs) {
  std::vector<ClaimResult> results;
  for (const Claim& claim : package.claims) {
    ClaimResult r;
    r.id = claim.id;
    if (!claim.evidence || !claim.expect) {
      r.reason = "no evidence: the claim is declared only";
      results.push_back(std::move(r));
      continue;
    }
    const Evidence& ev = *claim.evidence;
    auto it = runs.find(ev.experiment);
    if (it == runs.end()) {
      results.push_back(Fail(std::move(r), "experiment " + ev.experiment + " was not run"));
      continue;
    }
    const ExperimentRun& run = it->second;
    if (!run.skip_reason.empty()) {
      r.verdict = Verdict::kSkipped;
      r.level = Level::kWellFormed;
      r.reason = run.skip_reason;
      results.push_back(std::move(r));
      continue;
    }
    if (!run.outcome.succeeded()) {
      results.push_back(Fail(std::move(r), "experiment " + ev.experiment + " " + DescribeFailure(run.outcome)));
      continue;
    }
    Result<double> measured = Measure(ev, run);
    if (!measured.ok()) {
      results.push_back(Fail(std::move(r), "experiment " + ev.experiment + ": " + measured.status().ToString()));
      continue;
    }
    r.measured = measured.value();
    if (claim.expect->Accepts(measured.value())) {
      r.verdict = Verdict::kReproduced;
      r.level = Level::kReproduces;
      r.reason = "measured " + Num(measured.value()) + " within " + claim.expect->ToString();
    } else {
      r.verdict = Verdict::kRefuted;
      r.level = Level::kRefuted;
      r.reason = "measured " + Num(measured.value()) + " outside " + claim.expect->ToString();
    }
    results.push_back(std::move(r));
  }
  return results;
}

Level PackageLevel(const std::vector<ClaimResult>& claims) {
  auto any = [&](Verdict v) {
    return std::any_of(claims.begin(), claims.end(), [v](const ClaimResult& c) { return c.verdict == v; });
  };
  if (any(Verdict::kRefuted)) return Level::kRefuted;
  if (any(Verdict::kFailed)) return Level::kFailed;
  std::optional<Level> lowest;
  for (const ClaimResult& c : claims) {
    if (c.verdict == Verdict::kDeclared) continue;
    if (!lowest || c.level < *lowest) lowest = c.level;
  }
  return lowest.value_or(Level::kDeclared);
}

}  // namespace ahub
