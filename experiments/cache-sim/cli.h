// Command-line parsing for cache-sim: turns argv into ExperimentOptions, or a usage error that
// names the option and what it accepts.
//
// Invariants of a parsed CommandLine with action kRun:
//  1. exactly one workload: Zipf (the default) or --trace;
//  2. at least one capacity, every capacity >= 1; for Zipf every warm-up < --requests;
//  3. at least one policy, none repeated.
// Thread-safety: pure functions.
#ifndef AHUB_EXPERIMENTS_CACHE_SIM_CLI_H_
#define AHUB_EXPERIMENTS_CACHE_SIM_CLI_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "experiment.h"
#include "result.h"

namespace cachesim {

inline constexpr std::string_view kProgramVersion = "1.0.0";

struct CommandLine {
  enum class Action { kRun, kHelp, kVersion };
  Action action = Action::kRun;
  ExperimentOptions options;
  std::optional<std::string> out_path;  // stdout when absent
};

// `args` excludes the program name. Both "--opt value" and "--opt=value" are accepted.
Result<CommandLine> ParseCommandLine(std::span<const std::string_view> args);

// The --help text.
std::string UsageText();

}  // namespace cachesim

#endif  // AHUB_EXPERIMENTS_CACHE_SIM_CLI_H_
