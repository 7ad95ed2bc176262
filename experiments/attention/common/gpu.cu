#include "experiments/attention/common/cuda_util.cuh"
#include "experiments/attention/common/gpu.h"

namespace attn {
namespace {

// Datasheet figures for when the driver reports no memory clock (CUDA 13 dropped it from
// cudaDeviceProp and some drivers answer 0 to the attribute). GB/s.
double DatasheetBandwidth(const std::string& name, std::string* model) {
  struct Known {
    const char* needle;
    double gbs;
  };
  static const Known kKnown[] = {{"H200", 4800}, {"H100 80GB HBM3", 3352}, {"H100 PCIe", 2039},
                                 {"H100 NVL", 3938}, {"A100-SXM4-80GB", 2039}, {"A100-SXM4-40GB", 1555},
                                 {"A100 80GB PCIe", 1935}, {"L40S", 864}};
  for (const Known& k : kKnown) {
    if (name.find(k.needle) != std::string::npos) {
      *model = k.needle;
      return k.gbs;
    }
  }
  return 0;
}

}  // namespace

bool BuiltWithCuda() { return true; }

GpuInfo QueryGpu() {
  GpuInfo info;
  int count = 0;
  if (cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess || count == 0) {
    info.error = e != cudaSuccess ? std::string("no usable CUDA device: ") + cudaGetErrorString(e)
                                  : "no CUDA device";
    cudaGetLastError();  // clear the sticky error so later queries are not confused by it
    return info;
  }
  int device = 0;
  ATTN_CUDA_CHECK(cudaGetDevice(&device));
  cudaDeviceProp prop{};
  ATTN_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
  info.available = true;
  info.name = prop.name;
  info.cc_major = prop.major;
  info.cc_minor = prop.minor;
  info.sm_count = prop.multiProcessorCount;
  info.total_memory_bytes = static_cast<int64_t>(prop.totalGlobalMem);
  info.l2_bytes = prop.l2CacheSize;
  int mem_khz = 0, bus_bits = 0;
  cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, device);
  cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device);
  cudaGetLastError();
  if (mem_khz > 0 && bus_bits > 0) {
    info.peak_bandwidth_gbs = 2.0 * mem_khz * 1e3 * (bus_bits / 8.0) / 1e9;
    info.peak_bandwidth_source = "device attributes";
  } else {
    std::string model;
    info.peak_bandwidth_gbs = DatasheetBandwidth(info.name, &model);
    info.peak_bandwidth_source = model.empty() ? "unknown" : "datasheet (" + model + ")";
  }
  cudaDriverGetVersion(&info.driver_version);
  cudaRuntimeGetVersion(&info.runtime_version);
  return info;
}

double MeasureCopyBandwidthGbs(int64_t bytes) {
  DeviceBuffer<char> src(static_cast<size_t>(bytes)), dst(static_cast<size_t>(bytes));
  ATTN_CUDA_CHECK(cudaMemset(src.get(), 1, src.bytes()));
  const Timing t = TimeKernel(3, 10, [&] {
    ATTN_CUDA_CHECK(cudaMemcpy(dst.get(), src.get(), src.bytes(), cudaMemcpyDeviceToDevice));
  });
  return 2.0 * static_cast<double>(bytes) / (t.median_ms * 1e-3) / 1e9;
}

}  // namespace attn
