#include "experiments/attention/common/report.h"

#include <exception>
#include <iostream>

#include "experiments/common/output_file.h"

namespace attn {

int RunProgram(const std::string& program, Flags& flags, int argc, char** argv,
               const std::function<nlohmann::json()>& body, const std::function<std::string()>& validate) {
  std::string out_path = "-";
  flags.AddString("out", &out_path, {}, "write the JSON document to this file, '-' for stdout");
  switch (flags.Parse(std::vector<std::string_view>(argv + 1, argv + argc))) {
    case Flags::Outcome::kHelp:
      std::cout << flags.Usage();
      return 0;
    case Flags::Outcome::kVersion:
      std::cout << program << " " << kAttentionVersion << "\n";
      return 0;
    case Flags::Outcome::kError:
      std::cerr << flags.error() << "\nTry '" << program << " --help'.\n";
      return 2;
    case Flags::Outcome::kRun:
      break;
  }
  if (validate) {
    if (const std::string error = validate(); !error.empty()) {
      std::cerr << program << ": " << error << "\nTry '" << program << " --help'.\n";
      return 2;
    }
  }
  nlohmann::json doc;
  try {
    doc = body();
  } catch (const std::exception& e) {
    std::cerr << program << ": " << e.what() << "\n";
    return 1;
  }
  const std::string text = doc.dump(2) + "\n";
  if (out_path == "-") {
    std::cout << text << std::flush;
    return std::cout ? 0 : 1;
  }
  if (const std::string error = expcommon::WriteFileAtomically(out_path, text); !error.empty()) {
    std::cerr << program << ": --out " << error << "\n";
    return 1;
  }
  return 0;
}

}  // namespace attn
