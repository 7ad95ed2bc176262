// ahub: the AttentionHub command line. One binary, one subcommand per task.
#include <iostream>
#include <map>

#include "hub/cli.h"
#include "runner/host.h"

int main(int argc, char** argv) {
  CLI::App app{"AttentionHub: verify research claims by running them.", "ahub"};
  app.set_version_flag("--version", ahub::kAhubVersion);
  app.require_subcommand(1);
  app.footer(
      "Exit status: 0 ok, 1 claims refuted or failed, 2 invalid input or usage, 3 claims skipped,\n"
      "4 environment error (e.g. sandbox unavailable). Run `ahub COMMAND --help` for details.");
  std::map<CLI::App*, ahub::cli::Command> commands;
  auto add = [&](ahub::cli::Command (*reg)(CLI::App&)) {
    const size_t before = app.get_subcommands({}).size();
    ahub::cli::Command cmd = reg(app);
    commands[app.get_subcommands({})[before]] = std::move(cmd);
  };
  add(ahub::cli::RegisterValidate);
  add(ahub::cli::RegisterVerify);
  add(ahub::cli::RegisterServe);
  add(ahub::cli::RegisterToken);
  add(ahub::cli::RegisterSubmit);
  add(ahub::cli::RegisterImportArxiv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : ahub::cli::kExitInvalid;
  }
  for (auto& [sub, cmd] : commands) {
    if (sub->parsed()) return cmd();
  }
  return ahub::cli::kExitInvalid;
}
