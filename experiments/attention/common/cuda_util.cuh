// CUDA helpers shared by the attention kernels' launch code: error checks that throw with the
// failing call and its place, an owning device buffer, and event timing. Included from .cu only.
// Thread-safety: as the CUDA runtime; each object is used by one thread.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace attn {

inline void CheckCuda(cudaError_t status, const char* what, const char* file, int line) {
  if (status != cudaSuccess) {
    throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + what + ": " +
                             cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")");
  }
}

#define ATTN_CUDA_CHECK(expr) ::attn::CheckCuda((expr), #expr, __FILE__, __LINE__)
// After every kernel launch: launch errors surface here, execution errors at the next sync.
#define ATTN_CHECK_LAUNCH() ::attn::CheckCuda(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)

// Owns `count` elements of device memory. Move-only.
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t count) : count_(count) {
    if (count > 0) ATTN_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&ptr_), count * sizeof(T)));
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { Upload(host); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : ptr_(o.ptr_), count_(o.count_) {
    o.ptr_ = nullptr;
    o.count_ = 0;
  }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    std::swap(ptr_, o.ptr_);
    std::swap(count_, o.count_);
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (ptr_ != nullptr) cudaFree(ptr_);
  }

  T* get() const { return ptr_; }
  size_t size() const { return count_; }
  size_t bytes() const { return count_ * sizeof(T); }

  void Upload(const std::vector<T>& host) {
    if (host.size() != count_) throw std::runtime_error("DeviceBuffer::Upload: size mismatch");
    ATTN_CUDA_CHECK(cudaMemcpy(ptr_, host.data(), bytes(), cudaMemcpyHostToDevice));
  }
  std::vector<T> Download() const {
    std::vector<T> host(count_);
    ATTN_CUDA_CHECK(cudaMemcpy(host.data(), ptr_, bytes(), cudaMemcpyDeviceToHost));
    return host;
  }
  // Fills every byte with `byte` (e.g. 0xff, a NaN pattern for fp16/fp32) so unwritten output shows.
  void Poison(int byte = 0xff) { ATTN_CUDA_CHECK(cudaMemset(ptr_, byte, bytes())); }

 private:
  T* ptr_ = nullptr;
  size_t count_ = 0;
};

struct Timing {
  double median_ms = 0;
  double min_ms = 0;
  double max_ms = 0;
  int reps = 0;
};

// Times `launch` with CUDA events around each of `reps` runs after `warmup` untimed ones;
// the median is the figure to report, min and max show the spread.
inline Timing TimeKernel(int warmup, int reps, const std::function<void()>& launch) {
  cudaEvent_t start, stop;
  ATTN_CUDA_CHECK(cudaEventCreate(&start));
  ATTN_CUDA_CHECK(cudaEventCreate(&stop));
  for (int i = 0; i < warmup; ++i) launch();
  ATTN_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<double> ms;
  for (int i = 0; i < reps; ++i) {
    ATTN_CUDA_CHECK(cudaEventRecord(start));
    launch();
    ATTN_CUDA_CHECK(cudaEventRecord(stop));
    ATTN_CUDA_CHECK(cudaEventSynchronize(stop));
    float elapsed = 0;
    ATTN_CUDA_CHECK(cudaEventElapsedTime(&elapsed, start, stop));
    ms.push_back(elapsed);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(ms.begin(), ms.end());
  Timing t;
  t.reps = reps;
  if (!ms.empty()) {
    t.median_ms = ms[ms.size() / 2];
    t.min_ms = ms.front();
    t.max_ms = ms.back();
  }
  return t;
}

// Bytes of device memory in use by everything on the device (cudaMemGetInfo); the difference
// across an allocation is what that allocation really took, rounding included.
inline int64_t DeviceMemoryUsedBytes() {
  size_t free_bytes = 0, total = 0;
  ATTN_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total));
  return static_cast<int64_t>(total - free_bytes);
}

}  // namespace attn
