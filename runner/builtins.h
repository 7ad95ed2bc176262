// The registry of built-in experiments: the programs under experiments/ that a package may name
// as command[0]. They are installed beside the `ahub` binary and mounted read-only in the sandbox
// at kBuiltinMount.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ahub {

const std::vector<std::string>& BuiltinExperiments();
bool IsBuiltinExperiment(std::string_view name);

// Where the built-in experiments are: $AHUB_EXPERIMENTS_DIR when set, else the directory of the
// running binary (they are built beside `ahub`).
std::filesystem::path DefaultBuiltinDir();

}  // namespace ahub
