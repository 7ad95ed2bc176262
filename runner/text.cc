#include "runner/text.h"

#include <cmath>
#include <iomanip>
#include <sstream>

namespace ahub {

std::string Fixed(double v, int digits) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

std::string Value(double v) {
  if (v == 0 || std::fabs(v) >= 1 || !std::isfinite(v)) return Fixed(v, 2);
  std::ostringstream os;
  os << std::setprecision(3) << v;
  return os.str();
}

std::string Pad(const std::string& s, size_t width) {
  size_t cps = 0;
  for (unsigned char c : s) cps += (c & 0xC0) != 0x80;
  return cps >= width ? s : s + std::string(width - cps, ' ');
}

}  // namespace ahub
