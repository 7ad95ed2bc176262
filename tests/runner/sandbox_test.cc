// Tests of the bubblewrap sandbox against the real bwrap and kernel: a normal run, then each
// hostile case (network, host files, fork bomb, memory, endless loop, output floods) must end as a
// failed run with the right reason while the runner stays usable. The probes the sandboxed commands
// run are in tests/runner/sandbox/.
#include "runner/sandbox.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "runner/sandbox_log.h"

namespace ahub {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPython = "/usr/bin/python3";

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteAll(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// Pids (other than this process) whose command line contains `marker`.
std::vector<int> ProcessesWithMarker(const std::string& marker) {
  std::vector<int> pids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    const int pid = std::stoi(name);
    if (pid == getpid()) continue;
    std::string cmdline = ReadAll(entry.path() / "cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(marker) != std::string::npos) pids.push_back(pid);
  }
  return pids;
}

// Cgroup directories this process's sandbox made (named ahub-<pid>-<n>) that still exist.
std::vector<std::string> LeftoverCgroups() {
  std::vector<std::string> left;
  const std::string prefix = "ahub-" + std::to_string(getpid()) + "-";
  std::error_code ec;
  fs::recursive_directory_iterator it("/sys/fs/cgroup",
                                      fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() > 4) it.disable_recursion_pending();
    if (it->is_directory(ec) && it->path().filename().string().rfind(prefix, 0) == 0) {
      left.push_back(it->path().string());
    }
  }
  return left;
}

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "ahub-sandbox-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    root_ = templ;
    // A sandbox run as root uses an unprivileged uid, which must be able to reach the package.
    fs::permissions(root_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
    fs::create_directories(root_ / "pkg");
    fs::create_directories(root_ / "out");
    for (const auto& entry :
         fs::directory_iterator(fs::path(AHUB_SOURCE_DIR) / "tests/runner/sandbox")) {
      fs::copy_file(entry.path(), root_ / "pkg" / entry.path().filename());
      fs::permissions(root_ / "pkg" / entry.path().filename(),
                      fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                          fs::perms::others_read);
    }
    marker_ = "ahub-marker-" + std::to_string(getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
    EXPECT_EQ(ProcessesWithMarker(marker_), std::vector<int>()) << "processes of a run outlived it";
    EXPECT_EQ(LeftoverCgroups(), std::vector<std::string>());
  }

  SandboxSpec Spec(std::vector<std::string> argv) const {
    SandboxSpec spec;
    spec.argv = std::move(argv);
    spec.package_dir = root_ / "pkg";
    spec.output_dir = root_ / "out";
    spec.limits.wall_seconds = 60;
    return spec;
  }

  RunOutcome MustRun(const SandboxSpec& spec) {
    Result<RunOutcome> r = sandbox_->Run(spec);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r.value() : RunOutcome{};
  }

  // The runner is still usable after a hostile run: a plain command succeeds.
  void ExpectHealthy() {
    fs::path fresh = root_ / ("out-after-" + std::to_string(healthy_checks_++));
    fs::create_directories(fresh);
    SandboxSpec spec = Spec({"/bin/echo", "still fine"});
    spec.output_dir = fresh;
    RunOutcome o = MustRun(spec);
    EXPECT_TRUE(o.succeeded()) << KilledByName(o.killed_by) << " " << o.exit_code << " "
                               << o.stderr_text;
    EXPECT_EQ(o.stdout_text, "still fine\n");
  }

  std::unique_ptr<Sandbox> sandbox_ = NewBubblewrapSandbox();
  fs::path root_;
  std::string marker_;
  int healthy_checks_ = 0;
};

// ---- Unit level ----------------------------------------------------------------------------

TEST(KilledByNameTest, NamesEveryReason) {
  EXPECT_STREQ(KilledByName(KilledBy::kNone), "none");
  EXPECT_STREQ(KilledByName(KilledBy::kTimeout), "timeout");
  EXPECT_STREQ(KilledByName(KilledBy::kMemory), "memory");
  EXPECT_STREQ(KilledByName(KilledBy::kProcesses), "processes");
  EXPECT_STREQ(KilledByName(KilledBy::kOutputSize), "output_size");
  EXPECT_STREQ(KilledByName(KilledBy::kSignal), "signal");
}

TEST(BoundedLogTest, KeepsAStreamWithinTheLimitUnchanged) {
  BoundedLog log(10);
  log.Append("01234");
  log.Append("56789");
  EXPECT_FALSE(log.truncated());
  EXPECT_EQ(log.Text(), "0123456789");
  EXPECT_EQ(log.total_bytes(), 10);
}

TEST(BoundedLogTest, KeepsHeadAndTailAroundAMarker) {
  BoundedLog log(10);
  log.Append("abcdefgh");
  log.Append("ijklmnopqrstuvwxyz");
  EXPECT_TRUE(log.truncated());
  EXPECT_EQ(log.Text(), "abcde\n[... truncated 16 bytes ...]\nvwxyz");
  EXPECT_EQ(log.total_bytes(), 26);
}

TEST(BoundedLogTest, ResultDoesNotDependOnHowTheStreamWasChunked) {
  std::string stream;
  for (int i = 0; i < 5000; ++i) stream += std::to_string(i) + ",";
  BoundedLog whole(1001);
  whole.Append(stream);
  BoundedLog bytes(1001);
  for (char c : stream) bytes.Append(std::string_view(&c, 1));
  BoundedLog uneven(1001);
  for (size_t at = 0, step = 1; at < stream.size(); at += step, step = step * 3 % 1777 + 1) {
    uneven.Append(std::string_view(stream).substr(at, step));
  }
  const std::string expected = stream.substr(0, 500) +
                               TruncationMarker(static_cast<int64_t>(stream.size()) - 1001) +
                               stream.substr(stream.size() - 501);
  EXPECT_EQ(whole.Text(), expected);
  EXPECT_EQ(bytes.Text(), expected);
  EXPECT_EQ(uneven.Text(), expected);
}

TEST(BoundedLogTest, ZeroLimitKeepsOnlyTheMarker) {
  BoundedLog log(0);
  log.Append("abc");
  EXPECT_EQ(log.Text(), TruncationMarker(3));
}

// ---- Normal runs ---------------------------------------------------------------------------

TEST_F(SandboxTest, NormalRunReportsExitCodeOutputAndFiles) {
  RunOutcome o = MustRun(Spec({"/bin/sh", "-c",
                               "echo hello; echo oops >&2; echo result > /out/r.txt; "
                               "mkdir /out/sub && echo nested > /out/sub/n.txt; exit 3"}));
  EXPECT_EQ(o.exit_code, 3);
  EXPECT_EQ(o.term_signal, 0);
  EXPECT_EQ(o.killed_by, KilledBy::kNone);
  EXPECT_FALSE(o.succeeded());
  EXPECT_EQ(o.stdout_text, "hello\n");
  EXPECT_EQ(o.stderr_text, "oops\n");
  EXPECT_EQ(ReadAll(root_ / "out/r.txt"), "result\n");
  EXPECT_EQ(ReadAll(root_ / "out/sub/n.txt"), "nested\n");
  EXPECT_EQ(o.output_bytes, 14);
  // The output directory and what the run wrote belong to the caller again.
  struct stat st;
  ASSERT_EQ(stat((root_ / "out/sub/n.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, geteuid());
  ASSERT_EQ(stat((root_ / "out").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, geteuid());
  EXPECT_TRUE(o.enforcement == "cgroup-v1" || o.enforcement == "cgroup-v2" ||
              o.enforcement == "rlimit")
      << o.enforcement;

  RunOutcome ok = MustRun(Spec({"/bin/true"}));
  EXPECT_TRUE(ok.succeeded());
  EXPECT_EQ(ok.exit_code, 0);
}

TEST_F(SandboxTest, CommandSeesPackageAsWorkingDirectoryAndACleanEnvironment) {
  setenv("AHUB_SANDBOX_TEST_TOKEN", "host-secret", 1);
  SandboxSpec spec = Spec({"/bin/sh", "-c", "pwd; ls /pkg/spin.py; /usr/bin/env | sort"});
  spec.env["EXTRA"] = "1";
  RunOutcome o = MustRun(spec);
  unsetenv("AHUB_SANDBOX_TEST_TOKEN");
  EXPECT_TRUE(o.succeeded()) << o.stderr_text;
  // sh itself adds PWD.
  EXPECT_EQ(o.stdout_text,
            "/pkg\n/pkg/spin.py\nEXTRA=1\nHOME=/tmp\nLANG=C.UTF-8\n"
            "PATH=/opt/ahub/bin:/usr/bin:/bin\nPWD=/pkg\nTMPDIR=/tmp\n");
}

// The uid of every process of a run, seen from the host while the run waits for the test.
TEST_F(SandboxTest, CommandNeverRunsAsRootOnTheHost) {
  Result<RunOutcome> result = Status::Internal("not run");
  std::thread run([&] {
    result = sandbox_->Run(Spec({"/bin/sh", "-c",
                                 "id -u; touch /out/ready; "
                                 "while [ ! -e /out/go ]; do sleep 0.02; done",
                                 marker_}));
  });
  for (int i = 0; i < 3000 && !fs::exists(root_ / "out/ready"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::vector<std::string> host_uids;  // "Uid:" lines: real, effective, saved, file-system
  for (int pid : ProcessesWithMarker(marker_)) {
    std::istringstream status(ReadAll("/proc/" + std::to_string(pid) + "/status"));
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("Uid:", 0) == 0) host_uids.push_back(line);
    }
  }
  WriteAll(root_ / "out/go", "");
  run.join();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->succeeded()) << result->stderr_text;
  EXPECT_EQ(result->stdout_text, "1000\n");  // the command's own view
  // bwrap's monitor, the namespace's init, sh: all under one unprivileged uid on the host.
  ASSERT_GE(host_uids.size(), 3u);
  for (const std::string& line : host_uids) {
    std::istringstream fields(line.substr(4));
    long long real = -1, effective = -1, saved = -1, fs_uid = -1;
    fields >> real >> effective >> saved >> fs_uid;
    EXPECT_TRUE(real == effective && real == saved && real == fs_uid) << line;
    EXPECT_NE(real, 0) << "a process of the run is root on the host: " << line;
    if (geteuid() == 0) {
      EXPECT_GE(real, 0x70000000LL) << line;
    } else {
      EXPECT_EQ(real, static_cast<long long>(geteuid())) << line;
    }
  }
}

// Memory and CPU are those of the command's tree, not of bubblewrap.
void ExpectUsageOfTheCommand(const RunOutcome& o) {
  EXPECT_TRUE(o.succeeded()) << o.stderr_text;
  EXPECT_EQ(o.stdout_text, std::to_string(200 << 20) + "\n");
  EXPECT_GE(o.peak_memory_mb, 200) << o.enforcement;
  EXPECT_LT(o.peak_memory_mb, 1024) << o.enforcement;
  EXPECT_GT(o.cpu_seconds, 0) << o.enforcement;
  EXPECT_GT(o.wall_seconds, 0);
}

TEST_F(SandboxTest, ResourceUsageIsTheCommandTrees) {
  SandboxSpec spec = Spec({"/bin/sh", "-c", std::string(kPython) + " /pkg/memory_hog.py 200"});
  spec.limits.memory_mb = 1024;
  ExpectUsageOfTheCommand(MustRun(spec));
}

TEST_F(SandboxTest, ConcurrentRunsAreIndependent) {
  constexpr int kRuns = 4;
  std::vector<Result<RunOutcome>> results(kRuns, Status::Internal("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kRuns; ++i) {
    fs::create_directories(root_ / ("out" + std::to_string(i)));
    threads.emplace_back([&, i] {
      SandboxSpec spec = Spec({"/bin/sh", "-c", "echo " + std::to_string(i) + " | tee /out/n"});
      spec.output_dir = root_ / ("out" + std::to_string(i));
      results[i] = sandbox_->Run(spec);
    });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < kRuns; ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].status().ToString();
    EXPECT_TRUE(results[i]->succeeded());
    EXPECT_EQ(results[i]->stdout_text, std::to_string(i) + "\n");
    EXPECT_EQ(ReadAll(root_ / ("out" + std::to_string(i)) / "n"), std::to_string(i) + "\n");
  }
}

// ---- Setup failures are Statuses, not outcomes -----------------------------------------------

TEST_F(SandboxTest, MissingBubblewrapIsANotFoundStatus) {
  BubblewrapOptions options;
  options.bwrap_path = "/nonexistent/bwrap";
  Result<RunOutcome> r = NewBubblewrapSandbox(options)->Run(Spec({"/bin/true"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  ExpectHealthy();
}

TEST_F(SandboxTest, CommandMissingInsideIsASetupFailureButAFailingCommandIsAnOutcome) {
  Result<RunOutcome> missing = sandbox_->Run(Spec({"/no/such/command"}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(missing.status().message().find("/no/such/command"), std::string::npos)
      << missing.status().message();

  RunOutcome failing = MustRun(Spec({"/bin/sh", "-c", "exit 1"}));
  EXPECT_EQ(failing.exit_code, 1);
  EXPECT_EQ(failing.killed_by, KilledBy::kNone);
}

TEST_F(SandboxTest, InvalidSpecIsRejectedBeforeAnythingRuns) {
  Result<RunOutcome> relative = sandbox_->Run(Spec({"bin/true"}));
  ASSERT_FALSE(relative.ok());
  EXPECT_EQ(relative.status().code(), Status::Code::kInvalidArgument);
  SandboxSpec no_dir = Spec({"/bin/true"});
  no_dir.output_dir = root_ / "missing";
  EXPECT_EQ(sandbox_->Run(no_dir).status().code(), Status::Code::kInvalidArgument);
  SandboxSpec bad_env = Spec({"/bin/true"});
  bad_env.env["A=B"] = "1";
  EXPECT_EQ(sandbox_->Run(bad_env).status().code(), Status::Code::kInvalidArgument);
}

TEST_F(SandboxTest, AsRootAPackageTheRunUidCannotReachIsRefusedWithTheBlockingDirectory) {
  if (geteuid() != 0) GTEST_SKIP() << "only a root runner switches to an unprivileged uid";
  fs::create_directories(root_ / "private/pkg");
  fs::permissions(root_ / "private", fs::perms::owner_all);
  SandboxSpec spec = Spec({"/bin/true"});
  spec.package_dir = root_ / "private/pkg";
  Result<RunOutcome> r = sandbox_->Run(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(r.status().message().find((root_ / "private").string() + " (mode 0700)"),
            std::string::npos)
      << r.status().message();
}

// ---- Hostile commands ----------------------------------------------------------------------

class HostListener {
 public:
  HostListener() {
    tcp_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_ANY);  // 127.0.0.1 and every other address of the host
    bind(tcp_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(tcp_, 16);
    socklen_t len = sizeof a;
    getsockname(tcp_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);

    unix_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    abstract_name_ = "ahub-sandbox-test-" + std::to_string(getpid());
    sockaddr_un u{};
    u.sun_family = AF_UNIX;
    memcpy(u.sun_path + 1, abstract_name_.data(), abstract_name_.size());
    bind(unix_, reinterpret_cast<sockaddr*>(&u),
         static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract_name_.size()));
    listen(unix_, 16);
  }
  ~HostListener() {
    close(tcp_);
    close(unix_);
  }
  int port() const { return port_; }
  const std::string& abstract_name() const { return abstract_name_; }
  // True when a connection is waiting on either listener.
  bool SawConnection() const {
    for (int fd : {tcp_, unix_}) {
      const int c = accept(fd, nullptr, nullptr);
      if (c >= 0) {
        close(c);
        return true;
      }
    }
    return false;
  }

 private:
  int tcp_ = -1;
  int unix_ = -1;
  int port_ = 0;
  std::string abstract_name_;
};

// The host's own non-loopback IPv4 addresses.
std::vector<std::string> HostAddresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
    if (std::string(buf).rfind("127.", 0) != 0) out.push_back(buf);
  }
  freeifaddrs(list);
  return out;
}

TEST_F(SandboxTest, NetworkOfTheHostIsUnreachable) {
  HostListener listener;
  const std::vector<std::string> host_addresses = HostAddresses();
  std::vector<std::string> argv = {kPython, "/pkg/probe_network.py",
                                   std::to_string(listener.port()), listener.abstract_name()};
  argv.insert(argv.end(), host_addresses.begin(), host_addresses.end());
  RunOutcome o = MustRun(Spec(argv));
  ASSERT_TRUE(o.succeeded()) << o.stderr_text;
  const nlohmann::json results = nlohmann::json::parse(o.stdout_text);
  EXPECT_EQ(results["own_loopback"], "ok") << "the probe cannot connect at all: " << results;
  EXPECT_EQ(results["host_loopback"], "ECONNREFUSED") << results;
  EXPECT_EQ(results["host_abstract"], "ECONNREFUSED") << results;
  EXPECT_EQ(results["1.1.1.1"], "ENETUNREACH") << results;
  EXPECT_EQ(results["10.0.2.2"], "ENETUNREACH") << results;
  for (const std::string& a : host_addresses) EXPECT_EQ(results[a], "ENETUNREACH") << a;
  EXPECT_FALSE(listener.SawConnection());
  ExpectHealthy();
}

TEST_F(SandboxTest, HostFilesAreInvisibleAndOnlyOutAndTmpAreWritable) {
  // World-readable secrets: only the sandbox's view of the file system keeps them out of reach.
  const auto world_readable = fs::perms::owner_read | fs::perms::owner_write |
                              fs::perms::group_read | fs::perms::others_read;
  std::vector<fs::path> secrets = {root_ / "secret.txt"};
  const passwd* pw = getpwuid(geteuid());
  const fs::path home = pw && pw->pw_dir ? pw->pw_dir : "";
  if (!home.empty() && access(home.c_str(), W_OK) == 0) {
    secrets.push_back(home / (".ahub-sandbox-test-secret-" + std::to_string(getpid())));
  }
  for (const fs::path& secret : secrets) {
    WriteAll(secret, "secret");
    fs::permissions(secret, world_readable);
  }
  // Absent, not merely forbidden.
  std::vector<std::string> absent = {"read:/etc/shadow", "read:/etc/hostname", "list:/root",
                                     "list:/work",       "list:/var",          "list:/home"};
  for (const fs::path& secret : secrets) absent.push_back("read:" + secret.string());
  if (!home.empty()) absent.push_back("list:" + home.string());
  const std::vector<std::string> readable = {"read:/pkg/spin.py", "list:/usr/bin",
                                             "read:/etc/passwd", "read:/etc/ld.so.cache"};
  const std::vector<std::string> read_only = {"write:/pkg/x", "write:/usr/x", "write:/x",
                                              "write:/etc/x"};
  const std::vector<std::string> writable = {"write:/out/x", "write:/tmp/x"};

  std::vector<std::string> argv = {kPython, "/pkg/probe_files.py"};
  for (const std::vector<std::string>& group : {absent, readable, read_only, writable}) {
    argv.insert(argv.end(), group.begin(), group.end());
  }
  RunOutcome o = MustRun(Spec(argv));
  for (size_t i = 1; i < secrets.size(); ++i) fs::remove(secrets[i]);
  ASSERT_TRUE(o.succeeded()) << o.stderr_text;
  const nlohmann::json r = nlohmann::json::parse(o.stdout_text);
  for (const std::string& p : absent) EXPECT_EQ(r[p], "ENOENT") << p;
  for (const std::string& p : readable) EXPECT_EQ(r[p], "ok") << p;
  for (const std::string& p : read_only) EXPECT_EQ(r[p], "EROFS") << p;
  for (const std::string& p : writable) EXPECT_EQ(r[p], "ok") << p;
  EXPECT_EQ(ReadAll(root_ / "out/x"), "written from the sandbox\n");
  EXPECT_FALSE(fs::exists(root_ / "pkg/x"));
  EXPECT_EQ(ReadAll(secrets[0]), "secret");
  ExpectHealthy();
}

TEST_F(SandboxTest, LinksAndFifosLeftInOutAreRemoved) {
  RunOutcome o = MustRun(Spec({"/bin/sh", "-c",
                               "ln -s /etc/shadow /out/link && mkfifo /out/fifo && "
                               "echo kept > /out/file"}));
  EXPECT_TRUE(o.succeeded()) << o.stderr_text;
  EXPECT_FALSE(fs::exists(fs::symlink_status(root_ / "out/link")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(root_ / "out/fifo")));
  EXPECT_EQ(ReadAll(root_ / "out/file"), "kept\n");
}

TEST_F(SandboxTest, ForkBombIsContainedAndNamed) {
  SandboxSpec spec = Spec({kPython, "/pkg/fork_bomb.py", marker_});
  spec.limits.processes = 16;
  spec.limits.wall_seconds = 60;
  RunOutcome o = MustRun(spec);
  EXPECT_FALSE(o.succeeded());
  if (o.enforcement == "rlimit") GTEST_SKIP() << "no cgroups here; RlimitSandboxTest covers this";
  EXPECT_EQ(o.killed_by, KilledBy::kProcesses) << o.enforcement << " exit " << o.exit_code;
  EXPECT_EQ(ProcessesWithMarker(marker_), std::vector<int>());
  ExpectHealthy();
}

TEST_F(SandboxTest, MemoryHogIsKilledByTheMemoryLimit) {
  SandboxSpec spec = Spec({kPython, "/pkg/memory_hog.py", "2048"});
  spec.limits.memory_mb = 128;
  RunOutcome o = MustRun(spec);
  EXPECT_FALSE(o.succeeded());
  if (o.enforcement == "rlimit") GTEST_SKIP() << "no cgroups here; RlimitSandboxTest covers this";
  EXPECT_EQ(o.killed_by, KilledBy::kMemory) << o.enforcement << " exit " << o.exit_code;
  EXPECT_EQ(o.stdout_text, "");  // it never got its 2 GiB
  ExpectHealthy();
}

TEST_F(SandboxTest, EndlessLoopTimesOutAndTheWholeTreeIsGone) {
  // A background child, a daemonised grandchild in its own session and the command itself.
  const std::string spin = std::string(kPython) + " /pkg/spin.py " + marker_;
  SandboxSpec spec = Spec({"/bin/sh", "-c", spin + " & (setsid " + spin + " &) ; exec " + spin});
  spec.limits.wall_seconds = 1;
  RunOutcome o = MustRun(spec);
  EXPECT_EQ(o.killed_by, KilledBy::kTimeout);
  EXPECT_EQ(o.exit_code, -1);
  EXPECT_EQ(o.term_signal, SIGKILL);
  EXPECT_EQ(ProcessesWithMarker(marker_), std::vector<int>());
  ExpectHealthy();
}

TEST_F(SandboxTest, BackgroundProcessesDoNotOutliveTheCommand) {
  // The command returns at once, leaving a daemonised process that would spin for ever.
  const std::string spin = std::string(kPython) + " /pkg/spin.py " + marker_;
  RunOutcome o =
      MustRun(Spec({"/bin/sh", "-c", "(setsid " + spin + " >/dev/null 2>&1 &); echo started"}));
  EXPECT_TRUE(o.succeeded()) << KilledByName(o.killed_by) << " " << o.stderr_text;
  EXPECT_EQ(o.stdout_text, "started\n");
  EXPECT_EQ(ProcessesWithMarker(marker_), std::vector<int>());
}

TEST_F(SandboxTest, OutputFloodIsTruncatedWithAMarkerWithoutBlockingTheCommand) {
  constexpr int64_t kOut = 100'000'000;
  constexpr int64_t kErr = 50'000'000;
  SandboxSpec spec = Spec({"/bin/sh", "-c",
                           "(yes | head -c " + std::to_string(kErr) + " >&2) & yes | head -c " +
                               std::to_string(kOut) + "; wait"});
  spec.limits.log_bytes = 1 << 20;
  RunOutcome o = MustRun(spec);
  EXPECT_TRUE(o.succeeded()) << KilledByName(o.killed_by);
  const std::string out_marker = TruncationMarker(kOut - spec.limits.log_bytes);
  const std::string err_marker = TruncationMarker(kErr - spec.limits.log_bytes);
  EXPECT_EQ(o.stdout_text.size(), spec.limits.log_bytes + out_marker.size());
  EXPECT_EQ(o.stderr_text.size(), spec.limits.log_bytes + err_marker.size());
  EXPECT_NE(o.stdout_text.find(out_marker), std::string::npos);
  EXPECT_NE(o.stderr_text.find(err_marker), std::string::npos);
  EXPECT_EQ(o.stdout_text.substr(0, 6), "y\ny\ny\n");
  EXPECT_EQ(o.stdout_text.substr(o.stdout_text.size() - 6), "y\ny\ny\n");
  ExpectHealthy();
}

TEST_F(SandboxTest, HugeFileIsStoppedAtTheOutputLimit) {
  SandboxSpec spec = Spec({"/bin/sh", "-c", "head -c 200000000 /dev/zero > /out/big"});
  spec.limits.output_bytes = 1 << 20;
  RunOutcome o = MustRun(spec);
  EXPECT_EQ(o.killed_by, KilledBy::kOutputSize);
  EXPECT_EQ(o.term_signal, SIGXFSZ);
  EXPECT_LE(fs::file_size(root_ / "out/big"), static_cast<uintmax_t>(spec.limits.output_bytes + 1));
  ExpectHealthy();
}

TEST_F(SandboxTest, HugeFileFromACommandIgnoringSigxfszIsStoppedToo) {
  // Python ignores SIGXFSZ: its write fails with EFBIG instead and the script dies of the error.
  SandboxSpec spec =
      Spec({kPython, "-c", "f = open('/out/big', 'wb')\nwhile True: f.write(b'0' * 65536)"});
  spec.limits.output_bytes = 1 << 20;
  RunOutcome o = MustRun(spec);
  EXPECT_EQ(o.killed_by, KilledBy::kOutputSize);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_GT(o.output_bytes, spec.limits.output_bytes);
  ExpectHealthy();
}

TEST_F(SandboxTest, ManyFilesOverTheTotalOutputLimitAreRejected) {
  SandboxSpec spec = Spec(
      {"/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8; do head -c 200000 /dev/zero > /out/f$i; done"});
  spec.limits.output_bytes = 1 << 20;
  RunOutcome o = MustRun(spec);
  EXPECT_EQ(o.exit_code, 0);
  EXPECT_EQ(o.output_bytes, 1'600'000);
  EXPECT_EQ(o.killed_by, KilledBy::kOutputSize);
  EXPECT_FALSE(o.succeeded());
  ExpectHealthy();
}

// ---- Without cgroups (an unprivileged developer's machine) ---------------------------------

class RlimitSandboxTest : public SandboxTest {
 protected:
  void SetUp() override {
    SandboxTest::SetUp();
    BubblewrapOptions options;
    options.use_cgroups = false;
    sandbox_ = NewBubblewrapSandbox(options);
  }
};

TEST_F(RlimitSandboxTest, NormalRunRecordsRlimitEnforcement) {
  RunOutcome o = MustRun(Spec({"/bin/sh", "-c", "echo hi; echo x > /out/y"}));
  EXPECT_TRUE(o.succeeded()) << o.stderr_text;
  EXPECT_EQ(o.enforcement, "rlimit");
  EXPECT_EQ(o.stdout_text, "hi\n");
  EXPECT_EQ(ReadAll(root_ / "out/y"), "x\n");
}

TEST_F(RlimitSandboxTest, ResourceUsageIsTheCommandTrees) {
  SandboxSpec spec = Spec({"/bin/sh", "-c", std::string(kPython) + " /pkg/memory_hog.py 200"});
  spec.limits.memory_mb = 1024;
  ExpectUsageOfTheCommand(MustRun(spec));
}

TEST_F(RlimitSandboxTest, ForkBombFailsWithinTheProcessLimit) {
  SandboxSpec spec = Spec({kPython, "/pkg/fork_bomb.py", marker_});
  spec.limits.processes = 16;
  RunOutcome o = MustRun(spec);
  EXPECT_FALSE(o.succeeded());
  EXPECT_NE(o.stderr_text.find("BlockingIOError"), std::string::npos) << o.stderr_text;
  EXPECT_EQ(ProcessesWithMarker(marker_), std::vector<int>());
  ExpectHealthy();
}

TEST_F(RlimitSandboxTest, MemoryHogFailsWithinTheAddressSpaceLimit) {
  SandboxSpec spec = Spec({kPython, "/pkg/memory_hog.py", "2048"});
  spec.limits.memory_mb = 128;
  RunOutcome o = MustRun(spec);
  EXPECT_FALSE(o.succeeded());
  EXPECT_NE(o.stderr_text.find("MemoryError"), std::string::npos) << o.stderr_text;
  ExpectHealthy();
}

TEST_F(RlimitSandboxTest, EndlessLoopTimesOutAndTheWholeTreeIsGone) {
  const std::string spin = std::string(kPython) + " /pkg/spin.py " + marker_;
  SandboxSpec spec = Spec({"/bin/sh", "-c", spin + " & (setsid " + spin + " &) ; exec " + spin});
  spec.limits.wall_seconds = 1;
  RunOutcome o = MustRun(spec);
  EXPECT_EQ(o.killed_by, KilledBy::kTimeout);
  EXPECT_EQ(ProcessesWithMarker(marker_), std::vector<int>());
  ExpectHealthy();
}

TEST_F(RlimitSandboxTest, BackgroundProcessesDoNotOutliveTheCommand) {
  const std::string spin = std::string(kPython) + " /pkg/spin.py " + marker_;
  RunOutcome o =
      MustRun(Spec({"/bin/sh", "-c", "(setsid " + spin + " >/dev/null 2>&1 &); echo started"}));
  EXPECT_TRUE(o.succeeded()) << KilledByName(o.killed_by) << " " << o.stderr_text;
  EXPECT_EQ(ProcessesWithMarker(marker_), std::vector<int>());
}

}  // namespace
}  // namespace ahub
