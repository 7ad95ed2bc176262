// Decode attention: one new query token per sequence attending over that sequence's KV cache,
// with grouped KV heads (GQA, Ainslie et al. 2023: query head h reads KV head h / group,
// group = n_q_heads / n_kv_heads; group 1 is MHA, n_kv_heads 1 is MQA). This header holds what
// the GPU kernels and the CPU reference share: the shapes, the two cache layouts, the reference
// itself and seeded inputs. Pure functions on values; safe from any thread. C++17, so that
// decode_gpu.cu (nvcc compiles .cu files as C++17) can include it.
//
// Layouts (fp16 values are kept as their bit patterns, uint16_t, rounded with common/half.h):
//   q                 [batch][n_q_heads][head_dim]
//   out               [batch][n_q_heads][head_dim]   fp32
//   contiguous K, V   [batch][n_kv_heads][max_len][head_dim]
//   paged K, V pools  [num_blocks][n_kv_heads][block_size][head_dim]: token t of sequence b lives
//                     in block block_tables[b * max_blocks_per_seq + t / block_size], slot
//                     t % block_size. One block of one KV head is block_size * head_dim contiguous
//                     halves (4 KiB at 16 x 128), so a paged read is as coalesced as a contiguous
//                     one.
// Invariants the kernels rely on (checked by ValidateInputs):
//   1. n_q_heads % n_kv_heads == 0 and 0 <= seq_lens[b] <= max_len (contiguous) or
//      <= max_blocks_per_seq * block_size (paged);
//   2. every table entry a sequence uses (t < seq_lens[b]) names a block in [0, num_blocks).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attn::decode {

struct DecodeShape {
  int32_t batch = 1;
  int32_t n_q_heads = 32;
  int32_t n_kv_heads = 8;
  int32_t head_dim = 128;

  int32_t group() const { return n_q_heads / n_kv_heads; }
};

struct DecodeInputs {
  DecodeShape shape;
  std::vector<int32_t> seq_lens;  // [batch]
  std::vector<uint16_t> q;        // [batch][n_q_heads][head_dim], fp16 bits
};

struct ContiguousCache {
  int64_t max_len = 0;
  std::vector<uint16_t> k, v;  // [batch][n_kv_heads][max_len][head_dim]
};

struct PagedCache {
  int32_t block_size = 16;
  int32_t num_blocks = 0;
  int32_t max_blocks_per_seq = 0;
  std::vector<int32_t> block_tables;  // [batch][max_blocks_per_seq]; -1 where unused
  std::vector<uint16_t> k, v;         // [num_blocks][n_kv_heads][block_size][head_dim]
};

// The element offset of token `t`'s row (head_dim halves) for sequence `b`, KV head `h`.
inline int64_t RowOffset(const DecodeShape& s, const ContiguousCache& c, int64_t b, int64_t h,
                         int64_t t) {
  return ((b * s.n_kv_heads + h) * c.max_len + t) * s.head_dim;
}
inline int64_t RowOffset(const DecodeShape& s, const PagedCache& c, int64_t b, int64_t h,
                         int64_t t) {
  const int64_t block = c.block_tables[b * c.max_blocks_per_seq + t / c.block_size];
  return ((block * s.n_kv_heads + h) * c.block_size + t % c.block_size) * s.head_dim;
}

// "" when the inputs satisfy the invariants above, else what is wrong and what is accepted.
std::string ValidateInputs(const DecodeInputs& in, const ContiguousCache& cache);
std::string ValidateInputs(const DecodeInputs& in, const PagedCache& cache);

// softmax(q . K^T / sqrt(head_dim)) . V per query head, accumulated in double. A sequence of
// length 0 gives zeros. With `round_p`, the probabilities are rounded to fp16 before they weight
// V (the normaliser stays exact), as the tensor-core kernel does: the difference from the exact
// reference is the error that rounding alone causes, the baseline a kernel's error is judged by.
std::vector<float> DecodeReference(const DecodeInputs& in, const ContiguousCache& cache,
                                   bool round_p = false);
std::vector<float> DecodeReference(const DecodeInputs& in, const PagedCache& cache,
                                   bool round_p = false);

// Seeded inputs (common/rng.h normals rounded to fp16). q is multiplied by `q_scale` before
// rounding: with K ~ N(0, 1) the scaled scores have standard deviation q_scale, so a large scale
// makes the softmax peaked and exercises the kernels' running-max rescaling.
DecodeInputs RandomInputs(const DecodeShape& shape, std::vector<int32_t> seq_lens, uint64_t seed,
                          float q_scale = 1.0f);
// K and V rows t < seq_lens[b] are N(0, 1); rows past a sequence's end hold fp16 NaN, so a
// kernel that reads them instead of masking them produces NaN.
ContiguousCache RandomContiguousCache(const DecodeShape& shape,
                                      const std::vector<int32_t>& seq_lens, int64_t max_len,
                                      uint64_t seed);

// Block tables that give every sequence ceil(len / block_size) blocks (at least one) with ids
// drawn from a seeded shuffle of the pool, so consecutive blocks of a sequence are scattered
// over the pool as they are in a long-running server. The pool has `spare_blocks` more blocks
// than the tables use.
struct ScatteredTables {
  int32_t num_blocks = 0;
  int32_t max_blocks_per_seq = 0;
  std::vector<int32_t> block_tables;  // [batch][max_blocks_per_seq], -1 where unused
};
ScatteredTables MakeScatteredTables(const std::vector<int32_t>& seq_lens, int32_t block_size,
                                    int32_t spare_blocks, uint64_t seed);

// The same K/V values in a paged pool laid out by `tables`. Slots no sequence uses (the tail of
// a last block, the spare blocks) hold fp16 NaN, so reading through a wrong table entry or past
// a sequence's end shows in the output.
PagedCache ToPaged(const DecodeShape& shape, const std::vector<int32_t>& seq_lens,
                   const ContiguousCache& cache, int32_t block_size, const ScatteredTables& tables);

// Bytes one decode step must read at least: K and V rows of every token of every sequence
// for every KV head.
int64_t KvBytes(const DecodeShape& shape, const std::vector<int32_t>& seq_lens);

inline constexpr uint16_t kHalfNaNBits = 0x7e00;

// The benchmark's spot check: the CPU reference for sequence `b`, KV head `h` of a batch whose
// q, K and V come from hash_fill.h (every sequence `context` tokens long), compared with those
// query heads' rows of `gpu_out` ([batch][n_q_heads][head_dim]).
struct SpotError {
  double rel_l2 = 0;
  double max_abs = 0;
  bool finite = true;
};
SpotError SpotCheckHashInputs(const DecodeShape& shape, int32_t context, uint64_t seed,
                              const std::vector<float>& gpu_out, int32_t b, int32_t h);

}  // namespace attn::decode
