// attn-fwd: exact attention forward, a naive version that materialises the score matrix against
// the tiled online-softmax version (FlashAttention-2) that never does; time, TFLOP/s, extra
// device memory and error against the float64 reference. See README.md.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "experiments/attention/attn-fwd/attention_cpu.h"
#include "experiments/attention/attn-fwd/attn_fwd_gpu.h"
#include "experiments/attention/attn-fwd/experiment.h"
#include "experiments/attention/common/cli.h"
#include "experiments/attention/common/gpu.h"
#include "experiments/attention/common/report.h"

namespace attn::fwd {
namespace {

using nlohmann::json;

struct Options {
  std::string device = "gpu";
  std::string dtype = "fp16";
  std::string head_dim = "128";
  std::vector<int64_t> seqs = {1024, 2048, 4096, 8192};
  int64_t batch_heads = 32;
  std::string mask = "none";
  bool causal = false;
  std::string variants = "naive,tiled";
  std::string layout = TiledLayoutName(kTiledLayouts[0]);
  int64_t reps = 20;
  int64_t warmup = 3;
  int64_t seed = 1;
  int64_t sample_rows = 64;
  bool check = false;
};

// Every row is compared with the float64 reference while batch*heads*seq^2*head_dim stays under
// this (about a second of CPU); above it a seeded sample of --sample-rows rows is.
constexpr double kFullCheckWork = 1 << 30;
// The CPU path refuses larger problems (it would take minutes) and times at most a few runs.
constexpr double kCpuWorkLimit = 1u << 31;
constexpr int kCpuMaxReps = 3;

// --check: every combination of type, head dim and mask at these lengths, which include one key,
// lengths below, at and between tile multiples (64, 128) and odd ones (rows of S padded to 4).
constexpr int64_t kCheckSeqs[] = {1, 17, 64, 130, 200, 256, 383};
constexpr int64_t kCheckBatchHeads = 3;

DType ParseDType(const std::string& s) { return s == "bf16" ? DType::kBF16 : DType::kF16; }

std::vector<Variant> ParseVariants(const std::string& s) {
  std::vector<Variant> out;
  if (s.find("naive") != std::string::npos) out.push_back(Variant::kNaive);
  if (s.find("tiled") != std::string::npos) out.push_back(Variant::kTiled);
  return out;
}

std::vector<bool> Masks(const Options& o) {
  std::string mask = o.mask;
  if (o.causal && mask == "none") mask = "causal";  // --causal is --mask causal
  if (mask == "both") return {false, true};
  return {mask == "causal"};
}

// Fresh inputs per case, still a function of --seed alone.
uint64_t CaseSeed(int64_t seed, const Shape& s, DType dtype) {
  return static_cast<uint64_t>(seed) * 1000003ull + static_cast<uint64_t>(s.seq) * 131ull +
         static_cast<uint64_t>(s.head_dim) * 7ull + (s.causal ? 1u : 0u) +
         (dtype == DType::kBF16 ? 2u : 0u);
}

CaseResult NewCase(const Inputs& in, Variant variant, TiledLayout layout) {
  CaseResult c;
  c.shape = in.shape;
  c.dtype = in.dtype;
  c.variant = variant;
  if (variant == Variant::kTiled) c.layout = TiledLayoutName(layout);
  c.extra_bytes_computed =
      variant == Variant::kNaive ? NaiveExtraBytes(in.shape) : TiledExtraBytes(in.shape);
  return c;
}

// Errors of a stored output (already rounded to the input type) and, for the tiled kernel, its
// log-sum-exp; then the verdict against the bounds.
void Score(CaseResult& c, const ReferenceRows& ref, const std::vector<float>& out,
           const std::vector<float>* lse) {
  c.error = CompareWithReference(ref, c.shape, out);
  c.full_check = ref.full;
  c.rows_checked =
      ref.full ? c.shape.batch_heads * c.shape.seq : static_cast<int64_t>(ref.rows.size());
  if (lse != nullptr) c.lse_max_abs = LseMaxAbsError(ref, c.shape, *lse);
  ApplyBounds(c);
}

void Progress(const CaseResult& c) {
  std::fprintf(stderr, "attn-fwd: %s d=%lld seq=%lld bh=%lld %s %-5s %-10s",
               std::string(DTypeName(c.dtype)).c_str(), static_cast<long long>(c.shape.head_dim),
               static_cast<long long>(c.shape.seq), static_cast<long long>(c.shape.batch_heads),
               c.shape.causal ? "causal" : "full  ", std::string(VariantName(c.variant)).c_str(),
               c.layout.c_str());
  if (c.skipped) {
    std::fprintf(stderr, " skipped: %s\n", c.skip_reason.c_str());
    return;
  }
  std::fprintf(stderr, " %9.3f ms %7.1f TFLOP/s rel_l2 %.2e max_abs %.2e%s\n", c.median_ms,
               c.Tflops(), c.error.rel_l2, c.error.max_abs, c.within_bound ? "" : "  ABOVE BOUND");
}

#ifdef AHUB_HAVE_CUDA
std::vector<float> BitsToFloats(DType dtype, const std::vector<uint16_t>& bits) {
  std::vector<float> out(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) out[i] = FromBits(dtype, bits[i]);
  return out;
}
#endif

// Runs `variants` on the GPU (the tiled one with each of `layouts`) and scores them.
std::vector<CaseResult> MeasureGpu(const Inputs& in, const ReferenceRows& ref,
                                   const std::vector<Variant>& variants,
                                   const std::vector<TiledLayout>& layouts, int warmup, int reps) {
#ifdef AHUB_HAVE_CUDA
  std::vector<CaseResult> cases;
  for (size_t w = 0; w < layouts.size(); ++w) {
    std::vector<Variant> todo;
    for (Variant v : variants) {
      if (v == Variant::kTiled || w == 0) todo.push_back(v);  // naive once
    }
    const GpuOptions opt{layouts[w], warmup, reps};
    for (GpuVariantRun& run : RunOnGpu(in, todo, opt)) {
      CaseResult c = NewCase(in, run.variant, opt.layout);
      c.skipped = run.skipped;
      c.skip_reason = run.skip_reason;
      c.extra_bytes_measured = run.extra_bytes_measured;
      c.peak_bytes_measured = run.peak_bytes_measured;
      if (!c.skipped) {
        c.median_ms = run.median_ms;
        c.min_ms = run.min_ms;
        c.max_ms = run.max_ms;
        c.reps = run.reps;
        Score(c, ref, BitsToFloats(in.dtype, run.out),
              run.variant == Variant::kTiled ? &run.lse : nullptr);
      }
      cases.push_back(std::move(c));
    }
  }
  return cases;
#else
  (void)in, (void)ref, (void)variants, (void)layouts, (void)warmup, (void)reps;
  throw std::runtime_error("built without CUDA");
#endif
}

// The CPU versions of both algorithms, timed with the steady clock.
std::vector<CaseResult> MeasureCpu(const Inputs& in, const ReferenceRows& ref,
                                   const std::vector<Variant>& variants,
                                   const std::vector<TiledLayout>& layouts, int reps) {
  std::vector<CaseResult> cases;
  const Shape& s = in.shape;
  const double work = static_cast<double>(s.batch_heads) * s.seq * s.seq * s.head_dim;
  for (Variant variant : variants) {
    const std::vector<TiledLayout> mine =
        variant == Variant::kTiled ? layouts : std::vector<TiledLayout>{{}};
    for (const TiledLayout& layout : mine) {
      CaseResult c = NewCase(in, variant, layout);
      if (work > kCpuWorkLimit) {
        c.skipped = true;
        c.skip_reason =
            "too large for the CPU path (batch*heads*seq^2*head_dim above 2^31); use --device gpu";
        cases.push_back(std::move(c));
        continue;
      }
      std::vector<float> lse, out;
      std::vector<double> ms;
      for (int r = 0; r < std::max(1, reps); ++r) {
        const auto start = std::chrono::steady_clock::now();
        out = variant == Variant::kNaive
                  ? NaiveAttentionCpu(in)
                  : TiledAttentionCpu(
                        in, TileConfig{layout.BlockM(), layout.block_n, true, layout.warp_rows},
                        &lse);
        ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
      }
      std::sort(ms.begin(), ms.end());
      c.median_ms = ms[ms.size() / 2];
      c.min_ms = ms.front();
      c.max_ms = ms.back();
      c.reps = static_cast<int>(ms.size());
      Score(c, ref, RoundAll(in.dtype, std::move(out)),
            variant == Variant::kTiled ? &lse : nullptr);
      cases.push_back(std::move(c));
    }
  }
  return cases;
}

json DeviceJson(bool gpu) { return gpu ? GpuInfoJson(RequireGpu()) : CpuDeviceJson(); }

// The tiled layout --layout names (the flag accepts only built ones).
TiledLayout PickedLayout(const Options& o) {
  for (const TiledLayout& l : kTiledLayouts) {
    if (TiledLayoutName(l) == o.layout) return l;
  }
  return kTiledLayouts[0];
}

json Document(const Options& o, const json& device, const std::vector<CaseResult>& cases,
              json summary) {
  json results = json::array();
  for (const CaseResult& c : cases) results.push_back(CaseJson(c));
  json config = {
      {"device", o.device},
      {"check", o.check},
      {"dtype", o.check ? "fp16,bf16" : o.dtype},
      {"head_dim", o.check ? "64,128" : o.head_dim},
      {"seqs",
       o.check ? std::vector<int64_t>(std::begin(kCheckSeqs), std::end(kCheckSeqs)) : o.seqs},
      {"batch_heads", o.check ? kCheckBatchHeads : o.batch_heads},
      {"mask", o.check ? "both" : o.mask},
      {"variants", o.variants},
      {"tiled_layouts", o.check ? TiledLayoutsBuilt() : o.layout},
      {"reps", o.reps},
      {"warmup", o.warmup},
      {"seed", o.seed},
      {"sample_rows", o.sample_rows},
      {"rel_l2_bound", {{"fp16", RelL2Bound(DType::kF16)}, {"bf16", RelL2Bound(DType::kBF16)}}},
      {"lse_abs_bound", kLseBound}};
  return {{"experiment", "attn-fwd"}, {"version", kAttentionVersion}, {"device", device},
          {"config", config},         {"results", results},           {"summary", summary}};
}

// --check: small sizes, every row against the reference, exit 1 on any case above its bound.
json RunCheck(const Options& o) {
  const bool gpu = o.device == "gpu";
  const json device = DeviceJson(gpu);
  const std::vector<Variant> variants = ParseVariants(o.variants);
  const std::vector<TiledLayout> layouts(std::begin(kTiledLayouts), std::end(kTiledLayouts));
  std::vector<CaseResult> cases;
  for (DType dtype : {DType::kF16, DType::kBF16}) {
    for (int64_t d : {64, 128}) {
      for (bool causal : {false, true}) {
        for (int64_t seq : kCheckSeqs) {
          const Shape shape{kCheckBatchHeads, seq, d, causal};
          const Inputs in = MakeInputs(shape, dtype, CaseSeed(o.seed, shape, dtype));
          const ReferenceRows ref = ComputeReference(in, kFullCheckWork, 0, 0);
          std::vector<CaseResult> got = gpu ? MeasureGpu(in, ref, variants, layouts, 0, 0)
                                            : MeasureCpu(in, ref, variants, layouts, 1);
          cases.insert(cases.end(), got.begin(), got.end());
        }
      }
    }
  }
  json max_rel = {{"fp16", 0.0}, {"bf16", 0.0}};
  double max_abs = 0, max_lse = 0;
  std::string failures;
  int failed = 0;
  for (const CaseResult& c : cases) {
    const std::string dt(DTypeName(c.dtype));
    max_rel[dt] = std::max(max_rel[dt].get<double>(), c.error.rel_l2);
    max_abs = std::max(max_abs, c.error.max_abs);
    max_lse = std::max(max_lse, c.lse_max_abs);
    if (c.within_bound) continue;
    if (++failed <= 8) {
      failures += "\n  " + dt + " d=" + std::to_string(c.shape.head_dim) +
                  " seq=" + std::to_string(c.shape.seq) + (c.shape.causal ? " causal " : " ") +
                  std::string(VariantName(c.variant)) + (c.layout.empty() ? "" : " " + c.layout) +
                  ": rel_l2 " + std::to_string(c.error.rel_l2) + " (bound " +
                  std::to_string(RelL2Bound(c.dtype)) + "), non-finite " +
                  std::to_string(c.error.non_finite) + ", lse error " +
                  std::to_string(c.lse_max_abs);
    }
  }
  if (failed > 0) {
    throw std::runtime_error("--check failed: " + std::to_string(failed) + " of " +
                             std::to_string(cases.size()) +
                             " cases above the error bound:" + failures);
  }
  json summary = {
      {"check_passed", true},
      {"cases", cases.size()},
      {"max_rel_l2_error", max_rel},
      {"rel_l2_bound", {{"fp16", RelL2Bound(DType::kF16)}, {"bf16", RelL2Bound(DType::kBF16)}}},
      {"max_abs_error", max_abs},
      {"max_lse_abs_error", max_lse}};
  return Document(o, device, cases, summary);
}

json RunBenchmark(const Options& o) {
  const bool gpu = o.device == "gpu";
  const json device = DeviceJson(gpu);
  const DType dtype = ParseDType(o.dtype);
  const std::vector<Variant> variants = ParseVariants(o.variants);
  const std::vector<TiledLayout> layouts = {PickedLayout(o)};
  std::vector<CaseResult> cases;
  for (bool causal : Masks(o)) {
    for (int64_t seq : o.seqs) {
      const Shape shape{o.batch_heads, seq, std::stoll(o.head_dim), causal};
      const Inputs in = MakeInputs(shape, dtype, CaseSeed(o.seed, shape, dtype));
      const ReferenceRows ref = ComputeReference(
          in, kFullCheckWork, static_cast<int>(o.sample_rows), CaseSeed(o.seed, shape, dtype));
      std::vector<CaseResult> got =
          gpu ? MeasureGpu(in, ref, variants, layouts, static_cast<int>(o.warmup),
                           static_cast<int>(o.reps))
              : MeasureCpu(in, ref, variants, layouts,
                           static_cast<int>(std::min<int64_t>(o.reps, kCpuMaxReps)));
      for (const CaseResult& c : got) Progress(c);
      cases.insert(cases.end(), got.begin(), got.end());
    }
  }
  return Document(o, device, cases, Summarise(cases));
}

}  // namespace
}  // namespace attn::fwd

int main(int argc, char** argv) {
  using attn::fwd::Options;
  Options o;
  attn::Flags flags(
      "attn-fwd",
      "Exact attention forward, naive (materialised fp32 score matrix) vs tiled online softmax\n"
      "(FlashAttention-2 on mma.sync tensor cores): time, TFLOP/s, extra device memory and error\n"
      "against the float64 CPU reference. Layout [batch*heads][seq][head_dim].");
  flags.AddString("device", &o.device, {"gpu", "cpu"},
                  "gpu: the CUDA kernels; cpu: the CPU versions of both");
  flags.AddString("dtype", &o.dtype, {"fp16", "bf16"}, "input and output type (fp32 accumulation)");
  flags.AddString("head-dim", &o.head_dim, {"64", "128"}, "head dimension");
  flags.AddIntList("seqs", &o.seqs, 1, 1 << 20, "sequence lengths");
  flags.AddInt("batch-heads", &o.batch_heads, 1, 65535, "batch x heads");
  flags.AddString("mask", &o.mask, {"none", "causal", "both"}, "attention mask; both runs each");
  flags.AddBool("causal", &o.causal, "shorthand for --mask causal");
  flags.AddString("variants", &o.variants, {"naive,tiled", "tiled,naive", "naive", "tiled"},
                  "versions to run");
  std::vector<std::string> layout_names;
  for (const attn::fwd::TiledLayout& l : attn::fwd::kTiledLayouts)
    layout_names.push_back(attn::fwd::TiledLayoutName(l));
  flags.AddString("layout", &o.layout, layout_names,
                  "tiled kernel block shape: warps x query rows per warp / keys per K/V tile / "
                  "pipeline stages");
  flags.AddInt("reps", &o.reps, 1, 10000, "timed runs per case (the median is reported)");
  flags.AddInt("warmup", &o.warmup, 0, 1000, "untimed runs before timing");
  flags.AddInt("seed", &o.seed, 0, int64_t{1} << 62, "seed of the inputs");
  flags.AddInt("sample-rows", &o.sample_rows, 4, 100000,
               "rows checked against the reference when checking every row would be too slow");
  flags.AddBool(
      "check", &o.check,
      "check both versions against the reference at small sizes (both types, head dims, masks; "
      "seqs 1..383), exit 1 above the error bound");
  return attn::RunProgram("attn-fwd", flags, argc, argv, [&] {
    return o.check ? attn::fwd::RunCheck(o) : attn::fwd::RunBenchmark(o);
  });
}
