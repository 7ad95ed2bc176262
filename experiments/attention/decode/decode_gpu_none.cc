// Stand-in for decode_gpu.cu in builds without the CUDA toolkit: every entry point says so.
#include <stdexcept>

#include "experiments/attention/decode/decode_gpu.h"

namespace attn::decode {
namespace {

[[noreturn]] void NoCuda() {
  throw std::runtime_error("built without CUDA (nvcc was not found when this program was built)");
}

}  // namespace

GpuDecodeResult DecodeOnGpu(const DecodeInputs&, const ContiguousCache&, int32_t) { NoCuda(); }
GpuDecodeResult DecodeOnGpu(const DecodeInputs&, const PagedCache&, int32_t) { NoCuda(); }
BenchResult BenchDecode(const BenchSpec&) { NoCuda(); }

}  // namespace attn::decode
