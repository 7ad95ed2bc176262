// HubProcess: a real `ahub serve` on a loopback port for integration tests, with its own
// temporary data directory, and helpers to run other `ahub` commands against that directory.
//
//   HubProcess hub({.seed = false, .extra_args = {"--rate", "5"}});
//   httplib::Client http = hub.Client();
//   std::string token = hub.CreateToken("author", "alice");
//   auto res = http.Post("/api/v1/packages", HubProcess::Auth(token), tgz, "application/gzip");
//   hub.Kill();     // SIGKILL, as a crash would
//   hub.Restart();  // same data directory, a new port: read hub.port() / hub.Client() again
//
// The server runs with --listen 127.0.0.1:0 and the test reads the chosen port from its
// "AttentionHub serving http://HOST:PORT" line. Its stdout and stderr go to files in root();
// Stderr() returns what it logged so far, for failure messages. The child gets the test's
// environment without any AHUB_* variable (so a developer's settings cannot change a test),
// plus options.env; it is killed if the test process dies (PR_SET_PDEATHSIG).
//
// Failures to start throw std::runtime_error carrying the server's stderr: GoogleTest reports
// an exception thrown in a test body or fixture as that test's failure.
//
// Thread-safety: one HubProcess is driven by one thread.
#pragma once

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace ahub::testing {

using Env = std::vector<std::pair<std::string, std::string>>;

inline std::string AhubBinary() { return std::string(AHUB_BIN_DIR) + "/ahub"; }
inline std::filesystem::path SourceDir() { return AHUB_SOURCE_DIR; }

inline std::string ReadFileText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A private directory under the system temp directory, removed with everything in it.
// Mode 0711: the sandbox's unprivileged uid must traverse it to reach job checkouts.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "ahub-test-") {
    std::string templ = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
    if (!mkdtemp(templ.data()))
      throw std::runtime_error("mkdtemp failed: " + std::string(strerror(errno)));
    path_ = templ;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all |
                                            std::filesystem::perms::group_exec |
                                            std::filesystem::perms::others_exec);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

namespace detail {

// The environment for a child: ours without AHUB_*, then `extra`.
inline std::vector<std::string> ChildEnvironment(const Env& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "AHUB_", 5) != 0) env.emplace_back(*e);
  }
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

// fork + exec `argv` with stdout and stderr into the given files; returns the pid.
inline pid_t Spawn(const std::vector<std::string>& argv, const Env& env,
                   const std::filesystem::path& out, const std::filesystem::path& err) {
  std::vector<std::string> env_strings = ChildEnvironment(env);
  std::vector<char*> cargv, cenv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (std::string& e : env_strings) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed: " + std::string(strerror(errno)));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the test died before prctl took effect
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (o < 0 || e < 0) _exit(127);
    dup2(o, STDOUT_FILENO);
    dup2(e, STDERR_FILENO);
    close(o);
    close(e);
    execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  return pid;
}

// The exit status of a waited-for child: its exit code, or 128 + signal.
inline int ExitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace detail

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `ahub ARGS...` to completion (environment as for HubProcess). A command still running
// after `timeout` (say, a `serve` that should have failed) is killed: exit_code 128 + SIGKILL.
inline CommandResult RunAhub(const std::vector<std::string>& args, const Env& env = {},
                             std::chrono::seconds timeout = std::chrono::seconds(120)) {
  TempDir tmp("ahub-cmd-");
  std::vector<std::string> argv = {AhubBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = detail::Spawn(argv, env, tmp.path() / "out", tmp.path() / "err");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return CommandResult{detail::ExitStatus(status), ReadFileText(tmp.path() / "out"),
                       ReadFileText(tmp.path() / "err")};
}

// Runs another program (found on PATH, e.g. "git") to completion, environment as for RunAhub.
inline CommandResult RunCommand(const std::vector<std::string>& argv, const Env& env = {}) {
  if (argv.empty()) throw std::runtime_error("RunCommand: no program");
  std::string program = argv[0];
  if (program.find('/') == std::string::npos) {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');) {
      const std::filesystem::path candidate = std::filesystem::path(dir) / argv[0];
      if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) {
        program = candidate.string();
        break;
      }
    }
  }
  std::vector<std::string> resolved = argv;
  resolved[0] = program;
  TempDir tmp("ahub-cmd-");
  const pid_t pid = detail::Spawn(resolved, env, tmp.path() / "out", tmp.path() / "err");
  int status = 0;
  waitpid(pid, &status, 0);
  return CommandResult{detail::ExitStatus(status), ReadFileText(tmp.path() / "out"),
                       ReadFileText(tmp.path() / "err")};
}

struct HubProcessOptions {
  bool seed = false;  // load the repository's packages/ into the empty store
  int workers = 1;    // verification jobs at once
  // Default member initializers everywhere, so designated initializers may name any subset.
  std::vector<std::string> extra_args{};  // appended to `ahub serve ...`
  Env env{};                              // added to the child's environment
  bool start = true;                      // false: call Start() yourself
  std::chrono::seconds start_timeout{60};
};

class HubProcess {
 public:
  explicit HubProcess(HubProcessOptions options = {})
      : options_(std::move(options)), root_("ahub-hub-") {
    if (options_.start) Start();
  }
  ~HubProcess() {
    if (pid_ > 0) Stop();
  }
  HubProcess(const HubProcess&) = delete;
  HubProcess& operator=(const HubProcess&) = delete;

  // Starts `ahub serve` on the data directory and waits for its "serving" line.
  void Start() {
    if (pid_ > 0) throw std::runtime_error("HubProcess::Start: already running");
    std::vector<std::string> argv = {AhubBinary(), "serve",
                                     "--listen",   "127.0.0.1:0",
                                     "--data",     data_dir().string(),
                                     "--workers",  std::to_string(options_.workers)};
    if (options_.seed) {
      argv.insert(argv.end(), {"--seed", "--seed-dir", (SourceDir() / "packages").string()});
    } else {
      argv.push_back("--no-seed");
    }
    argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
    ++starts_;
    pid_ = detail::Spawn(argv, options_.env, stdout_path(), root_.path() / "stderr.txt");
    const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (std::optional<int> port = ServingPort()) {
        port_ = *port;
        return;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_code_ = detail::ExitStatus(status);
        throw std::runtime_error("ahub serve exited with status " + std::to_string(exit_code_) +
                                 " before serving; stderr:\n" + Stderr());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    Kill();
    throw std::runtime_error("ahub serve did not print its serving line in time; stderr:\n" +
                             Stderr());
  }

  // SIGTERM, then waits (SIGKILL after `grace`); returns the exit status (128 + signal when
  // killed by one). The data directory stays for Restart().
  int Stop(std::chrono::seconds grace = std::chrono::seconds(60)) { return Signal(SIGTERM, grace); }
  // SIGKILL: the server dies as in a crash.
  int Kill() { return Signal(SIGKILL, std::chrono::seconds(10)); }
  // Stops a running server and starts a new one on the same data directory (a new port).
  void Restart() {
    if (pid_ > 0) Stop();
    Start();
  }

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  int exit_code() const { return exit_code_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // A client for this server's current port (timeouts generous for a loaded test machine).
  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_connection_timeout(std::chrono::seconds(10));
    client.set_read_timeout(std::chrono::seconds(60));
    client.set_write_timeout(std::chrono::seconds(60));
    return client;
  }
  static httplib::Headers Auth(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }

  // `ahub token create` on this hub's data directory; returns the token.
  std::string CreateToken(const std::string& role, const std::string& name) const {
    CommandResult r =
        RunAhub({"token", "create", "--role", role, "--name", name, "--data", data_dir().string()});
    while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r')) r.out.pop_back();
    if (r.exit_code != 0 || r.out.empty()) {
      throw std::runtime_error("ahub token create --role " + role + " failed with status " +
                               std::to_string(r.exit_code) + ": " + r.err);
    }
    return r.out;
  }

  std::filesystem::path data_dir() const { return root_.path() / "data"; }
  // A scratch directory owned by this fixture (removed with it) for archives and the like.
  const std::filesystem::path& root() const { return root_.path(); }
  // Everything the server wrote on stderr so far, over all its starts.
  std::string Stderr() const { return ReadFileText(root_.path() / "stderr.txt"); }
  // What the current (or last) start wrote on stdout.
  std::string Stdout() const { return ReadFileText(stdout_path()); }

 private:
  std::filesystem::path stdout_path() const {
    return root_.path() / ("stdout-" + std::to_string(starts_) + ".txt");
  }

  std::optional<int> ServingPort() const {
    const std::string out = Stdout();
    const std::string marker = "AttentionHub serving http://";
    const size_t at = out.find(marker);
    if (at == std::string::npos) return std::nullopt;
    const size_t end = out.find(' ', at + marker.size());
    if (end == std::string::npos) return std::nullopt;  // the line is still being written
    const std::string address = out.substr(at + marker.size(), end - at - marker.size());
    return std::stoi(address.substr(address.rfind(':') + 1));
  }

  int Signal(int sig, std::chrono::seconds grace) {
    if (pid_ <= 0) return exit_code_;
    kill(pid_, sig);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {  // 0: still running; -1: already reaped
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
    exit_code_ = detail::ExitStatus(status);
    return exit_code_;
  }

  HubProcessOptions options_;
  TempDir root_;
  pid_t pid_ = -1;
  int port_ = 0;
  int exit_code_ = -1;
  int starts_ = 0;
};

}  // namespace ahub::testing
