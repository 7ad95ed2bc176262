// BubblewrapSandbox: one run is
//   1. validate the spec; as root, pick a fresh unprivileged uid and lend it the output directory;
//   2. create the run's cgroups (or plan rlimits);
//   3. fork; the child sets rlimits, drops to the run uid and execs bwrap;
//   4. the parent reads stdout/stderr/bwrap's status through pipes with poll() until bwrap exits,
//      killing the whole tree when the wall clock runs out. With cgroups, bwrap is started with
//      --block-fd: the parent moves the child into the cgroups right after fork, then bwrap's
//      namespace init once bwrap reports it, and only then lets it fork the command
//      (Supervisor::JoinAndRelease);
//   5. wait until nothing of the run is left, read the cgroup accounting, remove the cgroups;
//   6. settle the output directory (give it back, drop links, measure it) and name the reason the
//      run ended.
// Only async-signal-safe calls happen between fork and exec (the caller may be multithreaded):
// everything the child needs is prepared in a ChildPlan before fork.
#include "runner/sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "runner/cgroup.h"
#include "runner/sandbox_host.h"
#include "runner/sandbox_log.h"

namespace ahub {
namespace fs = std::filesystem;
namespace {

using Clock = std::chrono::steady_clock;

// Run as root, each run gets its own uid from this range: never root, never an account's uid,
// and no two concurrent runs share a per-user process budget. The range lies in what systemd
// documents as unused (0x70000000 and up), chosen at random per run.
constexpr uint32_t kRunUidBase = 0x70000000;
constexpr uint32_t kRunUidCount = 1u << 24;
// The command's own uid/gid as it sees them (its passwd entry is "ahub").
constexpr int kSandboxUid = 1000;
// Tasks of bubblewrap itself in the run's cgroup: its monitor and the namespace's init.
constexpr int kBwrapTasks = 2;
// Without cgroups, one more: the reaper between the runner and bwrap (see RunReaper).
constexpr int kReaperTasks = 1;
// How long to wait for a killed tree to disappear before giving up on it.
constexpr auto kReapGrace = std::chrono::seconds(5);
// Without pidfds (kernels before 5.3) bwrap's exit is polled this often.
constexpr int kPollSliceMs = 10;
constexpr size_t kReadChunk = size_t{64} * 1024;
constexpr int kPipeBytes = 1 << 20;  // fewer wake-ups for a command that floods its output

// Descriptors the child hands to bwrap, at fixed numbers; kErrorFd is close-on-exec and carries
// a ChildError when the child cannot exec bwrap; kReaperFd carries the reaper's ReaperReport.
constexpr int kStatusFd = 3;
constexpr int kPasswdFd = 4;
constexpr int kGroupFd = 5;
constexpr int kHostsFd = 6;
constexpr int kNsswitchFd = 7;
constexpr int kErrorFd = 8;
constexpr int kReaperFd = 9;
constexpr int kBlockFd = 10;  // bwrap waits for a byte here before it starts the command
constexpr int kChildFdCount = 11;
// The parent keeps the child's descriptors at or above this before fork, so that placing them at
// 0..kChildFdCount-1 in the child never overwrites one not yet placed.
constexpr int kFirstHighFd = 16;

constexpr const char* kPasswd =
    "ahub:x:1000:1000:ahub sandbox:/tmp:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
constexpr const char* kGroup = "ahub:x:1000:\nnogroup:x:65534:\n";
constexpr const char* kHostname = "ahub-sandbox";
constexpr const char* kHosts =
    "127.0.0.1\tlocalhost\n127.0.1.1\tahub-sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n";
constexpr const char* kNsswitch = "passwd: files\ngroup: files\nshadow: files\nhosts: files\n";

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Runs a callable when the scope ends.
template <typename F>
class ScopeExit {
 public:
  explicit ScopeExit(F f) : f_(std::move(f)) {}
  ~ScopeExit() { f_(); }
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;

 private:
  F f_;
};

std::string ErrnoText(int err) { return std::strerror(err); }

// A pipe whose ends are close-on-exec; [0] reads, [1] writes.
bool MakePipe(std::array<UniqueFd, 2>* ends) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  (*ends)[0].reset(fds[0]);
  (*ends)[1].reset(fds[1]);
  return true;
}

// Moves a descriptor at or above kFirstHighFd (see there).
UniqueFd MoveHigh(UniqueFd fd) {
  const int high = fcntl(fd.get(), F_DUPFD_CLOEXEC, kFirstHighFd);
  return UniqueFd(high);
}

// A pipe already holding `data` and closed for writing: bwrap copies it into a sandbox file.
UniqueFd DataPipe(const char* data) {
  std::array<UniqueFd, 2> p;
  if (!MakePipe(&p)) return UniqueFd();
  const size_t n = strlen(data);  // far below a pipe's capacity, so this never blocks
  if (write(p[1].get(), data, n) != static_cast<ssize_t>(n)) return UniqueFd();
  return MoveHigh(std::move(p[0]));
}

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

bool PidfdKill(int pidfd) {
  return syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0) == 0;
}

// The parent pid of `pid` from /proc, or -1.
pid_t ParentOf(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[512];
  const ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ')'.
  const char* close_paren = strrchr(buf, ')');
  char state = 0;
  int ppid = -1;
  if (!close_paren || sscanf(close_paren + 1, " %c %d", &state, &ppid) != 2) return -1;
  return ppid;
}

// Waits until the process behind `pidfd` has exited, at most `timeout`.
bool WaitPidfd(int pidfd, std::chrono::milliseconds timeout) {
  pollfd p{pidfd, POLLIN, 0};
  const auto end = Clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
    const int n = poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

// ---- The child: from fork to exec ----------------------------------------------------------

enum class ChildStep : int { kFds, kUserNamespace, kLimits, kIdentity, kParent, kReaper, kExec };

const char* ChildStepName(int step) {
  switch (static_cast<ChildStep>(step)) {
    case ChildStep::kFds:
      return "placing descriptors";
    case ChildStep::kUserNamespace:
      return "creating the user namespace";
    case ChildStep::kLimits:
      return "setting rlimits";
    case ChildStep::kIdentity:
      return "dropping to the run uid";
    case ChildStep::kParent:
      return "binding to the runner's lifetime";
    case ChildStep::kReaper:
      return "starting the reaper";
    case ChildStep::kExec:
      return "executing bubblewrap";
  }
  return "starting";
}

struct ChildError {
  int step;
  int err;
};

// What the reaper writes on kReaperFd as soon as it has forked bwrap: bwrap's pid.
using ReaperReport = int64_t;

struct ChildPlan {
  std::string bwrap;
  std::vector<std::string> args;
  std::vector<char*> argv;             // into args, null-terminated
  std::array<int, kChildFdCount> fds;  // fds[i]: the parent's descriptor to place at i, or -1
  std::vector<std::pair<int, rlimit>> rlimits;
  rlim_t nproc = RLIM_INFINITY;  // RLIMIT_NPROC, set once the identity is final
  bool limit_nproc = false;
  int uid = -1;  // >= 0: switch to this uid/gid
  int gid = -1;
  bool own_user_namespace = false;  // unprivileged rlimit runs: a fresh per-user process budget
  bool reaper = false;              // rlimit runs: measure the tree through a subreaper
  std::string uid_map;
  std::string gid_map;
  pid_t parent = 0;
};

[[noreturn]] void ChildFail(ChildStep step) {
  const ChildError e{static_cast<int>(step), errno};
  [[maybe_unused]] ssize_t n = write(kErrorFd, &e, sizeof e);
  _exit(127);
}

bool ChildWriteFile(const char* path, const char* data, size_t size) {
  const int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = write(fd, data, size) == static_cast<ssize_t>(size);
  close(fd);
  return ok;
}

// Without cgroups nothing else accounts for the whole tree: bwrap's monitor exits without
// reaping the namespace's init, so the runner's wait4 on bwrap would see only bwrap. The child
// therefore stays as a subreaper, forks bwrap, and waits until every descendant (bwrap, then the
// init reparented to it, which has reaped the rest) is gone. Its exit then means nothing of the
// run is left, and the rusage wait4 reports for it includes everything it reaped: the whole tree.
// Returns in the forked child.
void RunReaper() {
  const pid_t reaper = getpid();
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) ChildFail(ChildStep::kReaper);
  const pid_t bwrap = fork();
  if (bwrap < 0) ChildFail(ChildStep::kReaper);
  if (bwrap == 0) {
    // bwrap dies with the reaper, as the reaper dies with the runner.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail(ChildStep::kParent);
    if (getppid() != reaper) _exit(127);
    close(kReaperFd);
    return;
  }
  // Only bwrap keeps the pipes; the error channel closes for the runner when bwrap is exec'd.
  for (int fd = 0; fd < kReaperFd; ++fd) close(fd);
  const ReaperReport report = bwrap;
  [[maybe_unused]] ssize_t n = write(kReaperFd, &report, sizeof report);
  close(kReaperFd);
  int bwrap_status = 0;
  while (true) {
    int status = 0;
    const pid_t done = wait4(-1, &status, 0, nullptr);
    if (done == bwrap) bwrap_status = status;
    if (done < 0 && errno != EINTR) break;  // ECHILD: all gone
  }
  _exit(WIFEXITED(bwrap_status) ? WEXITSTATUS(bwrap_status) : 128 + WTERMSIG(bwrap_status));
}

// Only async-signal-safe calls from here to execve.
[[noreturn]] void RunChild(const ChildPlan& plan) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);  // SIGPIPE ignored by a host

  // The error channel first, so every later failure can be reported.
  if (dup2(plan.fds[kErrorFd], kErrorFd) < 0 || fcntl(kErrorFd, F_SETFD, FD_CLOEXEC) != 0) {
    _exit(127);
  }
  for (int i = 0; i < kChildFdCount; ++i) {
    if (i != kErrorFd && plan.fds[i] >= 0 && dup2(plan.fds[i], i) < 0) ChildFail(ChildStep::kFds);
  }
  if (syscall(SYS_close_range, kChildFdCount, ~0U, 0) != 0) {
    for (int fd = kChildFdCount; fd < 65536; ++fd) close(fd);
  }

  for (const auto& [resource, value] : plan.rlimits) {
    if (setrlimit(static_cast<__rlimit_resource_t>(resource), &value) != 0) {
      ChildFail(ChildStep::kLimits);
    }
  }
  if (plan.own_user_namespace) {
    if (unshare(CLONE_NEWUSER) != 0 || !ChildWriteFile("/proc/self/setgroups", "deny", 4) ||
        !ChildWriteFile("/proc/self/uid_map", plan.uid_map.data(), plan.uid_map.size()) ||
        !ChildWriteFile("/proc/self/gid_map", plan.gid_map.data(), plan.gid_map.size())) {
      ChildFail(ChildStep::kUserNamespace);
    }
  }
  if (plan.uid >= 0) {
    // Raw syscalls: glibc's wrappers would try to synchronise threads this child does not have.
    if (syscall(SYS_setgroups, 0, nullptr) != 0 ||
        syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0 ||
        syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0) {
      ChildFail(ChildStep::kIdentity);
    }
  }
  if (plan.limit_nproc) {
    const rlimit nproc{plan.nproc, plan.nproc};
    if (setrlimit(RLIMIT_NPROC, &nproc) != 0) ChildFail(ChildStep::kLimits);
  }
  // The death signal is cleared by a credential change, so it is set after the switch; a runner
  // that died before this point is caught by the getppid() check.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
    ChildFail(ChildStep::kParent);
  }
  if (getppid() != plan.parent) _exit(127);
  if (chdir("/") != 0) ChildFail(ChildStep::kParent);
  if (plan.reaper) RunReaper();  // returns in the forked bwrap process
  char* const no_env[] = {nullptr};
  execve(plan.bwrap.c_str(), plan.argv.data(), no_env);
  ChildFail(ChildStep::kExec);
}

// ---- Spec validation and the bwrap command line --------------------------------------------

bool IsEnvName(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

bool IsCleanAbsolute(const std::string& p) {
  if (p.empty() || p[0] != '/' || p == "/") return false;
  for (const auto& part : fs::path(p)) {
    if (part == "..") return false;
  }
  return true;
}

Status ValidateSpec(const SandboxSpec& spec) {
  auto bad = [](const std::string& field, const std::string& got, const std::string& want) {
    return Status::InvalidArgument("SandboxSpec." + field + " = " + got + ": expected " + want);
  };
  if (spec.argv.empty()) return bad("argv", "[]", "the command and its arguments");
  if (spec.argv[0].empty() || spec.argv[0][0] != '/') {
    return bad("argv[0]", "\"" + spec.argv[0] + "\"", "an absolute path inside the sandbox");
  }
  std::error_code ec;
  if (!fs::is_directory(spec.package_dir, ec)) {
    return bad("package_dir", spec.package_dir.string(), "an existing directory");
  }
  if (!fs::is_directory(spec.output_dir, ec)) {
    return bad("output_dir", spec.output_dir.string(), "an existing directory");
  }
  for (const auto& [host, inside] : spec.ro_binds) {
    if (!fs::exists(host, ec)) return bad("ro_binds", host.string(), "an existing host path");
    if (!IsCleanAbsolute(inside) || inside == kPackageMount || inside == kOutputMount) {
      return bad("ro_binds", "\"" + inside + "\"",
                 "an absolute path inside the sandbox without \"..\", other than / /pkg /out");
    }
  }
  for (const auto& [name, value] : spec.env) {
    if (!IsEnvName(name)) return bad("env", "\"" + name + "\"", "a name of letters, digits and _");
  }
  const SandboxLimits& l = spec.limits;
  if (!(l.wall_seconds > 0) || !std::isfinite(l.wall_seconds)) {
    return bad("limits.wall_seconds", std::to_string(l.wall_seconds), "a positive number");
  }
  if (l.memory_mb <= 0) return bad("limits.memory_mb", std::to_string(l.memory_mb), "> 0");
  if (l.processes <= 0) return bad("limits.processes", std::to_string(l.processes), "> 0");
  if (l.output_bytes <= 0) return bad("limits.output_bytes", std::to_string(l.output_bytes), "> 0");
  if (l.log_bytes < 0) return bad("limits.log_bytes", std::to_string(l.log_bytes), ">= 0");
  if (l.tmp_mb <= 0) return bad("limits.tmp_mb", std::to_string(l.tmp_mb), "> 0");
  return Status::Ok();
}

std::vector<std::string> BwrapArgs(const std::string& bwrap, const SandboxSpec& spec,
                                   const fs::path& package_dir, const fs::path& output_dir,
                                   bool gpu, bool block) {
  std::vector<std::string> a = {bwrap,
                                "--unshare-all",
                                "--unshare-user",
                                "--disable-userns",
                                "--die-with-parent",
                                "--new-session",
                                "--cap-drop",
                                "ALL",
                                "--uid",
                                std::to_string(kSandboxUid),
                                "--gid",
                                std::to_string(kSandboxUid),
                                "--hostname",
                                kHostname};
  auto add = [&a](std::initializer_list<std::string> more) { a.insert(a.end(), more); };
  const SystemView& system = HostSystemView();
  add({"--perms", "0755", "--dir", "/etc"});
  for (const std::string& p : system.ro_paths) add({"--ro-bind", p, p});
  for (const auto& [target, path] : system.symlinks) add({"--symlink", target, path});
  add({"--perms", "0644", "--ro-bind-data", std::to_string(kPasswdFd), "/etc/passwd"});
  add({"--perms", "0644", "--ro-bind-data", std::to_string(kGroupFd), "/etc/group"});
  add({"--perms", "0644", "--ro-bind-data", std::to_string(kHostsFd), "/etc/hosts"});
  add({"--perms", "0644", "--ro-bind-data", std::to_string(kNsswitchFd), "/etc/nsswitch.conf"});
  add({"--proc", "/proc", "--dev", "/dev"});
  add({"--size", std::to_string(spec.limits.tmp_mb << 20), "--perms", "1777", "--tmpfs", "/tmp"});
  add({"--ro-bind", package_dir.string(), kPackageMount});
  add({"--bind", output_dir.string(), kOutputMount});
  for (const auto& [host, inside] : spec.ro_binds)
    add({"--ro-bind", fs::absolute(host).string(), inside});
  if (gpu) {
    const GpuView& view = HostGpuView();
    for (const std::string& dev : view.devices) add({"--dev-bind", dev, dev});
    for (const std::string& lib : view.libraries) add({"--ro-bind", lib, lib});
  }
  add({"--remount-ro", "/", "--chdir", kPackageMount, "--clearenv"});
  std::map<std::string, std::string> env = {{"PATH", "/opt/ahub/bin:/usr/bin:/bin"},
                                            {"HOME", "/tmp"},
                                            {"TMPDIR", "/tmp"},
                                            {"LANG", "C.UTF-8"}};
  for (const auto& [k, v] : spec.env) env[k] = v;
  for (const auto& [k, v] : env) add({"--setenv", k, v});
  add({"--json-status-fd", std::to_string(kStatusFd)});
  if (block) add({"--block-fd", std::to_string(kBlockFd)});
  add({"--"});
  a.insert(a.end(), spec.argv.begin(), spec.argv.end());
  return a;
}

std::string FindExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    std::error_code ec;
    const fs::path p = fs::absolute(name, ec);
    return !ec && access(p.c_str(), X_OK) == 0 ? p.string() : "";
  }
  const char* env_path = getenv("PATH");
  const std::string path = env_path && *env_path ? env_path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    const std::string dir = path.substr(start, end - start);
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return fs::absolute(candidate).string();
    start = end + 1;
  }
  return "";
}

// ---- Supervising a started run -------------------------------------------------------------

struct Stream {
  UniqueFd fd;
  BoundedLog log;
};

// Everything learnt while the run is in flight. `child` is the runner's direct child: bwrap
// itself, or (without cgroups) the reaper that forks bwrap and reports on `reaper`.
class Supervisor {
 public:
  Supervisor(pid_t child, UniqueFd out, UniqueFd err, UniqueFd status, UniqueFd reaper,
             UniqueFd block, int64_t log_bytes, RunCgroup* cgroup)
      : child_(child),
        child_fd_(PidfdOpen(child)),
        out_{std::move(out), BoundedLog(log_bytes)},
        err_{std::move(err), BoundedLog(log_bytes)},
        status_(std::move(status)),
        reaper_(std::move(reaper)),
        block_(std::move(block)),
        cgroup_(cgroup) {}

  // Reads the pipes until the child has exited and the pipes are closed, killing the tree at
  // `deadline`; then makes sure nothing of the run is left.
  void Supervise(Clock::time_point deadline) {
    std::optional<Clock::time_point> give_up;
    while (!(reaped_ && !out_.fd.valid() && !err_.fd.valid())) {
      const auto now = Clock::now();
      if (!give_up && now >= deadline) {
        timed_out_ = !reaped_;  // bwrap gone but its pipes held past the deadline: not a timeout
        KillTree();
        give_up = now + kReapGrace;
      }
      if (give_up && now >= *give_up) break;
      const auto until = give_up ? *give_up : deadline;
      int wait_ms =
          static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(until - now).count());
      if (!child_fd_.valid() && !reaped_) wait_ms = std::min(wait_ms, kPollSliceMs);
      std::array<pollfd, 5> fds;
      nfds_t n = 0;
      for (int fd : {out_.fd.get(), err_.fd.get(), status_.get(), reaper_.get(),
                     reaped_ ? -1 : child_fd_.get()}) {
        if (fd >= 0) fds[n++] = pollfd{fd, POLLIN, 0};
      }
      if (poll(fds.data(), n, std::max(wait_ms, 0)) < 0 && errno != EINTR) break;
      for (nfds_t i = 0; i < n; ++i) {
        if (!fds[i].revents) continue;
        const int fd = fds[i].fd;
        if (fd == out_.fd.get()) {
          Drain(&out_);
        } else if (fd == err_.fd.get()) {
          Drain(&err_);
        } else if (fd == status_.get()) {
          ReadStatus();
        } else if (fd == reaper_.get()) {
          ReadReaper();
        }
      }
      if (!reaped_) TryReap(false);
    }
    if (!reaped_) {
      kill(child_, SIGKILL);
      TryReap(true);
    }
    // bwrap's monitor exits as soon as the command has; the namespace's init (and, with it, every
    // process left in the namespace) dies from its parent-death signal right after. Wait for it.
    if (init_fd_.valid() && !WaitPidfd(init_fd_.get(), kReapGrace)) {
      PidfdKill(init_fd_.get());
      WaitPidfd(init_fd_.get(), kReapGrace);
    }
    if (cgroup_) cgroup_->KillAll(kReapGrace);
  }

  bool timed_out() const { return timed_out_; }
  // Not ok when bwrap's processes could not be moved into the cgroups (the run was stopped).
  const Status& join_status() const { return join_status_; }
  const std::optional<int>& reported_exit() const { return reported_exit_; }
  int wait_status() const { return wait_status_; }
  // What wait4 reports for the child: with a reaper, the whole tree's usage.
  const rusage& usage() const { return usage_; }
  Clock::time_point child_end() const { return child_end_; }
  const BoundedLog& out() const { return out_.log; }
  const BoundedLog& err() const { return err_.log; }

 private:
  void Drain(Stream* s) {
    char buf[kReadChunk];
    const ssize_t n = read(s->fd.get(), buf, sizeof buf);
    if (n > 0) {
      s->log.Append(std::string_view(buf, static_cast<size_t>(n)));
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
      s->fd.reset();
    }
  }

  // bwrap writes one JSON document per line: {"child-pid": N, ...} once the namespace's init is
  // started, {"exit-code": N} once the command has exited (only if the command was executed).
  void ReadStatus() {
    char buf[4096];
    const ssize_t n = read(status_.get(), buf, sizeof buf);
    if (n <= 0) {
      if (n == 0 || (errno != EINTR && errno != EAGAIN)) status_.reset();
      return;
    }
    status_text_.append(buf, static_cast<size_t>(n));
    size_t eol;
    while ((eol = status_text_.find('\n')) != std::string::npos) {
      const nlohmann::json doc = nlohmann::json::parse(status_text_.substr(0, eol), nullptr, false);
      status_text_.erase(0, eol + 1);
      if (!doc.is_object()) continue;
      if (doc.contains("child-pid") && doc["child-pid"].is_number_integer() && !init_fd_.valid()) {
        const int init = doc["child-pid"].get<int>();
        init_fd_.reset(PidfdOpen(init));
        JoinAndRelease(init);
      }
      if (doc.contains("exit-code") && doc["exit-code"].is_number_integer()) {
        reported_exit_ = doc["exit-code"].get<int>();
      }
    }
  }

  // bwrap is blocked (--block-fd) before it forks the command: its monitor (our child, moved
  // into the cgroups right after fork) and the namespace's init, which it may have cloned before
  // that move, are its only processes. Once both are inside, the command, forked after the
  // release, is born inside the cgroups.
  void JoinAndRelease(int init) {
    if (!cgroup_ || !block_.valid()) return;
    join_status_ = cgroup_->Join(init);
    if (join_status_.ok()) {
      const char go = 1;
      [[maybe_unused]] ssize_t n = write(block_.get(), &go, 1);
    } else {
      KillTree();
    }
    block_.reset();
  }

  // The reaper writes bwrap's pid (a ReaperReport) and closes its end; see RunReaper.
  void ReadReaper() {
    char* into = reinterpret_cast<char*>(&reaper_report_) + reaper_bytes_;
    const ssize_t n = read(reaper_.get(), into, sizeof reaper_report_ - reaper_bytes_);
    if (n <= 0) {
      if (n == 0 || (errno != EINTR && errno != EAGAIN)) reaper_.reset();
      return;
    }
    reaper_bytes_ += static_cast<size_t>(n);
    if (reaper_bytes_ == sizeof reaper_report_) {
      // Had bwrap already exited and been reaped, its pid could name another process by now;
      // the pidfd is kept only if it names a child of the reaper.
      const pid_t bwrap = static_cast<pid_t>(reaper_report_);
      bwrap_fd_.reset(PidfdOpen(bwrap));
      if (bwrap_fd_.valid() && ParentOf(bwrap) != child_) bwrap_fd_.reset();
      reaper_.reset();
    }
  }

  void TryReap(bool block) {
    if (reaped_) return;
    const pid_t r = wait4(child_, &wait_status_, block ? 0 : WNOHANG, &usage_);
    if (r == child_ || (r < 0 && errno == ECHILD)) {
      reaped_ = true;
      child_end_ = Clock::now();
    }
  }

  // bwrap (through the reaper's report, or as our child, whose pid cannot have been reused), the
  // namespace's init through its pidfd, and whatever the cgroups still hold. A reaper is left
  // alive: it exits by itself once it has reaped everything, with the tree's usage.
  void KillTree() {
    if (bwrap_fd_.valid()) {
      PidfdKill(bwrap_fd_.get());
    } else if (!reaped_) {
      kill(child_, SIGKILL);  // no reaper, or it has not told bwrap's pid yet
    }
    if (init_fd_.valid()) PidfdKill(init_fd_.get());
    if (cgroup_) cgroup_->KillAll(std::chrono::milliseconds(0));
  }

  pid_t child_;
  UniqueFd child_fd_;
  UniqueFd bwrap_fd_;  // only with a reaper
  UniqueFd init_fd_;
  Stream out_;
  Stream err_;
  UniqueFd status_;
  std::string status_text_;
  UniqueFd reaper_;
  ReaperReport reaper_report_ = 0;
  size_t reaper_bytes_ = 0;
  UniqueFd block_;  // with cgroups: bwrap's --block-fd, until it is released
  Status join_status_;
  RunCgroup* cgroup_;
  bool reaped_ = false;
  bool timed_out_ = false;
  int wait_status_ = 0;
  rusage usage_{};
  Clock::time_point child_end_ = Clock::now();
  std::optional<int> reported_exit_;
};

// The first lines of bwrap's complaint, for a setup failure's message.
std::string SetupMessage(const std::string& stderr_text) {
  std::string msg = stderr_text.substr(0, 600);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg.empty() ? "(bwrap printed nothing)" : msg;
}

uint32_t RandomRunUid() {
  uint32_t r = 0;
  if (getrandom(&r, sizeof r, 0) != sizeof r) {
    r = static_cast<uint32_t>(getpid()) * 2654435761u ^
        static_cast<uint32_t>(Clock::now().time_since_epoch().count());
  }
  return kRunUidBase + r % kRunUidCount;
}

class BubblewrapSandbox final : public Sandbox {
 public:
  explicit BubblewrapSandbox(const BubblewrapOptions& options)
      : options_(options), bwrap_(FindExecutable(options.bwrap_path)) {}

  Result<RunOutcome> Run(const SandboxSpec& spec) override;

 private:
  BubblewrapOptions options_;
  std::string bwrap_;  // empty: not found
  std::atomic<uint64_t> runs_{0};
};

Result<RunOutcome> BubblewrapSandbox::Run(const SandboxSpec& spec) {
  if (Status s = ValidateSpec(spec); !s.ok()) return s;
  if (bwrap_.empty()) {
    return Status::NotFound("bubblewrap not found: \"" + options_.bwrap_path +
                            "\" is not an executable (install the bubblewrap package)");
  }
  const fs::path package_dir = fs::absolute(spec.package_dir);
  const fs::path output_dir = fs::absolute(spec.output_dir);
  const SandboxLimits& limits = spec.limits;

  // Identity: as root, a fresh unprivileged uid that must be able to reach what it is shown.
  const bool as_root = geteuid() == 0;
  const int run_uid = as_root ? static_cast<int>(RandomRunUid()) : -1;
  struct stat out_st;
  if (stat(output_dir.c_str(), &out_st) != 0) {
    return Status::IoError("SandboxSpec.output_dir " + output_dir.string() + ": " +
                           ErrnoText(errno));
  }
  if (as_root) {
    if (Status s = CheckReachableByOthers(package_dir, true, "SandboxSpec.package_dir"); !s.ok()) {
      return s;
    }
    if (Status s = CheckReachableByOthers(output_dir, false, "SandboxSpec.output_dir"); !s.ok()) {
      return s;
    }
    for (const auto& [host, inside] : spec.ro_binds) {
      if (Status s = CheckReachableByOthers(host, true, "SandboxSpec.ro_binds " + inside);
          !s.ok()) {
        return s;
      }
    }
    if (chown(output_dir.c_str(), run_uid, run_uid) != 0 ||
        chmod(output_dir.c_str(), (out_st.st_mode | S_IRWXU) & 07777) != 0) {
      return Status::IoError("cannot lend " + output_dir.string() +
                             " to the run uid: " + ErrnoText(errno));
    }
  }
  // Whatever happens below, the output directory goes back to its owner, settled.
  bool settled = false;
  OutputSummary output;
  auto settle = [&] {
    if (settled) return;
    settled = true;
    output = SettleOutputDir(output_dir, as_root ? static_cast<int>(out_st.st_uid) : -1,
                             static_cast<int>(out_st.st_gid));
    if (as_root) chmod(output_dir.c_str(), out_st.st_mode & 07777);
  };
  ScopeExit settle_on_exit(settle);

  // Limits: cgroups when this process can create them, else rlimits.
  std::unique_ptr<RunCgroup> cgroup;
  if (options_.use_cgroups && CgroupSupport() != CgroupVersion::kNone) {
    const std::string name = "ahub-" + std::to_string(getpid()) + "-" + std::to_string(runs_++);
    Result<std::unique_ptr<RunCgroup>> made = RunCgroup::Create(
        CgroupSupport(), name, {limits.memory_mb << 20, limits.processes + kBwrapTasks});
    if (made.ok()) cgroup = std::move(made.value());
  }

  ChildPlan plan;
  plan.bwrap = bwrap_;
  plan.args =
      BwrapArgs(bwrap_, spec, package_dir, output_dir, spec.gpu && HostHasGpu(), cgroup != nullptr);
  for (std::string& a : plan.args) plan.argv.push_back(a.data());
  plan.argv.push_back(nullptr);
  plan.parent = getpid();
  if (as_root) {
    plan.uid = run_uid;
    plan.gid = run_uid;
  }
  // A file may reach output_bytes + 1 bytes, so one that hit the limit shows in the size check
  // even when the command ignores SIGXFSZ (Python does) and only sees EFBIG.
  const rlim_t fsize = static_cast<rlim_t>(limits.output_bytes) + 1;
  plan.rlimits = {{RLIMIT_FSIZE, {fsize, fsize}}, {RLIMIT_CORE, {0, 0}}};
  if (!cgroup) {
    const rlim_t as = static_cast<rlim_t>(limits.memory_mb) << 20;
    // A backstop behind the wall-clock timer, per process: a process with a thread per core may
    // use wall_seconds on every core.
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const rlim_t cpu = static_cast<rlim_t>(std::ceil(limits.wall_seconds * cores)) + 1;
    // The CUDA driver reserves address space the size of all device and host memory at start,
    // so a GPU run would fail under RLIMIT_AS; RLIMIT_DATA bounds the private writable memory it
    // really uses (reservations without access rights do not count).
    const bool cuda = spec.gpu && HostHasGpu();
    plan.rlimits.push_back({cuda ? RLIMIT_DATA : RLIMIT_AS, {as, as}});
    plan.rlimits.push_back({RLIMIT_CPU, {cpu, cpu + 1}});
    plan.limit_nproc = true;
    plan.nproc = static_cast<rlim_t>(limits.processes + kBwrapTasks + kReaperTasks);
    plan.reaper = true;
    // RLIMIT_NPROC counts all processes of a uid in a user namespace. As root the run uid is
    // fresh; otherwise a user namespace of our own gives the run a count of its own.
    if (!as_root) {
      plan.own_user_namespace = true;
      plan.uid_map = std::to_string(getuid()) + " " + std::to_string(getuid()) + " 1\n";
      plan.gid_map = std::to_string(getgid()) + " " + std::to_string(getgid()) + " 1\n";
    }
  }

  std::array<UniqueFd, 2> out_pipe, err_pipe, status_pipe, error_pipe, reaper_pipe, block_pipe;
  UniqueFd null_fd(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!MakePipe(&out_pipe) || !MakePipe(&err_pipe) || !MakePipe(&status_pipe) ||
      !MakePipe(&error_pipe) || (plan.reaper && !MakePipe(&reaper_pipe)) ||
      (cgroup && !MakePipe(&block_pipe)) || !null_fd.valid()) {
    return Status::IoError("cannot create pipes for the sandbox: " + ErrnoText(errno));
  }
  fcntl(out_pipe[0].get(), F_SETPIPE_SZ, kPipeBytes);
  fcntl(err_pipe[0].get(), F_SETPIPE_SZ, kPipeBytes);
  std::array<UniqueFd, kChildFdCount> child_fds;
  child_fds[0] = MoveHigh(std::move(null_fd));
  child_fds[1] = MoveHigh(std::move(out_pipe[1]));
  child_fds[2] = MoveHigh(std::move(err_pipe[1]));
  child_fds[kStatusFd] = MoveHigh(std::move(status_pipe[1]));
  child_fds[kPasswdFd] = DataPipe(kPasswd);
  child_fds[kGroupFd] = DataPipe(kGroup);
  child_fds[kHostsFd] = DataPipe(kHosts);
  child_fds[kNsswitchFd] = DataPipe(kNsswitch);
  child_fds[kErrorFd] = MoveHigh(std::move(error_pipe[1]));
  if (plan.reaper) child_fds[kReaperFd] = MoveHigh(std::move(reaper_pipe[1]));
  if (cgroup) child_fds[kBlockFd] = MoveHigh(std::move(block_pipe[0]));
  for (int i = 0; i < kChildFdCount; ++i) {
    const bool optional = (i == kReaperFd && !plan.reaper) || (i == kBlockFd && !cgroup);
    if (!child_fds[i].valid() && !optional) {
      return Status::IoError("cannot prepare descriptors for the sandbox");
    }
    plan.fds[i] = child_fds[i].get();
  }

  const auto start = Clock::now();
  const pid_t pid = fork();
  if (pid < 0) return Status::IoError("cannot fork the sandbox: " + ErrnoText(errno));
  if (pid == 0) RunChild(plan);
  for (UniqueFd& fd : child_fds) fd.reset();
  // Moving a process between cgroups makes the kernel wait for an RCU grace period (milliseconds
  // on cgroup v1), so the child is moved at once: the wait passes while it starts bwrap, and the
  // namespace's init, moved later, finds the way clear. Nothing untrusted runs before the release.
  Status joined = cgroup ? cgroup->Join(pid) : Status::Ok();

  // Blocks until the child has exec'd bwrap (the close-on-exec end closes) or reported why not.
  ChildError child_error{};
  ssize_t got;
  do {
    got = read(error_pipe[0].get(), &child_error, sizeof child_error);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof child_error)) {
    int ignored;
    while (waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
    }
    const std::string why =
        std::string(ChildStepName(child_error.step)) + " failed: " + ErrnoText(child_error.err);
    if (child_error.step == static_cast<int>(ChildStep::kExec) && child_error.err == ENOENT) {
      return Status::NotFound("bubblewrap " + bwrap_ + ": " + why);
    }
    return Status::Internal("sandbox for " + spec.argv[0] + ": " + why);
  }
  if (!joined.ok()) {
    kill(pid, SIGKILL);  // blocked before the command: nothing but bwrap to stop
    int ignored;
    while (waitpid(pid, &ignored, 0) < 0 && errno == EINTR) {
    }
    return joined;
  }

  Supervisor sup(pid, std::move(out_pipe[0]), std::move(err_pipe[0]), std::move(status_pipe[0]),
                 std::move(reaper_pipe[0]), std::move(block_pipe[1]), limits.log_bytes,
                 cgroup.get());
  sup.Supervise(start + std::chrono::duration_cast<Clock::duration>(
                            std::chrono::duration<double>(limits.wall_seconds)));

  if (!sup.join_status().ok()) return sup.join_status();
  RunOutcome outcome;
  outcome.wall_seconds = std::chrono::duration<double>(sup.child_end() - start).count();
  outcome.stdout_text = sup.out().Text();
  outcome.stderr_text = sup.err().Text();
  CgroupUsage usage;
  if (cgroup) {
    usage = cgroup->Usage();
    outcome.enforcement = cgroup->version() == CgroupVersion::kV2 ? "cgroup-v2" : "cgroup-v1";
    cgroup.reset();  // removes the cgroups; the tree is gone (Supervise waited for it)
  } else {
    outcome.enforcement = "rlimit";
  }
  const rusage& ru = sup.usage();
  outcome.cpu_seconds =
      usage.cpu_nanoseconds >= 0
          ? static_cast<double>(usage.cpu_nanoseconds) / 1e9
          : static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  outcome.peak_memory_mb = usage.peak_memory_bytes >= 0
                               ? static_cast<double>(usage.peak_memory_bytes) / (1 << 20)
                               : static_cast<double>(ru.ru_maxrss) / 1024;  // ru_maxrss is in KiB

  if (sup.timed_out()) {
    outcome.exit_code = -1;
    outcome.term_signal = SIGKILL;
  } else if (sup.reported_exit()) {
    const int code = *sup.reported_exit();
    if (code > 128 && code <= 128 + 64) {
      outcome.term_signal = code - 128;
      outcome.exit_code = -1;
    } else {
      outcome.exit_code = code;
    }
  } else if (usage.oom_kills > 0) {
    // The memory limit left no room for bubblewrap itself to set up.
    outcome.term_signal = SIGKILL;
  } else {
    const int st = sup.wait_status();
    const std::string how = WIFEXITED(st)     ? "exit status " + std::to_string(WEXITSTATUS(st))
                            : WIFSIGNALED(st) ? "signal " + std::to_string(WTERMSIG(st))
                                              : "status " + std::to_string(st);
    return Status::FailedPrecondition("sandbox setup failed before " + spec.argv[0] +
                                      " could run (bwrap " + how +
                                      "): " + SetupMessage(outcome.stderr_text));
  }

  settle();
  outcome.output_bytes = output.bytes;
  const bool failed = outcome.exit_code != 0;
  if (sup.timed_out() || outcome.term_signal == SIGXCPU) {
    outcome.killed_by = KilledBy::kTimeout;
  } else if (usage.oom_kills > 0 && failed) {
    outcome.killed_by = KilledBy::kMemory;
  } else if (outcome.term_signal == SIGXFSZ || output.bytes > limits.output_bytes ||
             output.too_deep) {
    outcome.killed_by = KilledBy::kOutputSize;
  } else if (usage.refused_forks > 0 && failed) {
    outcome.killed_by = KilledBy::kProcesses;
  } else if (outcome.term_signal != 0) {
    outcome.killed_by = KilledBy::kSignal;
  }
  return outcome;
}

}  // namespace

const char* KilledByName(KilledBy k) {
  switch (k) {
    case KilledBy::kNone:
      return "none";
    case KilledBy::kTimeout:
      return "timeout";
    case KilledBy::kMemory:
      return "memory";
    case KilledBy::kProcesses:
      return "processes";
    case KilledBy::kOutputSize:
      return "output_size";
    case KilledBy::kSignal:
      return "signal";
  }
  return "none";
}

std::unique_ptr<Sandbox> NewBubblewrapSandbox(const BubblewrapOptions& options) {
  return std::make_unique<BubblewrapSandbox>(options);
}

bool HostHasGpu() {
  static const bool has = [] {
    for (const std::string& dev : HostGpuView().devices) {
      const std::string name = fs::path(dev).filename().string();
      if (name.size() > 6 && std::isdigit(static_cast<unsigned char>(name[6]))) return true;
    }
    return false;
  }();
  return has;
}

}  // namespace ahub
