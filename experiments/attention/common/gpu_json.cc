#include "experiments/attention/common/gpu.h"

#include <stdexcept>

namespace attn {

GpuInfo RequireGpu() {
  GpuInfo info = QueryGpu();
  if (!info.available) {
    throw std::runtime_error("no usable GPU: " + info.error + "; --device cpu runs the CPU path");
  }
  return info;
}

nlohmann::json CpuDeviceJson() { return {{"kind", "cpu"}}; }

nlohmann::json GpuInfoJson(const GpuInfo& info) {
  if (!info.available) return {{"available", false}, {"error", info.error}};
  auto version = [](int v) { return std::to_string(v / 1000) + "." + std::to_string(v % 1000 / 10); };
  return {{"kind", "gpu"},
          {"available", true},
          {"name", info.name},
          {"compute_capability", std::to_string(info.cc_major) + "." + std::to_string(info.cc_minor)},
          {"sm_count", info.sm_count},
          {"memory_gib", static_cast<double>(info.total_memory_bytes) / (1 << 30)},
          {"l2_mib", static_cast<double>(info.l2_bytes) / (1 << 20)},
          {"peak_bandwidth_gbs", info.peak_bandwidth_gbs},
          {"peak_bandwidth_source", info.peak_bandwidth_source},
          {"driver", version(info.driver_version)},
          {"runtime", version(info.runtime_version)}};
}

}  // namespace attn
