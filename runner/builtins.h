// The registry of built-in experiments: the programs under experiments/ that a package may name
// as command[0]. They are installed beside the `ahub` binary and mounted read-only in the sandbox
// at kBuiltinMount.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ahub {

const std::vector<std::string>& BuiltinExperiments();
bool IsBuiltinExperiment(std::string_view name);

}  // namespace ahub
