// GpuStreamModel: device buffers, the launch sequence of a step for each method, and its capture
// in a CUDA graph. See gpu_model.h for the stream-state contract.
#include <stdexcept>
#include <string>

#include "experiments/attention/common/cuda_util.cuh"
#include "experiments/attention/stream-decode/gpu_model.h"
#include "experiments/attention/stream-decode/kernels.cuh"

namespace attn::stream {
namespace {

using gpu::StreamState;

// Launches of the part being timed between one pair of events: enough to keep the GPU ahead
// of the CPU's launch latency, so the figure is kernel time rather than launch overhead.
constexpr int kPartLaunchesPerTiming = 10;

half* H(const DeviceBuffer<uint16_t>& b) { return reinterpret_cast<half*>(b.get()); }

template <typename T>
void Reallocate(DeviceBuffer<T>& buffer, size_t count) {
  buffer = DeviceBuffer<T>();  // free first: the old and new buffers never coexist
  buffer = DeviceBuffer<T>(count);
}

}  // namespace

struct GpuStreamModel::Impl {
  struct Layer {
    DeviceBuffer<uint16_t> attn_norm, wqkv, wo, mlp_norm, w_up, w_down;
  };

  ModelConfig config;
  LaunchMode launch = LaunchMode::kGraph;
  int sm_count = 0;
  DeviceBuffer<uint16_t> embed, final_norm, lm_head;
  std::vector<Layer> layers;

  // Per configuration.
  bool configured = false;
  CacheLayout layout;
  int ring_size = 0;
  DeviceBuffer<float> rope;  // [capacity][32] x (cos, sin)
  DeviceBuffer<StreamState> state;
  DeviceBuffer<int> ring;
  DeviceBuffer<uint16_t> k_cache, v_cache;    // [layers][capacity][d_model], RoPE not applied
  DeviceBuffer<uint16_t> x, q, attn, u;       // decode activations: one row
  DeviceBuffer<float> partial_o, partial_ml;  // decode attention's per-chunk partials
  DeviceBuffer<uint16_t> rows_x, rows_norm, rows_qkv, rows_attn, rows_up;  // recompute: window rows
  DeviceBuffer<float> logits;
  int64_t t_host = 0;  // the host's mirror of state->t, to refuse an under-filled window

  cudaStream_t capture_stream = nullptr;
  cudaGraphExec_t graphs[2] = {nullptr, nullptr};

  const float2* Rope() const { return reinterpret_cast<const float2*>(rope.get()); }
  size_t CacheLayerOffset(int layer) const {
    return static_cast<size_t>(layer) * layout.capacity() * config.d_model;
  }

  void EnqueueDecode(cudaStream_t s) const {
    const int d = config.d_model;
    gpu::LaunchEmbed(H(embed), ring.get(), ring_size, state.get(), 1, d, H(x), s);
    for (int l = 0; l < config.layers; ++l) {
      const Layer& w = layers[static_cast<size_t>(l)];
      half* kc = H(k_cache) + CacheLayerOffset(l);
      half* vc = H(v_cache) + CacheLayerOffset(l);
      gpu::GemvArgs qkv;  // RMSNorm + QKV; K and V land in the cache slot of token t
      qkv.w = H(w.wqkv);
      qkv.x = H(x);
      qkv.norm_gain = H(w.attn_norm);
      qkv.norm_eps = config.norm_eps;
      qkv.n = 3 * d;
      qkv.k = d;
      qkv.q = H(q);
      qkv.k_cache = kc;
      qkv.v_cache = vc;
      qkv.state = state.get();
      qkv.layout = layout;
      qkv.d_model = d;
      gpu::LaunchGemv(gpu::GemvOut::kQkvToCache, qkv, s);
      gpu::LaunchDecodeAttention(H(q), kc, vc, state.get(), layout, Rope(), config.heads, d,
                                 partial_o.get(), partial_ml.get(), H(attn), s);
      gpu::GemvArgs proj;  // x += Wo attn
      proj.w = H(w.wo);
      proj.x = H(attn);
      proj.n = d;
      proj.k = d;
      proj.out = H(x);
      proj.residual = H(x);
      gpu::LaunchGemv(gpu::GemvOut::kAddResidual, proj, s);
      gpu::GemvArgs up;  // u = SiLU(Wup RMSNorm(x))
      up.w = H(w.w_up);
      up.x = H(x);
      up.norm_gain = H(w.mlp_norm);
      up.norm_eps = config.norm_eps;
      up.n = config.ffn;
      up.k = d;
      up.out = H(u);
      gpu::LaunchGemv(gpu::GemvOut::kSilu, up, s);
      gpu::GemvArgs down;  // x += Wdown u
      down.w = H(w.w_down);
      down.x = H(u);
      down.n = d;
      down.k = config.ffn;
      down.out = H(x);
      down.residual = H(x);
      gpu::LaunchGemv(gpu::GemvOut::kAddResidual, down, s);
    }
    EnqueueHead(H(x), s);
  }

  void EnqueueRecompute(cudaStream_t s) const {
    const int d = config.d_model, rows = layout.window;
    gpu::LaunchEmbed(H(embed), ring.get(), ring_size, state.get(), rows, d, H(rows_x), s);
    for (int l = 0; l < config.layers; ++l) {
      const Layer& w = layers[static_cast<size_t>(l)];
      gpu::LaunchRmsNorm(H(rows_x), H(w.attn_norm), H(rows_norm), rows, d, config.norm_eps, s);
      gpu::LaunchGemm(gpu::GemmEpilogue::kStore, H(rows_norm), H(w.wqkv), H(rows_qkv), nullptr,
                      rows, 3 * d, d, sm_count, s);
      gpu::LaunchRope(H(rows_qkv), rows, d, Rope(), s);
      gpu::LaunchPrefillAttention(H(rows_qkv), rows, config.heads, d, H(rows_attn), s);
      gpu::LaunchGemm(gpu::GemmEpilogue::kAddResidual, H(rows_attn), H(w.wo), H(rows_x), H(rows_x),
                      rows, d, d, sm_count, s);
      gpu::LaunchRmsNorm(H(rows_x), H(w.mlp_norm), H(rows_norm), rows, d, config.norm_eps, s);
      gpu::LaunchGemm(gpu::GemmEpilogue::kSilu, H(rows_norm), H(w.w_up), H(rows_up), nullptr, rows,
                      config.ffn, d, sm_count, s);
      gpu::LaunchGemm(gpu::GemmEpilogue::kAddResidual, H(rows_up), H(w.w_down), H(rows_x),
                      H(rows_x), rows, d, config.ffn, sm_count, s);
    }
    EnqueueHead(H(rows_x) + static_cast<size_t>(rows - 1) * d, s);  // only the newest row's logits
  }

  void EnqueueHead(const half* last_row, cudaStream_t s) const {
    gpu::GemvArgs head;  // logits = LMhead RMSNorm(x)
    head.w = H(lm_head);
    head.x = last_row;
    head.norm_gain = H(final_norm);
    head.norm_eps = config.norm_eps;
    head.n = config.vocab;
    head.k = config.d_model;
    head.logits = logits.get();
    gpu::LaunchGemv(gpu::GemvOut::kLogits, head, s);
    gpu::LaunchArgmaxAdvance(logits.get(), config.vocab, ring.get(), ring_size, state.get(), s);
  }

  void Enqueue(Method m, cudaStream_t s) const {
    if (m == Method::kSinkWindow) {
      EnqueueDecode(s);
    } else {
      EnqueueRecompute(s);
    }
  }

  void Capture(Method m) {
    ATTN_CUDA_CHECK(cudaStreamBeginCapture(capture_stream, cudaStreamCaptureModeThreadLocal));
    try {
      Enqueue(m, capture_stream);
    } catch (...) {
      // End the capture so the stream stays usable; the launcher's error is the one reported.
      cudaGraph_t broken = nullptr;
      cudaStreamEndCapture(capture_stream, &broken);
      if (broken != nullptr) cudaGraphDestroy(broken);
      throw;
    }
    cudaGraph_t graph = nullptr;
    ATTN_CUDA_CHECK(cudaStreamEndCapture(capture_stream, &graph));
    const cudaError_t instantiated = cudaGraphInstantiate(&graphs[static_cast<int>(m)], graph, 0);
    cudaGraphDestroy(graph);
    ATTN_CUDA_CHECK(instantiated);
  }

  void DropGraphs() {
    for (cudaGraphExec_t& g : graphs) {
      if (g != nullptr) cudaGraphExecDestroy(g);
      g = nullptr;
    }
  }

  // One step on the legacy default stream, where the timing events are recorded too.
  void Launch(Method m) {
    if (!configured) throw std::logic_error("GpuStreamModel: Configure() first");
    if (m == Method::kRecompute && t_host < layout.window - 1) {
      throw std::logic_error("GpuStreamModel: re-computation needs a full window (t " +
                             std::to_string(t_host) +
                             " < window - 1 = " + std::to_string(layout.window - 1) + ")");
    }
    if (launch == LaunchMode::kGraph) {
      if (graphs[static_cast<int>(m)] == nullptr) Capture(m);
      ATTN_CUDA_CHECK(cudaGraphLaunch(graphs[static_cast<int>(m)], 0));
    } else {
      Enqueue(m, 0);
    }
    ++t_host;
  }

  void UploadState(int64_t t) {
    const std::vector<StreamState> s = {StreamState{static_cast<long long>(t)}};
    state.Upload(s);
    t_host = t;
  }

  void SetRingEntry(int64_t index, int32_t token) {
    ATTN_CUDA_CHECK(
        cudaMemcpy(ring.get() + index % ring_size, &token, sizeof token, cudaMemcpyHostToDevice));
  }
};

GpuStreamModel::GpuStreamModel(const ModelWeights& w, LaunchMode launch)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.config = w.config;
  m.launch = launch;
  int device = 0;
  ATTN_CUDA_CHECK(cudaGetDevice(&device));
  ATTN_CUDA_CHECK(cudaDeviceGetAttribute(&m.sm_count, cudaDevAttrMultiProcessorCount, device));
  m.embed = DeviceBuffer<uint16_t>(w.embed);
  for (const LayerWeights& lw : w.layers) {
    m.layers.push_back({DeviceBuffer<uint16_t>(lw.attn_norm), DeviceBuffer<uint16_t>(lw.wqkv),
                        DeviceBuffer<uint16_t>(lw.wo), DeviceBuffer<uint16_t>(lw.mlp_norm),
                        DeviceBuffer<uint16_t>(lw.w_up), DeviceBuffer<uint16_t>(lw.w_down)});
  }
  m.final_norm = DeviceBuffer<uint16_t>(w.final_norm);
  m.lm_head = DeviceBuffer<uint16_t>(w.lm_head);
  gpu::ConfigureGemm();
  gpu::ConfigurePrefillAttention();
  ATTN_CUDA_CHECK(cudaStreamCreateWithFlags(&m.capture_stream, cudaStreamNonBlocking));
}

GpuStreamModel::~GpuStreamModel() {
  impl_->DropGraphs();
  if (impl_->capture_stream != nullptr) cudaStreamDestroy(impl_->capture_stream);
}

void GpuStreamModel::Configure(int sinks, int window) {
  Impl& m = *impl_;
  if (sinks < 0 || window < 1) {
    throw std::invalid_argument("GpuStreamModel::Configure: sinks " + std::to_string(sinks) +
                                ", window " + std::to_string(window) +
                                "; accepted: sinks >= 0, window >= 1");
  }
  m.DropGraphs();
  m.configured = false;
  const ModelConfig& c = m.config;
  m.layout = CacheLayout{sinks, window};
  const int capacity = m.layout.capacity();
  m.ring_size = window + 1;
  const size_t d = static_cast<size_t>(c.d_model), rows = static_cast<size_t>(window);
  const size_t chunks = static_cast<size_t>(gpu::DecodeChunks(capacity));
  Reallocate(m.rope, 0);
  m.rope = DeviceBuffer<float>(RopeTable(c.head_dim(), capacity, c.rope_base));
  Reallocate(m.state, 1);
  Reallocate(m.ring, static_cast<size_t>(m.ring_size));
  ATTN_CUDA_CHECK(cudaMemset(m.ring.get(), 0, m.ring.bytes()));
  Reallocate(m.k_cache, static_cast<size_t>(c.layers) * capacity * d);
  Reallocate(m.v_cache, static_cast<size_t>(c.layers) * capacity * d);
  // Empty slots hold NaN: attention must never read them, and a check would show it if it did.
  m.k_cache.Poison();
  m.v_cache.Poison();
  Reallocate(m.x, d);
  Reallocate(m.q, d);
  Reallocate(m.attn, d);
  Reallocate(m.u, static_cast<size_t>(c.ffn));
  Reallocate(m.partial_o, static_cast<size_t>(c.heads) * chunks * gpu::kHeadDim);
  Reallocate(m.partial_ml, static_cast<size_t>(c.heads) * chunks * 2);
  Reallocate(m.rows_x, rows * d);
  Reallocate(m.rows_norm, rows * d);
  Reallocate(m.rows_qkv, rows * 3 * d);
  Reallocate(m.rows_attn, rows * d);
  Reallocate(m.rows_up, rows * static_cast<size_t>(c.ffn));
  Reallocate(m.logits, static_cast<size_t>(c.vocab));
  m.UploadState(0);
  m.configured = true;
}

void GpuStreamModel::StartStream(int32_t token) {
  impl_->UploadState(0);
  impl_->SetRingEntry(0, token);
}

void GpuStreamModel::SetDecodeState(const std::vector<uint16_t>& k, const std::vector<uint16_t>& v,
                                    int64_t seen, int32_t next_token) {
  Impl& m = *impl_;
  if (k.size() != m.k_cache.size() || v.size() != m.v_cache.size()) {
    throw std::invalid_argument("SetDecodeState: K/V of " + std::to_string(k.size()) + "/" +
                                std::to_string(v.size()) +
                                " values; accepted: layers x (sinks + window) x d_model = " +
                                std::to_string(m.k_cache.size()));
  }
  m.k_cache.Upload(k);
  m.v_cache.Upload(v);
  m.UploadState(seen);
  m.SetRingEntry(seen, next_token);
}

void GpuStreamModel::SetWindow(const std::vector<int32_t>& tokens, int64_t current) {
  Impl& m = *impl_;
  const int window = m.layout.window;
  if (static_cast<int>(tokens.size()) != window || current < window - 1) {
    throw std::invalid_argument("SetWindow: " + std::to_string(tokens.size()) +
                                " tokens ending at " + std::to_string(current) +
                                "; accepted: exactly window (" + std::to_string(window) +
                                ") tokens ending at an index >= window - 1");
  }
  std::vector<int> ring(static_cast<size_t>(m.ring_size), 0);
  for (int i = 0; i < window; ++i) {
    const int64_t index = current - window + 1 + i;
    ring[static_cast<size_t>(index % m.ring_size)] = tokens[static_cast<size_t>(i)];
  }
  m.ring.Upload(ring);
  m.UploadState(current);
}

void GpuStreamModel::SetCurrentIndex(int64_t t) { impl_->UploadState(t); }

void GpuStreamModel::PoisonScratch() {
  Impl& m = *impl_;
  for (DeviceBuffer<uint16_t>* b : {&m.x, &m.q, &m.attn, &m.u, &m.rows_x, &m.rows_norm, &m.rows_qkv,
                                    &m.rows_attn, &m.rows_up}) {
    b->Poison();
  }
  m.partial_o.Poison();
  m.partial_ml.Poison();
  m.logits.Poison();
}

void GpuStreamModel::Step(Method method) {
  impl_->Launch(method);
  ATTN_CUDA_CHECK(cudaDeviceSynchronize());  // execution errors surface here, at their step
}

std::vector<float> GpuStreamModel::Logits() const { return impl_->logits.Download(); }

int64_t GpuStreamModel::CurrentIndex() const { return impl_->state.Download()[0].t; }

int32_t GpuStreamModel::TokenAt(int64_t index) const {
  int32_t token = 0;
  ATTN_CUDA_CHECK(cudaMemcpy(&token, impl_->ring.get() + index % impl_->ring_size, sizeof token,
                             cudaMemcpyDeviceToHost));
  return token;
}

StepTiming GpuStreamModel::Time(Method method, int warmup, int reps, int sustained_steps) {
  Impl& m = *impl_;
  const Timing t = TimeKernel(warmup, reps, [&] { m.Launch(method); });
  StepTiming out;
  out.median_ms = t.median_ms, out.min_ms = t.min_ms, out.max_ms = t.max_ms, out.reps = t.reps;
  if (sustained_steps > 0) {
    // Steps queued back to back, as a generation loop that does not wait for each token would.
    const Timing run = TimeKernel(0, 1, [&] {
      for (int i = 0; i < sustained_steps; ++i) m.Launch(method);
    });
    out.sustained_ms = run.median_ms / sustained_steps;
    out.sustained_steps = sustained_steps;
  }
  ATTN_CUDA_CHECK(cudaDeviceSynchronize());
  return out;
}

PartTiming GpuStreamModel::TimeParts(Method method, int reps) {
  Impl& m = *impl_;
  const int d = m.config.d_model;
  const auto per_call = [&](const std::function<void()>& launch) {
    return TimeKernel(2, reps,
                      [&] {
                        for (int i = 0; i < kPartLaunchesPerTiming; ++i) launch();
                      })
               .median_ms /
           kPartLaunchesPerTiming;
  };
  PartTiming parts;
  if (method == Method::kSinkWindow) {
    parts.attention_ms = per_call([&] {
      gpu::LaunchDecodeAttention(H(m.q), H(m.k_cache), H(m.v_cache), m.state.get(), m.layout,
                                 m.Rope(), m.config.heads, d, m.partial_o.get(), m.partial_ml.get(),
                                 H(m.attn), 0);
    });
  } else {
    const int rows = m.layout.window;
    parts.attention_ms = per_call([&] {
      gpu::LaunchPrefillAttention(H(m.rows_qkv), rows, m.config.heads, d, H(m.rows_attn), 0);
    });
    parts.gemm_ms = per_call([&] {
      gpu::LaunchGemm(gpu::GemmEpilogue::kSilu, H(m.rows_norm), H(m.layers[0].w_up), H(m.rows_up),
                      nullptr, rows, m.config.ffn, d, m.sm_count, 0);
    });
  }
  ATTN_CUDA_CHECK(cudaDeviceSynchronize());
  return parts;
}

}  // namespace attn::stream
