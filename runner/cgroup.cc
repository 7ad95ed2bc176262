#include "runner/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace ahub {
namespace {

// Where this process's own cgroups are, per hierarchy; empty when that hierarchy is absent.
struct CgroupLayout {
  CgroupVersion version = CgroupVersion::kNone;
  std::string why_not;
  std::string v2_dir;
  std::string memory_dir;   // v1
  std::string pids_dir;     // v1
  std::string cpuacct_dir;  // v1, optional
};

std::string ErrnoText(int err) { return std::strerror(err); }

bool ReadFile(const std::string& path, std::string* text) {
  std::ifstream in(path);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  *text = s.str();
  return true;
}

// Writes `value` to a cgroup control file; returns 0 or the errno of the failure.
int WriteFile(const std::string& path, const std::string& value) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const ssize_t n = write(fd, value.data(), value.size());
  const int err = n == static_cast<ssize_t>(value.size()) ? 0 : (n < 0 ? errno : EIO);
  close(fd);
  return err;
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep)) parts.push_back(part);
  return parts;
}

bool HasWord(const std::string& text, const std::string& word) {
  std::istringstream in(text);
  std::string w;
  while (in >> w) {
    if (w == word) return true;
  }
  return false;
}

// The value of the line "key N" in a flat-keyed cgroup file (memory.events, pids.events, ...).
int64_t KeyedValue(const std::string& path, const std::string& key, int64_t absent) {
  std::string text;
  if (!ReadFile(path, &text)) return absent;
  std::istringstream in(text);
  std::string k;
  int64_t v = 0;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return absent;
}

int64_t SingleValue(const std::string& path, int64_t absent) {
  std::string text;
  if (!ReadFile(path, &text)) return absent;
  try {
    return std::stoll(text);
  } catch (const std::exception&) {
    return absent;
  }
}

struct Mount {
  std::string root;  // the part of the hierarchy this mount shows
  std::string point;
};

// The cgroup mounts of this process: "cgroup2" -> its mount, and each v1 controller -> its mount.
std::vector<std::pair<std::string, Mount>> CgroupMounts() {
  std::vector<std::pair<std::string, Mount>> mounts;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    const size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream head(line.substr(0, dash));
    std::istringstream tail(line.substr(dash + 3));
    std::string id, parent, dev, root, point, fstype, source, super_options;
    head >> id >> parent >> dev >> root >> point;
    tail >> fstype >> source >> super_options;
    if (fstype == "cgroup2") {
      mounts.push_back({"cgroup2", {root, point}});
    } else if (fstype == "cgroup") {
      for (const std::string& opt : Split(super_options, ','))
        mounts.push_back({opt, {root, point}});
    }
  }
  return mounts;
}

// This process's own cgroup directory for `key` ("cgroup2" or a v1 controller), or "".
std::string OwnDir(const std::vector<std::pair<std::string, Mount>>& mounts,
                   const std::string& key) {
  const auto mount =
      std::find_if(mounts.begin(), mounts.end(), [&](const auto& m) { return m.first == key; });
  if (mount == mounts.end()) return "";
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    // hierarchy-id:controller-list:path ("0::path" for v2)
    const size_t a = line.find(':');
    const size_t b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    const std::vector<std::string> names = Split(controllers, ',');
    const bool match = key == "cgroup2" ? (line.compare(0, a, "0") == 0 && controllers.empty())
                                        : std::find(names.begin(), names.end(), key) != names.end();
    if (!match) continue;
    const std::string& root = mount->second.root;
    if (root != "/" && path.compare(0, root.size(), root) == 0) path.erase(0, root.size());
    if (path == "/") path.clear();
    return mount->second.point + path;
  }
  return "";
}

// Removes run cgroups left in `dir` by runner processes that died mid-run (their runs' processes
// died with them, through the parent-death signal, so the cgroups are empty), and the leaf
// cgroups of runner processes that have exited (see EnableV2Controllers).
void RemoveStaleRunCgroups(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  while (const dirent* e = readdir(d)) {
    int pid = 0;
    int n = 0;
    if (sscanf(e->d_name, "ahub-%d-%d", &pid, &n) != 2 &&
        sscanf(e->d_name, "ahub-runner-%d", &pid) != 1) {
      continue;
    }
    if (pid <= 0) continue;
    if (kill(pid, 0) != 0 && errno == ESRCH) rmdir((dir + "/" + e->d_name).c_str());
  }
  closedir(d);
}

// The name of this process's leaf cgroup below its original cgroup v2 (see EnableV2Controllers).
std::string RunnerLeafName() { return "ahub-runner-" + std::to_string(getpid()); }

// Hands the memory and pids controllers to the children of `dir`, this process's own v2 cgroup.
// cgroup v2 refuses that (EBUSY) for a non-root cgroup that holds processes ("no internal
// processes"), which is where a runner usually is: alone in a systemd service or scope with
// Delegate=yes, or in a container's cgroup namespace. This process then moves into a leaf child of
// its own (ahub-runner-<pid>), so `dir` may hold controllers for it and for the run cgroups beside
// it, which stay beneath `dir` and its limits. Other processes sharing `dir` are not moved: if they
// keep it refused, this process moves back and nothing is changed.
bool EnableV2Controllers(const std::string& dir, std::string* why_not) {
  const std::string control = dir + "/cgroup.subtree_control";
  int err = WriteFile(control, "+memory +pids");
  if (err == EBUSY) {
    const std::string leaf = dir + "/" + RunnerLeafName();
    if (mkdir(leaf.c_str(), 0755) == 0 || errno == EEXIST) {
      // "0" names the writing process; all its threads move with it.
      err = WriteFile(leaf + "/cgroup.procs", "0");
      if (err == 0) {
        err = WriteFile(control, "+memory +pids");
        if (err != 0) WriteFile(dir + "/cgroup.procs", "0");
      }
      if (err != 0) rmdir(leaf.c_str());
      if (err == EBUSY) {
        *why_not = "cannot enable memory and pids for children of " + dir +
                   ": other processes share that cgroup (run ahub in a cgroup of its own)";
        return false;
      }
    } else {
      err = errno;
    }
  }
  if (err != 0) {
    *why_not = "cannot enable memory and pids for children of " + dir + ": " + ErrnoText(err);
    return false;
  }
  return true;
}

// True when a child cgroup can be made (and removed) in `dir`.
bool CanCreateChild(const std::string& dir, std::string* why_not) {
  const std::string probe = dir + "/ahub-probe-" + std::to_string(getpid());
  if (mkdir(probe.c_str(), 0755) != 0 && errno != EEXIST) {
    *why_not = "cannot create cgroups in " + dir + ": " + ErrnoText(errno);
    return false;
  }
  rmdir(probe.c_str());
  RemoveStaleRunCgroups(dir);
  return true;
}

CgroupLayout ProbeLayout() {
  CgroupLayout layout;
  const auto mounts = CgroupMounts();
  std::string why_v2 = "no cgroup2 hierarchy mounted";
  const std::string v2 = OwnDir(mounts, "cgroup2");
  if (!v2.empty()) {
    std::string controllers, subtree;
    ReadFile(v2 + "/cgroup.controllers", &controllers);
    ReadFile(v2 + "/cgroup.subtree_control", &subtree);
    if (!HasWord(controllers, "memory") || !HasWord(controllers, "pids")) {
      why_v2 = "cgroup2 at " + v2 + " lacks the memory and pids controllers";
    } else if ((HasWord(subtree, "memory") && HasWord(subtree, "pids")) ||
               EnableV2Controllers(v2, &why_v2)) {
      if (CanCreateChild(v2, &why_v2)) {
        layout.version = CgroupVersion::kV2;
        layout.v2_dir = v2;
        return layout;
      }
    }
  }
  layout.memory_dir = OwnDir(mounts, "memory");
  layout.pids_dir = OwnDir(mounts, "pids");
  layout.cpuacct_dir = OwnDir(mounts, "cpuacct");
  std::string why_v1;
  if (layout.memory_dir.empty() || layout.pids_dir.empty()) {
    why_v1 = "no cgroup v1 memory and pids hierarchies";
  } else if (CanCreateChild(layout.memory_dir, &why_v1) &&
             CanCreateChild(layout.pids_dir, &why_v1)) {
    if (!layout.cpuacct_dir.empty()) {
      std::string ignored;
      if (!CanCreateChild(layout.cpuacct_dir, &ignored)) layout.cpuacct_dir.clear();
    }
    layout.version = CgroupVersion::kV1;
    return layout;
  }
  layout.why_not = why_v2 + "; " + why_v1;
  return layout;
}

const CgroupLayout& Layout() {
  static const CgroupLayout layout = ProbeLayout();
  return layout;
}

int PidfdOpen(int pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

}  // namespace

CgroupVersion CgroupSupport(std::string* why_not) {
  const CgroupLayout& layout = Layout();
  if (why_not) *why_not = layout.why_not;
  return layout.version;
}

RunCgroup::RunCgroup(CgroupVersion version, std::vector<std::string> dirs)
    : version_(version), dirs_(std::move(dirs)) {
  for (const std::string& d : dirs_) procs_files_.push_back(d + "/cgroup.procs");
}

Result<std::unique_ptr<RunCgroup>> RunCgroup::Create(CgroupVersion version, const std::string& name,
                                                     const CgroupLimits& limits) {
  const CgroupLayout& layout = Layout();
  if (version == CgroupVersion::kNone || version != layout.version) {
    return Status::FailedPrecondition("cgroups unavailable: " + layout.why_not);
  }
  std::vector<std::string> parents;
  if (version == CgroupVersion::kV2) {
    parents = {layout.v2_dir};
  } else {
    parents = {layout.memory_dir, layout.pids_dir};
    if (!layout.cpuacct_dir.empty()) parents.push_back(layout.cpuacct_dir);
  }
  std::vector<std::string> dirs;
  for (const std::string& parent : parents) {
    const std::string dir = parent + "/" + name;
    // A leftover of the same name (a previous process with this pid died mid-run) is replaced.
    if (mkdir(dir.c_str(), 0755) != 0 &&
        !(errno == EEXIST && rmdir(dir.c_str()) == 0 && mkdir(dir.c_str(), 0755) == 0)) {
      const int err = errno;
      for (const std::string& d : dirs) rmdir(d.c_str());
      return Status::IoError("cannot create cgroup " + dir + ": " + ErrnoText(err));
    }
    dirs.push_back(dir);
  }
  std::unique_ptr<RunCgroup> cg(new RunCgroup(version, dirs));
  const std::string memory = std::to_string(limits.memory_bytes);
  const std::string tasks = std::to_string(limits.tasks);
  std::vector<std::pair<std::string, std::string>> settings;
  if (version == CgroupVersion::kV2) {
    settings = {{dirs[0] + "/memory.max", memory}, {dirs[0] + "/pids.max", tasks}};
    if (Exists(dirs[0] + "/memory.swap.max")) {
      settings.push_back({dirs[0] + "/memory.swap.max", "0"});
    }
  } else {
    settings = {{dirs[0] + "/memory.limit_in_bytes", memory}, {dirs[1] + "/pids.max", tasks}};
    // memsw (memory + swap) must not be below the memory limit, so it is set second.
    if (Exists(dirs[0] + "/memory.memsw.limit_in_bytes")) {
      settings.push_back({dirs[0] + "/memory.memsw.limit_in_bytes", memory});
    }
  }
  for (const auto& [file, value] : settings) {
    if (const int err = WriteFile(file, value); err != 0) {
      return Status::IoError("cannot set " + file + " to " + value + ": " + ErrnoText(err));
    }
  }
  return cg;
}

RunCgroup::~RunCgroup() {
  KillAll(std::chrono::seconds(5));
  for (const std::string& d : dirs_) {
    // A v1 memory cgroup can stay busy for a moment after its last task has exited.
    for (int attempt = 0; attempt < 100 && rmdir(d.c_str()) != 0 && errno == EBUSY; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
}

Status RunCgroup::Join(int pid) {
  const std::string text = std::to_string(pid);
  for (const std::string& procs : procs_files_) {
    if (const int err = WriteFile(procs, text); err != 0) {
      return Status::IoError("cannot move process " + text + " into " + procs + ": " +
                             ErrnoText(err));
    }
  }
  return Status::Ok();
}

std::vector<int> RunCgroup::Pids() const {
  // The pids hierarchy (v1) or the single v2 cgroup holds every process of the run.
  const std::string& procs = procs_files_[version_ == CgroupVersion::kV2 ? 0 : 1];
  std::vector<int> pids;
  std::ifstream in(procs);
  int pid = 0;
  while (in >> pid) pids.push_back(pid);
  return pids;
}

bool RunCgroup::KillAll(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (version_ == CgroupVersion::kV2 && Exists(dirs_[0] + "/cgroup.kill")) {
    WriteFile(dirs_[0] + "/cgroup.kill", "1");
  }
  auto pause = std::chrono::microseconds(200);
  while (true) {
    const std::vector<int> pids = Pids();
    if (pids.empty()) return true;
    // A pid read from cgroup.procs may be reused by an unrelated process before it is signalled.
    // A pidfd pins the process; it is signalled only if its pid is still listed afterwards (then
    // it is this process, or the old one is dead and signalling its pidfd does nothing).
    std::vector<std::pair<int, int>> pidfds;
    for (int pid : pids) {
      const int fd = PidfdOpen(pid);
      if (fd >= 0) {
        pidfds.push_back({pid, fd});
      } else if (errno == ENOSYS) {
        kill(pid, SIGKILL);  // kernels before 5.3: no pidfds, accept the small reuse race
      }
    }
    const std::vector<int> still = Pids();
    for (const auto& [pid, fd] : pidfds) {
      if (std::find(still.begin(), still.end(), pid) != still.end()) {
        syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0);
      }
      close(fd);
    }
    if (std::chrono::steady_clock::now() >= deadline) return Pids().empty();
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20000));
  }
}

CgroupUsage RunCgroup::Usage() const {
  CgroupUsage u;
  if (version_ == CgroupVersion::kV2) {
    const std::string& d = dirs_[0];
    u.peak_memory_bytes = SingleValue(d + "/memory.peak", -1);
    u.oom_kills = KeyedValue(d + "/memory.events", "oom_kill", 0);
    u.refused_forks = KeyedValue(d + "/pids.events", "max", 0);
    const int64_t usec = KeyedValue(d + "/cpu.stat", "usage_usec", -1);
    u.cpu_nanoseconds = usec < 0 ? -1 : usec * 1000;
  } else {
    u.peak_memory_bytes = SingleValue(dirs_[0] + "/memory.max_usage_in_bytes", -1);
    u.oom_kills = KeyedValue(dirs_[0] + "/memory.oom_control", "oom_kill", 0);
    u.refused_forks = KeyedValue(dirs_[1] + "/pids.events", "max", 0);
    if (dirs_.size() > 2) u.cpu_nanoseconds = SingleValue(dirs_[2] + "/cpuacct.usage", -1);
  }
  return u;
}

}  // namespace ahub
