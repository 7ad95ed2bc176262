// `ahub token create`: issues an API token for a role. The token is printed once; the store keeps
// only its hash, so a lost token is replaced, never recovered.
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "hub/auth.h"
#include "hub/cli.h"
#include "hub/service.h"

namespace ahub::cli {

Command RegisterToken(CLI::App& app) {
  struct Args {
    std::string role;
    std::string name;
    std::string data = "var";
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* sub = app.add_subcommand("token", "Manage API tokens.");
  sub->require_subcommand(1);
  CLI::App* create =
      sub->add_subcommand("create", "Create a token and print it (shown only once).");
  create->add_option("--role", args->role, "what the token may do")
      ->required()
      ->check(CLI::IsMember({"author", "reviewer", "runner", "admin"}));
  create->add_option("--name", args->name, "who holds it (shown in logs and as git author)")
      ->required();
  create->add_option("--data", args->data, "data directory of the hub")
      ->envname("AHUB_DATA")
      ->capture_default_str();
  create->add_flag("--json", args->json, "print {\"token\", \"role\", \"name\"} as JSON");
  create->footer(
      "Roles: author submits packages; reviewer re-queues verification and reviews tensions;\n"
      "runner posts attestations; admin may do everything.\n"
      "Exit status: 0 created, 2 usage error, 4 the store cannot be opened.");

  return [args]() -> int {
    const std::optional<hub::Role> role = hub::ParseRole(args->role);
    if (!role) return kExitInvalid;  // unreachable: CLI11 checked membership
    // The store alone: a server may be running on the same data directory.
    Result<std::string> token = hub::Hub::CreateToken(args->data, *role, args->name);
    if (!token.ok()) {
      std::cerr << "ahub token: " << token.status().ToString() << "\n";
      return token.status().code() == Status::Code::kInvalidArgument ? kExitInvalid
                                                                     : kExitEnvironment;
    }
    if (args->json) {
      std::cout << nlohmann::json{{"token", token.value()},
                                  {"role", args->role},
                                  {"name", args->name}}
                       .dump(2)
                << "\n";
    } else {
      std::cout << token.value() << "\n";
      std::cerr << "ahub token: " << args->role << " token for " << args->name
                << " created; it is shown only once, store it now\n";
    }
    return kExitOk;
  };
}

}  // namespace ahub::cli
