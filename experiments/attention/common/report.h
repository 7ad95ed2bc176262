// The shape every attention experiment's program shares: parse flags, run, write one JSON
// document to --out (atomically) or stdout, and map failures to exit codes.
//
// Exit status: 0 done; 1 the measurement failed (no GPU for a GPU run, a CUDA error, a failed
// correctness check, an unwritable --out); 2 usage error. Not thread-safe; called from main().
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiments/attention/common/cli.h"

namespace attn {

inline constexpr std::string_view kAttentionVersion = "1.0.0";

// `flags` must already have its options added; RunProgram adds --out. `validate`, when given,
// checks the combination of parsed flags and returns "" or the usage error (exit status 2).
// `body` returns the document; it throws std::runtime_error for a failed measurement (the
// message is printed as "<program>: <message>" and the exit status is 1).
int RunProgram(const std::string& program, Flags& flags, int argc, char** argv,
               const std::function<nlohmann::json()>& body,
               const std::function<std::string()>& validate = nullptr);

}  // namespace attn
