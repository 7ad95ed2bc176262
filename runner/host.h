// Host description for reports: what machine a verification ran on. The fingerprint identifies
// the host (hardware, OS and machine id, hashed) so the hub can count independent replications;
// it deliberately leaves out the ahub version, which changes without the machine changing.
//
// Thread-safety: DescribeHost() reads /proc and /etc; call it once per process and share the value.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace ahub {

inline constexpr const char* kAhubVersion = "0.1.0";

struct HostInfo {
  std::string fingerprint;  // sha256 hex
  std::string cpu;
  int cores = 0;
  long long memory_mb = 0;
  std::string os;
  std::string kernel;
  std::string compiler;
  std::string ahub_version = kAhubVersion;
  std::string gpu;       // empty when none, else e.g. "NVIDIA H100 80GB HBM3 (driver 550.54, CUDA 12.4)"
  std::string sandbox;   // e.g. "bubblewrap 0.8.0"

  nlohmann::json ToJson() const;
};

HostInfo DescribeHost();

}  // namespace ahub
