#include "runner/builtins.h"

#include <algorithm>

namespace ahub {

const std::vector<std::string>& BuiltinExperiments() {
  static const std::vector<std::string> kNames = {"cache-sim", "search-bench"};
  return kNames;
}

bool IsBuiltinExperiment(std::string_view name) {
  const auto& names = BuiltinExperiments();
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace ahub
