#include "zipf_stream.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "python_random.h"

namespace cachesim {
namespace {

// One guide entry per catalog item (rounded up to a power of two) keeps the confined search to
// a handful of steps; the bounds keep the table small for tiny catalogs and below 8 MiB.
constexpr uint64_t kMinGuideEntries = uint64_t{1} << 10;
constexpr uint64_t kMaxGuideEntries = uint64_t{1} << 21;

}  // namespace

ZipfSampler::ZipfSampler(double s, uint32_t catalog) {
  std::vector<double> weights(catalog);
  for (uint32_t i = 1; i <= catalog; ++i) {
    weights[i - 1] = 1.0 / std::pow(static_cast<double>(i), s);
  }
  double total = 0.0;  // sum(w): left to right, no compensation
  for (const double x : weights) total += x;
  cumulative_.resize(catalog);
  double acc = 0.0;
  for (uint32_t i = 0; i < catalog; ++i) {
    acc += weights[i];
    cumulative_[i] = acc / total;
  }

  const uint64_t entries =
      std::clamp<uint64_t>(std::bit_ceil(uint64_t{catalog}), kMinGuideEntries, kMaxGuideEntries);
  guide_scale_ = static_cast<double>(entries);
  guide_.resize(entries + 1);
  for (uint64_t k = 0; k <= entries; ++k) {
    const double bound = static_cast<double>(k) / guide_scale_;
    guide_[k] = static_cast<uint32_t>(
        std::lower_bound(cumulative_.begin(), cumulative_.end(), bound) - cumulative_.begin());
  }
}

uint32_t ZipfSampler::Sample(double u) const {
  const auto k = static_cast<uint64_t>(u * guide_scale_);
  const auto first = cumulative_.begin() + guide_[k];
  const auto last = cumulative_.begin() + guide_[k + 1];
  return static_cast<uint32_t>(std::lower_bound(first, last, u) - cumulative_.begin());
}

std::vector<uint32_t> GenerateZipfRequests(const ZipfParams& params,
                                           std::span<const uint32_t> seed_key) {
  const ZipfSampler sampler(params.s, params.catalog);
  PythonRandom rng(seed_key);
  std::vector<uint32_t> requests(params.requests);
  for (uint32_t& request : requests) request = sampler.Sample(rng.Random());
  return requests;
}

}  // namespace cachesim
