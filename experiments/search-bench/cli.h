// Command line of search-bench: option parsing and the usage text.
//
// Thread-safety: ParseArgs and Usage are pure.
// Invariants of a ParsedArgs with action kRun:
//   1. config.sizes is non-empty, strictly increasing, every size in [1, kMaxSize].
//   2. config.queries >= 1, config.timing.repeats >= 1, config.hit_fraction in [0, 1].
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "experiments/search-bench/bench.h"

namespace search_bench {

inline constexpr const char* kProgramVersion = "1";

struct ParsedArgs {
  enum class Action { kRun, kHelp, kVersion, kUsageError };
  Action action = Action::kRun;
  BenchConfig config;
  std::string out_path;  // empty: stdout
  std::string error;     // for kUsageError: names the option and what it accepts
};

// args excludes the program name. Accepts "--opt value" and "--opt=value".
ParsedArgs ParseArgs(std::span<const std::string_view> args);

std::string Usage();


}  // namespace search_bench
