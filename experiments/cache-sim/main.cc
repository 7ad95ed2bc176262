// cache-sim: the command-line entry point. Parsing, simulation and output live in the
// cache_sim_core library; this file only maps their outcomes to streams and exit codes.
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli.h"
#include "experiment.h"
#include "experiments/common/output_file.h"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int RunCommandLine(const std::vector<std::string_view>& args) {
  auto parsed = cachesim::ParseCommandLine(args);
  if (!parsed.ok()) {
    std::cerr << "cache-sim: " << parsed.error().message()
              << "\nRun 'cache-sim --help' for usage.\n";
    return kExitUsage;
  }
  const cachesim::CommandLine& line = parsed.value();
  switch (line.action) {
    case cachesim::CommandLine::Action::kHelp:
      std::cout << cachesim::UsageText();
      return 0;
    case cachesim::CommandLine::Action::kVersion:
      std::cout << "cache-sim " << cachesim::kProgramVersion << " (output format "
                << cachesim::kOutputFormatVersion << ")\n";
      return 0;
    case cachesim::CommandLine::Action::kRun:
      break;
  }

  auto document = cachesim::RunExperiment(line.options);
  if (!document.ok()) {
    std::cerr << "cache-sim: " << document.error().message() << "\n";
    return kExitFailure;
  }
  // A trace path need not be UTF-8: replace invalid bytes rather than fail at the last step.
  const std::string text =
      document.value().dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  if (!line.out_path) {
    std::cout << text << std::flush;
    return std::cout ? 0 : kExitFailure;
  }
  if (const std::string error = expcommon::WriteFileAtomically(*line.out_path, text); !error.empty()) {
    std::cerr << "cache-sim: --out " << error << "\n";
    return kExitFailure;
  }
  return 0;
}

}  // namespace

// Expected failures come back as values; an exception reaching this edge is a fault (out of
// memory, say) and is reported once, here.
int main(int argc, char** argv) {
  try {
    return RunCommandLine(std::vector<std::string_view>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "cache-sim: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "cache-sim: internal error\n";
  }
  return kExitFailure;
}
