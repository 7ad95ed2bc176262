#include "experiments/attention/kv-quant/quantizer.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "experiments/attention/common/half.h"

namespace attn::kvquant {

float QuantParams::Scale() const { return HalfBitsToFloat(scale); }
float QuantParams::Zero() const { return HalfBitsToFloat(zero); }

QuantParams ChooseParams(float min, float max) {
  QuantParams p;
  p.zero = FloatToHalfBits(min);
  // The difference of two fp16 values is exact in double, not always in float.
  const double range = static_cast<double>(max) - static_cast<double>(min);
  p.scale = FloatToHalfBits(static_cast<float>(range / kMaxCode));
  return p;
}

QuantParams ChooseGroupParams(std::span<const uint16_t> values) {
  float lo = HalfBitsToFloat(values[0]);
  float hi = lo;
  for (uint16_t bits : values) {
    const float x = HalfBitsToFloat(bits);
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  return ChooseParams(lo, hi);
}

uint32_t QuantizeValue(float x, const QuantParams& p) {
  const double scale = p.Scale();
  if (!(scale > 0)) return 0;  // constant group (or a range below fp16's smallest scale)
  // In double, so that x - zero is exact and only the rounding to a code is a decision.
  const double t = std::floor((static_cast<double>(x) - p.Zero()) / scale + 0.5);
  return static_cast<uint32_t>(std::clamp(t, 0.0, static_cast<double>(kMaxCode)));
}

float DequantizeValue(uint32_t code, const QuantParams& p) {
  return std::fma(static_cast<float>(code), p.Scale(), p.Zero());
}

void PackCodes(std::span<const uint8_t> codes, std::span<uint32_t> words) {
  if (codes.size() % kCodesPerWord != 0 || words.size() != codes.size() / kCodesPerWord) {
    throw std::invalid_argument("PackCodes: need 16 codes per word");
  }
  std::fill(words.begin(), words.end(), 0u);
  for (size_t i = 0; i < codes.size(); ++i) {
    words[i / kCodesPerWord] |= static_cast<uint32_t>(codes[i] & kMaxCode)
                                << (kBits * (i % kCodesPerWord));
  }
}

}  // namespace attn::kvquant
