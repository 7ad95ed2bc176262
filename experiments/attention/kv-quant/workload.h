// The inputs of kv-quant: one head's keys and values in fp16, with the channel outliers that
// KIVI observed in real keys, and the decode queries. Seeded; the same on every platform
// (common/rng.h), rounded to fp16 bit-exactly with the device (common/half.h).
//
// Distribution (documented in README.md, "Inputs"):
//  - keys K[t][c] = N(0, 1), except on `channels` outlier channels per head, drawn without
//    repetition, each with a factor f uniform in [min_factor, max_factor] and a random sign s:
//      kOffset (default): K[t][c] = s f + N(0, 1), a channel whose magnitude is f at every token,
//        the fixed bright stripes of KIVI's Fig. 2 (real outlier channels are large throughout);
//      kScale:            K[t][c] = f N(0, 1), a channel with f times the spread;
//  - values V[t][c] = N(0, 1), no channel structure (KIVI: values show no fixed outlier channels);
//  - queries q[c] = N(0, 1).
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cstdint>
#include <vector>

namespace attn::kvquant {

// One head's keys and values, fp16 bits, token-major [tokens][head_dim]. Also the fp16 cache
// that the baseline decode reads.
struct HeadKv {
  int head_dim = 0;
  int64_t tokens = 0;
  std::vector<uint16_t> k;
  std::vector<uint16_t> v;
};

enum class OutlierKind { kOffset, kScale };

struct OutlierSpec {
  int channels = 4;
  double min_factor = 10;
  double max_factor = 20;
  OutlierKind kind = OutlierKind::kOffset;
};

struct KeyOutlier {
  int channel = 0;
  double factor = 1;  // signed: the offset (kOffset) or the scale (kScale)
};

struct HeadInputs {
  HeadKv kv;
  std::vector<KeyOutlier> outliers;  // sorted by channel
};

// Head `head` of the workload with seed `seed`; distinct heads draw independent streams.
HeadInputs MakeHeadInputs(int64_t tokens, int head_dim, const OutlierSpec& outliers, uint64_t seed,
                          int head);

// `count` queries of head_dim fp16 values, [count][head_dim].
std::vector<uint16_t> MakeQueries(int64_t count, int head_dim, uint64_t seed);

// fp16 bits to floats, element by element.
std::vector<float> HalfToFloat(const std::vector<uint16_t>& bits);

}  // namespace attn::kvquant
