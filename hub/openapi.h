// The API contract served at GET /api/v1/openapi.json. It is schemas/openapi.yaml itself,
// embedded into the binary at build time (hub/CMakeLists.txt generates the text), so the served
// document cannot drift from the file in the repository.
//
// Thread-safety: pure functions over values and constant data.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "runner/status.h"

namespace ahub::hub {

// schemas/openapi.yaml as it was when the binary was built.
std::string_view OpenApiYaml();

// A YAML document as JSON. Plain scalars become null, booleans, integers or numbers when they
// read as such in YAML 1.2's core schema; quoted scalars and everything else stay strings.
// An InvalidArgument names the line and column of a YAML syntax error.
Result<nlohmann::json> YamlToJson(std::string_view yaml);

}  // namespace ahub::hub
