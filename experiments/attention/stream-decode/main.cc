// stream-decode: per-token cost of StreamingLLM's attention-sink + recent-window decoding vs a
// sliding window with re-computation, on a randomly initialised transformer (see README.md).
// This file maps flags to RunOptions and picks the run; the runs live in runs.cc (CPU) and
// gpu_runs.cc (CUDA, built only with the toolkit).
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "experiments/attention/common/cli.h"
#include "experiments/attention/common/gpu.h"
#include "experiments/attention/common/report.h"
#include "experiments/attention/stream-decode/runs.h"
#include "experiments/attention/stream-decode/stream_gpu.h"

namespace {

constexpr int64_t kMaxWindow = 65536;
constexpr int64_t kMaxSinks = 64;

}  // namespace

int main(int argc, char** argv) {
  using attn::stream::LaunchMode;
  std::string device = "gpu", preset = "auto", launch = "graph";
  bool check = false;
  int64_t layers = 0, d_model = 0, heads = 0, ffn = 0, vocab = 0;
  int64_t sinks = 4, reps = 50, warmup = 5, sustained = 100, seed = 1;
  std::vector<int64_t> windows = {0};

  attn::Flags flags(
      "stream-decode",
      "Per-token cost of attention-sink + window decoding (StreamingLLM) vs sliding-window\n"
      "re-computation on a randomly initialised decoder-only transformer; writes one JSON "
      "document.");
  flags.AddString(
      "device", &device, {"gpu", "cpu"},
      "gpu: CUDA kernels (fails without a GPU); cpu: the CPU reference, at tiny sizes by default");
  flags.AddBool("check", &check,
                "correctness only: GPU vs CPU reference on the tiny model (with --device cpu: the "
                "reference's "
                "self-consistency); exit 1 beyond the bound");
  flags.AddString("model", &preset, {"auto", "small", "tiny"},
                  "model preset; auto = small (4x1024, 116M params) on the GPU, tiny (2x128) on "
                  "the CPU and for --check");
  flags.AddInt("layers", &layers, 0, 256, "override the preset's layer count (0: keep)");
  flags.AddInt("d-model", &d_model, 0, 16384,
               "override d_model (0: keep); the GPU needs a multiple of 128");
  flags.AddInt("heads", &heads, 0, 256,
               "override the head count (0: keep); the GPU needs head_dim 64");
  flags.AddInt("ffn", &ffn, 0, 65536,
               "override the MLP width (0: keep); the GPU needs a multiple of 128");
  flags.AddInt("vocab", &vocab, 0, 1 << 20, "override the vocabulary size (0: keep)");
  flags.AddInt("sinks", &sinks, 0, kMaxSinks,
               "attention-sink tokens kept at the front of the cache");
  flags.AddIntList(
      "windows", &windows, 0, kMaxWindow,
      "recent-window sizes W, comma-separated; 0 = the preset's (small: 256,512,1024,2048,4096; "
      "tiny: 8,16,32,64)");
  flags.AddInt("reps", &reps, 1, 100000,
               "timed steps per method and window (the median is reported)");
  flags.AddInt("warmup", &warmup, 0, 100000, "untimed steps before timing");
  flags.AddInt("sustained", &sustained, 0, 100000,
               "GPU: steps launched back to back and timed together (0: skip)");
  flags.AddInt("seed", &seed, 0, INT64_MAX, "seed of the weights and the token stream");
  flags.AddString("launch", &launch, {"graph", "stream"},
                  "GPU: replay each step as one CUDA graph, or launch its kernels one by one");

  return attn::RunProgram("stream-decode", flags, argc, argv, [&]() -> nlohmann::json {
    attn::stream::RunOptions o;
    o.preset = preset;
    o.on_gpu = device == "gpu";
    o.check = check;
    o.sinks = static_cast<int>(sinks);
    o.reps = static_cast<int>(reps);
    o.warmup = static_cast<int>(warmup);
    o.sustained_steps = static_cast<int>(sustained);
    o.seed = static_cast<uint64_t>(seed);
    o.launch = launch == "graph" ? LaunchMode::kGraph : LaunchMode::kStream;
    if (!(windows.size() == 1 && windows[0] == 0)) {
      for (int64_t w : windows) {
        if (w < 1)
          throw std::runtime_error(
              "--windows: 0 only alone (the preset's windows); sizes are >= 1");
        o.windows.push_back(static_cast<int>(w));
      }
    }
    const attn::stream::ModelOverrides overrides{static_cast<int>(layers),
                                                 static_cast<int>(d_model), static_cast<int>(heads),
                                                 static_cast<int>(ffn), static_cast<int>(vocab)};
    if (std::string error = attn::stream::ResolveOptions(overrides, &o); !error.empty()) {
      throw std::runtime_error(error);
    }
    if (!o.on_gpu) return check ? attn::stream::RunCpuCheck(o) : attn::stream::RunCpuBenchmark(o);

    const attn::GpuInfo gpu = attn::RequireGpu();
#ifdef AHUB_HAVE_CUDA
    return check ? attn::stream::RunGpuCheck(o, gpu) : attn::stream::RunGpuBenchmark(o, gpu);
#else
    throw std::logic_error("QueryGpu reported a GPU in a build without CUDA");
#endif
  });
}
