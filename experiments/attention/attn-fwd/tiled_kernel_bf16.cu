// The tiled kernel's bf16 instantiations (see tiled_kernel.cuh); one file per type so they compile
// in parallel.
#include "experiments/attention/attn-fwd/tiled_kernel.cuh"

namespace attn::fwd::device {

template void LaunchTiled<__nv_bfloat16>(const DeviceProblem& p, TiledLayout layout, float* lse);

}  // namespace attn::fwd::device
