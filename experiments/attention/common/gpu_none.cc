// Stand-in for gpu.cu in builds without the CUDA toolkit.
#include "experiments/attention/common/gpu.h"

namespace attn {

bool BuiltWithCuda() { return false; }

GpuInfo QueryGpu() {
  GpuInfo info;
  info.error = "built without CUDA (nvcc was not found when this program was built)";
  return info;
}

double MeasureCopyBandwidthGbs(int64_t) { return 0; }

}  // namespace attn
