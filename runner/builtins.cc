#include "runner/builtins.h"

#include <algorithm>
#include <cstdlib>

namespace ahub {

const std::vector<std::string>& BuiltinExperiments() {
  static const std::vector<std::string> kNames = {"cache-sim",     "search-bench", "attn-fwd", "kv-paged",
                                                  "kv-gqa",        "kv-quant",     "stream-decode"};
  return kNames;
}

bool IsBuiltinExperiment(std::string_view name) {
  const auto& names = BuiltinExperiments();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::filesystem::path DefaultBuiltinDir() {
  if (const char* env = std::getenv("AHUB_EXPERIMENTS_DIR"); env && *env) return env;
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : self.parent_path();
}

}  // namespace ahub
