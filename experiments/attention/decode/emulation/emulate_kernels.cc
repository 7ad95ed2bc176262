// Runs the real decode kernels (decode_kernels.cuh) on the CPU, through an emulation of the PTX
// operations they use (shadow/.../ptx_ops.cuh), over the --check cases: the kernels' index
// logic (fragment layouts, swizzle, masks, split boundaries, block-table addressing, the
// in-block and cross-split combines) checked against the CPU reference without a GPU.
//
// A development tool, not part of `make test` (about a minute on two cores):
//   ninja attn_decode_emulation && bin/attn_decode_emulation [--full]
// Without --full, sequences longer than 300 tokens are shortened (the structure of every case
// is kept). It replaces DecodeOnGpu, so check.cc runs unchanged. Exit status 0 when every case
// passes. What it cannot find: races between cp.async and its waits (copies complete at
// once), timing, occupancy, and anything where real tensor cores differ from exact fp32 sums.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

// CUDA keywords as plain C++; ptx_ops.cuh is the shadow one (include path order).
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(threads)
#define __shared__
#define __align__(bytes)
#include "experiments/attention/decode/check.h"
#include "experiments/attention/decode/decode_gpu.h"
#include "experiments/attention/decode/decode_kernels.cuh"

namespace attn::decode {
namespace {

using kernels::SplitParams;
using KernelFn = void (*)(SplitParams);

// Runs every thread block of a grid, one after another, each with one std::thread per thread.
void LaunchGrid(KernelFn kernel, unsigned gx, unsigned gy, unsigned gz, int threads,
                const SplitParams& p) {
  for (unsigned z = 0; z < gz; ++z) {
    for (unsigned y = 0; y < gy; ++y) {
      for (unsigned x = 0; x < gx; ++x) {
        std::memset(kernels::smem, 0xff, sizeof(kernels::smem));  // NaN: stale reads show
        emulation::Block block(threads);
        std::vector<std::thread> pool;
        for (int tid = 0; tid < threads; ++tid) {
          pool.emplace_back([&, tid] {
            threadIdx = {static_cast<unsigned>(tid), 0, 0};
            blockIdx = {x, y, z};
            emulation::self = {&block, tid / 32, tid % 32, 0};
            kernel(p);
          });
        }
        for (std::thread& t : pool) t.join();
      }
    }
  }
}

template <int kHeadDim>
KernelFn SplitKernel(int m_tiles, bool paged) {
  if (m_tiles == 1) {
    return paged ? &kernels::DecodeSplitKernel<kHeadDim, 1, true>
                 : &kernels::DecodeSplitKernel<kHeadDim, 1, false>;
  }
  return paged ? &kernels::DecodeSplitKernel<kHeadDim, 2, true>
               : &kernels::DecodeSplitKernel<kHeadDim, 2, false>;
}

// Mirrors RunOnce in decode_gpu.cu on host memory. The device plan uses an H100's 132 SMs with
// 2 resident blocks each.
GpuDecodeResult Run(const DecodeInputs& in, bool paged, int64_t max_len,
                    const std::vector<uint16_t>& k, const std::vector<uint16_t>& v,
                    const PagedCache* pc, int32_t tokens_per_split) {
  const DecodeShape& s = in.shape;
  const int m_tiles = s.group() <= 16 ? 1 : 2;
  const KernelFn split =
      s.head_dim == 128 ? SplitKernel<128>(m_tiles, paged) : SplitKernel<64>(m_tiles, paged);
  const KernelFn combine =
      s.head_dim == 128 ? &kernels::CombineSplitsKernel<128> : &kernels::CombineSplitsKernel<64>;
  const int64_t longest = *std::max_element(in.seq_lens.begin(), in.seq_lens.end());
  const int block_size = paged ? pc->block_size : 1;
  GpuDecodeResult r;
  r.plan = tokens_per_split > 0
               ? FixedSplitPlan(longest, tokens_per_split)
               : ChooseSplitPlan(int64_t{s.batch} * s.n_kv_heads, longest, 132 * 2,
                                 paged ? int64_t{kernels::kMaxTableEntries - 2} * block_size
                                       : int64_t{1} << 30);
  int shift = 0;
  while ((1 << shift) < block_size) ++shift;
  const int64_t outputs = int64_t{s.batch} * s.n_q_heads * s.head_dim;
  std::vector<float> out(outputs, NAN), part_o(outputs * r.plan.num_splits, NAN),
      part_lse(int64_t{s.batch} * s.n_q_heads * r.plan.num_splits, NAN);
  SplitParams p{};
  p.q = reinterpret_cast<const __half*>(in.q.data());
  p.k = reinterpret_cast<const __half*>(k.data());
  p.v = reinterpret_cast<const __half*>(v.data());
  p.seq_lens = in.seq_lens.data();
  p.block_tables = paged ? pc->block_tables.data() : nullptr;
  p.out = out.data();
  p.part_o = part_o.data();
  p.part_lse = part_lse.data();
  p.max_len = max_len;
  p.n_q_heads = s.n_q_heads;
  p.n_kv_heads = s.n_kv_heads;
  p.group = s.group();
  p.max_blocks_per_seq = paged ? pc->max_blocks_per_seq : 0;
  p.block_shift = shift;
  p.num_splits = r.plan.num_splits;
  p.tokens_per_split = r.plan.tokens_per_split;
  p.scale_log2 =
      static_cast<float>(1.0 / std::sqrt(static_cast<double>(s.head_dim)) * 1.4426950408889634);
  LaunchGrid(split, p.num_splits, s.n_kv_heads, s.batch, kernels::kThreads, p);
  if (p.num_splits > 1) LaunchGrid(combine, s.batch * s.n_q_heads, 1, 1, s.head_dim, p);
  r.out = std::move(out);
  return r;
}

}  // namespace

GpuDecodeResult DecodeOnGpu(const DecodeInputs& in, const ContiguousCache& cache,
                            int32_t tokens_per_split) {
  if (std::string e = ValidateInputs(in, cache); !e.empty()) throw std::runtime_error(e);
  return Run(in, false, cache.max_len, cache.k, cache.v, nullptr, tokens_per_split);
}

GpuDecodeResult DecodeOnGpu(const DecodeInputs& in, const PagedCache& cache,
                            int32_t tokens_per_split) {
  if (std::string e = ValidateInputs(in, cache); !e.empty()) throw std::runtime_error(e);
  return Run(in, true, 0, cache.k, cache.v, &cache, tokens_per_split);
}

BenchResult BenchDecode(const BenchSpec&) {
  throw std::runtime_error("the emulation does not benchmark");
}

}  // namespace attn::decode

int main(int argc, char** argv) {
  using namespace attn::decode;
  const bool full = argc > 1 && std::string(argv[1]) == "--full";
  std::vector<CheckCase> cases = CheckCases(std::vector<int32_t>{1, 4, 32}, CheckBackend::kGpu);
  if (!full) {
    for (CheckCase& c : cases) {
      for (int32_t& len : c.seq_lens) len = len > 1000 ? 333 : len > 300 ? 129 : len;
    }
  }
  const auto start = std::chrono::steady_clock::now();
  const CheckReport report = RunChecks(cases, CheckBackend::kGpu, 7);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const CheckCase& c : report.cases) {
    std::string lens;
    for (int32_t len : c.seq_lens) lens += (lens.empty() ? "" : ",") + std::to_string(len);
    std::printf(
        "%-10s d=%3d group=%2d block=%2d lens=%-12s split=%4dx%-3d q_scale=%.0f rel_l2=%.2e "
        "p_rounding=%.2e %s\n",
        c.layout.c_str(), c.head_dim, c.group, c.block_size, lens.c_str(), c.plan.tokens_per_split,
        c.plan.num_splits, c.q_scale, c.rel_l2, c.p_rounding_rel_l2, c.passed ? "ok" : "FAIL");
  }
  std::printf("%zu cases, %s; worst rel L2 %.2e (%.0f s)\n", report.cases.size(),
              report.passed ? "all passed" : CheckFailure(report).c_str(), report.worst_rel_l2,
              seconds);
  return report.passed ? 0 : 1;
}
