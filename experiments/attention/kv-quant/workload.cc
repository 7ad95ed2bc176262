#include "experiments/attention/kv-quant/workload.h"

#include <algorithm>
#include <stdexcept>

#include "experiments/attention/common/half.h"
#include "experiments/attention/common/rng.h"

namespace attn::kvquant {
namespace {

// Separate generator streams for heads and for queries from one user seed; SplitMix64 mixes
// the odd multiplier's multiples well enough that neighbouring heads are unrelated.
constexpr uint64_t kHeadStream = 0x9e3779b97f4a7c15ull;
constexpr uint64_t kQueryStream = 0xd1b54a32d192ed03ull;

}  // namespace

HeadInputs MakeHeadInputs(int64_t tokens, int head_dim, const OutlierSpec& spec, uint64_t seed,
                          int head) {
  if (spec.channels < 0 || spec.channels > head_dim) {
    throw std::invalid_argument("MakeHeadInputs: outlier channels must be in 0..head_dim");
  }
  Rng rng(seed ^ (kHeadStream * static_cast<uint64_t>(head + 1)));
  HeadInputs in;
  // Channel c's keys are offset[c] + scale[c] N(0, 1).
  std::vector<double> offset(head_dim, 0.0), scale(head_dim, 1.0);
  std::vector<bool> taken(head_dim, false);
  while (static_cast<int>(in.outliers.size()) < spec.channels) {
    const int c = static_cast<int>(rng.Between(0, head_dim - 1));
    if (taken[c]) continue;
    taken[c] = true;
    const double magnitude = spec.min_factor + (spec.max_factor - spec.min_factor) * rng.Uniform();
    const double factor = rng.Uniform() < 0.5 ? -magnitude : magnitude;
    if (spec.kind == OutlierKind::kOffset) {
      offset[c] = factor;
    } else {
      scale[c] = factor;
    }
    in.outliers.push_back({c, factor});
  }
  std::sort(in.outliers.begin(), in.outliers.end(),
            [](const KeyOutlier& a, const KeyOutlier& b) { return a.channel < b.channel; });

  HeadKv& kv = in.kv;
  kv.head_dim = head_dim;
  kv.tokens = tokens;
  kv.k.resize(static_cast<size_t>(tokens) * head_dim);
  kv.v.resize(kv.k.size());
  for (int64_t t = 0; t < tokens; ++t) {
    for (int c = 0; c < head_dim; ++c) {
      const size_t i = static_cast<size_t>(t) * head_dim + c;
      kv.k[i] = FloatToHalfBits(static_cast<float>(offset[c] + scale[c] * rng.Normal()));
      kv.v[i] = FloatToHalfBits(static_cast<float>(rng.Normal()));
    }
  }
  return in;
}

std::vector<uint16_t> MakeQueries(int64_t count, int head_dim, uint64_t seed) {
  Rng rng(seed ^ kQueryStream);
  std::vector<uint16_t> q(static_cast<size_t>(count) * head_dim);
  for (uint16_t& x : q) x = FloatToHalfBits(static_cast<float>(rng.Normal()));
  return q;
}

std::vector<float> HalfToFloat(const std::vector<uint16_t>& bits) {
  std::vector<float> out(bits.size());
  for (size_t i = 0; i < bits.size(); ++i) out[i] = HalfBitsToFloat(bits[i]);
  return out;
}

}  // namespace attn::kvquant
