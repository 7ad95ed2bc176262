// CPU side of attn-fwd: problem shapes, seeded inputs, the float64 reference, and CPU versions of
// the two GPU algorithms, so that the online softmax can be checked against the naive math
// without a GPU.
//
// Layout everywhere: [batch*heads][seq][head_dim], row-major; the softmax scale is 1/sqrt(d);
// causal means query i attends keys j <= i (square: as many keys as queries).
// Invariants:
//  1. Inputs hold the fp16/bf16 bits the device reads and their exact float values.
//  2. NaiveAttentionCpu mirrors the GPU naive pipeline (fp32 scores, fp32 softmax, P rounded to
//     the input type before P.V); TiledAttentionCpu mirrors the GPU tiled kernel (same tile sizes,
//     same max / rescale / exp2 order, P rounded before P.V, row sum of the unrounded P).
// Thread-safety: pure functions; the heavy ones split rows over std::thread internally.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "experiments/attention/common/half.h"

namespace attn::fwd {

// The two algorithms: score matrix in memory, or tiled with the online softmax.
enum class Variant { kNaive, kTiled };
std::string_view VariantName(Variant v);

struct Shape {
  int64_t batch_heads = 1;
  int64_t seq = 1;
  int64_t head_dim = 64;
  bool causal = false;

  int64_t Elements() const { return batch_heads * seq * head_dim; }  // of Q, K, V or O
};

// 4*N*N*d*BH (two matrix products of 2*N*N*d each, per head), halved for causal: the
// convention of the FlashAttention papers' benchmarks, so TFLOP/s compare with theirs.
double FlopCount(const Shape& s);

// Extra device memory beyond Q, K, V and O, as the GPU code allocates it: the naive version
// keeps the fp32 score matrix (rows padded to a multiple of 4 floats for 16-byte loads); the
// tiled version only the per-row log-sum-exp (fp32, what a backward pass would need).
int64_t ScoreRowStride(int64_t seq);
int64_t NaiveExtraBytes(const Shape& s);
int64_t TiledExtraBytes(const Shape& s);

struct Inputs {
  Shape shape;
  DType dtype = DType::kF16;
  std::vector<uint16_t> q_bits, k_bits, v_bits;  // what the device reads
  std::vector<float> q, k, v;                    // the same values as floats
};

// Standard normal entries rounded to `dtype`. Each (tensor, head) has its own seeded stream, so
// the values do not depend on how many threads draw them.
Inputs MakeInputs(const Shape& shape, DType dtype, uint64_t seed);

// Float64 attention of one query row: out[d] and the row's log-sum-exp of the scaled scores.
void ReferenceRow(const Inputs& in, int64_t bh, int64_t row, double* out, double* lse);

// The float64 reference for every row, as floats ([bh][seq][d]); `lse` may be null.
std::vector<float> ReferenceAttention(const Inputs& in, std::vector<float>* lse);

// The GPU naive pipeline on the CPU: materialises the fp32 score matrix of all heads. Returns the
// output before its final rounding to the input type.
std::vector<float> NaiveAttentionCpu(const Inputs& in);

struct TileConfig {
  int block_m = 64;     // query rows per block, a multiple of warp_rows
  int block_n = 64;     // keys per K/V tile
  bool round_p = true;  // round P to the input type before P.V, as the tensor-core kernel must
  int warp_rows = 16;   // query rows per warp (a warp skips causal tiles wholly above its rows)
};

// The tiled online-softmax algorithm (FlashAttention-2 forward) on the CPU. Returns the output
// before its final rounding; `lse` (may be null) gets each row's log-sum-exp.
std::vector<float> TiledAttentionCpu(const Inputs& in, const TileConfig& tiles,
                                     std::vector<float>* lse);

// Number of K/V tiles the block starting at query row `q0` visits: all of them, or under a
// causal mask those up to the tile holding the block's last row. The kernel uses the same rule.
int64_t KvTilesVisited(int64_t q0, int64_t block_m, int64_t block_n, int64_t seq, bool causal);

// Values as the device stores them: each rounded to `dtype`.
std::vector<float> RoundAll(DType dtype, std::vector<float> values);

// Runs fn(begin, end) over [0, count) split across hardware threads.
void ParallelFor(int64_t count, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace attn::fwd
