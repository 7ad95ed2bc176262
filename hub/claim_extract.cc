#include "hub/claim_extract.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <regex>
#include <set>
#include <string>

#include "runner/text.h"

namespace ahub::hub {
namespace {

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }
char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

bool StartsWithAt(std::string_view s, size_t i, std::string_view prefix) {
  return i <= s.size() && s.substr(i, prefix.size()) == prefix;
}

// The code point that ends just before byte `i` (0 at the start of the text).
char32_t PrevCodePoint(std::string_view s, size_t i) {
  if (i == 0) return 0;
  size_t b = i - 1;
  while (b > 0 && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) --b;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + b;
  const size_t n = i - b;
  if (n == 1) return p[0];
  if (n == 2) return ((p[0] & 0x1F) << 6) | (p[1] & 0x3F);
  if (n == 3) return ((p[0] & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  return ((p[0] & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
}

// --- 1. TeX to plain text

// TeX symbols that abstracts use around numbers, as the characters they print.
const char* Symbol(std::string_view name) {
  static const std::pair<std::string_view, const char*> kSymbols[] = {
      {"times", "×"},      {"sim", "~"},  {"approx", "≈"}, {"simeq", "≈"}, {"le", "≤"},
      {"leq", "≤"},        {"ge", "≥"},   {"geq", "≥"},    {"pm", "±"},    {"cdot", "·"},
      {"ldots", "…"},      {"dots", "…"}, {"cdots", "…"},  {"infty", "∞"}, {"to", "→"},
      {"rightarrow", "→"}, {"mu", "µ"},   {"ll", "≪"},     {"gg", "≫"},    {"textasciitilde", "~"},
  };
  for (const auto& [n, text] : kSymbols) {
    if (n == name) return text;
  }
  return nullptr;
}

// Commands whose argument is printed as is (\mathbf{2.6\times} -> "2.6×").
bool IsFontCommand(std::string_view name) {
  static const std::set<std::string_view> kFonts = {
      "mathbf",       "mathrm",     "mathit", "mathsf", "mathtt",     "mathcal",
      "mathbb",       "boldsymbol", "bm",     "text",   "textbf",     "textit",
      "textrm",       "texttt",     "textsf", "textsc", "emph",       "underline",
      "operatorname", "mbox",       "hbox",   "url",    "textnormal", "textup"};
  return kFonts.count(name) > 0;
}

// Commands that print nothing.
bool IsSilentCommand(std::string_view name) {
  static const std::set<std::string_view> kSilent = {
      "left",  "right",  "big",          "Big",       "bigg",        "Bigg",     "bigl", "bigr",
      "Bigl",  "Bigr",   "bf",           "it",        "rm",          "tt",       "sf",   "small",
      "large", "limits", "displaystyle", "textstyle", "scriptstyle", "nolimits", "quad", "qquad"};
  return kSilent.count(name) > 0;
}

}  // namespace

std::string PlainText(std::string_view tex) {
  static const std::regex kFrac(R"(\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\})");
  const std::string s = std::regex_replace(std::string(tex), kFrac, "$1/$2");
  std::string out;
  bool math = false;
  std::vector<bool> close_printed;  // per open brace: whether its '}' is printed
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '$') {
      math = !math;
      ++i;
      continue;
    }
    if (c == '\\') {
      size_t j = i + 1;
      while (j < s.size() && IsAlpha(s[j])) ++j;
      if (j == i + 1) {  // a control symbol: \% \& \_ \, ...
        if (j < s.size()) {
          const char d = s[j];
          if (std::string_view("%&_$#{}").find(d) != std::string_view::npos) {
            out += d;
          } else if (std::string_view("\\,;: ").find(d) != std::string_view::npos) {
            out += ' ';
          }
          i = j + 1;
        } else {
          ++i;
        }
        continue;
      }
      const std::string_view name(s.data() + i + 1, j - i - 1);
      i = j;
      if (const char* symbol = Symbol(name)) {
        out += symbol;
      } else if (IsFontCommand(name)) {
        size_t k = i;
        while (k < s.size() && s[k] == ' ') ++k;
        if (k < s.size() && s[k] == '{') {
          close_printed.push_back(false);
          i = k + 1;
        }
      } else if (!IsSilentCommand(name)) {
        out += name;  // \alpha -> "alpha": unknown commands keep their name as a word
      }
      continue;
    }
    if (c == '{') {
      close_printed.push_back(!math);
      if (!math) out += c;
      ++i;
      continue;
    }
    if (c == '}') {
      if (!close_printed.empty()) {
        if (close_printed.back()) out += c;
        close_printed.pop_back();
      } else if (!math) {
        out += c;
      }
      ++i;
      continue;
    }
    if (math && c == '_') {  // H$_2$O -> H2O
      ++i;
      continue;
    }
    if (!math && StartsWithAt(s, i, "---")) {
      out += "—";
      i += 3;
      continue;
    }
    if (!math && StartsWithAt(s, i, "--")) {
      out += "–";
      i += 2;
      continue;
    }
    out += c;
    ++i;
  }
  return CollapseWhitespace(out);
}

// --- 2. sentences

namespace {

bool IsAbbreviation(std::string_view s, size_t start, size_t dot) {
  size_t b = dot;
  while (b > start && s[b - 1] != ' ' && s[b - 1] != '(' && s[b - 1] != '[') --b;
  const std::string word = LowerAscii(s.substr(b, dot - b));
  static const std::set<std::string> kAbbreviations = {
      "e.g", "i.e",    "al",   "etc", "vs", "cf",  "fig",  "figs", "eq", "eqs", "sec",
      "no",  "approx", "resp", "dr",  "mr", "mrs", "ms",   "prof", "st", "inc", "ltd",
      "jr",  "sr",     "seq",  "viz", "ca", "ref", "refs", "tab",  "ch", "vol", "u.s"};
  if (kAbbreviations.count(word)) return true;
  return word.size() == 1 && IsAlpha(word[0]) && std::isupper(static_cast<unsigned char>(s[b]));
}

}  // namespace

std::vector<std::string> SplitSentences(std::string_view s) {
  std::vector<std::string> out;
  auto push = [&](size_t from, size_t to) {
    std::string sentence = CollapseWhitespace(s.substr(from, to - from));
    if (!sentence.empty()) out.push_back(std::move(sentence));
  };
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c != '.' && c != '!' && c != '?') continue;
    size_t j = i + 1;
    while (j < s.size() && (s[j] == '"' || s[j] == ')' || s[j] == '\'')) ++j;
    if (StartsWithAt(s, j, "”")) j += std::string_view("”").size();
    if (j >= s.size()) break;
    if (s[j] != ' ') continue;  // "2.6", "e.g.," and the like
    size_t k = j;
    while (k < s.size() && s[k] == ' ') ++k;
    if (k >= s.size()) break;
    const unsigned char next = static_cast<unsigned char>(s[k]);
    const bool opens = std::isupper(next) || IsDigit(static_cast<char>(next)) || next == '"' ||
                       next == '(' || next == '[' || next >= 0x80;
    if (!opens) continue;
    if (c == '.' && IsAbbreviation(s, start, i)) continue;
    push(start, j);
    start = k;
    i = k - 1;
  }
  if (start < s.size()) push(start, s.size());
  return out;
}

// --- 3. quantities

namespace {

// A unit that may follow an absolute figure. Short symbols are case-sensitive, words are not.
bool IsUnitWord(std::string_view word) {
  static const std::set<std::string_view> kSymbols = {
      "ms",     "s",      "us",     "µs",     "ns",   "h",     "KB",    "MB",     "GB",
      "TB",     "KiB",    "MiB",    "GiB",    "TiB",  "FLOPs", "FLOPS", "TFLOPs", "TFLOPS",
      "GFLOPs", "GFLOPS", "PFLOPs", "PFLOPS", "TOPS", "W",     "kW",    "J",      "kJ",
      "mJ",     "Wh",     "kWh",    "QPS",    "fps",  "FPS",   "tok"};
  static const std::set<std::string_view> kWords = {
      "sec",    "secs",     "second", "seconds", "min",    "mins",    "minute", "minutes",
      "hour",   "hours",    "hrs",    "day",     "days",   "week",    "weeks",  "month",
      "months", "year",     "years",  "tokens",  "token",  "points",  "point",  "pts",
      "bytes",  "requests", "req",    "queries", "images", "samples", "frames"};
  if (kSymbols.count(word)) return true;
  return kWords.count(LowerAscii(word)) > 0;
}

double Magnitude(std::string_view word) {
  if (word == "K" || word == "k" || word == "thousand") return 1e3;
  if (word == "M" || word == "million") return 1e6;
  if (word == "B" || word == "billion") return 1e9;
  if (word == "T" || word == "trillion") return 1e12;
  return 0;
}

struct Suffix {
  QuantityKind kind = QuantityKind::kFactor;
  std::string unit;
  double multiplier = 1;
  size_t end = 0;
};

size_t WordEnd(std::string_view s, size_t i) {
  while (i < s.size() && IsAlpha(s[i])) ++i;
  return i;
}

// A unit word at `i`, with a "/denominator" ("tokens/s", "s/token"); its end, or npos.
size_t UnitAt(std::string_view s, size_t i, std::string& unit) {
  size_t e = WordEnd(s, i);
  if (e == i && StartsWithAt(s, i, "µs")) e = i + std::string_view("µs").size();
  if (e == i || !IsUnitWord(s.substr(i, e - i))) return std::string_view::npos;
  if (e + 1 < s.size() && s[e] == '/' && IsAlpha(s[e + 1])) e = WordEnd(s, e + 1);
  if (e < s.size() && IsDigit(s[e])) return std::string_view::npos;
  unit = std::string(s.substr(i, e - i));
  return e;
}

// The unit after a number ending at `j`. nullopt: a bare number ("2024", "8B", "3D", "2bit").
std::optional<Suffix> ParseSuffix(std::string_view s, size_t j) {
  auto make = [](QuantityKind kind, std::string unit, size_t end, double mult = 1) {
    return Suffix{kind, std::move(unit), mult, end};
  };
  auto not_word_at = [&](size_t e) { return e >= s.size() || !IsAlnum(s[e]); };
  if (StartsWithAt(s, j, "%")) return make(QuantityKind::kPercent, "%", j + 1);
  if (StartsWithAt(s, j, "×"))
    return make(QuantityKind::kFactor, "x", j + std::string_view("×").size());
  if (j < s.size() && s[j] == '-') {
    if (StartsWithAt(s, j, "-fold") && not_word_at(j + 5))
      return make(QuantityKind::kFactor, "x", j + 5);
    return std::nullopt;  // "8-bit", "5-shot", "20-cycle": a number inside a compound word
  }
  const size_t attached_end = WordEnd(s, j);
  if (attached_end > j) {
    const std::string_view word = s.substr(j, attached_end - j);
    if (!not_word_at(attached_end)) return std::nullopt;  // "4090x2014"
    if (word == "x" || word == "X" || word == "times" || word == "fold") {
      return make(QuantityKind::kFactor, "x", attached_end);
    }
    if (word == "pp") return make(QuantityKind::kPercentagePoints, "pp", attached_end);
    std::string unit;
    if (const size_t e = UnitAt(s, j, unit); e != std::string_view::npos) {
      return make(QuantityKind::kAbsolute, unit, e);
    }
    if (const double m = Magnitude(word); m > 0 && word.size() == 1) {  // "8.1T tokens"
      if (attached_end < s.size() && s[attached_end] == ' ') {
        if (const size_t e = UnitAt(s, attached_end + 1, unit); e != std::string_view::npos) {
          return make(QuantityKind::kAbsolute, unit, e, m);
        }
      }
    }
    return std::nullopt;
  }
  if (j >= s.size() || s[j] != ' ') return std::nullopt;
  const size_t k = j + 1;
  if (StartsWithAt(s, k, "%")) return make(QuantityKind::kPercent, "%", k + 1);
  if (StartsWithAt(s, k, "×"))
    return make(QuantityKind::kFactor, "x", k + std::string_view("×").size());
  const size_t e = WordEnd(s, k);
  if (e == k) return std::nullopt;
  const std::string word = LowerAscii(s.substr(k, e - k));
  if (word == "times" || word == "fold") return make(QuantityKind::kFactor, "x", e);
  if (word == "percent") return make(QuantityKind::kPercent, "%", e);
  if (word == "pp") return make(QuantityKind::kPercentagePoints, "pp", e);
  if (word == "percentage") {
    for (std::string_view tail : {" points", " point", "-points", "-point"}) {
      if (StartsWithAt(s, e, tail) && not_word_at(e + tail.size())) {
        return make(QuantityKind::kPercentagePoints, "pp", e + tail.size());
      }
    }
    return std::nullopt;
  }
  std::string unit;
  if (const double m = Magnitude(word); m > 0 && word.size() > 1) {  // "4 million tokens"
    if (e < s.size() && s[e] == ' ') {
      if (const size_t ue = UnitAt(s, e + 1, unit); ue != std::string_view::npos) {
        return make(QuantityKind::kAbsolute, unit, ue, m);
      }
    }
    return std::nullopt;
  }
  if (const size_t ue = UnitAt(s, k, unit); ue != std::string_view::npos) {
    return make(QuantityKind::kAbsolute, unit, ue);
  }
  return std::nullopt;
}

// A number may start at `i` only after a space, an opening bracket or quote, or a comparison
// sign: never inside a name ("Llama-2", "H100", "GPT-4o"), a version or an identifier.
bool NumberMayStart(std::string_view s, size_t i) {
  if (i >= s.size() || !IsDigit(s[i])) return false;
  const char32_t p = PrevCodePoint(s, i);
  switch (p) {
    case 0:
    case ' ':
    case '(':
    case '[':
    case '{':
    case '~':
    case '>':
    case '<':
    case '"':
    case '\'':
    case '$':
    case '+':
    case '=':
    case U'∼':
    case U'≈':
    case U'≥':
    case U'≤':
    case U'“':
    case U'‘':
    case U'—':
    case U'±':
      return true;
    case '-':
    case U'–':
    case U'−':
      return i < 2 || s[i - 2] == ' ';
    default:
      return false;
  }
}

// Parses the number at `i` ("42,000", "22.2"); its end, or npos.
size_t ParseNumber(std::string_view s, size_t i, double& value) {
  size_t j = i;
  while (j < s.size() && IsDigit(s[j])) ++j;
  if (j == i) return std::string_view::npos;
  std::string digits(s.substr(i, j - i));
  // Thousands separators: ",ddd" groups after at most three digits ("1,500", not "29,29").
  if (j - i <= 3) {
    while (j + 3 < s.size() + 0 && s[j] == ',' && IsDigit(s[j + 1]) && IsDigit(s[j + 2]) &&
           IsDigit(s[j + 3]) && (j + 4 >= s.size() || !IsDigit(s[j + 4]))) {
      digits += s.substr(j + 1, 3);
      j += 4;
    }
  }
  if (j + 1 < s.size() && s[j] == '.' && IsDigit(s[j + 1])) {
    const size_t f = j + 1;
    j = f;
    while (j < s.size() && IsDigit(s[j])) ++j;
    digits += "." + std::string(s.substr(f, j - f));
  }
  value = std::strtod(digits.c_str(), nullptr);
  return j;
}

// The connector of a range after a quantity ends at `i`: "-", "–", "~", "∼", " to "; the start
// of the second number, or npos.
size_t RangeConnector(std::string_view s, size_t i, bool& word_to) {
  word_to = false;
  size_t k = i;
  if (k < s.size() && s[k] == ' ') ++k;
  size_t after = std::string_view::npos;
  for (std::string_view dash : {"-", "–", "—", "~", "∼"}) {
    if (StartsWithAt(s, k, dash)) after = k + dash.size();
  }
  if (after == std::string_view::npos && StartsWithAt(s, k, "to ") && k > i) {
    after = k + 3;
    word_to = true;
  }
  if (after == std::string_view::npos) return after;
  if (after < s.size() && s[after] == ' ') ++after;
  return after < s.size() && IsDigit(s[after]) ? after : std::string_view::npos;
}

// The lower-case word that ends just before `i` (skipping one space), and where it starts.
std::string WordBefore(std::string_view s, size_t i, size_t& begin) {
  size_t e = i;
  if (e > 0 && s[e - 1] == ' ') --e;
  size_t b = e;
  while (b > 0 && IsAlpha(s[b - 1])) --b;
  begin = b;
  return LowerAscii(s.substr(b, e - b));
}

std::string Qualifier(std::string_view s, size_t number_begin) {
  size_t i = number_begin;
  // A sign right before the number, or one space before it.
  for (std::string_view sign : {"~", "∼", "≈", ">", "<", "≥", "≤"}) {
    for (size_t gap : {size_t{0}, size_t{1}}) {
      if (i >= sign.size() + gap && s.substr(i - gap - sign.size(), sign.size()) == sign &&
          (gap == 0 || s[i - 1] == ' ')) {
        return std::string(sign);
      }
    }
  }
  size_t b1 = 0, b2 = 0;
  const std::string w1 = WordBefore(s, i, b1);
  const std::string w2 = b1 > 0 ? WordBefore(s, b1, b2) : "";
  const std::string two = w2 + " " + w1;
  static const std::set<std::string> kTwo = {
      "up to",    "more than",    "less than",  "at least",   "at most",
      "close to", "greater than", "fewer than", "as much as", "as many as"};
  static const std::set<std::string> kOne = {"over",   "around", "about",   "approximately",
                                             "nearly", "almost", "roughly", "above",
                                             "below",  "under",  "beyond",  "exceeding"};
  if (!w2.empty() && kTwo.count(two)) return two;
  if (kOne.count(w1)) return w1;
  return "";
}

}  // namespace

std::vector<Quantity> FindQuantities(std::string_view s) {
  std::vector<Quantity> out;
  size_t i = 0;
  while (i < s.size()) {
    if (!NumberMayStart(s, i)) {
      // Skip the rest of a token that cannot hold a number start ("H100", "Llama-2").
      if (IsAlnum(s[i])) {
        while (i < s.size() && (IsAlnum(s[i]) || s[i] == '.' || s[i] == ',')) {
          if ((s[i] == '.' || s[i] == ',') && (i + 1 >= s.size() || !IsDigit(s[i + 1]))) break;
          ++i;
        }
        if (i < s.size() && !IsAlnum(s[i])) ++i;
      } else {
        ++i;
      }
      continue;
    }
    double first = 0;
    const size_t e1 = ParseNumber(s, i, first);
    std::optional<Suffix> s1 = ParseSuffix(s, e1);
    size_t cursor = s1 ? s1->end : e1;
    bool word_to = false;
    Quantity q;
    q.begin = i;
    q.qualifier = Qualifier(s, i);
    if (const size_t n2 = RangeConnector(s, cursor, word_to); n2 != std::string_view::npos) {
      double second = 0;
      const size_t e2 = ParseNumber(s, n2, second);
      std::optional<Suffix> s2 = ParseSuffix(s, e2);
      const std::optional<Suffix>& suffix = s2 ? s2 : s1;
      const bool same_kind = !s1 || !s2 || s1->kind == s2->kind;
      size_t from_begin = 0;
      const bool change = word_to && WordBefore(s, i, from_begin) == "from";
      if (suffix && same_kind && (change || first <= second)) {
        q.kind = suffix->kind;
        q.unit = suffix->unit;
        q.value = second * suffix->multiplier;
        if (change) {
          q.from = first * (s1 ? s1->multiplier : suffix->multiplier);
        } else {
          q.low = first * (s1 ? s1->multiplier : suffix->multiplier);
        }
        q.end = s2 ? s2->end : e2;
        out.push_back(q);
        i = q.end;
        continue;
      }
    }
    if (s1) {
      q.kind = s1->kind;
      q.unit = s1->unit;
      q.value = first * s1->multiplier;
      q.end = s1->end;
      out.push_back(q);
      i = q.end;
      continue;
    }
    i = e1;
    while (i < s.size() && IsAlnum(s[i])) ++i;  // the rest of "8B", "3D", "2bit"
  }
  return out;
}

// --- 4. the headline claim

namespace {

struct Token {
  std::string text;  // lower case
  std::string raw;   // as written
  size_t begin = 0, end = 0;
  bool boundary = false;  // a clause boundary: , ; : ( ) — and, while, but, which, whereas
  bool strong = false;    // ; : ( ) — : the end of what "the nearest measure before" may reach
};

// Words: ASCII letters and digits with inner hyphens, dots and apostrophes ("end-to-end",
// "long-context", "0.5"), and µ. Other characters separate words; , ; : ( ) and dashes between
// spaces are tokens of their own and mark clause boundaries.
std::vector<Token> Tokenize(std::string_view s) {
  std::vector<Token> out;
  static const std::set<std::string> kBoundaryWords = {"and", "while", "whereas", "but", "which"};
  auto word_char = [&](size_t i) { return IsAlnum(s[i]) || StartsWithAt(s, i, "µ"); };
  size_t i = 0;
  while (i < s.size()) {
    if (word_char(i)) {
      size_t e = i;
      while (e < s.size()) {
        if (word_char(e)) {
          e += StartsWithAt(s, e, "µ") ? std::string_view("µ").size() : 1;
        } else if ((s[e] == '-' || s[e] == '.' || s[e] == '\'') && e + 1 < s.size() &&
                   word_char(e + 1)) {
          ++e;
        } else {
          break;
        }
      }
      Token t{LowerAscii(s.substr(i, e - i)), std::string(s.substr(i, e - i)), i, e};
      t.boundary = kBoundaryWords.count(t.text) > 0;
      out.push_back(std::move(t));
      i = e;
      continue;
    }
    size_t len = 0;
    if (std::string_view(",;:()").find(s[i]) != std::string_view::npos) {
      len = 1;
    } else if (StartsWithAt(s, i, "—") || (StartsWithAt(s, i, "–") && i > 0 && s[i - 1] == ' ')) {
      len = std::string_view("—").size();
    }
    if (len > 0) {
      Token t{std::string(s.substr(i, len)), std::string(s.substr(i, len)), i, i + len, true};
      t.strong = s[i] != ',';
      out.push_back(std::move(t));
      i += len;
      continue;
    }
    ++i;
  }
  return out;
}

// What a number measures: token sequences and the name they give the metric.
struct Measure {
  std::vector<std::string> words;
  const char* name;
};

const std::vector<Measure>& Lexicon() {
  static const std::vector<Measure> kLexicon = {
      {{"time", "to", "first", "token"}, "ttft"},
      {{"time-to-first-token"}, "ttft"},
      {{"key-value", "cache"}, "kv_cache"},
      {{"key-value", "caches"}, "kv_cache"},
      {{"kv-cache"}, "kv_cache"},
      {{"kv", "cache"}, "kv_cache"},
      {{"kv", "caches"}, "kv_cache"},
      {{"hit", "rate"}, "hit_rate"},
      {{"batch", "size"}, "batch_size"},
      {{"batch", "sizes"}, "batch_size"},
      {{"peak", "memory"}, "peak_memory"},
      {{"peak-memory"}, "peak_memory"},
      {{"memory", "footprint"}, "memory_footprint"},
      {{"memory", "usage"}, "memory_usage"},
      {{"memory", "consumption"}, "memory_consumption"},
      {{"memory", "bandwidth"}, "memory_bandwidth"},
      {{"memory", "efficiency"}, "memory_efficiency"},
      {{"bandwidth", "usage"}, "bandwidth_usage"},
      {{"cache", "size"}, "cache_size"},
      {{"context", "length"}, "context_length"},
      {{"sequence", "length"}, "sequence_length"},
      {{"error", "rate"}, "error_rate"},
      {{"success", "rate"}, "success_rate"},
      {{"win", "rate"}, "win_rate"},
      {{"compression", "ratio"}, "compression_ratio"},
      {{"compression", "rate"}, "compression_rate"},
      {{"compression", "rates"}, "compression_rate"},
      {{"speed-up"}, "speedup"},
      {{"speed-ups"}, "speedup"},
      {{"speed", "up"}, "speedup"},
      {{"ttft"}, "ttft"},
      {{"speedup"}, "speedup"},
      {{"speedups"}, "speedup"},
      {{"faster"}, "speedup"},
      {{"acceleration"}, "speedup"},
      {{"throughput"}, "throughput"},
      {{"latency"}, "latency"},
      {{"latencies"}, "latency"},
      {{"memory"}, "memory"},
      {{"accuracy"}, "accuracy"},
      {{"accurate"}, "accuracy"},
      {{"perplexity"}, "perplexity"},
      {{"error"}, "error"},
      {{"errors"}, "error"},
      {{"utilization"}, "utilization"},
      {{"cost"}, "cost"},
      {{"costs"}, "cost"},
      {{"compute"}, "compute"},
      {{"bandwidth"}, "bandwidth"},
      {{"quality"}, "quality"},
      {{"energy"}, "energy"},
      {{"flops"}, "flops"},
      {{"operations"}, "operations"},
      {{"speed"}, "speed"},
      {{"rate"}, "rate"},
      {{"time"}, "time"},
      {{"size"}, "size"},
      {{"recall"}, "recall"},
      {{"precision"}, "precision"},
      {{"score"}, "score"},
      {{"scores"}, "score"},
      {{"gap"}, "gap"},
      {{"efficiency"}, "efficiency"},
      {{"storage"}, "storage"},
      {{"success"}, "success"},
      {{"overhead"}, "overhead"},
      {{"performance"}, "performance"},
      {{"compression"}, "compression"},
  };
  return kLexicon;
}

// Words that end the run of words right after a number ("3x speedup over FP16"): prepositions
// and conjunctions. What follows them is context, not what was measured.
bool EndsRun(const std::string& w) {
  static const std::set<std::string> kWords = {
      "of",       "in",       "on",     "over",    "for",      "to",     "at",      "by",
      "with",     "from",     "than",   "when",    "while",    "across", "under",   "without",
      "compared", "relative", "versus", "vs",      "against",  "using",  "per",     "into",
      "as",       "after",    "before", "during",  "within",   "among",  "through", "via",
      "if",       "because",  "since",  "whereas", "although", "the",    "a",       "an",
      "is",       "are",      "was",    "were",    "can",      "could",  "may",     "will",
      "would",    "also",     "it",     "we",      "they"};
  return kWords.count(w) > 0;
}

// Whether a token may be part of a metric's name, as a word before the measure ("maximum
// generation throughput", "question-answering accuracy"): not a function word, a verb that
// introduces a measure, an evaluative adjective, a direction, a number or a proper name.
bool CanModify(const Token& t) {
  static const std::set<std::string> kNot = {
      "the", "a", "an", "of", "in", "on", "for", "to", "by", "with", "and", "or", "its", "their",
      "our", "his", "her", "this", "that", "these", "those", "same", "only", "up", "than", "as",
      "at", "from", "into", "per", "while", "using", "when", "both", "all", "each", "any", "no",
      "not", "is", "are", "be", "been", "was", "were", "can", "could", "may", "might", "will",
      "would", "also", "further", "much", "very", "it", "we", "they", "them", "over", "under",
      "without", "compared", "versus", "vs", "against", "across", "which", "whose", "where",
      // verbs that introduce a measure
      "improves", "improve", "improved", "improving", "reduces", "reduce", "reduced", "reducing",
      "achieves", "achieve", "achieved", "achieving", "boosts", "boost", "boosting", "raises",
      "raise", "reaches", "reach", "reaching", "yields", "yield", "brings", "bringing", "saves",
      "save", "saving", "enables", "enable", "delivers", "deliver", "offers", "offer", "provides",
      "provide", "shows", "show", "showcases", "demonstrates", "demonstrate", "has", "have",
      "obtains", "obtain", "attains", "attain", "increases", "increase", "decreases", "decrease",
      "lowers", "cuts", "cut", "uses", "use", "maintains", "maintain", "keeps", "keep",
      "outperforms", "matches", "exceeds", "surpasses", "incurs", "incur", "gets", "get", "gives",
      "give", "requires", "require", "enhances", "enhance", "enhanced", "enhancing", "facilitates",
      "facilitate", "experiences", "experience", "sees", "see", "exhibits", "exhibit", "records",
      "reports", "supports", "support", "sustains", "sustain", "needs", "need", "accelerates",
      "accelerate", "accelerating", "speeds", "process", "processing", "manipulating", "remains",
      // evaluative words, not part of what is measured
      "remarkable", "significant", "substantial", "notable", "impressive", "considerable",
      "dramatic", "competitive", "comparable", "similar", "high", "low", "strong", "good",
      "excellent", "superior", "exceptional", "outstanding", "negligible", "minimal", "consistent",
      "new", "total", "overall", "state-of-the-art", "near-lossless", "lossless", "stable",
      "efficient", "comparable", "better", "best",
      // directions
      "less", "lower", "fewer", "smaller", "higher", "larger", "more", "greater", "worse"};
  const std::string& w = t.text;
  if (t.boundary || kNot.count(w)) return false;
  if (w.size() > 3 && w.compare(w.size() - 2, 2, "ly") == 0) return false;  // significantly
  if (std::any_of(w.begin(), w.end(), [](char c) { return IsDigit(c); })) return false;
  // Proper names ("ViT-L", "LongBench", "Kosmos") name a system, not a quantity; short
  // acronyms written in capitals ("KV", "LLM", "GPU") are part of the name of a quantity.
  const bool has_upper =
      std::any_of(t.raw.begin(), t.raw.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  const bool has_lower =
      std::any_of(t.raw.begin(), t.raw.end(), [](char c) { return c >= 'a' && c <= 'z'; });
  if (has_upper && (has_lower || t.raw.size() > 4)) return false;
  return true;
}

bool HasWordPrefix(const std::vector<Token>& tokens, size_t from, size_t to,
                   std::initializer_list<std::string_view> prefixes,
                   std::initializer_list<std::string_view> words) {
  for (size_t t = from; t < to && t < tokens.size(); ++t) {
    const std::string& w = tokens[t].text;
    for (std::string_view p : prefixes) {
      if (w.compare(0, p.size(), p) == 0) return true;
    }
    for (std::string_view x : words) {
      if (w == x) return true;
    }
  }
  return false;
}

bool ContainsPhrase(const std::string& lower, std::string_view phrase) {
  size_t at = 0;
  while ((at = lower.find(phrase, at)) != std::string::npos) {
    const bool start = at == 0 || !IsAlnum(lower[at - 1]);
    const size_t e = at + phrase.size();
    const bool end = e >= lower.size() || !IsAlnum(lower[e]);
    if (start && end) return true;
    ++at;
  }
  return false;
}

// "we (1) propose" reads as "we propose".
std::string WithoutEnumerators(const std::string& lower) {
  static const std::regex kEnumerator(R"(\(\s*(?:\d+|[ivx]+|[a-h])\s*\)\s*)");
  return std::regex_replace(lower, kEnumerator, "");
}

bool IsContribution(const std::string& sentence) {
  const std::string lower = WithoutEnumerators(LowerAscii(sentence));
  static const std::string_view kPhrases[] = {"we propose",
                                              "we introduce",
                                              "we present",
                                              "we develop",
                                              "we design",
                                              "we build",
                                              "we describe",
                                              "we put forward",
                                              "this paper proposes",
                                              "this paper presents",
                                              "this paper introduces",
                                              "this work proposes",
                                              "this work presents",
                                              "this work introduces",
                                              "in this paper, we",
                                              "in this work, we",
                                              "here we present",
                                              "here we introduce",
                                              "here, we",
                                              "this study proposes",
                                              "this study presents",
                                              "this study introduces",
                                              "is introduced",
                                              "is proposed",
                                              "are proposed",
                                              "is presented"};
  return std::any_of(std::begin(kPhrases), std::end(kPhrases),
                     [&](std::string_view p) { return ContainsPhrase(lower, p); });
}

bool IsReporting(const std::string& sentence) {
  const std::string lower = LowerAscii(sentence);
  static const std::string_view kPhrases[] = {"we show",
                                              "we demonstrate",
                                              "we find",
                                              "we found",
                                              "we observe",
                                              "we validate",
                                              "we verify",
                                              "we confirm",
                                              "we report",
                                              "our results",
                                              "results show",
                                              "results demonstrate",
                                              "experiments show",
                                              "experiments demonstrate",
                                              "evaluations show",
                                              "evaluation shows",
                                              "experimental results",
                                              "empirically",
                                              "extensive experiments",
                                              "our evaluation",
                                              "our evaluations",
                                              "our experiments",
                                              "demonstrate that",
                                              "show that"};
  return std::any_of(std::begin(kPhrases), std::end(kPhrases),
                     [&](std::string_view p) { return ContainsPhrase(lower, p); });
}

// Sentences that set the scene or state a problem rather than report the paper's result.
bool IsBackground(const std::string& sentence) {
  const std::string lower = LowerAscii(sentence);
  static const std::string_view kOpeners[] = {
      "however",     "yet",           "but",      "although", "while",
      "despite",     "unfortunately", "existing", "prior",    "previous",
      "traditional", "conventional",  "current",  "recent",   "nevertheless"};
  const bool opener =
      std::any_of(std::begin(kOpeners), std::end(kOpeners), [&](std::string_view w) {
        return lower.compare(0, w.size(), w) == 0 &&
               (lower.size() == w.size() || !IsAlnum(lower[w.size()]));
      });
  static const std::string_view kProblems[] = {
      "fails to",       "fail to",    "still need", "still needs", "still require",
      "still requires", "struggle",   "struggles",  "suffer",      "suffers",
      "yet to",         "is limited", "are limited"};
  return opener || std::any_of(std::begin(kProblems), std::end(kProblems),
                               [&](std::string_view p) { return ContainsPhrase(lower, p); });
}

bool HasResultCue(const std::vector<Token>& tokens) {
  return HasWordPrefix(tokens, 0, tokens.size(),
                       {"improv", "outperform", "reduc", "boost", "achiev", "reach", "accelerat",
                        "compress", "increas", "decreas", "surpass", "exceed", "speedup", "accura"},
                       {"faster",  "throughput", "latency", "lower", "higher", "less",     "fewer",
                        "smaller", "larger",     "saves",   "save",  "saving", "savings",  "gain",
                        "gains",   "better",     "yields",  "yield", "brings", "bringing", "beats",
                        "beat",    "cut",        "cuts",    "speed"});
}

int KindWeight(QuantityKind k) {
  switch (k) {
    case QuantityKind::kFactor:
      return 4;
    case QuantityKind::kPercent:
    case QuantityKind::kPercentagePoints:
      return 2;
    case QuantityKind::kAbsolute:
      return 1;
  }
  return 0;
}

std::string UnitSuffix(const Quantity& q) {
  switch (q.kind) {
    case QuantityKind::kFactor:
      return "x";
    case QuantityKind::kPercent:
      return "pct";
    case QuantityKind::kPercentagePoints:
      return "pp";
    case QuantityKind::kAbsolute:
      break;
  }
  std::string out;
  for (char c : q.unit) {
    if (c == '/') {
      out += "_per_";
    } else if (IsAlnum(c)) {
      out += Lower(c);
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  return out.empty() ? "value" : out;
}

struct MeasureMatch {
  const Measure* measure = nullptr;
  size_t first = 0, last = 0;  // token range [first, last)
};

bool MatchesAt(const std::vector<Token>& tokens, size_t t, const Measure& m) {
  if (t + m.words.size() > tokens.size()) return false;
  for (size_t k = 0; k < m.words.size(); ++k) {
    if (tokens[t + k].text != m.words[k]) return false;
  }
  return true;
}

// The longest measure that ends at token `last` - 1 and starts at or after `floor`.
std::optional<MeasureMatch> MeasureEndingAt(const std::vector<Token>& tokens, size_t last,
                                            size_t floor) {
  std::optional<MeasureMatch> best;
  for (const Measure& m : Lexicon()) {
    if (m.words.size() > last || last - m.words.size() < floor) continue;
    const size_t first = last - m.words.size();
    if (MatchesAt(tokens, first, m) && (!best || m.words.size() > best->last - best->first)) {
      best = MeasureMatch{&m, first, last};
    }
  }
  return best;
}

// The measure in tokens [from, to) that ends last: the head of a noun phrase ("KV cache
// compression ratio" names a compression ratio).
std::optional<MeasureMatch> LastMeasureIn(const std::vector<Token>& tokens, size_t from,
                                          size_t to) {
  for (size_t last = to; last > from; --last) {
    if (auto m = MeasureEndingAt(tokens, last, from)) return m;
  }
  return std::nullopt;
}

// The words right after token `t` up to the first preposition, conjunction, boundary or
// number; at most four.
size_t RunEnd(const std::vector<Token>& tokens, size_t t) {
  size_t e = t;
  while (e < tokens.size() && e < t + 4 && !tokens[e].boundary && !EndsRun(tokens[e].text) &&
         !std::any_of(tokens[e].text.begin(), tokens[e].text.end(),
                      [](char c) { return IsDigit(c); })) {
    ++e;
  }
  return e;
}

bool IsChangeNoun(const std::string& w) {
  static const std::set<std::string> kNouns = {
      "increase", "increases", "improvement", "improvements", "reduction", "reductions",
      "gain",     "gains",     "enhancement", "decrease",     "boost",     "drop"};
  return kNouns.count(w) > 0;
}

// The metric name of quantity `q` in `sentence`: [modifiers_]measure[_direction]_unit.
std::string NameMeasure(const std::string& sentence, const Quantity& q,
                        const std::vector<Quantity>& all) {
  const std::vector<Token> tokens = Tokenize(sentence);
  // The tokens of each quantity: [first, last).
  auto token_range = [&](const Quantity& x) {
    size_t f = 0;
    while (f < tokens.size() && tokens[f].end <= x.begin) ++f;
    size_t l = f;
    while (l < tokens.size() && tokens[l].begin < x.end) ++l;
    return std::make_pair(f, l);
  };
  const auto [qi, qe] = token_range(q);
  auto quantity_starting_at = [&](size_t t) -> size_t {  // its end token, or 0
    for (const Quantity& x : all) {
      const auto [f, l] = token_range(x);
      if (f == t && l > f) return l;
    }
    return 0;
  };

  std::optional<MeasureMatch> found;
  size_t modifier_floor = 0;  // modifiers come from tokens at or after this one
  // 1. The words right after the number: "22.2x speedup", "2.6× less peak memory", "a 3.6x
  //    increase in generation speed"; over a parallel number: "20x and 8x KV cache compression".
  size_t run = qe;
  while (run + 1 < tokens.size() && (tokens[run].text == "and" || tokens[run].text == ",")) {
    const size_t next = quantity_starting_at(run + 1);
    if (next == 0) break;
    run = next;
  }
  // "90% of the KV cache": the measure follows "of".
  if (run == qe && run < tokens.size() && tokens[run].text == "of") {
    ++run;
    while (run < tokens.size() && (tokens[run].text == "the" || tokens[run].text == "all")) ++run;
  }
  size_t run_end = RunEnd(tokens, run);
  if (run_end > run && IsChangeNoun(tokens[run_end - 1].text) && run_end + 1 < tokens.size() &&
      (tokens[run_end].text == "in" || tokens[run_end].text == "of")) {
    run = run_end + 1;
    run_end = RunEnd(tokens, run);
  }
  found = LastMeasureIn(tokens, run, run_end);
  modifier_floor = run;
  const bool measure_after = found.has_value();
  // 2. The nearest measure before the number in its part of the sentence: "improves the
  //    throughput of popular LLMs by 2-4×", "reduces the KV cache by 93.3%"; of "the memory
  //    usage of the KV cache", the memory usage.
  if (!found) {
    size_t floor = qi;
    while (floor > 0 && !tokens[floor - 1].strong) --floor;
    for (size_t last = qi; last > floor && !found; --last)
      found = MeasureEndingAt(tokens, last, floor);
    if (found) {
      size_t t = found->first;
      while (t > floor && (tokens[t - 1].text == "the" || tokens[t - 1].text == "a")) --t;
      if (t > floor && tokens[t - 1].text == "of") {
        if (auto head = MeasureEndingAt(tokens, t - 1, floor)) found = head;
      }
    }
    modifier_floor = floor;
  }
  // 3. A measure the clause predicates of what the number counts: "79.4% of statements in
  //    Kosmos reports to be accurate".
  if (!found) {
    size_t clause_end = qe;
    while (clause_end < tokens.size() && !tokens[clause_end].boundary) ++clause_end;
    for (size_t t = qe + 1; t < clause_end && !found; ++t) {
      const std::string& prev = tokens[t - 1].text;
      if (prev != "be" && prev != "is" && prev != "are" && prev != "as") continue;
      if (auto m = LastMeasureIn(tokens, t, RunEnd(tokens, t)); m && m->first == t) found = m;
    }
    modifier_floor = qe;
  }

  std::vector<std::string> parts;
  size_t span_first = qi, span_last = qe;
  if (found) {
    std::vector<std::string> modifiers;
    size_t t = found->first;
    while (t > modifier_floor && modifiers.size() < 2 && CanModify(tokens[t - 1]) &&
           !(t - 1 >= qi && t - 1 < qe)) {
      --t;
      std::string w;
      for (char c : tokens[t].text) w += IsAlnum(c) ? c : '_';
      modifiers.insert(modifiers.begin(), w);
    }
    parts = modifiers;
    parts.emplace_back(found->measure->name);
    span_first = std::min(span_first, t);
    span_last = std::max(span_last, found->last);
  } else {
    parts.emplace_back("headline");
  }

  // Direction: a reduction reads differently from a level ("reduces the KV cache by 93.3%").
  // Its words are looked for in the span of the number and its measure, in a few words before
  // it within the clause, and in one noun right after ("2x memory reduction").
  // A measure named after the number has its direction right there ("2.6× less peak memory");
  // one named before it, in the verb that governs it ("reduces the KV cache by 93.3%").
  const size_t reach = measure_after ? 2 : 6;
  size_t window_first = span_first;
  while (window_first > 0 && span_first - window_first < reach &&
         !tokens[window_first - 1].boundary) {
    --window_first;
  }
  size_t window_last = span_last;
  if (window_last < tokens.size() && IsChangeNoun(tokens[window_last].text)) ++window_last;
  const std::string_view name = found ? std::string_view(found->measure->name) : "";
  const bool reduction =
      name.find("compression") == std::string_view::npos &&
      HasWordPrefix(tokens, window_first, window_last, {"reduc", "decreas", "shrink", "compress"},
                    {"less", "lower", "fewer", "smaller", "saves", "save", "saving", "savings",
                     "cut", "cuts", "drop", "drops"});
  const bool gain = !reduction && q.kind == QuantityKind::kPercent && !q.from && !q.low &&
                    HasWordPrefix(tokens, window_first, window_last,
                                  {"improv", "increas", "boost", "rais", "enhanc"},
                                  {"higher", "more", "gain", "gains", "better"});
  if (reduction) parts.emplace_back("reduction");
  if (gain) parts.emplace_back("gain");
  parts.push_back(UnitSuffix(q));
  std::string out;
  for (const std::string& p : parts) {
    for (char c : p) {
      if (c == '_' && (out.empty() || out.back() == '_')) continue;
      out += c;
    }
    if (!out.empty() && out.back() != '_') out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

bool IsLowerBound(const std::string& qualifier) {
  return qualifier == "more than" || qualifier == "over" || qualifier == "at least" ||
         qualifier == "greater than" || qualifier == ">" || qualifier == "≥" ||
         qualifier == "above" || qualifier == "exceeding" || qualifier == "beyond";
}

}  // namespace

const char* RuleName(HeadlineClaim::Rule rule) {
  switch (rule) {
    case HeadlineClaim::Rule::kQuantitative:
      return "quantitative";
    case HeadlineClaim::Rule::kContribution:
      return "contribution";
    case HeadlineClaim::Rule::kFirstSentence:
      return "first-sentence";
  }
  return "?";
}

HeadlineClaim ExtractHeadlineClaim(std::string_view abstract) {
  const std::vector<std::string> sentences = SplitSentences(PlainText(abstract));
  HeadlineClaim claim;
  if (sentences.empty()) return claim;
  size_t contribution = sentences.size();
  for (size_t i = 0; i < sentences.size(); ++i) {
    if (IsContribution(sentences[i])) {
      contribution = i;
      break;
    }
  }

  // A sentence needs this score to carry the headline: a factor, a percentage, or an absolute
  // figure in words of a result; a bare figure ("up to 10 million tokens") sets a scene.
  constexpr int kMinScore = 2;
  int best_score = kMinScore - 1;
  size_t best = sentences.size();
  std::vector<Quantity> best_quantities;
  for (size_t i = 0; i < sentences.size(); ++i) {
    std::vector<Quantity> quantities = FindQuantities(sentences[i]);
    if (quantities.empty()) continue;
    int weight = 0;
    for (const Quantity& q : quantities) weight = std::max(weight, KindWeight(q.kind));
    const std::vector<Token> tokens = Tokenize(sentences[i]);
    const bool background =
        (contribution < sentences.size() && i < contribution) || IsBackground(sentences[i]);
    const int score = weight + (HasResultCue(tokens) ? 2 : 0) +
                      (IsReporting(sentences[i]) ? 1 : 0) - (background ? 3 : 0);
    if (score > best_score) {  // ties: the earlier sentence
      best_score = score;
      best = i;
      best_quantities = std::move(quantities);
    }
  }

  if (best == sentences.size()) {
    const bool has_contribution = contribution < sentences.size();
    claim.rule =
        has_contribution ? HeadlineClaim::Rule::kContribution : HeadlineClaim::Rule::kFirstSentence;
    claim.statement = sentences[has_contribution ? contribution : 0];
    claim.measure = "contribution";
    return claim;
  }

  const Quantity* q = &best_quantities.front();
  for (const Quantity& candidate : best_quantities) {
    if (KindWeight(candidate.kind) > KindWeight(q->kind)) q = &candidate;
  }
  claim.rule = HeadlineClaim::Rule::kQuantitative;
  claim.statement = sentences[best];
  claim.measure = NameMeasure(sentences[best], *q, best_quantities);
  claim.unit = q->unit;
  if (q->low) {
    claim.between = std::make_pair(*q->low, q->value);
  } else {
    claim.value = q->value;
    if (IsLowerBound(q->qualifier)) claim.at_least = q->value;
  }
  return claim;
}

}  // namespace ahub::hub
