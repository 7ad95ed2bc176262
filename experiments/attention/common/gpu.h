// What the attention experiments know about the GPU they run on, from plain C++.
//
// Implemented by gpu.cu when the build has CUDA and by gpu_none.cc otherwise, so the programs
// and their CPU paths compile on hosts without the toolkit. Every figure that ends in a report
// comes from here, so all five experiments describe a device the same way.
// Thread-safety: QueryGpu and MeasureCopyBandwidthGbs use the calling thread's current device.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace attn {

struct GpuInfo {
  bool available = false;
  std::string error;  // why not, when !available ("built without CUDA", "no CUDA device", ...)
  std::string name;
  int cc_major = 0;
  int cc_minor = 0;
  int sm_count = 0;
  int64_t total_memory_bytes = 0;
  int64_t l2_bytes = 0;
  // Theoretical DRAM bandwidth, 2 transfers per clock x bus width, in GB/s (1e9 bytes/s).
  double peak_bandwidth_gbs = 0;
  std::string peak_bandwidth_source;  // "device attributes" or "datasheet (<model>)"
  int driver_version = 0;             // as cudaDriverGetVersion: 13000 = 13.0
  int runtime_version = 0;
};

// True when the build includes the CUDA kernels.
bool BuiltWithCuda();

GpuInfo QueryGpu();

// QueryGpu(), or a std::runtime_error saying why there is no usable GPU and that --device cpu
// runs the CPU path: the one refusal every program's --device gpu gives.
GpuInfo RequireGpu();

// {"kind": "cpu"}: the device of a --device cpu run.
nlohmann::json CpuDeviceJson();

// {"kind": "gpu", "available", "name", "compute_capability", "sm_count", "memory_gib", "l2_mib",
//  "peak_bandwidth_gbs", "peak_bandwidth_source", "driver", "runtime"} or {"available": false, "error"}.
nlohmann::json GpuInfoJson(const GpuInfo& info);

// Device-to-device cudaMemcpy of `bytes`, median of several runs, counting bytes read plus
// written: the bandwidth ceiling a kernel on this device can expect. 0 without a GPU.
double MeasureCopyBandwidthGbs(int64_t bytes);

}  // namespace attn
