// The tiled kernel's fp16 instantiations (see tiled_kernel.cuh); one file per type so they compile
// in parallel.
#include "experiments/attention/attn-fwd/tiled_kernel.cuh"

namespace attn::fwd::device {

template void LaunchTiled<__half>(const DeviceProblem& p, TiledLayout layout, float* lse);

}  // namespace attn::fwd::device
