// Small helpers for the human (table) output of `ahub verify` and `ahub submit`.
#pragma once

#include <string>

namespace ahub {

// `v` with exactly `digits` decimals, e.g. Fixed(11.8123, 2) == "11.81".
std::string Fixed(double v, int digits);

// `s` padded with spaces to `width` columns, counting UTF-8 code points (so "±" is one column).
std::string Pad(const std::string& s, size_t width);

}  // namespace ahub
