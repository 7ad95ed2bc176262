// search-bench: linear scan vs binary search membership on sorted int64 arrays; see README.md.
#include <cstdio>
#include <iostream>
#include <string_view>
#include <vector>

#include "experiments/search-bench/bench.h"
#include "experiments/search-bench/cli.h"
#include "experiments/common/output_file.h"

int main(int argc, char** argv) {
  using search_bench::ParsedArgs;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  const ParsedArgs parsed = search_bench::ParseArgs(args);
  switch (parsed.action) {
    case ParsedArgs::Action::kHelp:
      std::cout << search_bench::Usage();
      return 0;
    case ParsedArgs::Action::kVersion:
      std::cout << "search-bench " << search_bench::kProgramVersion << "\n";
      return 0;
    case ParsedArgs::Action::kUsageError:
      std::cerr << parsed.error << "\nTry 'search-bench --help'.\n";
      return 2;
    case ParsedArgs::Action::kRun:
      break;
  }

  const search_bench::BenchOutcome outcome =
      search_bench::RunBench(parsed.config, search_bench::SteadyClock());
  if (!outcome.error.empty()) {
    std::cerr << "search-bench: " << outcome.error << "\n";
    return 1;
  }
  const std::string json = search_bench::ReportToJson(outcome.report);
  if (parsed.out_path.empty()) {
    std::cout << json;
    std::cout.flush();
    return std::cout ? 0 : 1;
  }
  if (const std::string error = expcommon::WriteFileAtomically(parsed.out_path, json);
      !error.empty()) {
    std::cerr << "search-bench: --out " << error << "\n";
    return 1;
  }
  return 0;
}
