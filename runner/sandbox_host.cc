#include "runner/sandbox_host.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>

namespace ahub {
namespace fs = std::filesystem;
namespace {

// Directories nested deeper than this in an output directory are moved up to its top level
// while it is settled, so the walk holds at most this many directory descriptors.
constexpr int kMaxOutputDepth = 32;

// /etc entries the sandbox shows: the dynamic loader's cache and configuration, the alternatives
// links that /usr/bin points through, the time zone. Python's /etc/python3* are added below
// (Debian's sitecustomize lives there). Secrets (shadow, ssh, ssl keys, machine-id) never are.
constexpr const char* kEtcEntries[] = {"ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives",
                                       "localtime"};

// The top-level system links of a merged-usr host (/bin -> usr/bin, ...), or directories on a
// split-usr host.
constexpr const char* kSystemTopLevel[] = {"bin", "sbin", "lib", "lib32", "lib64", "libx32"};

// Where NVIDIA driver libraries are installed by the driver packages and the container toolkit.
constexpr const char* kGpuLibraryDirs[] = {"/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib",
                                           "/usr/local/nvidia/lib64", "/usr/lib/aarch64-linux-gnu"};

std::string ModeText(mode_t mode) {
  char buf[8];
  snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Adds `path` as a symlink (recreated inside) or a read-only bind, as it is on the host.
void AddAsOnHost(const std::string& path, SystemView* view) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;
  if (S_ISLNK(st.st_mode)) {
    std::error_code ec;
    const fs::path target = fs::read_symlink(path, ec);
    if (!ec) view->symlinks.push_back({target.string(), path});
  } else {
    view->ro_paths.push_back(path);
  }
}

SystemView ComputeSystemView() {
  SystemView view;
  view.ro_paths.push_back("/usr");
  for (const char* name : kSystemTopLevel) AddAsOnHost(std::string("/") + name, &view);
  for (const char* name : kEtcEntries) AddAsOnHost(std::string("/etc/") + name, &view);
  std::error_code ec;
  std::vector<std::string> python;
  for (const auto& entry : fs::directory_iterator("/etc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("python3", 0) == 0) python.push_back(entry.path().string());
  }
  std::sort(python.begin(), python.end());
  for (const std::string& p : python) AddAsOnHost(p, &view);
  return view;
}

bool IsGpuDeviceName(const std::string& name) {
  if (name == "nvidiactl" || name == "nvidia-uvm" || name == "nvidia-uvm-tools" ||
      name == "nvidia-modeset" || name == "nvidia-caps") {
    return true;
  }
  return name.size() > 6 && name.rfind("nvidia", 0) == 0 &&
         std::all_of(name.begin() + 6, name.end(), [](char c) { return std::isdigit(c); });
}

bool IsGpuLibraryName(const std::string& name) {
  return name.rfind("libcuda", 0) == 0 || name.rfind("libnvidia-", 0) == 0;
}

GpuView ComputeGpuView() {
  GpuView view;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/dev", ec)) {
    if (IsGpuDeviceName(entry.path().filename().string())) {
      view.devices.push_back(entry.path().string());
    }
  }
  std::sort(view.devices.begin(), view.devices.end());
  if (view.devices.empty()) return view;

  // The loader's configured directories and the usual ones. What lies under /usr (the
  // distribution's driver packages, /usr/local/nvidia) is visible in the sandbox already; libraries
  // elsewhere (a driver container's /run/nvidia/driver, /opt) are bound one by one at the same
  // path, and the sandbox's copy of /etc/ld.so.cache lets the loader find them.
  std::vector<std::string> dirs(std::begin(kGpuLibraryDirs), std::end(kGpuLibraryDirs));
  for (const auto& conf : fs::directory_iterator("/etc/ld.so.conf.d", ec)) {
    std::ifstream in(conf.path());
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line[0] == '/') dirs.push_back(line);
    }
  }
  for (const std::string& dir : dirs) {
    const fs::path real = fs::weakly_canonical(dir, ec);
    if (ec || real.string().rfind("/usr/", 0) == 0) continue;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      const std::string path = entry.path().string();
      if (IsGpuLibraryName(entry.path().filename().string()) &&
          std::find(view.libraries.begin(), view.libraries.end(), path) == view.libraries.end()) {
        view.libraries.push_back(path);
      }
    }
  }
  std::sort(view.libraries.begin(), view.libraries.end());
  return view;
}

class OutputWalker {
 public:
  OutputWalker(int root_fd, int uid, int gid) : root_fd_(root_fd), uid_(uid), gid_(gid) {}

  OutputSummary Run() {
    Walk(dup(root_fd_), 0);
    while (!pending_.empty()) {
      const std::string name = pending_.back();
      pending_.pop_back();
      const int fd =
          openat(root_fd_, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd >= 0) Walk(fd, 1);
    }
    return summary_;
  }

 private:
  // Walks the directory open at `fd` (taken over) at nesting `depth`.
  void Walk(int fd, int depth) {
    if (fd < 0) return;
    DIR* dir = fdopendir(fd);
    if (!dir) {
      close(fd);
      return;
    }
    std::vector<std::string> names;  // read first: the loop below renames and unlinks
    while (const dirent* e = readdir(dir)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    for (const std::string& name : names) Settle(fd, name, depth);
    closedir(dir);
  }

  void Settle(int dir_fd, const std::string& name, int depth) {
    struct stat st;
    if (fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return;
    if (S_ISREG(st.st_mode)) {
      summary_.bytes += st.st_size;
      ClearSetId(dir_fd, name, st.st_mode);
      Chown(dir_fd, name);
    } else if (S_ISDIR(st.st_mode)) {
      if (depth + 1 > kMaxOutputDepth) {
        Flatten(dir_fd, name);
        return;
      }
      // Without privileges, a directory the run made unreadable must be opened up to be walked.
      if (uid_ < 0 && (st.st_mode & S_IRWXU) != S_IRWXU) {
        fchmodat(dir_fd, name.c_str(), (st.st_mode | S_IRWXU) & 07777, 0);
      }
      ClearSetId(dir_fd, name, st.st_mode);
      Walk(openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC),
           depth + 1);
      Chown(dir_fd, name);
    } else {
      if (unlinkat(dir_fd, name.c_str(), 0) == 0) ++summary_.removed;
    }
  }

  void ClearSetId(int dir_fd, const std::string& name, mode_t mode) {
    if (mode & (S_ISUID | S_ISGID)) {
      fchmodat(dir_fd, name.c_str(), mode & 07777 & ~(S_ISUID | S_ISGID), 0);
    }
  }

  void Chown(int dir_fd, const std::string& name) {
    if (uid_ >= 0) fchownat(dir_fd, name.c_str(), uid_, gid_, AT_SYMLINK_NOFOLLOW);
  }

  void Flatten(int dir_fd, const std::string& name) {
    summary_.too_deep = true;
    for (int n = 0; n < 1000000; ++n) {
      const std::string moved = ".ahub-flattened-" + std::to_string(flattened_++);
      if (renameat2(dir_fd, name.c_str(), root_fd_, moved.c_str(), RENAME_NOREPLACE) == 0) {
        pending_.push_back(moved);
        return;
      }
      if (errno != EEXIST) return;
    }
  }

  int root_fd_;
  int uid_;
  int gid_;
  int flattened_ = 0;
  std::vector<std::string> pending_;
  OutputSummary summary_;
};

}  // namespace

const SystemView& HostSystemView() {
  static const SystemView view = ComputeSystemView();
  return view;
}

const GpuView& HostGpuView() {
  static const GpuView view = ComputeGpuView();
  return view;
}

Status CheckReachableByOthers(const fs::path& path, bool need_read, const std::string& what) {
  std::error_code ec;
  const fs::path real = fs::canonical(path, ec);
  if (ec) return Status::NotFound(what + " " + path.string() + ": " + ec.message());
  auto refuse = [&](const fs::path& blocker, mode_t mode, const char* need) {
    return Status::FailedPrecondition(what + " " + path.string() + ": " + blocker.string() +
                                      " (mode " + ModeText(mode) + ") is not " + need +
                                      " by the sandbox's unprivileged user; make it o+" +
                                      (std::string(need) == "searchable" ? "x" : "rx") +
                                      ", or use a directory under one that is");
  };
  fs::path at = "/";
  struct stat st;
  for (auto it = real.begin(); it != real.end(); ++it) {
    if (it != real.begin()) at /= *it;
    if (at == real) break;
    if (stat(at.c_str(), &st) != 0) return Status::NotFound(what + " " + at.string());
    if (!(st.st_mode & S_IXOTH)) return refuse(at, st.st_mode, "searchable");
  }
  if (stat(real.c_str(), &st) != 0) return Status::NotFound(what + " " + real.string());
  const mode_t need = S_ISDIR(st.st_mode) ? (S_IROTH | S_IXOTH) : S_IROTH;
  if (need_read && (st.st_mode & need) != need) return refuse(real, st.st_mode, "readable");
  return Status::Ok();
}

OutputSummary SettleOutputDir(const fs::path& dir, int owner_uid, int owner_gid) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return {};
  OutputSummary summary = OutputWalker(fd, owner_uid, owner_gid).Run();
  if (owner_uid >= 0) fchown(fd, owner_uid, owner_gid);
  close(fd);
  return summary;
}

}  // namespace ahub
