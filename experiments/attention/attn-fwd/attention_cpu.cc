#include "experiments/attention/attn-fwd/attention_cpu.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <thread>

#include "experiments/attention/common/rng.h"

namespace attn::fwd {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr double kLog2e = 1.4426950408889634;

// One seed per (seed, tensor, head): distinct odd multipliers keep the streams apart.
uint64_t StreamSeed(uint64_t seed, int tensor, int64_t bh) {
  return seed * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(tensor + 1) * 0xd1b54a32d192ed03ull +
         static_cast<uint64_t>(bh) * 0x8cb92ba72f3d8dd7ull;
}

float SoftmaxScale(const Shape& s) {
  return static_cast<float>(1.0 / std::sqrt(static_cast<double>(s.head_dim)));
}

// The row's length under the mask: keys [0, len) are visible to query `row`.
int64_t VisibleKeys(const Shape& s, int64_t row) {
  return s.causal ? std::min(row + 1, s.seq) : s.seq;
}

}  // namespace

std::string_view VariantName(Variant v) { return v == Variant::kNaive ? "naive" : "tiled"; }

double FlopCount(const Shape& s) {
  const double full = 4.0 * static_cast<double>(s.seq) * static_cast<double>(s.seq) *
                      static_cast<double>(s.head_dim) * static_cast<double>(s.batch_heads);
  return s.causal ? full / 2 : full;
}

int64_t ScoreRowStride(int64_t seq) { return (seq + 3) / 4 * 4; }

int64_t NaiveExtraBytes(const Shape& s) {
  return s.batch_heads * s.seq * ScoreRowStride(s.seq) * static_cast<int64_t>(sizeof(float));
}

int64_t TiledExtraBytes(const Shape& s) {
  return s.batch_heads * s.seq * static_cast<int64_t>(sizeof(float));
}

void ParallelFor(int64_t count, const std::function<void(int64_t, int64_t)>& fn) {
  const int64_t threads = std::clamp<int64_t>(
      static_cast<int64_t>(std::thread::hardware_concurrency()), 1, std::max<int64_t>(count, 1));
  if (threads <= 1) {
    fn(0, count);
    return;
  }
  std::vector<std::thread> pool;
  const int64_t per = (count + threads - 1) / threads;
  for (int64_t t = 0; t < threads; ++t) {
    const int64_t begin = t * per, end = std::min(count, begin + per);
    if (begin < end) pool.emplace_back(fn, begin, end);
  }
  for (auto& th : pool) th.join();
}

Inputs MakeInputs(const Shape& shape, DType dtype, uint64_t seed) {
  Inputs in;
  in.shape = shape;
  in.dtype = dtype;
  const int64_t per_head = shape.seq * shape.head_dim;
  std::vector<uint16_t>* bits[3] = {&in.q_bits, &in.k_bits, &in.v_bits};
  std::vector<float>* values[3] = {&in.q, &in.k, &in.v};
  for (int t = 0; t < 3; ++t) {
    bits[t]->resize(static_cast<size_t>(shape.Elements()));
    values[t]->resize(static_cast<size_t>(shape.Elements()));
  }
  ParallelFor(3 * shape.batch_heads, [&](int64_t begin, int64_t end) {
    for (int64_t job = begin; job < end; ++job) {
      const int tensor = static_cast<int>(job / shape.batch_heads);
      const int64_t bh = job % shape.batch_heads;
      Rng rng(StreamSeed(seed, tensor, bh));
      uint16_t* b = bits[tensor]->data() + bh * per_head;
      float* v = values[tensor]->data() + bh * per_head;
      for (int64_t i = 0; i < per_head; ++i) {
        b[i] = ToBits(dtype, static_cast<float>(rng.Normal()));
        v[i] = FromBits(dtype, b[i]);
      }
    }
  });
  return in;
}

void ReferenceRow(const Inputs& in, int64_t bh, int64_t row, double* out, double* lse) {
  const Shape& s = in.shape;
  const int64_t d = s.head_dim, len = VisibleKeys(s, row);
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  const float* q = in.q.data() + (bh * s.seq + row) * d;
  const float* k = in.k.data() + bh * s.seq * d;
  const float* v = in.v.data() + bh * s.seq * d;
  std::vector<double> scores(static_cast<size_t>(len));
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < len; ++j) {
    double dot = 0;
    for (int64_t c = 0; c < d; ++c) dot += static_cast<double>(q[c]) * k[j * d + c];
    scores[j] = dot * scale;
    m = std::max(m, scores[j]);
  }
  double sum = 0;
  std::fill(out, out + d, 0.0);
  for (int64_t j = 0; j < len; ++j) {
    const double p = std::exp(scores[j] - m);
    sum += p;
    for (int64_t c = 0; c < d; ++c) out[c] += p * v[j * d + c];
  }
  for (int64_t c = 0; c < d; ++c) out[c] /= sum;
  if (lse != nullptr) *lse = m + std::log(sum);
}

std::vector<float> ReferenceAttention(const Inputs& in, std::vector<float>* lse) {
  const Shape& s = in.shape;
  const int64_t rows = s.batch_heads * s.seq, d = s.head_dim;
  std::vector<float> out(static_cast<size_t>(rows * d));
  if (lse != nullptr) lse->assign(static_cast<size_t>(rows), 0.0f);
  ParallelFor(rows, [&](int64_t begin, int64_t end) {
    std::vector<double> row_out(static_cast<size_t>(d));
    for (int64_t r = begin; r < end; ++r) {
      double row_lse = 0;
      ReferenceRow(in, r / s.seq, r % s.seq, row_out.data(), &row_lse);
      for (int64_t c = 0; c < d; ++c) out[r * d + c] = static_cast<float>(row_out[c]);
      if (lse != nullptr) (*lse)[r] = static_cast<float>(row_lse);
    }
  });
  return out;
}

std::vector<float> NaiveAttentionCpu(const Inputs& in) {
  const Shape& s = in.shape;
  const int64_t n = s.seq, d = s.head_dim, ld = ScoreRowStride(n);
  const float scale = SoftmaxScale(s);
  // The whole score matrix, as the GPU version keeps it: this is the quadratic memory.
  std::vector<float> scores(static_cast<size_t>(s.batch_heads * n * ld), 0.0f);
  std::vector<float> out(static_cast<size_t>(s.Elements()), 0.0f);
  ParallelFor(s.batch_heads * n, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t bh = r / n, i = r % n, len = VisibleKeys(s, i);
      const float* q = in.q.data() + r * d;
      const float* k = in.k.data() + bh * n * d;
      const float* v = in.v.data() + bh * n * d;
      float* srow = scores.data() + r * ld;
      // 1. scores (fp32 accumulate, scaled as they are stored)
      for (int64_t j = 0; j < len; ++j) {
        float dot = 0;
        for (int64_t c = 0; c < d; ++c) dot += q[c] * k[j * d + c];
        srow[j] = dot * scale;
      }
      // 2. row softmax in place
      float m = kNegInf;
      for (int64_t j = 0; j < len; ++j) m = std::max(m, srow[j]);
      float sum = 0;
      for (int64_t j = 0; j < len; ++j) sum += std::exp(srow[j] - m);
      const float inv = 1.0f / sum;
      for (int64_t j = 0; j < len; ++j) srow[j] = std::exp(srow[j] - m) * inv;
      // 3. P.V with P in the input type, as the tensor cores read it
      float* o = out.data() + r * d;
      for (int64_t j = 0; j < len; ++j) {
        const float p = Round(in.dtype, srow[j]);
        for (int64_t c = 0; c < d; ++c) o[c] += p * v[j * d + c];
      }
    }
  });
  return out;
}

int64_t KvTilesVisited(int64_t q0, int64_t block_m, int64_t block_n, int64_t seq, bool causal) {
  const int64_t last_row = std::min(q0 + block_m, seq) - 1;
  return causal ? last_row / block_n + 1 : (seq + block_n - 1) / block_n;
}

std::vector<float> TiledAttentionCpu(const Inputs& in, const TileConfig& tiles,
                                     std::vector<float>* lse) {
  const Shape& s = in.shape;
  const int64_t n = s.seq, d = s.head_dim, bm = tiles.block_m, bn = tiles.block_n;
  const int64_t q_blocks = (n + bm - 1) / bm;
  const float scale = SoftmaxScale(s);
  const float scale_log2 = static_cast<float>(scale * kLog2e);  // the kernel's exp2 argument scale
  std::vector<float> out(static_cast<size_t>(s.Elements()), 0.0f);
  if (lse != nullptr) lse->assign(static_cast<size_t>(s.batch_heads * n), 0.0f);

  ParallelFor(s.batch_heads * q_blocks, [&](int64_t begin, int64_t end) {
    std::vector<float> sc(static_cast<size_t>(bn)), p(static_cast<size_t>(bn)),
        o(static_cast<size_t>(d));
    for (int64_t job = begin; job < end; ++job) {
      const int64_t bh = job / q_blocks, q0 = (job % q_blocks) * bm;
      const int64_t n_tiles = KvTilesVisited(q0, bm, bn, n, s.causal);
      const float* k = in.k.data() + bh * n * d;
      const float* v = in.v.data() + bh * n * d;
      for (int64_t w0 = q0; w0 < q0 + bm; w0 += tiles.warp_rows) {  // one warp's rows
        const int64_t warp_last_row = w0 + tiles.warp_rows - 1;
        for (int64_t i = w0; i <= warp_last_row && i < n; ++i) {
          const float* q = in.q.data() + (bh * n + i) * d;
          float m = kNegInf, l = 0;
          std::fill(o.begin(), o.end(), 0.0f);
          for (int64_t t = 0; t < n_tiles; ++t) {
            const int64_t n0 = t * bn;
            if (s.causal && n0 > warp_last_row) continue;  // the warp skips tiles above its rows
            // S tile: raw scores (unscaled, as the MMA leaves them), masked columns -inf.
            float tile_max = m;
            for (int64_t j = 0; j < bn; ++j) {
              const int64_t col = n0 + j;
              if (col >= n || (s.causal && col > i)) {
                sc[j] = kNegInf;
                continue;
              }
              float dot = 0;
              for (int64_t c = 0; c < d; ++c) dot += q[c] * k[col * d + c];
              sc[j] = dot;
              tile_max = std::max(tile_max, dot);
            }
            // Online softmax: new max, factor for what was accumulated under the old max.
            const float m_scaled = tile_max == kNegInf ? 0.0f : tile_max * scale_log2;
            const float alpha = std::exp2(m * scale_log2 - m_scaled);
            m = tile_max;
            float row_sum = 0;
            for (int64_t j = 0; j < bn; ++j) {
              const float pj = std::exp2(std::fma(sc[j], scale_log2, -m_scaled));
              row_sum += pj;
              p[j] = tiles.round_p ? Round(in.dtype, pj) : pj;
            }
            l = l * alpha + row_sum;
            for (int64_t c = 0; c < d; ++c) o[c] *= alpha;
            for (int64_t j = 0; j < bn; ++j) {
              if (p[j] == 0.0f) continue;  // masked (or underflowed): adds nothing
              const float* vrow = v + (n0 + j) * d;
              for (int64_t c = 0; c < d; ++c) o[c] += p[j] * vrow[c];
            }
          }
          const float inv = l > 0 ? 1.0f / l : 0.0f;
          float* dst = out.data() + (bh * n + i) * d;
          for (int64_t c = 0; c < d; ++c) dst[c] = o[c] * inv;
          if (lse != nullptr) (*lse)[bh * n + i] = l > 0 ? m * scale + std::log(l) : kNegInf;
        }
      }
    }
  });
  return out;
}

std::vector<float> RoundAll(DType dtype, std::vector<float> values) {
  for (float& x : values) x = Round(dtype, x);
  return values;
}

}  // namespace attn::fwd
