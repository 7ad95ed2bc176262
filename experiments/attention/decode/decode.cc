#include "experiments/attention/decode/decode.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "experiments/attention/common/half.h"
#include "experiments/attention/common/rng.h"
#include "experiments/attention/common/stats.h"
#include "experiments/attention/decode/hash_fill.h"

namespace attn::decode {
namespace {

std::string ValidateShape(const DecodeInputs& in) {
  const DecodeShape& s = in.shape;
  if (s.batch < 1 || s.n_q_heads < 1 || s.n_kv_heads < 1 || s.head_dim < 1) {
    return "decode shape: batch, n_q_heads, n_kv_heads and head_dim must be >= 1";
  }
  if (s.n_q_heads % s.n_kv_heads != 0) {
    return "decode shape: n_q_heads " + std::to_string(s.n_q_heads) +
           " is not a multiple of n_kv_heads " + std::to_string(s.n_kv_heads);
  }
  if (in.seq_lens.size() != static_cast<size_t>(s.batch)) {
    return "decode inputs: " + std::to_string(in.seq_lens.size()) + " sequence lengths for batch " +
           std::to_string(s.batch);
  }
  if (in.q.size() != static_cast<size_t>(s.batch) * s.n_q_heads * s.head_dim) {
    return "decode inputs: q has " + std::to_string(in.q.size()) + " elements; accepted: batch x " +
           "n_q_heads x head_dim";
  }
  return "";
}

std::string ValidateLengths(const DecodeInputs& in, int64_t capacity, const char* what) {
  for (size_t b = 0; b < in.seq_lens.size(); ++b) {
    if (in.seq_lens[b] < 0 || in.seq_lens[b] > capacity) {
      return "decode inputs: sequence " + std::to_string(b) + " has length " +
             std::to_string(in.seq_lens[b]) + "; accepted: 0.." + std::to_string(capacity) + " (" +
             what + ")";
    }
  }
  return "";
}

// The reference for either layout: `row(b, h, t)` is the element offset of a K/V row.
template <typename Cache>
std::vector<float> Reference(const DecodeInputs& in, const Cache& cache, bool round_p) {
  const DecodeShape& s = in.shape;
  const int d = s.head_dim;
  const int group = s.group();
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  std::vector<float> out(static_cast<size_t>(s.batch) * s.n_q_heads * d, 0.0f);
  std::vector<double> k, v, scores, acc(d), q(d);
  for (int b = 0; b < s.batch; ++b) {
    const int64_t len = in.seq_lens[b];
    if (len == 0) continue;
    for (int h = 0; h < s.n_kv_heads; ++h) {
      // Convert the KV head's rows once; all `group` query heads read them.
      k.assign(static_cast<size_t>(len) * d, 0.0);
      v.assign(static_cast<size_t>(len) * d, 0.0);
      for (int64_t t = 0; t < len; ++t) {
        const int64_t row = RowOffset(s, cache, b, h, t);
        for (int i = 0; i < d; ++i) {
          k[t * d + i] = HalfBitsToFloat(cache.k[row + i]);
          v[t * d + i] = HalfBitsToFloat(cache.v[row + i]);
        }
      }
      for (int j = 0; j < group; ++j) {
        const int hq = h * group + j;
        const uint16_t* q_bits = &in.q[(static_cast<size_t>(b) * s.n_q_heads + hq) * d];
        for (int i = 0; i < d; ++i) q[i] = HalfBitsToFloat(q_bits[i]);
        scores.assign(len, 0.0);
        double max_score = -std::numeric_limits<double>::infinity();
        for (int64_t t = 0; t < len; ++t) {
          double dot = 0;
          for (int i = 0; i < d; ++i) dot += q[i] * k[t * d + i];
          scores[t] = dot * scale;
          max_score = std::max(max_score, scores[t]);
        }
        double norm = 0;
        std::fill(acc.begin(), acc.end(), 0.0);
        for (int64_t t = 0; t < len; ++t) {
          const double p = std::exp(scores[t] - max_score);
          norm += p;
          const double w = round_p ? Round(DType::kF16, static_cast<float>(p)) : p;
          for (int i = 0; i < d; ++i) acc[i] += w * v[t * d + i];
        }
        float* o = &out[(static_cast<size_t>(b) * s.n_q_heads + hq) * d];
        for (int i = 0; i < d; ++i) o[i] = static_cast<float>(acc[i] / norm);
      }
    }
  }
  return out;
}

uint16_t NormalHalf(Rng& rng, float scale) {
  return FloatToHalfBits(static_cast<float>(rng.Normal()) * scale);
}

}  // namespace

std::string ValidateInputs(const DecodeInputs& in, const ContiguousCache& cache) {
  if (std::string e = ValidateShape(in); !e.empty()) return e;
  if (std::string e = ValidateLengths(in, cache.max_len, "the contiguous cache's max_len");
      !e.empty()) {
    return e;
  }
  const DecodeShape& s = in.shape;
  const size_t elems = static_cast<size_t>(s.batch) * s.n_kv_heads * cache.max_len * s.head_dim;
  if (cache.k.size() != elems || cache.v.size() != elems) {
    return "contiguous cache: K/V have " + std::to_string(cache.k.size()) + "/" +
           std::to_string(cache.v.size()) + " elements; accepted: batch x n_kv_heads x max_len x " +
           "head_dim = " + std::to_string(elems);
  }
  return "";
}

std::string ValidateInputs(const DecodeInputs& in, const PagedCache& cache) {
  if (std::string e = ValidateShape(in); !e.empty()) return e;
  if (cache.block_size < 1) return "paged cache: block_size must be >= 1";
  const int64_t capacity = static_cast<int64_t>(cache.max_blocks_per_seq) * cache.block_size;
  if (std::string e = ValidateLengths(in, capacity, "max_blocks_per_seq x block_size");
      !e.empty()) {
    return e;
  }
  const DecodeShape& s = in.shape;
  if (cache.block_tables.size() != static_cast<size_t>(s.batch) * cache.max_blocks_per_seq) {
    return "paged cache: block_tables has " + std::to_string(cache.block_tables.size()) +
           " entries; accepted: batch x max_blocks_per_seq";
  }
  const size_t elems =
      static_cast<size_t>(cache.num_blocks) * s.n_kv_heads * cache.block_size * s.head_dim;
  if (cache.k.size() != elems || cache.v.size() != elems) {
    return "paged cache: K/V pools have " + std::to_string(cache.k.size()) +
           " elements; accepted: num_blocks x n_kv_heads x block_size x head_dim = " +
           std::to_string(elems);
  }
  for (int b = 0; b < s.batch; ++b) {
    const int64_t used = (in.seq_lens[b] + cache.block_size - 1) / cache.block_size;
    for (int64_t j = 0; j < used; ++j) {
      const int32_t id = cache.block_tables[b * static_cast<size_t>(cache.max_blocks_per_seq) + j];
      if (id < 0 || id >= cache.num_blocks) {
        return "paged cache: block_tables[" + std::to_string(b) + "][" + std::to_string(j) +
               "] = " + std::to_string(id) + "; accepted: 0.." +
               std::to_string(cache.num_blocks - 1);
      }
    }
  }
  return "";
}

std::vector<float> DecodeReference(const DecodeInputs& in, const ContiguousCache& cache,
                                   bool round_p) {
  return Reference(in, cache, round_p);
}

std::vector<float> DecodeReference(const DecodeInputs& in, const PagedCache& cache, bool round_p) {
  return Reference(in, cache, round_p);
}

DecodeInputs RandomInputs(const DecodeShape& shape, std::vector<int32_t> seq_lens, uint64_t seed,
                          float q_scale) {
  DecodeInputs in;
  in.shape = shape;
  in.seq_lens = std::move(seq_lens);
  Rng rng(seed);
  in.q.resize(static_cast<size_t>(shape.batch) * shape.n_q_heads * shape.head_dim);
  for (uint16_t& x : in.q) x = NormalHalf(rng, q_scale);
  return in;
}

ContiguousCache RandomContiguousCache(const DecodeShape& shape,
                                      const std::vector<int32_t>& seq_lens, int64_t max_len,
                                      uint64_t seed) {
  ContiguousCache c;
  c.max_len = max_len;
  const size_t elems =
      static_cast<size_t>(shape.batch) * shape.n_kv_heads * max_len * shape.head_dim;
  c.k.assign(elems, kHalfNaNBits);
  c.v.assign(elems, kHalfNaNBits);
  // A separate stream from the q stream of RandomInputs with the same seed.
  Rng rng(seed ^ 0x6b766361636865ull);
  for (int b = 0; b < shape.batch; ++b) {
    for (int h = 0; h < shape.n_kv_heads; ++h) {
      for (int64_t t = 0; t < seq_lens[b]; ++t) {
        const int64_t row = RowOffset(shape, c, b, h, t);
        for (int i = 0; i < shape.head_dim; ++i) c.k[row + i] = NormalHalf(rng, 1.0f);
        for (int i = 0; i < shape.head_dim; ++i) c.v[row + i] = NormalHalf(rng, 1.0f);
      }
    }
  }
  return c;
}

ScatteredTables MakeScatteredTables(const std::vector<int32_t>& seq_lens, int32_t block_size,
                                    int32_t spare_blocks, uint64_t seed) {
  ScatteredTables t;
  int64_t used = 0;
  for (int32_t len : seq_lens) {
    const int32_t blocks = std::max<int32_t>(1, (len + block_size - 1) / block_size);
    t.max_blocks_per_seq = std::max(t.max_blocks_per_seq, blocks);
    used += blocks;
  }
  t.num_blocks = static_cast<int32_t>(used + spare_blocks);
  std::vector<int32_t> ids(t.num_blocks);
  std::iota(ids.begin(), ids.end(), 0);
  Rng rng(seed);
  for (int64_t i = t.num_blocks - 1; i > 0; --i) std::swap(ids[i], ids[rng.Between(0, i)]);
  t.block_tables.assign(seq_lens.size() * t.max_blocks_per_seq, -1);
  size_t next = 0;
  for (size_t b = 0; b < seq_lens.size(); ++b) {
    const int32_t blocks = std::max<int32_t>(1, (seq_lens[b] + block_size - 1) / block_size);
    for (int32_t j = 0; j < blocks; ++j) t.block_tables[b * t.max_blocks_per_seq + j] = ids[next++];
  }
  return t;
}

PagedCache ToPaged(const DecodeShape& shape, const std::vector<int32_t>& seq_lens,
                   const ContiguousCache& cache, int32_t block_size,
                   const ScatteredTables& tables) {
  PagedCache p;
  p.block_size = block_size;
  p.num_blocks = tables.num_blocks;
  p.max_blocks_per_seq = tables.max_blocks_per_seq;
  p.block_tables = tables.block_tables;
  const size_t elems =
      static_cast<size_t>(p.num_blocks) * shape.n_kv_heads * block_size * shape.head_dim;
  p.k.assign(elems, kHalfNaNBits);
  p.v.assign(elems, kHalfNaNBits);
  for (int b = 0; b < shape.batch; ++b) {
    for (int h = 0; h < shape.n_kv_heads; ++h) {
      for (int64_t t = 0; t < seq_lens[b]; ++t) {
        const int64_t src = RowOffset(shape, cache, b, h, t);
        const int64_t dst = RowOffset(shape, p, b, h, t);
        std::copy_n(&cache.k[src], shape.head_dim, &p.k[dst]);
        std::copy_n(&cache.v[src], shape.head_dim, &p.v[dst]);
      }
    }
  }
  return p;
}

int64_t KvBytes(const DecodeShape& shape, const std::vector<int32_t>& seq_lens) {
  int64_t tokens = 0;
  for (int32_t len : seq_lens) tokens += len;
  return tokens * shape.n_kv_heads * shape.head_dim * 2 /* K and V */ * 2 /* fp16 */;
}

SpotError SpotCheckHashInputs(const DecodeShape& shape, int32_t context, uint64_t seed,
                              const std::vector<float>& gpu_out, int32_t b, int32_t h) {
  const int g = shape.group();
  const int d = shape.head_dim;
  DecodeInputs in;
  in.shape = {1, g, 1, d};
  in.seq_lens = {context};
  in.q.resize(static_cast<size_t>(g) * d);
  const uint64_t q_base =
      (static_cast<uint64_t>(b) * shape.n_q_heads + static_cast<uint64_t>(h) * g) * d;
  for (size_t i = 0; i < in.q.size(); ++i) {
    in.q[i] =
        FloatToHalfBits(HashUnitValue(seed, HashStream::kQuery, q_base + i) * kBenchQueryScale);
  }
  ContiguousCache c;
  c.max_len = context;
  c.k.resize(static_cast<size_t>(context) * d);
  c.v.resize(c.k.size());
  const uint64_t kv_base =
      (static_cast<uint64_t>(b) * shape.n_kv_heads + h) * static_cast<uint64_t>(context) * d;
  for (size_t i = 0; i < c.k.size(); ++i) {
    c.k[i] = FloatToHalfBits(HashUnitValue(seed, HashStream::kKey, kv_base + i));
    c.v[i] = FloatToHalfBits(HashUnitValue(seed, HashStream::kValue, kv_base + i));
  }
  const std::vector<float> ref = DecodeReference(in, c);
  const size_t first = static_cast<size_t>(q_base);
  if (first + ref.size() > gpu_out.size()) return {0, 0, false};
  const ErrorStats e = Compare(std::span<const float>(gpu_out.data() + first, ref.size()), ref);
  return {e.rel_l2, e.max_abs, e.non_finite == 0};
}

}  // namespace attn::decode
