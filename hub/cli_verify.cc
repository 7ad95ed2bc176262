// `ahub validate` and `ahub verify`: the headless verification front end that authors and agents
// use. Human output by default, one JSON document with --json. `verify --hub` verifies a package
// stored on a hub (and may attest the result back to it) through the same local path.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <utility>

#include "hub/archive.h"
#include "hub/cli.h"
#include "hub/hub_client.h"
#include "runner/builtins.h"
#include "runner/host.h"
#include "runner/manifest.h"
#include "runner/sandbox.h"
#include "runner/verify.h"

namespace ahub::cli {
namespace {

namespace fs = std::filesystem;

void PrintDiagnostics(const LoadResult& loaded, const fs::path& path, bool json) {
  if (json) {
    nlohmann::json j = {{"valid", loaded.ok()}, {"package", path.string()}, {"errors", nlohmann::json::array()}};
    for (const Diagnostic& d : loaded.diagnostics) j["errors"].push_back(d.ToJson());
    std::cout << j.dump(2) << "\n";
    return;
  }
  for (const Diagnostic& d : loaded.diagnostics) std::cerr << d.ToString() << "\n";
  if (!loaded.ok()) {
    std::cerr << path.string() << ": " << loaded.diagnostics.size() << " problem"
              << (loaded.diagnostics.size() == 1 ? "" : "s") << "; the format is documented in schemas/README.md\n";
  }
}

// A private scratch directory for run outputs, removed on destruction unless kept.
class ScratchDir {
 public:
  static Result<std::unique_ptr<ScratchDir>> Create(const fs::path& keep) {
    if (!keep.empty()) {
      std::error_code ec;
      fs::create_directories(keep, ec);
      if (ec) return Status::IoError(keep.string() + ": " + ec.message());
      return std::make_unique<ScratchDir>(fs::absolute(keep), false);
    }
    std::string templ = (fs::temp_directory_path() / "ahub-verify-XXXXXX").string();
    if (!mkdtemp(templ.data())) return Status::IoError("cannot create a scratch directory in " + fs::temp_directory_path().string());
    // The sandbox runs the command under an unprivileged uid, which must be able to reach the
    // output directories inside (but not list this one).
    fs::permissions(templ, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    return std::make_unique<ScratchDir>(templ, true);
  }
  ScratchDir(fs::path path, bool remove) : path_(std::move(path)), remove_(remove) {}
  ~ScratchDir() {
    std::error_code ec;
    if (remove_) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  bool remove_;
};

struct VerifyArgs {
  std::string package;  // a directory, or with --hub an ID[@VERSION]
  bool json = false;
  int jobs = 1;
  std::string outputs;
  std::string experiments_dir;
  std::string hub;
  bool attest = false;
  std::string token;
};

// How long one request to the hub may take; archives are small (the hub caps them at 32 MiB).
constexpr std::chrono::seconds kHubRequestTimeout{120};

// Verifies the package in `dir` and prints the report; `label` names it in messages. The report
// is kept in `made` when one was produced. Returns the exit status of `ahub verify`.
int VerifyDirectory(const fs::path& dir, const std::string& label, const VerifyArgs& args,
                    std::optional<Report>* made) {
  const LoadResult loaded = LoadPackage(dir);
  if (!loaded.ok()) {
    PrintDiagnostics(loaded, label, /*json=*/false);
    return kExitInvalid;
  }
  auto scratch = ScratchDir::Create(args.outputs);
  if (!scratch.ok()) {
    std::cerr << "ahub verify: " << scratch.status().ToString() << "\n";
    return kExitEnvironment;
  }
  VerifyOptions options;
  options.builtin_dir =
      args.experiments_dir.empty() ? DefaultBuiltinDir() : fs::path(args.experiments_dir);
  options.work_dir = scratch.value()->path();
  options.jobs = args.jobs;
  options.host_has_gpu = HostHasGpu();
  const bool tty = isatty(STDERR_FILENO);
  options.progress = [tty](const ProgressEvent& ev) {
    std::cerr << "[" << ev.done << "/" << ev.total << "] " << ev.experiment << ": ";
    switch (ev.kind) {
      case ProgressEvent::Kind::kStarted:
        std::cerr << "running in the sandbox…";
        break;
      case ProgressEvent::Kind::kSkipped:
        std::cerr << "skipped (needs gpu)";
        break;
      case ProgressEvent::Kind::kFinished:
        std::cerr << (ev.outcome->succeeded() ? "done" : DescribeFailure(*ev.outcome)) << " in "
                  << std::fixed << std::setprecision(2) << ev.outcome->wall_seconds << " s";
        break;
    }
    std::cerr << (tty ? "\033[K\n" : "\n");
  };
  auto sandbox = NewBubblewrapSandbox();
  const HostInfo host = DescribeHost();
  Result<Report> report = VerifyPackage(dir, loaded.package, *sandbox, host, options);
  if (!report.ok()) {
    std::cerr << "ahub verify: " << loaded.package.id << "@" << loaded.package.version << ": "
              << report.status().ToString() << "\n";
    return kExitEnvironment;
  }
  if (args.json) {
    std::cout << report->ToJson().dump(2) << "\n";
  } else {
    std::cout << FormatReport(report.value());
  }
  const int code = report->ExitCode();
  if (made) *made = std::move(report.value());
  return code;
}

// Splits "ID[@VERSION]"; version 0 means the latest. Ids go into URL paths, so only the
// characters of package ids (and a little more, for the hub to judge) are let through.
std::optional<std::pair<std::string, int>> ParsePackageRef(const std::string& ref) {
  const size_t at = ref.find('@');
  const std::string id = ref.substr(0, at);
  if (id.empty() ||
      id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
          std::string::npos) {
    return std::nullopt;
  }
  if (at == std::string::npos) return std::pair{id, 0};
  const std::string v = ref.substr(at + 1);
  if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(v) == 0) {
    return std::nullopt;
  }
  return std::pair{id, std::stoi(v)};
}

// The hub's answer to an attestation, one line per claim, for stderr.
void PrintAttestation(const nlohmann::json& a) {
  std::cerr << "ahub verify: attestation " << a.value("id", 0) << " recorded for "
            << a.value("package", "") << " v" << a.value("version", 0) << " (host "
            << a.value("fingerprint", "").substr(0, 12)
            << "); the package's latest version now stands at " << a.value("level", "") << "\n";
  for (const nlohmann::json& c : a.value("claims", nlohmann::json::array())) {
    // hosts: how many machines (the hub's own included) reproduced the claim; two make it
    // replicated.
    const int hosts = c.value("hosts", 0);
    std::cerr << "  " << c.value("id", "") << ": " << c.value("verdict", "") << ", level "
              << c.value("level", "");
    if (hosts > 0) std::cerr << " (" << hosts << " host" << (hosts == 1 ? "" : "s") << ")";
    std::cerr << "\n";
  }
}

// `ahub verify --hub URL ID[@VERSION]`: the hub's archive of the package, unpacked into a private
// directory and verified here exactly as a local directory is; with --attest the report is then
// posted back to the hub.
int VerifyFromHub(const VerifyArgs& args) {
  const auto ref = ParsePackageRef(args.package);
  if (!ref) {
    std::cerr << "ahub verify: \"" << args.package
              << "\" is not a package reference; with --hub, PACKAGE is "
              << "ID or ID@VERSION, e.g. cache-admission-zipfian@1\n";
    return kExitInvalid;
  }
  const auto& [id, version] = *ref;
  if (args.attest && args.token.empty()) {
    std::cerr << "ahub verify: --attest needs a runner token: pass --token or set AHUB_TOKEN\n";
    return kExitInvalid;
  }
  auto client = hub::HubClient::Create(args.hub, args.token, kHubRequestTimeout);
  if (!client.ok()) {
    std::cerr << "ahub verify: " << client.status().ToString() << "\n";
    return kExitInvalid;
  }
  const std::string path =
      "/packages/" + id + (version > 0 ? "/versions/" + std::to_string(version) : "") + "/archive";
  hub::ApiResult<hub::HubReply> archive = client.value()->Get(path);
  if (!archive.ok()) {
    std::cerr << "ahub verify: " << hub::FormatApiError(archive.error()) << "\n";
    return hub::IsRefusal(archive.error()) ? kExitInvalid : kExitEnvironment;
  }
  // The sandbox's unprivileged uid reads the package through this directory: ScratchDir makes
  // it 0711 under the system temporary directory, and the extraction writes 0755/0644 below.
  auto scratch = ScratchDir::Create("");
  if (!scratch.ok()) {
    std::cerr << "ahub verify: " << scratch.status().ToString() << "\n";
    return kExitEnvironment;
  }
  const fs::path dir = scratch.value()->path() / "package";
  std::error_code ec;
  fs::create_directory(dir, ec);
  if (!ec)
    fs::permissions(dir,
                    fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                        fs::perms::others_read | fs::perms::others_exec,
                    ec);
  if (ec) {
    std::cerr << "ahub verify: " << dir.string() << ": " << ec.message() << "\n";
    return kExitEnvironment;
  }
  hub::ApiResult<hub::ExtractStats> extracted =
      hub::ExtractTarGz(archive->body, dir, hub::ExtractLimits{});
  if (!extracted.ok()) {
    std::cerr << "ahub verify: the archive from " << client.value()->Url(path)
              << " cannot be unpacked: " << hub::FormatApiError(extracted.error()) << "\n";
    return kExitEnvironment;
  }
  std::cerr << "ahub verify: downloaded " << args.package << " from " << client.value()->Url(path)
            << " (" << archive->body.size() << " bytes, " << extracted->files << " files)\n";

  std::optional<Report> report;
  const int code = VerifyDirectory(dir, args.package, args, &report);
  if (!args.attest || !report) return code;
  hub::ApiResult<hub::HubReply> attested =
      client.value()->Post("/attestations", report->ToJson().dump(), "application/json");
  if (!attested.ok()) {
    std::cerr << "ahub verify: the hub did not accept the attestation of " << report->package.id
              << " v" << report->package.version << ": " << hub::FormatApiError(attested.error())
              << "\n";
    return kExitEnvironment;
  }
  PrintAttestation(attested->json);
  return code;
}

}  // namespace

Command RegisterValidate(CLI::App& app) {
  struct Args {
    std::string path;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* sub = app.add_subcommand("validate", "Check a package manifest and report every problem at once.");
  sub->add_option("PATH", args->path, "package directory, or its package.yaml")->required();
  sub->add_flag("--json", args->json, "print one JSON document ({valid, package, errors[]}) on stdout");
  sub->footer("Each problem is printed as package.yaml:LINE:COL: FIELD: what is wrong; accepted: ...\n"
              "Exit status: 0 valid, 2 invalid or usage error.");
  return [args] {
    const LoadResult loaded = LoadPackage(args->path);
    PrintDiagnostics(loaded, args->path, args->json);
    if (loaded.ok() && !args->json) {
      std::cout << args->path << ": valid (" << loaded.package.id << " v" << loaded.package.version << ", "
                << loaded.package.claims.size() << " claims)\n";
    }
    return loaded.ok() ? kExitOk : kExitInvalid;
  };
}

Command RegisterVerify(CLI::App& app) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* sub = app.add_subcommand(
      "verify", "Re-run a package's experiments in the sandbox and judge every claim.");
  sub->add_option("PACKAGE", args->package,
                  "package directory; with --hub, a package ID[@VERSION] on the hub")
      ->required();
  sub->add_flag("--json", args->json,
                "print the report as JSON (schemas/report.schema.json) on stdout");
  sub->add_option("-j,--jobs", args->jobs, "experiments run at once")->check(CLI::Range(1, 64));
  sub->add_option("--outputs", args->outputs,
                  "keep each experiment's output directory under this directory");
  sub->add_option(
      "--experiments-dir", args->experiments_dir,
      "where the built-in experiments are (default: beside ahub, or $AHUB_EXPERIMENTS_DIR)");
  CLI::Option* hub = sub->add_option(
      "--hub", args->hub,
      "download the package from this hub (http://HOST:PORT[/PREFIX]) and verify it here");
  sub->add_flag("--attest", args->attest,
                "post the report to the hub as an attestation (needs a runner token)")
      ->needs(hub);
  sub->add_option("--token", args->token, "the hub token: a runner token for --attest")
      ->envname("AHUB_TOKEN");
  sub->footer(
      "Progress goes to stderr; the report to stdout. With --attest the hub's answer goes to\n"
      "stderr, so --json output stays the report alone.\n"
      "Exit status: 0 every claim with evidence reproduced, 1 a claim refuted or failed,\n"
      "2 invalid package or usage (with --hub: no such package or version), 3 claims skipped\n"
      "(e.g. needs gpu), 4 sandbox unavailable, or (with --hub) the hub unreachable, its\n"
      "archive unusable, or the attestation refused.");
  return [args] {
    if (args->hub.empty()) return VerifyDirectory(args->package, args->package, *args, nullptr);
    // A hub answer of an unexpected shape ends the command here rather than in std::terminate.
    try {
      return VerifyFromHub(*args);
    } catch (const nlohmann::json::exception& e) {
      std::cerr << "ahub verify: the hub's answer is not in the form this client reads: "
                << e.what() << "\n";
      return kExitEnvironment;
    }
  };
}

}  // namespace ahub::cli
