// Small helpers for the human (table) output of `ahub verify` and `ahub submit`.
#pragma once

#include <string>
#include <string_view>

namespace ahub {

// `v` with exactly `digits` decimals, e.g. Fixed(11.8123, 2) == "11.81".
std::string Fixed(double v, int digits);

// A claimed or measured value for a table: two decimals from 1 up (Value(11.8123) == "11.81"),
// three significant digits below (Value(0.19067) == "0.191", Value(0.00817) == "0.00817"), so a
// fraction or an error bound does not print as 0.00.
std::string Value(double v);

// `s` with every run of ASCII whitespace (space, tab, CR, LF, FF, VT) made one space and none at
// either end: text wrapped over several lines, as in XML feeds and abstracts, read as one line.
std::string CollapseWhitespace(std::string_view s);

// `s` padded with spaces to `width` columns, counting UTF-8 code points (so "±" is one column).
std::string Pad(const std::string& s, size_t width);

}  // namespace ahub
