// `ahub validate` and `ahub verify`: the headless verification front end that authors and agents
// use. Human output by default, one JSON document with --json.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>

#include "hub/cli.h"
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

// The built-in experiments are installed beside the ahub binary unless the environment says otherwise.
fs::path DefaultBuiltinDir() {
  if (const char* env = std::getenv("AHUB_EXPERIMENTS_DIR"); env && *env) return env;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : self.parent_path();
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
  struct Args {
    std::string dir;
    bool json = false;
    int jobs = 1;
    std::string outputs;
    std::string experiments_dir;
  };
  auto args = std::make_shared<Args>();
  CLI::App* sub = app.add_subcommand(
      "verify", "Re-run a package's experiments in the sandbox and judge every claim.");
  sub->add_option("DIR", args->dir, "package directory")->required();
  sub->add_flag("--json", args->json, "print the report as JSON (schemas/report.schema.json) on stdout");
  sub->add_option("-j,--jobs", args->jobs, "experiments run at once")->check(CLI::Range(1, 64));
  sub->add_option("--outputs", args->outputs, "keep each experiment's output directory under this directory");
  sub->add_option("--experiments-dir", args->experiments_dir,
                  "where the built-in experiments are (default: beside ahub, or $AHUB_EXPERIMENTS_DIR)");
  sub->footer("Progress goes to stderr; the report to stdout.\n"
              "Exit status: 0 every claim with evidence reproduced, 1 a claim refuted or failed,\n"
              "2 invalid package or usage, 3 claims skipped (e.g. needs gpu), 4 sandbox unavailable.");
  return [args] {
    const LoadResult loaded = LoadPackage(args->dir);
    if (!loaded.ok()) {
      PrintDiagnostics(loaded, args->dir, /*json=*/false);
      return kExitInvalid;
    }
    auto scratch = ScratchDir::Create(args->outputs);
    if (!scratch.ok()) {
      std::cerr << "ahub verify: " << scratch.status().ToString() << "\n";
      return kExitEnvironment;
    }
    VerifyOptions options;
    options.builtin_dir = args->experiments_dir.empty() ? DefaultBuiltinDir() : fs::path(args->experiments_dir);
    options.work_dir = scratch.value()->path();
    options.jobs = args->jobs;
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
    Result<Report> report = VerifyPackage(args->dir, loaded.package, *sandbox, host, options);
    if (!report.ok()) {
      std::cerr << "ahub verify: " << loaded.package.id << "@" << loaded.package.version << ": "
                << report.status().ToString() << "\n";
      return kExitEnvironment;
    }
    if (args->json) {
      std::cout << report->ToJson().dump(2) << "\n";
    } else {
      std::cout << FormatReport(report.value());
    }
    return report->ExitCode();
  };
}

}  // namespace ahub::cli
