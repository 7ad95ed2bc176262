// Zipf(s) request streams, generated exactly as the seed package's Python does:
//
//   w = [1/(i**s) for i in range(1, n+1)]; t = sum(w); acc = 0; cum = []
//   for x in w: acc += x; cum.append(acc/t)
//   rng = random.Random(seed)
//   reqs = [bisect.bisect_left(cum, rng.random()) for _ in range(R)]
//
// Bit-compatibility rests on doing the same IEEE operations in the same order: std::pow for
// i**s (CPython's float_pow calls the C library's pow), 1.0 / x, a left-to-right sum for t
// (CPython <= 3.11's sum(); 3.12 switched float sum() to compensated summation, which for the
// seed configuration yields the same stream, see README.md), and lower_bound for bisect_left.
//
// Invariants:
//  1. Sample(u) == std::lower_bound(cum, u) - cum.begin() for every u in [0, 1).
//  2. guide_[k] == lower_bound(cum, k / K) for k in [0, K], K a power of two, so u * K and
//     k / K are exact and u always lies in [k/K, (k+1)/K) for k = floor(u * K); the search can
//     then be confined to [guide_[k], guide_[k+1]] without changing its answer.
// Thread-safety: a ZipfSampler is immutable after construction.
#ifndef AHUB_EXPERIMENTS_CACHE_SIM_ZIPF_STREAM_H_
#define AHUB_EXPERIMENTS_CACHE_SIM_ZIPF_STREAM_H_

#include <cstdint>
#include <span>
#include <vector>

namespace cachesim {

class ZipfSampler {
 public:
  // catalog >= 1.
  ZipfSampler(double s, uint32_t catalog);

  // bisect_left(cum, u) for u in [0, 1).
  uint32_t Sample(double u) const;

  // cum[i] = (w[0] + ... + w[i]) / t, as Python computes it.
  std::span<const double> cumulative() const { return cumulative_; }

 private:
  std::vector<double> cumulative_;
  std::vector<uint32_t> guide_;
  double guide_scale_ = 0;  // K, a power of two
};

struct ZipfParams {
  double s = 1.1;
  uint32_t catalog = 10000;
  uint64_t requests = 200000;
};

// The request stream for random.Random(seed) with `seed_key` as in PythonRandom.
std::vector<uint32_t> GenerateZipfRequests(const ZipfParams& params,
                                           std::span<const uint32_t> seed_key);

}  // namespace cachesim

#endif  // AHUB_EXPERIMENTS_CACHE_SIM_ZIPF_STREAM_H_
