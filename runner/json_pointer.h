// JSON pointers (RFC 6901) into experiment outputs: syntax check for manifests, and lookup of the
// number a claim's evidence points at, with an error that says where the lookup stopped.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "runner/status.h"

namespace ahub {

// "" (the whole document) or a sequence of "/token" where '~' appears only as ~0 or ~1.
bool IsValidJsonPointer(const std::string& pointer);

// The number at `pointer` in `doc`; NotFound naming the first missing step, InvalidArgument when
// the value there is not a number.
Result<double> NumberAt(const nlohmann::json& doc, const std::string& pointer);

}  // namespace ahub
