// sandbox-bench: what a sandboxed run costs to start. Times N runs of /bin/true three ways:
//   bare    fork + execve + waitpid, no sandbox;
//   bwrap   bubblewrap invoked directly with the sandbox's namespaces and mounts (its own cost);
//   runner  BubblewrapSandbox::Run (bwrap plus cgroups, pipes, the output walk, the bookkeeping);
// and prints the medians and the overheads. Before timing it checks that each way really runs
// the command (exit status 0; the runner also captures stdout).
//
// Usage: sandbox-bench [runs]   (default 200)
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "runner/sandbox.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The uid the direct bwrap runs under when this program is root (the runner picks its own).
constexpr int kBenchUid = 0x70ffffff;

// Forks and execs argv (as kBenchUid when root); returns the exit status, or -1.
int Spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const bool drop = geteuid() == 0 && args[0].find("bwrap") != std::string::npos;
  const pid_t pid = fork();
  if (pid == 0) {
    if (drop && (syscall(SYS_setgroups, 0, nullptr) != 0 ||
                 syscall(SYS_setresgid, kBenchUid, kBenchUid, kBenchUid) != 0 ||
                 syscall(SYS_setresuid, kBenchUid, kBenchUid, kBenchUid) != 0)) {
      _exit(126);
    }
    char* const env[] = {nullptr};
    execve(argv[0], argv.data(), env);
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Stats {
  double median_ms;
  double p90_ms;
};

Stats Time(int runs, const std::function<bool()>& once) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = Clock::now();
    if (!once()) {
      std::fprintf(stderr, "a timed run failed\n");
      std::exit(1);
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[ms.size() * 9 / 10]};
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 200;
  if (runs <= 0) {
    std::fprintf(stderr, "usage: sandbox-bench [runs]\n");
    return 2;
  }
  std::string templ = (fs::temp_directory_path() / "ahub-sandbox-bench-XXXXXX").string();
  if (!mkdtemp(templ.data())) return 1;
  const fs::path root = templ;
  chmod(root.c_str(), 0755);
  fs::create_directories(root / "pkg");
  fs::create_directories(root / "out");
  if (geteuid() == 0) chown((root / "out").c_str(), kBenchUid, kBenchUid);

  const std::vector<std::string> bare = {"/bin/true"};
  const std::vector<std::string> bwrap = {
      "/usr/bin/bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
      "--new-session", "--cap-drop", "ALL", "--uid", "1000", "--gid", "1000",
      "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
      "--symlink", "usr/lib64", "/lib64", "--symlink", "usr/sbin", "/sbin",
      "--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache", "--proc", "/proc", "--dev", "/dev",
      "--size", "268435456", "--tmpfs", "/tmp", "--ro-bind", (root / "pkg").string(), "/pkg",
      "--bind", (root / "out").string(), "/out", "--remount-ro", "/", "--chdir", "/pkg",
      "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--", "/bin/true"};
  std::unique_ptr<ahub::Sandbox> sandbox = ahub::NewBubblewrapSandbox();
  ahub::SandboxSpec spec;
  spec.package_dir = root / "pkg";
  spec.output_dir = root / "out";
  spec.limits.wall_seconds = 30;

  // Each way must really run the command before it is timed.
  spec.argv = {"/bin/echo", "bench"};
  ahub::Result<ahub::RunOutcome> check = sandbox->Run(spec);
  if (!check.ok() || !check->succeeded() || check->stdout_text != "bench\n") {
    std::fprintf(stderr, "runner check failed: %s\n",
                 check.ok() ? check->stderr_text.c_str() : check.status().ToString().c_str());
    return 1;
  }
  if (Spawn(bare) != 0 || Spawn(bwrap) != 0) {
    std::fprintf(stderr, "bare or direct bwrap run of /bin/true failed\n");
    return 1;
  }
  const std::string enforcement = check->enforcement;

  spec.argv = {"/bin/true"};
  const Stats t_bare = Time(runs, [&] { return Spawn(bare) == 0; });
  const Stats t_bwrap = Time(runs, [&] { return Spawn(bwrap) == 0; });
  const Stats t_runner = Time(runs, [&] {
    ahub::Result<ahub::RunOutcome> r = sandbox->Run(spec);
    return r.ok() && r->succeeded();
  });
  fs::remove_all(root);

  std::printf("sandbox-bench: %d runs each of /bin/true, enforcement %s, as %s\n", runs,
              enforcement.c_str(), geteuid() == 0 ? "root" : "a user");
  std::printf("  %-8s median %7.2f ms   p90 %7.2f ms\n", "bare", t_bare.median_ms, t_bare.p90_ms);
  std::printf("  %-8s median %7.2f ms   p90 %7.2f ms\n", "bwrap", t_bwrap.median_ms, t_bwrap.p90_ms);
  std::printf("  %-8s median %7.2f ms   p90 %7.2f ms\n", "runner", t_runner.median_ms,
              t_runner.p90_ms);
  std::printf("  runner - bare  = %6.2f ms (target <= 10 ms)\n", t_runner.median_ms - t_bare.median_ms);
  std::printf("  bwrap  - bare  = %6.2f ms (bubblewrap's own start cost)\n",
              t_bwrap.median_ms - t_bare.median_ms);
  std::printf("  runner - bwrap = %6.2f ms (the runner's own cost)\n",
              t_runner.median_ms - t_bwrap.median_ms);
  return 0;
}
