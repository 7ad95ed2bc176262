// Subcommands of the `ahub` binary. Each Register* adds one subcommand to the CLI11 app and
// returns the function that runs it once parsing succeeded; the function returns the exit status.
//
// Exit statuses (documented in README.md):
//   0 success (verify: every claim with evidence reproduced)
//   1 verify: a claim was refuted or failed; import-arxiv: some entries were refused
//   2 invalid package, invalid input or usage error
//   3 verify: nothing refuted or failed, but some claims were skipped (e.g. needs gpu)
//   4 the environment prevented the work (sandbox unavailable, I/O error)
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace ahub::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitClaimsFailed = 1;
inline constexpr int kExitSomeRefused = 1;  // import-arxiv: the other entries were imported
inline constexpr int kExitInvalid = 2;
inline constexpr int kExitSkipped = 3;
inline constexpr int kExitEnvironment = 4;

using Command = std::function<int()>;

Command RegisterValidate(CLI::App& app);
Command RegisterVerify(CLI::App& app);
Command RegisterServe(CLI::App& app);
Command RegisterToken(CLI::App& app);
Command RegisterSubmit(CLI::App& app);
Command RegisterImportArxiv(CLI::App& app);

}  // namespace ahub::cli
