// Command line of search-bench: option parsing, the usage text, and the atomic output write.
//
// Thread-safety: ParseArgs and Usage are pure; WriteFileAtomically touches only its path and a
// temporary file beside it.
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

// Writes text to path through a temporary file in the same directory and a rename, so a reader
// sees the old file or the whole new one. Returns "" on success, else a message naming the path.
std::string WriteFileAtomically(const std::string& path, std::string_view text);

}  // namespace search_bench
