// sandbox-bench: what a sandboxed run costs to start. Times N runs of /bin/true three ways:
//   bare    fork + execve + waitpid, no sandbox;
//   bwrap   bubblewrap invoked directly with the sandbox's namespaces and mounts (its own cost);
//   runner  BubblewrapSandbox::Run (bwrap plus cgroups, pipes, the output walk, the bookkeeping),
//           and once more with use_cgroups = false (rlimits and the reaper instead of cgroups);
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
#include <sstream>
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
  double min_ms;
};

Stats Summarise(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[ms.size() * 9 / 10], ms.front()};
}

// Times `ways` round-robin, `runs` rounds: a change in the machine's load during the benchmark
// then affects every way alike.
std::vector<Stats> TimeInterleaved(int runs, const std::vector<std::function<bool()>>& ways) {
  std::vector<std::vector<double>> ms(ways.size());
  for (int i = 0; i < runs; ++i) {
    for (size_t w = 0; w < ways.size(); ++w) {
      const auto t0 = Clock::now();
      if (!ways[w]()) {
        std::fprintf(stderr, "a timed run failed\n");
        std::exit(1);
      }
      ms[w].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
  }
  std::vector<Stats> stats;
  for (auto& m : ms) stats.push_back(Summarise(std::move(m)));
  return stats;
}

// Splits a command line on spaces (the flags below contain none inside an argument).
std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

bool RunnerRuns(ahub::Sandbox& sandbox, const ahub::SandboxSpec& spec, const char* enforcement) {
  ahub::Result<ahub::RunOutcome> r = sandbox.Run(spec);
  return r.ok() && r->succeeded() && (!enforcement || r->enforcement == enforcement);
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
  if (geteuid() == 0 && chown((root / "out").c_str(), kBenchUid, kBenchUid) != 0) return 1;

  // The sandbox's namespaces and main mounts, without the runner's /etc files and limits.
  const std::vector<std::string> bare = {"/bin/true"};
  const std::vector<std::string> bwrap = Words(
      "/usr/bin/bwrap --unshare-all --unshare-user --disable-userns --die-with-parent "
      "--new-session --cap-drop ALL --uid 1000 --gid 1000 --ro-bind /usr /usr "
      "--symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64 "
      "--symlink usr/sbin /sbin --ro-bind /etc/ld.so.cache /etc/ld.so.cache --proc /proc "
      "--dev /dev --size 268435456 --tmpfs /tmp --ro-bind " +
      (root / "pkg").string() + " /pkg --bind " + (root / "out").string() +
      " /out --remount-ro / --chdir /pkg --clearenv --setenv PATH /usr/bin:/bin -- /bin/true");
  std::unique_ptr<ahub::Sandbox> sandbox = ahub::NewBubblewrapSandbox();
  ahub::BubblewrapOptions rlimit_options;
  rlimit_options.use_cgroups = false;
  std::unique_ptr<ahub::Sandbox> rlimit_sandbox = ahub::NewBubblewrapSandbox(rlimit_options);
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
  const std::vector<Stats> t =
      TimeInterleaved(runs, {[&] { return Spawn(bare) == 0; }, [&] { return Spawn(bwrap) == 0; },
                             [&] { return RunnerRuns(*sandbox, spec, nullptr); },
                             [&] { return RunnerRuns(*rlimit_sandbox, spec, "rlimit"); }});
  fs::remove_all(root);

  double load = 0;
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = 0;
    std::fclose(f);
  }
  std::printf("sandbox-bench: %d runs each of /bin/true, interleaved; as %s; 1-min load %.2f\n",
              runs, geteuid() == 0 ? "root" : "a user", load);
  const char* names[] = {"bare fork/exec", "bwrap direct", "runner", "runner (rlimit)"};
  const std::string runner_name = "runner (" + enforcement + ")";
  names[2] = runner_name.c_str();
  for (size_t i = 0; i < t.size(); ++i) {
    std::printf("  %-20s median %7.2f ms   p90 %7.2f ms   min %7.2f ms\n", names[i], t[i].median_ms,
                t[i].p90_ms, t[i].min_ms);
  }
  std::printf("  runner - bare   = %6.2f ms  (target <= 10 ms)\n", t[2].median_ms - t[0].median_ms);
  std::printf("  bwrap  - bare   = %6.2f ms  (bubblewrap's own start cost)\n",
              t[1].median_ms - t[0].median_ms);
  std::printf("  runner - bwrap  = %6.2f ms  (the runner's own cost)\n",
              t[2].median_ms - t[1].median_ms);
  std::printf("  rlimit - bare   = %6.2f ms  (runner without cgroups)\n",
              t[3].median_ms - t[0].median_ms);
  return 0;
}
