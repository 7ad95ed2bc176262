// Error measures for comparing a kernel's output with its reference. Header-only, pure.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <span>

namespace attn {

struct ErrorStats {
  double max_abs = 0;  // max |got - ref|
  double rel_l2 = 0;   // ||got - ref||_2 / ||ref||_2
  size_t non_finite = 0;  // NaN or infinity in `got`: never passes a check
};

inline ErrorStats Compare(std::span<const float> got, std::span<const float> ref) {
  ErrorStats s;
  double diff2 = 0, ref2 = 0;
  for (size_t i = 0; i < got.size() && i < ref.size(); ++i) {
    if (!std::isfinite(got[i])) {
      ++s.non_finite;
      continue;
    }
    const double d = static_cast<double>(got[i]) - ref[i];
    s.max_abs = std::fmax(s.max_abs, std::fabs(d));
    diff2 += d * d;
    ref2 += static_cast<double>(ref[i]) * ref[i];
  }
  if (got.size() != ref.size()) s.non_finite += got.size() > ref.size() ? got.size() - ref.size() : ref.size() - got.size();
  s.rel_l2 = ref2 > 0 ? std::sqrt(diff2 / ref2) : std::sqrt(diff2);
  if (s.non_finite > 0) s.max_abs = s.rel_l2 = std::numeric_limits<double>::infinity();
  return s;
}

}  // namespace attn
