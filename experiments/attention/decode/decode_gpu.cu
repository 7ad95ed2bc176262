// Launch and benchmark code of the decode kernels (decode_kernels.cuh): kernel selection and
// occupancy, split planning, device buffers, benchmark inputs generated on the device, spot
// checks and timing.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "experiments/attention/common/cuda_util.cuh"
#include "experiments/attention/common/gpu.h"
#include "experiments/attention/decode/decode_gpu.h"
#include "experiments/attention/decode/decode_kernels.cuh"
#include "experiments/attention/decode/hash_fill.h"

namespace attn::decode {
namespace {

using kernels::CombineSplitsKernel;
using kernels::DecodeSplitKernel;
using kernels::kMaxGroup;
using kernels::kMaxTableEntries;
using kernels::kThreads;
using kernels::SplitParams;
using kernels::TileShape;

// K+V bytes a timed sample reads at least (several steps when one step reads less).
constexpr int64_t kSampleBytes = int64_t{256} << 20;

// Benchmark inputs: dst[i] = scale * HashUnitValue(seed, stream, i), exact in fp16.
__global__ void FillHashKernel(__half* dst, int64_t n, uint64_t seed, HashStream stream,
                               float scale) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    dst[i] = __float2half_rn(HashUnitValue(seed, stream, i) * scale);
  }
}

// Copies contiguous rows [batch][n_kv_heads][context][head_dim] into a paged pool laid out by
// `tables`, one thread per 16-byte chunk (the device-side ToPaged).
__global__ void ScatterToPoolKernel(const uint4* src, uint4* pool, const int32_t* tables,
                                    int max_blocks_per_seq, int n_kv_heads, int context,
                                    int block_shift, int chunks_per_row, int64_t n_chunks) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n_chunks;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t row = i / chunks_per_row;
    const int chunk = static_cast<int>(i % chunks_per_row);
    const int t = static_cast<int>(row % context);
    const int64_t bh = row / context;
    const int h = static_cast<int>(bh % n_kv_heads);
    const int64_t b = bh / n_kv_heads;
    const int64_t block = tables[b * max_blocks_per_seq + (t >> block_shift)];
    const int64_t dst_row =
        ((block * n_kv_heads + h) << block_shift) + (t & ((1 << block_shift) - 1));
    pool[dst_row * chunks_per_row + chunk] = src[i];
  }
}

// ---- host side ----------------------------------------------------------------------------

using KernelFn = void (*)(SplitParams);

// The kernel instantiation for a shape, with its shared memory and occupancy. Set up once,
// before timing: cudaFuncSetAttribute between timed launches would count as kernel time.
struct KernelSetup {
  KernelFn split = nullptr;
  KernelFn combine = nullptr;
  size_t smem_bytes = 0;
  int head_dim = 0;
  int blocks_per_sm = 0;
};

template <int kHeadDim>
KernelFn PickSplitKernel(int m_tiles, bool paged) {
  if (m_tiles == 1)
    return paged ? &DecodeSplitKernel<kHeadDim, 1, true> : &DecodeSplitKernel<kHeadDim, 1, false>;
  return paged ? &DecodeSplitKernel<kHeadDim, 2, true> : &DecodeSplitKernel<kHeadDim, 2, false>;
}

KernelSetup SetUpKernels(int head_dim, int group, bool paged) {
  if (head_dim != 64 && head_dim != 128) {
    throw std::runtime_error("decode kernel: head_dim " + std::to_string(head_dim) +
                             "; accepted: 64, 128");
  }
  if (group < 1 || group > kMaxGroup) {
    throw std::runtime_error("decode kernel: group (n_q_heads / n_kv_heads) " +
                             std::to_string(group) + "; accepted: 1.." + std::to_string(kMaxGroup));
  }
  const int m_tiles = group <= 16 ? 1 : 2;
  KernelSetup k;
  k.head_dim = head_dim;
  if (head_dim == 128) {
    k.split = PickSplitKernel<128>(m_tiles, paged);
    k.combine = &CombineSplitsKernel<128>;
    k.smem_bytes = TileShape<128>::kPipelineBytes;
  } else {
    k.split = PickSplitKernel<64>(m_tiles, paged);
    k.combine = &CombineSplitsKernel<64>;
    k.smem_bytes = TileShape<64>::kPipelineBytes;
  }
  if (paged) k.smem_bytes += kMaxTableEntries * sizeof(int32_t);
  ATTN_CUDA_CHECK(cudaFuncSetAttribute(k.split, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(k.smem_bytes)));
  ATTN_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&k.blocks_per_sm, k.split, kThreads,
                                                                k.smem_bytes));
  if (k.blocks_per_sm < 1) {
    throw std::runtime_error("decode kernel: no thread block of " + std::to_string(k.smem_bytes) +
                             " bytes of shared memory fits on an SM of this device");
  }
  return k;
}

void Launch(const KernelSetup& k, const SplitParams& p, int batch) {
  const dim3 grid(static_cast<unsigned>(p.num_splits), static_cast<unsigned>(p.n_kv_heads),
                  static_cast<unsigned>(batch));
  k.split<<<grid, kThreads, k.smem_bytes>>>(p);
  ATTN_CHECK_LAUNCH();
  if (p.num_splits > 1) {
    k.combine<<<static_cast<unsigned>(static_cast<int64_t>(batch) * p.n_q_heads), k.head_dim>>>(p);
    ATTN_CHECK_LAUNCH();
  }
}

int DeviceSmCount() {
  int device = 0, sms = 0;
  ATTN_CUDA_CHECK(cudaGetDevice(&device));
  ATTN_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  return sms;
}

void RequireDevice() {
  const GpuInfo info = QueryGpu();
  if (!info.available) throw std::runtime_error(info.error);
}

int BlockShift(int block_size) {
  if (block_size < 1 || (block_size & (block_size - 1)) != 0) {
    throw std::runtime_error("paged decode: block_size " + std::to_string(block_size) +
                             "; accepted: a power of two");
  }
  int shift = 0;
  while ((1 << shift) < block_size) ++shift;
  return shift;
}

// Longest split the paged kernel's shared table slice can hold for `block_size` (a split may
// start mid-block, hence the 2 spare entries); unlimited for the contiguous kernel.
int64_t MaxTokensPerSplit(bool paged, int block_size) {
  return paged ? static_cast<int64_t>(kMaxTableEntries - 2) * block_size : int64_t{1} << 30;
}

SplitPlan PlanFor(const KernelSetup& k, const DecodeShape& s, int64_t max_len, bool paged,
                  int block_size, int32_t tokens_per_split) {
  const int64_t max_tokens = MaxTokensPerSplit(paged, block_size);
  if (tokens_per_split > 0) {
    if (tokens_per_split > max_tokens) {
      throw std::runtime_error("decode: tokens per split " + std::to_string(tokens_per_split) +
                               "; accepted with block size " + std::to_string(block_size) +
                               ": 1.." + std::to_string(max_tokens));
    }
    return FixedSplitPlan(max_len, tokens_per_split);
  }
  return ChooseSplitPlan(static_cast<int64_t>(s.batch) * s.n_kv_heads, max_len,
                         static_cast<int64_t>(DeviceSmCount()) * k.blocks_per_sm, max_tokens);
}

void CheckGridLimits(const DecodeShape& s, const SplitPlan& plan) {
  if (s.batch > 65535 || s.n_kv_heads > 65535 ||
      static_cast<int64_t>(s.batch) * s.n_q_heads > INT32_MAX || plan.num_splits < 1) {
    throw std::runtime_error("decode: batch and n_kv_heads must be <= 65535 (grid limits)");
  }
}

SplitParams BaseParams(const DecodeShape& s, const SplitPlan& plan) {
  SplitParams p{};
  p.n_q_heads = s.n_q_heads;
  p.n_kv_heads = s.n_kv_heads;
  p.group = s.group();
  p.num_splits = plan.num_splits;
  p.tokens_per_split = plan.tokens_per_split;
  p.scale_log2 =
      static_cast<float>(1.0 / std::sqrt(static_cast<double>(s.head_dim)) * 1.4426950408889634);
  return p;
}

const __half* AsHalf(const DeviceBuffer<uint16_t>& b) {
  return reinterpret_cast<const __half*>(b.get());
}

// One step on uploaded inputs: `k`, `v` are the contiguous arrays or the pools.
GpuDecodeResult RunOnce(const DecodeInputs& in, bool paged, int64_t max_len,
                        const std::vector<uint16_t>& k_host, const std::vector<uint16_t>& v_host,
                        const PagedCache* pc, int32_t tokens_per_split) {
  RequireDevice();
  const DecodeShape& s = in.shape;
  const int block_size = paged ? pc->block_size : 1;
  const int block_shift = paged ? BlockShift(block_size) : 0;
  const KernelSetup k = SetUpKernels(s.head_dim, s.group(), paged);
  const int64_t longest = *std::max_element(in.seq_lens.begin(), in.seq_lens.end());
  GpuDecodeResult result;
  result.plan = PlanFor(k, s, longest, paged, block_size, tokens_per_split);
  result.blocks_per_sm = k.blocks_per_sm;
  CheckGridLimits(s, result.plan);

  const int64_t outputs = static_cast<int64_t>(s.batch) * s.n_q_heads * s.head_dim;
  DeviceBuffer<uint16_t> q(in.q), kd(k_host), vd(v_host);
  DeviceBuffer<int32_t> lens(in.seq_lens);
  DeviceBuffer<int32_t> tables(paged ? pc->block_tables : std::vector<int32_t>{-1});
  DeviceBuffer<float> out(outputs), part_o(outputs * result.plan.num_splits),
      part_lse(static_cast<int64_t>(s.batch) * s.n_q_heads * result.plan.num_splits);
  out.Poison();
  part_o.Poison();
  part_lse.Poison();

  SplitParams p = BaseParams(s, result.plan);
  p.q = AsHalf(q);
  p.k = AsHalf(kd);
  p.v = AsHalf(vd);
  p.seq_lens = lens.get();
  p.block_tables = tables.get();
  p.out = out.get();
  p.part_o = part_o.get();
  p.part_lse = part_lse.get();
  p.max_len = max_len;
  p.max_blocks_per_seq = paged ? pc->max_blocks_per_seq : 0;
  p.block_shift = block_shift;
  Launch(k, p, s.batch);
  ATTN_CUDA_CHECK(cudaDeviceSynchronize());
  result.out = out.Download();
  return result;
}

// ---- benchmark ----------------------------------------------------------------------------

void FillHash(DeviceBuffer<uint16_t>& dst, int64_t n, uint64_t seed, HashStream stream,
              float scale) {
  FillHashKernel<<<DeviceSmCount() * 8, 256>>>(reinterpret_cast<__half*>(dst.get()), n, seed,
                                               stream, scale);
  ATTN_CHECK_LAUNCH();
}

// Copies instance 0 of `buf` (elements [0, n)) over instances 1.. .
void ReplicateInstances(DeviceBuffer<uint16_t>& buf, int64_t n, int instances) {
  for (int i = 1; i < instances; ++i) {
    ATTN_CUDA_CHECK(
        cudaMemcpy(buf.get() + i * n, buf.get(), n * sizeof(uint16_t), cudaMemcpyDeviceToDevice));
  }
}

struct LayoutRunner {
  KernelSetup setup;
  SplitParams params{};
  int64_t instance_stride = 0;  // elements between cache instances
  int instances = 1;
  DeviceBuffer<float> out, part_o, part_lse;
};

void PrepareOutputs(LayoutRunner& r, const DecodeShape& s) {
  const int64_t outputs = static_cast<int64_t>(s.batch) * s.n_q_heads * s.head_dim;
  r.out = DeviceBuffer<float>(outputs);
  r.part_o = DeviceBuffer<float>(outputs * r.params.num_splits);
  r.part_lse =
      DeviceBuffer<float>(static_cast<int64_t>(s.batch) * s.n_q_heads * r.params.num_splits);
  r.params.out = r.out.get();
  r.params.part_o = r.part_o.get();
  r.params.part_lse = r.part_lse.get();
}

// Runs one step on instance 0 with poisoned outputs, spot-checks it, then times `reps` samples
// of back-to-back steps rotating over the instances.
std::vector<float> CheckAndTime(const BenchSpec& spec, LayoutRunner& r, LayoutBench& lb,
                                const char* name) {
  const DecodeShape& s = spec.shape;
  r.out.Poison();
  r.part_o.Poison();
  r.part_lse.Poison();
  Launch(r.setup, r.params, s.batch);
  ATTN_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<float> out = r.out.Download();

  // Spot checks: the corners first, then pairs spread over the batch and heads.
  for (int i = 0; i < spec.spot_checks; ++i) {
    const int b = i == 0   ? 0
                  : i == 1 ? s.batch - 1
                           : static_cast<int>((static_cast<int64_t>(i) * 7919) % s.batch);
    const int h = i == 0   ? 0
                  : i == 1 ? s.n_kv_heads - 1
                           : static_cast<int>((static_cast<int64_t>(i) * 104729) % s.n_kv_heads);
    const SpotError e = SpotCheckHashInputs(s, spec.context, spec.seed, out, b, h);
    lb.spot_rel_l2 = std::max(lb.spot_rel_l2, e.rel_l2);
    lb.spot_max_abs = std::max(lb.spot_max_abs, e.max_abs);
    if (!e.finite || !(e.rel_l2 <= kRelL2Bound)) {
      throw std::runtime_error(std::string("decode bench (") + name + "): spot check of sequence " +
                               std::to_string(b) + ", KV head " + std::to_string(h) +
                               " at context " + std::to_string(spec.context) + ": rel L2 error " +
                               std::to_string(e.rel_l2) + " exceeds the bound " +
                               std::to_string(kRelL2Bound));
    }
  }

  // A timed sample is several back-to-back steps when one step is short, as in a decode loop
  // (launch latency then overlaps the previous step instead of being timed with each step).
  const int64_t step_kv_bytes =
      static_cast<int64_t>(s.batch) * s.n_kv_heads * spec.context * s.head_dim * 4;
  const int steps = static_cast<int>(
      std::clamp<int64_t>((kSampleBytes + step_kv_bytes - 1) / step_kv_bytes, 1, 64));
  const SplitParams base = r.params;
  int next = 0;
  const Timing t = TimeKernel(spec.warmup, spec.reps, [&] {
    for (int i = 0; i < steps; ++i) {
      SplitParams p = base;
      const int64_t offset = static_cast<int64_t>(next++ % r.instances) * r.instance_stride;
      p.k += offset;
      p.v += offset;
      Launch(r.setup, p, s.batch);
    }
  });
  lb.ran = true;
  lb.plan = {r.params.num_splits, r.params.tokens_per_split};
  lb.thread_blocks = static_cast<int64_t>(r.params.num_splits) * s.n_kv_heads * s.batch;
  lb.blocks_per_sm = r.setup.blocks_per_sm;
  lb.instances = r.instances;
  lb.steps_per_sample = steps;
  lb.median_ms = t.median_ms / steps;
  lb.min_ms = t.min_ms / steps;
  lb.max_ms = t.max_ms / steps;
  lb.reps = t.reps;
  return out;
}

void ValidateBenchSpec(const BenchSpec& spec) {
  const DecodeShape& s = spec.shape;
  if (s.batch < 1 || s.n_kv_heads < 1 || s.n_q_heads < 1 || s.n_q_heads % s.n_kv_heads != 0) {
    throw std::runtime_error("decode bench: n_q_heads must be a positive multiple of n_kv_heads");
  }
  if (spec.context < 1) throw std::runtime_error("decode bench: context must be >= 1");
  if (spec.reps < 1 || spec.warmup < 0)
    throw std::runtime_error("decode bench: reps >= 1, warmup >= 0");
  if (spec.time_paged && !spec.block_tables.empty()) {
    const int64_t blocks = (spec.context + spec.block_size - 1) / spec.block_size;
    if (spec.block_tables.size() != static_cast<size_t>(s.batch) * spec.max_blocks_per_seq ||
        spec.max_blocks_per_seq < blocks) {
      throw std::runtime_error(
          "decode bench: block_tables must be batch x max_blocks_per_seq with " +
          std::to_string(blocks) + " blocks per sequence at least");
    }
    for (int b = 0; b < s.batch; ++b) {
      for (int64_t j = 0; j < blocks; ++j) {
        const int32_t id = spec.block_tables[static_cast<size_t>(b) * spec.max_blocks_per_seq + j];
        if (id < 0 || id >= spec.num_blocks) {
          throw std::runtime_error("decode bench: block_tables[" + std::to_string(b) + "][" +
                                   std::to_string(j) + "] = " + std::to_string(id) +
                                   "; accepted: 0.." + std::to_string(spec.num_blocks - 1));
        }
      }
    }
  }
}

}  // namespace

GpuDecodeResult DecodeOnGpu(const DecodeInputs& in, const ContiguousCache& cache,
                            int32_t tokens_per_split) {
  if (std::string e = ValidateInputs(in, cache); !e.empty()) throw std::runtime_error(e);
  return RunOnce(in, false, cache.max_len, cache.k, cache.v, nullptr, tokens_per_split);
}

GpuDecodeResult DecodeOnGpu(const DecodeInputs& in, const PagedCache& cache,
                            int32_t tokens_per_split) {
  if (std::string e = ValidateInputs(in, cache); !e.empty()) throw std::runtime_error(e);
  return RunOnce(in, true, 0, cache.k, cache.v, &cache, tokens_per_split);
}

BenchResult BenchDecode(const BenchSpec& spec) {
  RequireDevice();
  ValidateBenchSpec(spec);
  const DecodeShape& s = spec.shape;
  const int block_shift = spec.time_paged ? BlockShift(spec.block_size) : 0;
  BenchResult result;
  result.check_bound = kRelL2Bound;
  const int64_t kv_elems = static_cast<int64_t>(s.batch) * s.n_kv_heads * spec.context * s.head_dim;
  result.kv_bytes = 2 * kv_elems * static_cast<int64_t>(sizeof(uint16_t));

  int device = 0, l2_bytes = 0;
  ATTN_CUDA_CHECK(cudaGetDevice(&device));
  ATTN_CUDA_CHECK(cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, device));
  const int instances = static_cast<int>(std::clamp<int64_t>(
      (3 * static_cast<int64_t>(l2_bytes) + result.kv_bytes - 1) / result.kv_bytes, 1, 64));

  // Paged tables: the caller's (e.g. from the kv-paged allocator) or a seeded scatter.
  std::vector<int32_t> host_tables = spec.block_tables;
  int32_t max_blocks_per_seq = spec.max_blocks_per_seq;
  int32_t num_blocks = spec.num_blocks;
  if (spec.time_paged && host_tables.empty()) {
    const std::vector<int32_t> lens(s.batch, spec.context);
    const ScatteredTables t = MakeScatteredTables(lens, spec.block_size, 0, spec.seed);
    host_tables = t.block_tables;
    max_blocks_per_seq = t.max_blocks_per_seq;
    num_blocks = t.num_blocks;
  }
  const int64_t pool_elems =
      static_cast<int64_t>(num_blocks) * s.n_kv_heads * spec.block_size * s.head_dim;

  // Fail with the figures rather than with a bare cudaErrorMemoryAllocation.
  const int contiguous_instances = spec.time_contiguous ? instances : 1;
  const int64_t needed =
      2 * sizeof(uint16_t) *
      (contiguous_instances * kv_elems + (spec.time_paged ? instances * pool_elems : 0));
  size_t free_bytes = 0, total_bytes = 0;
  ATTN_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  if (static_cast<double>(needed) > 0.9 * static_cast<double>(free_bytes)) {
    throw std::runtime_error("decode bench: the caches need " + std::to_string(needed >> 20) +
                             " MiB, " + std::to_string(free_bytes >> 20) +
                             " MiB of device memory are free; "
                             "use a smaller batch or context");
  }

  const std::vector<int32_t> lens(s.batch, spec.context);
  DeviceBuffer<int32_t> lens_d(lens);
  const int64_t q_elems = static_cast<int64_t>(s.batch) * s.n_q_heads * s.head_dim;
  DeviceBuffer<uint16_t> q(q_elems);
  FillHash(q, q_elems, spec.seed, HashStream::kQuery, kBenchQueryScale);
  DeviceBuffer<uint16_t> ck(contiguous_instances * kv_elems), cv(contiguous_instances * kv_elems);
  FillHash(ck, kv_elems, spec.seed, HashStream::kKey, 1.0f);
  FillHash(cv, kv_elems, spec.seed, HashStream::kValue, 1.0f);
  ReplicateInstances(ck, kv_elems, contiguous_instances);
  ReplicateInstances(cv, kv_elems, contiguous_instances);

  const int64_t outputs_bytes = q_elems * static_cast<int64_t>(sizeof(float));
  const int64_t q_bytes = q_elems * static_cast<int64_t>(sizeof(uint16_t));
  std::vector<float> contiguous_out, paged_out;

  if (spec.time_contiguous) {
    LayoutRunner r;
    r.setup = SetUpKernels(s.head_dim, s.group(), false);
    const SplitPlan plan = PlanFor(r.setup, s, spec.context, false, 1, spec.tokens_per_split);
    CheckGridLimits(s, plan);
    r.params = BaseParams(s, plan);
    r.params.q = AsHalf(q);
    r.params.k = AsHalf(ck);
    r.params.v = AsHalf(cv);
    r.params.seq_lens = lens_d.get();
    r.params.max_len = spec.context;
    r.instances = contiguous_instances;
    r.instance_stride = kv_elems;
    PrepareOutputs(r, s);
    contiguous_out = CheckAndTime(spec, r, result.contiguous, "contiguous");
    result.contiguous.bytes_read = result.kv_bytes + q_bytes + outputs_bytes;
  }

  if (spec.time_paged) {
    DeviceBuffer<int32_t> tables_d(host_tables);
    DeviceBuffer<uint16_t> pk(instances * pool_elems), pv(instances * pool_elems);
    ATTN_CUDA_CHECK(cudaMemset(pk.get(), 0, pool_elems * sizeof(uint16_t)));
    ATTN_CUDA_CHECK(cudaMemset(pv.get(), 0, pool_elems * sizeof(uint16_t)));
    const int chunks_per_row = s.head_dim / 8;
    const int64_t n_chunks = kv_elems / 8;
    for (int which = 0; which < 2; ++which) {
      ScatterToPoolKernel<<<DeviceSmCount() * 8, 256>>>(
          reinterpret_cast<const uint4*>((which == 0 ? ck : cv).get()),
          reinterpret_cast<uint4*>((which == 0 ? pk : pv).get()), tables_d.get(),
          max_blocks_per_seq, s.n_kv_heads, spec.context, block_shift, chunks_per_row, n_chunks);
      ATTN_CHECK_LAUNCH();
    }
    ReplicateInstances(pk, pool_elems, instances);
    ReplicateInstances(pv, pool_elems, instances);

    LayoutRunner r;
    r.setup = SetUpKernels(s.head_dim, s.group(), true);
    const SplitPlan plan =
        PlanFor(r.setup, s, spec.context, true, spec.block_size, spec.tokens_per_split);
    CheckGridLimits(s, plan);
    r.params = BaseParams(s, plan);
    r.params.q = AsHalf(q);
    r.params.k = AsHalf(pk);
    r.params.v = AsHalf(pv);
    r.params.seq_lens = lens_d.get();
    r.params.block_tables = tables_d.get();
    r.params.max_blocks_per_seq = max_blocks_per_seq;
    r.params.block_shift = block_shift;
    r.instances = instances;
    r.instance_stride = pool_elems;
    PrepareOutputs(r, s);
    paged_out = CheckAndTime(spec, r, result.paged, "paged");
    const int64_t table_entries = static_cast<int64_t>(s.batch) * s.n_kv_heads *
                                  ((spec.context + spec.block_size - 1) / spec.block_size);
    result.paged.bytes_read = result.kv_bytes + q_bytes + outputs_bytes +
                              table_entries * static_cast<int64_t>(sizeof(int32_t));
  }

  if (spec.time_contiguous && spec.time_paged) {
    result.outputs_identical = contiguous_out == paged_out;
    for (size_t i = 0; i < contiguous_out.size(); ++i) {
      result.max_abs_difference =
          std::max(result.max_abs_difference,
                   static_cast<double>(std::fabs(contiguous_out[i] - paged_out[i])));
    }
  }
  return result;
}

}  // namespace attn::decode
