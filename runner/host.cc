#include "runner/host.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "runner/sandbox.h"
#include "runner/sha256.h"

namespace ahub {
namespace {

std::string Trim(std::string s) {
  const size_t b = s.find_first_not_of(" \t\r\n\"");
  const size_t e = s.find_last_not_of(" \t\r\n\"");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// The value after "key" and a separator in the first matching line of a key-value file.
std::string FieldOf(const std::string& file, const std::string& key, char sep) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      const size_t p = line.find(sep);
      if (p != std::string::npos) return Trim(line.substr(p + 1));
    }
  }
  return "";
}

// First line printed by a trusted host tool (never package code), or "" when it is absent.
std::string FirstLineOf(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return "";
  std::array<char, 512> buf{};
  if (!fgets(buf.data(), buf.size(), pipe.get())) return "";
  return Trim(buf.data());
}

}  // namespace

nlohmann::json HostInfo::ToJson() const {
  return {{"fingerprint", fingerprint}, {"cpu", cpu}, {"cores", cores}, {"memory_mb", memory_mb},
          {"os", os}, {"kernel", kernel}, {"compiler", compiler}, {"ahub_version", ahub_version},
          {"gpu", gpu.empty() ? nlohmann::json(nullptr) : nlohmann::json(gpu)}, {"sandbox", sandbox}};
}

HostInfo DescribeHost() {
  HostInfo h;
  h.cpu = FieldOf("/proc/cpuinfo", "model name", ':');
  h.cores = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  const std::string mem_kb = FieldOf("/proc/meminfo", "MemTotal", ':');
  h.memory_mb = mem_kb.empty() ? 0 : std::stoll(mem_kb) / 1024;
  h.os = FieldOf("/etc/os-release", "PRETTY_NAME", '=');
  utsname u{};
  if (uname(&u) == 0) h.kernel = std::string(u.sysname) + " " + u.release + " " + u.machine;
#if defined(__clang__)
  h.compiler = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  h.compiler = std::string("g++ ") + __VERSION__;
#endif
  if (HostHasGpu()) {
    // "NVIDIA H100 80GB HBM3 (driver 580.159.04, CUDA 13.0)": model, driver and the CUDA
    // version the driver supports, all three of which change what a GPU claim measures.
    const std::string line = FirstLineOf(
        "nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null");
    const std::string cuda = FirstLineOf(
        "nvidia-smi 2>/dev/null | grep -o 'CUDA Version: [0-9.]*' | cut -d' ' -f3");
    const size_t comma = line.rfind(", ");
    if (line.empty() || comma == std::string::npos) {
      h.gpu = "NVIDIA GPU (nvidia-smi unavailable)";
    } else {
      h.gpu = line.substr(0, comma) + " (driver " + line.substr(comma + 2) +
              (cuda.empty() ? "" : ", CUDA " + cuda) + ")";
    }
  }
  h.sandbox = FirstLineOf("bwrap --version 2>/dev/null");
  std::ifstream mid("/etc/machine-id");
  std::string machine_id;
  std::getline(mid, machine_id);
  const nlohmann::json identity = {{"cpu", h.cpu}, {"cores", h.cores}, {"memory_gb", (h.memory_mb + 512) / 1024},
                                   {"os", h.os}, {"arch", u.machine}, {"gpu", h.gpu},
                                   {"machine", Sha256Hex(machine_id)}};
  h.fingerprint = Sha256Hex(identity.dump());
  return h;
}

}  // namespace ahub
