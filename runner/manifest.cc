#include "runner/manifest.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "runner/builtins.h"
#include "runner/json_pointer.h"
#include "runner/sha256.h"

namespace ahub {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// YAML scalars resolve by the YAML 1.2 core schema, as JSON Schema validators see the document
// (so `version: "1"` is a string and `arxiv: 2309.17453` a float).
enum class ScalarType { kNull, kBool, kInt, kFloat, kString };

ScalarType Resolve(const YAML::Node& n) {
  const std::string& tag = n.Tag();
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return ScalarType::kString;
  if (tag == "tag:yaml.org,2002:int") return ScalarType::kInt;
  if (tag == "tag:yaml.org,2002:float") return ScalarType::kFloat;
  if (tag == "tag:yaml.org,2002:bool") return ScalarType::kBool;
  if (tag == "tag:yaml.org,2002:null") return ScalarType::kNull;
  static const std::regex kNull("~|null|Null|NULL|");
  static const std::regex kBool("true|True|TRUE|false|False|FALSE");
  static const std::regex kInt("[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+");
  static const std::regex kFloat(
      "[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)");
  const std::string& s = n.Scalar();
  if (std::regex_match(s, kNull)) return ScalarType::kNull;
  if (std::regex_match(s, kBool)) return ScalarType::kBool;
  if (std::regex_match(s, kInt)) return ScalarType::kInt;
  if (std::regex_match(s, kFloat)) return ScalarType::kFloat;
  return ScalarType::kString;
}

std::optional<double> NumberOf(const YAML::Node& n) {
  if (!n.IsScalar()) return std::nullopt;
  const ScalarType t = Resolve(n);
  std::string s = n.Scalar();
  if (t == ScalarType::kInt) {
    int base = 10;
    if (s.rfind("0o", 0) == 0) base = 8;
    if (s.rfind("0x", 0) == 0) base = 16;
    if (base != 10) s = s.substr(2);
    if (!s.empty() && s[0] == '+') s = s.substr(1);
    long long v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
    if (ec == std::errc() && p == s.data() + s.size()) return static_cast<double>(v);
    return std::strtod(n.Scalar().c_str(), nullptr);  // out of range: keep the magnitude
  }
  if (t == ScalarType::kFloat) {
    if (s.find("inf") != std::string::npos || s.find("Inf") != std::string::npos ||
        s.find("INF") != std::string::npos) {
      return s[0] == '-' ? -INFINITY : INFINITY;
    }
    if (s.find("nan") != std::string::npos || s.find("NaN") != std::string::npos ||
        s.find("NAN") != std::string::npos) {
      return NAN;
    }
    if (!s.empty() && s[0] == '+') s = s.substr(1);
    double v = 0;
    std::from_chars(s.data(), s.data() + s.size(), v);
    return v;
  }
  return std::nullopt;
}

std::string Describe(const YAML::Node& n) {
  if (!n.IsDefined() || n.IsNull()) return "null";
  if (n.IsMap()) return "a mapping";
  if (n.IsSequence()) return "a list";
  switch (Resolve(n)) {
    case ScalarType::kNull:
      return "null";
    case ScalarType::kBool:
      return "a boolean (" + n.Scalar() + ")";
    case ScalarType::kInt:
      return "an integer (" + n.Scalar() + ")";
    case ScalarType::kFloat:
      return "a number (" + n.Scalar() + ")";
    case ScalarType::kString:
      break;
  }
  return "the string \"" + n.Scalar() + "\"";
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool ValidDate(const std::string& s) {
  static const std::regex kDate("([0-9]{4})-([0-9]{2})-([0-9]{2})");
  std::smatch m;
  if (!std::regex_match(s, m, kDate)) return false;
  const std::chrono::year_month_day ymd{std::chrono::year(std::stoi(m[1])),
                                        std::chrono::month(std::stoul(m[2])),
                                        std::chrono::day(std::stoul(m[3]))};
  return ymd.ok();
}

bool SafeRelativePath(const std::string& p) {
  if (p.empty() || p[0] == '/') return false;
  for (const auto& part : fs::path(p)) {
    if (part == "..") return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Checker walks the YAML tree, reading values into the model and recording every problem with
// its location. Each method returns the value when it is acceptable, nullopt otherwise.
class Checker {
 public:
  std::vector<Diagnostic> diags;

  void Error(const YAML::Node& at, const std::string& path, const std::string& msg) {
    Diagnostic d;
    if (at.IsDefined()) {
      const YAML::Mark m = at.Mark();
      if (m.line >= 0) {
        d.line = m.line + 1;
        d.column = m.column + 1;
      }
    }
    d.path = path;
    d.message = msg;
    diags.push_back(std::move(d));
  }

  // Checks that `n` is a mapping whose keys are all in `allowed` (or x- extensions) and that
  // each of `required` is present. Duplicate keys are refused: YAML parsers disagree on them.
  bool Map(const YAML::Node& n, const std::string& path, const std::set<std::string>& allowed,
           const std::set<std::string>& required) {
    if (!n.IsMap()) {
      Error(n, path, "expected a mapping, got " + Describe(n));
      return false;
    }
    std::set<std::string> seen;
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string key = it->first.Scalar();
      const std::string kpath = Join(path, key);
      if (!seen.insert(key).second) {
        Error(it->first, kpath, "duplicate key");
      } else if (!allowed.count(key) && key.rfind("x-", 0) != 0) {
        Error(it->first, kpath, "unknown key; accepted: " + List(allowed) + " or x-* extensions");
      }
    }
    for (const std::string& key : required) {
      if (!n[key].IsDefined()) Error(n, Join(path, key), "required field is missing");
    }
    return true;
  }

  std::optional<std::string> String(const YAML::Node& n, const std::string& path,
                                    size_t max_len = 0) {
    if (!n.IsScalar() || Resolve(n) != ScalarType::kString) {
      Error(n, path, "expected a string, got " + Describe(n));
      return std::nullopt;
    }
    if (max_len && CodePoints(n.Scalar()) > max_len) {
      Error(n, path, "too long (" + std::to_string(CodePoints(n.Scalar())) +
                         " characters); accepted: at most " + std::to_string(max_len));
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::optional<std::string> NonEmpty(const YAML::Node& n, const std::string& path,
                                      size_t max_len = 0) {
    auto s = String(n, path, max_len);
    if (s && s->find_first_not_of(" \t\r\n") == std::string::npos) {
      Error(n, path, "must not be empty");
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::string> Matching(const YAML::Node& n, const std::string& path,
                                      const std::regex& re, const std::string& accepted) {
    auto s = String(n, path);
    if (s && !std::regex_match(*s, re)) {
      Error(n, path, "\"" + *s + "\" is not accepted; accepted: " + accepted);
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::string> OneOf(const YAML::Node& n, const std::string& path,
                                   const std::set<std::string>& values) {
    auto s = String(n, path);
    if (s && !values.count(*s)) {
      Error(n, path, "\"" + *s + "\" is not accepted; accepted: " + List(values));
      return std::nullopt;
    }
    return s;
  }

  std::optional<double> Number(const YAML::Node& n, const std::string& path) {
    auto v = NumberOf(n);
    if (!v) {
      Error(n, path, "expected a number, got " + Describe(n));
      return std::nullopt;
    }
    if (!std::isfinite(*v)) {
      Error(n, path, "expected a finite number, got " + n.Scalar());
      return std::nullopt;
    }
    return v;
  }

  // JSON Schema's "integer" accepts any number with a zero fraction (1.0), so this does too.
  std::optional<long long> Integer(const YAML::Node& n, const std::string& path, long long lo,
                                   long long hi) {
    auto v = NumberOf(n);
    if (!v || !std::isfinite(*v) || std::floor(*v) != *v) {
      Error(n, path, "expected an integer, got " + Describe(n));
      return std::nullopt;
    }
    if (*v < static_cast<double>(lo) || *v > static_cast<double>(hi)) {
      Error(n, path, n.Scalar() + " is out of range; accepted: an integer from " +
                         std::to_string(lo) + " to " + std::to_string(hi));
      return std::nullopt;
    }
    return static_cast<long long>(*v);
  }

  std::optional<bool> Bool(const YAML::Node& n, const std::string& path) {
    if (!n.IsScalar() || Resolve(n) != ScalarType::kBool) {
      Error(n, path, "expected true or false, got " + Describe(n));
      return std::nullopt;
    }
    return n.Scalar()[0] == 't' || n.Scalar()[0] == 'T';
  }

  bool Sequence(const YAML::Node& n, const std::string& path, size_t min_items) {
    if (!n.IsSequence()) {
      Error(n, path, "expected a list, got " + Describe(n));
      return false;
    }
    if (n.size() < min_items) {
      Error(n, path, "expected at least " + std::to_string(min_items) + " item(s)");
      return false;
    }
    return true;
  }

  // A list of unique strings each matching `re`.
  std::vector<std::string> UniqueStrings(const YAML::Node& n, const std::string& path,
                                         size_t min_items, const std::regex& re,
                                         const std::string& accepted) {
    std::vector<std::string> out;
    if (!Sequence(n, path, min_items)) return out;
    std::set<std::string> seen;
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string ipath = Index(path, i);
      auto s = Matching(n[i], ipath, re, accepted);
      if (!s) continue;
      if (!seen.insert(*s).second) {
        Error(n[i], ipath, "\"" + *s + "\" is listed twice; items must be unique");
        continue;
      }
      out.push_back(*s);
    }
    return out;
  }

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }
  static std::string Index(const std::string& path, size_t i) {
    return path + "[" + std::to_string(i) + "]";
  }
  static std::string List(const std::set<std::string>& s) {
    std::string out;
    for (const auto& k : s) out += (out.empty() ? "" : ", ") + k;
    return out;
  }
};

const std::regex kIdRe("[a-z0-9][a-z0-9-]{2,63}");
const std::regex kLocalIdRe("[a-z0-9][a-z0-9_-]{0,63}");
const std::regex kCategoryRe("[a-z-]+(\\.[A-Za-z-]+)?");
const std::regex kTagRe("[a-z0-9][a-z0-9-]{0,63}");
const std::regex kOrcidRe("[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X]");
const std::regex kArxivRe("[0-9]{4}\\.[0-9]{4,5}(v[0-9]+)?");
const std::regex kMetricRe("[a-z0-9_]+(\\.[a-z0-9_]+)*");
const std::regex kConditionKeyRe("[a-z0-9_]+");
const std::regex kSha256Re("[0-9a-f]{64}");

constexpr size_t kTitleMax = 300;
constexpr size_t kSummaryMax = 5000;
constexpr size_t kStatementMax = 2000;

class ManifestReader {
 public:
  ManifestReader(Checker& c, fs::path dir) : c_(c), dir_(std::move(dir)) {}

  Package Read(const YAML::Node& root) {
    Package p;
    if (!c_.Map(root, "",
                {"format", "id", "version", "title", "summary", "categories", "tags", "authors",
                 "published", "license", "provenance", "relations", "environment", "experiments",
                 "claims", "recorded"},
                {"format", "id", "version", "title", "summary", "categories", "authors",
                 "published", "provenance", "claims"})) {
      return p;
    }
    if (auto f = root["format"]; f.IsDefined()) {
      auto s = c_.String(f, "format");
      if (s && *s != kFormatTag) {
        c_.Error(f, "format", "\"" + *s + "\" is not supported; accepted: " + kFormatTag);
      }
    }
    Read(root["id"], "id", [&](auto& n, auto& path) {
      if (auto s = c_.Matching(n, path, kIdRe, "3-64 characters of a-z, 0-9 and '-', not starting with '-'")) p.id = *s;
    });
    Read(root["version"], "version", [&](auto& n, auto& path) {
      if (auto v = c_.Integer(n, path, 1, 1'000'000'000)) p.version = static_cast<int>(*v);
    });
    Read(root["title"], "title", [&](auto& n, auto& path) {
      if (auto s = c_.NonEmpty(n, path, kTitleMax)) p.title = *s;
    });
    Read(root["summary"], "summary", [&](auto& n, auto& path) {
      if (auto s = c_.NonEmpty(n, path, kSummaryMax)) p.summary = *s;
    });
    Read(root["categories"], "categories", [&](auto& n, auto& path) {
      p.categories = c_.UniqueStrings(n, path, 1, kCategoryRe, "arXiv categories such as cs.DC or stat.ML");
    });
    Read(root["tags"], "tags", [&](auto& n, auto& path) {
      p.tags = c_.UniqueStrings(n, path, 0, kTagRe, "1-64 characters of a-z, 0-9 and '-'");
    });
    Read(root["authors"], "authors", [&](auto& n, auto& path) { ReadAuthors(n, path, p); });
    Read(root["published"], "published", [&](auto& n, auto& path) {
      auto s = c_.String(n, path);
      if (s && !ValidDate(*s)) {
        c_.Error(n, path, "\"" + *s + "\" is not accepted; accepted: a date YYYY-MM-DD");
      } else if (s) {
        p.published = *s;
      }
    });
    Read(root["license"], "license", [&](auto& n, auto& path) {
      if (auto s = c_.NonEmpty(n, path)) p.license = *s;
    });
    Read(root["provenance"], "provenance", [&](auto& n, auto& path) { ReadProvenance(n, path, p); });
    Read(root["relations"], "relations", [&](auto& n, auto& path) { ReadRelations(n, path, p); });
    Read(root["environment"], "environment", [&](auto& n, auto& path) { ReadEnvironment(n, path, p); });
    Read(root["experiments"], "experiments", [&](auto& n, auto& path) { ReadExperiments(n, path, p); });
    Read(root["claims"], "claims", [&](auto& n, auto& path) { ReadClaims(n, path, p); });
    Read(root["recorded"], "recorded", [&](auto& n, auto& path) { ReadRecorded(n, path, p); });
    CheckCrossReferences(root, p);
    return p;
  }

 private:
  template <typename F>
  void Read(const YAML::Node& n, const std::string& path, F&& f) {
    if (n.IsDefined()) f(n, path);
  }

  void ReadAuthors(const YAML::Node& n, const std::string& path, Package& p) {
    if (!c_.Sequence(n, path, 1)) return;
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string ipath = Checker::Index(path, i);
      const YAML::Node a = n[i];
      if (!c_.Map(a, ipath, {"name", "orcid", "affiliation"}, {"name"})) continue;
      Author author;
      Read(a["name"], ipath + ".name", [&](auto& v, auto& vp) {
        if (auto s = c_.NonEmpty(v, vp, kTitleMax)) author.name = *s;
      });
      Read(a["orcid"], ipath + ".orcid", [&](auto& v, auto& vp) {
        if (auto s = c_.Matching(v, vp, kOrcidRe, "an ORCID iD such as 0000-0002-1825-0097")) author.orcid = *s;
      });
      Read(a["affiliation"], ipath + ".affiliation", [&](auto& v, auto& vp) {
        if (auto s = c_.NonEmpty(v, vp, kTitleMax)) author.affiliation = *s;
      });
      p.authors.push_back(std::move(author));
    }
  }

  void ReadProvenance(const YAML::Node& n, const std::string& path, Package& p) {
    if (!c_.Map(n, path, {"kind", "arxiv", "url", "doi"}, {"kind"})) return;
    Read(n["kind"], path + ".kind", [&](auto& v, auto& vp) {
      if (auto s = c_.OneOf(v, vp, {"original", "arxiv-import", "ai-generated"})) p.provenance.kind = *s;
    });
    Read(n["arxiv"], path + ".arxiv", [&](auto& v, auto& vp) {
      if (auto s = c_.Matching(v, vp, kArxivRe,
                               "an arXiv id such as 2309.17453v4 (quote an id without version: a bare "
                               "2309.17453 is a number in YAML)")) {
        p.provenance.arxiv = *s;
      }
    });
    Read(n["url"], path + ".url", [&](auto& v, auto& vp) {
      if (auto s = c_.NonEmpty(v, vp)) p.provenance.url = *s;
    });
    Read(n["doi"], path + ".doi", [&](auto& v, auto& vp) {
      if (auto s = c_.NonEmpty(v, vp)) p.provenance.doi = *s;
    });
  }

  void ReadRelations(const YAML::Node& n, const std::string& path, Package& p) {
    if (!c_.Sequence(n, path, 0)) return;
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string ipath = Checker::Index(path, i);
      if (!c_.Map(n[i], ipath, {"kind", "package", "version"}, {"kind", "package"})) continue;
      Relation r;
      Read(n[i]["kind"], ipath + ".kind", [&](auto& v, auto& vp) {
        if (auto s = c_.OneOf(v, vp, {"remeasures", "replicates", "extends"})) r.kind = *s;
      });
      Read(n[i]["package"], ipath + ".package", [&](auto& v, auto& vp) {
        if (auto s = c_.Matching(v, vp, kIdRe, "a package id")) r.package = *s;
      });
      Read(n[i]["version"], ipath + ".version", [&](auto& v, auto& vp) {
        if (auto x = c_.Integer(v, vp, 1, 1'000'000'000)) r.version = static_cast<int>(*x);
      });
      p.relations.push_back(std::move(r));
    }
  }

  void ReadEnvironment(const YAML::Node& n, const std::string& path, Package& p) {
    if (!c_.Map(n, path, {"runtime", "gpu", "limits"}, {})) return;
    Environment& env = p.environment;
    Read(n["runtime"], path + ".runtime", [&](auto& v, auto& vp) {
      if (auto s = c_.OneOf(v, vp, {"native", "python3", "cuda"})) {
        env.runtime = *s == "python3" ? Runtime::kPython3 : *s == "cuda" ? Runtime::kCuda : Runtime::kNative;
      }
    });
    Read(n["gpu"], path + ".gpu", [&](auto& v, auto& vp) {
      if (auto b = c_.Bool(v, vp)) env.gpu = *b;
    });
    const YAML::Node limits = n["limits"];
    const std::string lpath = path + ".limits";
    if (!limits.IsDefined() || !c_.Map(limits, lpath, {"wall_seconds", "memory_mb", "processes"}, {})) return;
    Read(limits["wall_seconds"], lpath + ".wall_seconds", [&](auto& v, auto& vp) {
      auto x = c_.Number(v, vp);
      if (x && (*x <= 0 || *x > 3600)) {
        c_.Error(v, vp, v.Scalar() + " is out of range; accepted: more than 0 and at most 3600 seconds");
      } else if (x) {
        env.limits.wall_seconds = *x;
      }
    });
    Read(limits["memory_mb"], lpath + ".memory_mb", [&](auto& v, auto& vp) {
      if (auto x = c_.Integer(v, vp, 16, 65536)) env.limits.memory_mb = *x;
    });
    Read(limits["processes"], lpath + ".processes", [&](auto& v, auto& vp) {
      if (auto x = c_.Integer(v, vp, 1, 4096)) env.limits.processes = static_cast<int>(*x);
    });
  }

  void ReadExperiments(const YAML::Node& n, const std::string& path, Package& p) {
    if (!c_.Sequence(n, path, 0)) return;
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string ipath = Checker::Index(path, i);
      const YAML::Node e = n[i];
      if (!c_.Map(e, ipath, {"id", "command", "description"}, {"id", "command"})) {
        p.experiments.emplace_back();  // keeps indices aligned with the YAML list
        continue;
      }
      Experiment x;
      Read(e["id"], ipath + ".id", [&](auto& v, auto& vp) {
        if (auto s = c_.Matching(v, vp, kLocalIdRe, "1-64 characters of a-z, 0-9, '_' and '-'")) x.id = *s;
      });
      Read(e["command"], ipath + ".command", [&](auto& v, auto& vp) {
        if (!c_.Sequence(v, vp, 1)) return;
        for (size_t j = 0; j < v.size(); ++j) {
          auto s = c_.String(v[j], Checker::Index(vp, j));
          x.command.push_back(s.value_or(""));
        }
      });
      Read(e["description"], ipath + ".description", [&](auto& v, auto& vp) {
        if (auto s = c_.String(v, vp, kSummaryMax)) x.description = *s;
      });
      p.experiments.push_back(std::move(x));
    }
  }

  void ReadClaims(const YAML::Node& n, const std::string& path, Package& p) {
    if (!c_.Sequence(n, path, 1)) return;
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string ipath = Checker::Index(path, i);
      const YAML::Node cl = n[i];
      if (!c_.Map(cl, ipath,
                  {"id", "statement", "metric", "unit", "value", "expect", "conditions", "evidence"},
                  {"id", "statement", "metric", "unit"})) {
        p.claims.emplace_back();
        continue;
      }
      Claim claim;
      Read(cl["id"], ipath + ".id", [&](auto& v, auto& vp) {
        if (auto s = c_.Matching(v, vp, kLocalIdRe, "1-64 characters of a-z, 0-9, '_' and '-'")) claim.id = *s;
      });
      Read(cl["statement"], ipath + ".statement", [&](auto& v, auto& vp) {
        if (auto s = c_.NonEmpty(v, vp, kStatementMax)) claim.statement = *s;
      });
      Read(cl["metric"], ipath + ".metric", [&](auto& v, auto& vp) {
        if (auto s = c_.Matching(v, vp, kMetricRe, "dotted lower-case words such as cache.hit_rate_gap_pp")) claim.metric = *s;
      });
      Read(cl["unit"], ipath + ".unit", [&](auto& v, auto& vp) {
        if (auto s = c_.String(v, vp, 32)) claim.unit = *s;
      });
      Read(cl["value"], ipath + ".value", [&](auto& v, auto& vp) { claim.value = c_.Number(v, vp); });
      Read(cl["expect"], ipath + ".expect", [&](auto& v, auto& vp) { claim.expect = ReadExpect(v, vp); });
      Read(cl["conditions"], ipath + ".conditions", [&](auto& v, auto& vp) { ReadConditions(v, vp, claim); });
      Read(cl["evidence"], ipath + ".evidence", [&](auto& v, auto& vp) { claim.evidence = ReadEvidence(v, vp); });
      if (cl["evidence"].IsDefined() && !cl["expect"].IsDefined()) {
        c_.Error(cl, ipath + ".expect", "required when evidence is given: how is the measured value judged?");
      }
      p.claims.push_back(std::move(claim));
    }
  }

  std::optional<Expectation> ReadExpect(const YAML::Node& n, const std::string& path) {
    static const char* kForms =
        "exactly one of {approx: v, abs: a} | {approx: v, rel: r} | {at_least: a} | {at_most: b} | "
        "{between: [a, b]}";
    if (!c_.Map(n, path, {"approx", "abs", "rel", "at_least", "at_most", "between"}, {})) return std::nullopt;
    std::set<std::string> keys;
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (it->first.Scalar().rfind("x-", 0) != 0) keys.insert(it->first.Scalar());
    }
    using Keys = std::set<std::string>;
    if (keys == Keys{"approx", "abs"} || keys == Keys{"approx", "rel"}) {
      auto v = c_.Number(n["approx"], path + ".approx");
      if (keys.count("abs")) {
        auto a = c_.Number(n["abs"], path + ".abs");
        if (a && *a < 0) {
          c_.Error(n["abs"], path + ".abs", "must not be negative; accepted: a number >= 0");
          return std::nullopt;
        }
        if (v && a) return Expectation::ApproxAbs(*v, *a);
      } else {
        auto r = c_.Number(n["rel"], path + ".rel");
        if (r && *r <= 0) {
          c_.Error(n["rel"], path + ".rel", "must be positive; accepted: a number > 0 such as 0.05 for 5%");
          return std::nullopt;
        }
        if (v && r) return Expectation::ApproxRel(*v, *r);
      }
      return std::nullopt;
    }
    if (keys == Keys{"at_least"}) {
      if (auto a = c_.Number(n["at_least"], path + ".at_least")) return Expectation::AtLeast(*a);
      return std::nullopt;
    }
    if (keys == Keys{"at_most"}) {
      if (auto b = c_.Number(n["at_most"], path + ".at_most")) return Expectation::AtMost(*b);
      return std::nullopt;
    }
    if (keys == Keys{"between"}) {
      const YAML::Node b = n["between"];
      if (!b.IsSequence() || b.size() != 2) {
        c_.Error(b, path + ".between", "expected a list of two numbers [a, b], got " + Describe(b));
        return std::nullopt;
      }
      auto lo = c_.Number(b[0], path + ".between[0]");
      auto hi = c_.Number(b[1], path + ".between[1]");
      if (lo && hi && *lo > *hi) {
        c_.Error(b, path + ".between", "the lower bound is above the upper bound; accepted: [a, b] with a <= b");
        return std::nullopt;
      }
      if (lo && hi) return Expectation::Between(*lo, *hi);
      return std::nullopt;
    }
    c_.Error(n, path, std::string("keys {") + Checker::List(keys) + "} do not form an expectation; accepted: " + kForms);
    return std::nullopt;
  }

  void ReadConditions(const YAML::Node& n, const std::string& path, Claim& claim) {
    if (!n.IsMap()) {
      c_.Error(n, path, "expected a mapping of condition names to values, got " + Describe(n));
      return;
    }
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string key = it->first.Scalar();
      const std::string kpath = Checker::Join(path, key);
      if (key.rfind("x-", 0) == 0) continue;
      if (!std::regex_match(key, kConditionKeyRe)) {
        c_.Error(it->first, kpath, "condition name \"" + key + "\" is not accepted; accepted: a-z, 0-9 and '_'");
        continue;
      }
      if (claim.conditions.contains(key)) {
        c_.Error(it->first, kpath, "duplicate key");
        continue;
      }
      const YAML::Node v = it->second;
      if (!v.IsScalar() || Resolve(v) == ScalarType::kNull) {
        c_.Error(v, kpath, "expected a number, string or boolean, got " + Describe(v));
        continue;
      }
      switch (Resolve(v)) {
        case ScalarType::kBool:
          claim.conditions[key] = *c_.Bool(v, kpath);
          break;
        case ScalarType::kInt:
        case ScalarType::kFloat:
          if (auto x = c_.Number(v, kpath)) {
            if (Resolve(v) == ScalarType::kInt) {
              claim.conditions[key] = static_cast<long long>(*x);
            } else {
              claim.conditions[key] = *x;
            }
          }
          break;
        default:
          claim.conditions[key] = v.Scalar();
      }
    }
  }

  std::optional<Evidence> ReadEvidence(const YAML::Node& n, const std::string& path) {
    if (!c_.Map(n, path, {"experiment", "pointer", "output", "divide_by"}, {"experiment", "pointer"})) {
      return std::nullopt;
    }
    Evidence e;
    bool ok = true;
    auto pointer = [&](const char* key, std::string& out) {
      Read(n[key], path + "." + key, [&](auto& v, auto& vp) {
        auto s = c_.String(v, vp);
        if (s && !IsValidJsonPointer(*s)) {
          c_.Error(v, vp, "\"" + *s + "\" is not a JSON pointer; accepted: RFC 6901, e.g. /runs/0/gap_pp");
          ok = false;
        } else if (s) {
          out = *s;
        } else {
          ok = false;
        }
      });
    };
    Read(n["experiment"], path + ".experiment", [&](auto& v, auto& vp) {
      if (auto s = c_.Matching(v, vp, kLocalIdRe, "an experiment id")) e.experiment = *s; else ok = false;
    });
    pointer("pointer", e.pointer);
    pointer("divide_by", e.divide_by);
    Read(n["output"], path + ".output", [&](auto& v, auto& vp) {
      auto s = c_.String(v, vp);
      if (s && !SafeRelativePath(*s)) {
        c_.Error(v, vp, "\"" + *s + "\" is not accepted; accepted: a relative path inside the output directory, without '..'");
        ok = false;
      } else if (s) {
        e.output = *s;
      } else {
        ok = false;
      }
    });
    if (!ok) return std::nullopt;
    return e;
  }

  void ReadRecorded(const YAML::Node& n, const std::string& path, Package& p) {
    if (!c_.Sequence(n, path, 0)) return;
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string ipath = Checker::Index(path, i);
      if (!c_.Map(n[i], ipath, {"path", "sha256"}, {"path", "sha256"})) continue;
      RecordedFile r;
      Read(n[i]["path"], ipath + ".path", [&](auto& v, auto& vp) {
        auto s = c_.String(v, vp);
        if (s && !SafeRelativePath(*s)) {
          c_.Error(v, vp, "\"" + *s + "\" is not accepted; accepted: a relative path inside the package, without '..'");
        } else if (s) {
          r.path = *s;
        }
      });
      Read(n[i]["sha256"], ipath + ".sha256", [&](auto& v, auto& vp) {
        if (auto s = c_.Matching(v, vp, kSha256Re, "64 lower-case hex digits")) r.sha256 = *s;
      });
      p.recorded.push_back(std::move(r));
      recorded_nodes_.push_back(n[i]);
    }
  }

  // Rules a JSON Schema cannot state: unique ids, references, files and their hashes.
  void CheckCrossReferences(const YAML::Node& root, const Package& p) {
    std::map<std::string, size_t> experiment_index;
    for (size_t i = 0; i < p.experiments.size(); ++i) {
      const Experiment& e = p.experiments[i];
      const YAML::Node node = root["experiments"][i];
      const std::string ipath = Checker::Index("experiments", i);
      if (!e.id.empty() && !experiment_index.emplace(e.id, i).second) {
        c_.Error(node["id"], ipath + ".id", "duplicate experiment id \"" + e.id + "\"");
      }
      if (!e.command.empty() && !e.command[0].empty()) CheckCommand(node["command"][0], ipath + ".command[0]", e.command[0], p);
    }
    std::set<std::string> claim_ids;
    for (size_t i = 0; i < p.claims.size(); ++i) {
      const Claim& cl = p.claims[i];
      const YAML::Node node = root["claims"][i];
      const std::string ipath = Checker::Index("claims", i);
      if (!cl.id.empty() && !claim_ids.insert(cl.id).second) {
        c_.Error(node["id"], ipath + ".id", "duplicate claim id \"" + cl.id + "\"");
      }
      if (cl.evidence && !cl.evidence->experiment.empty() && !experiment_index.count(cl.evidence->experiment)) {
        std::set<std::string> known;
        for (const auto& [id, _] : experiment_index) known.insert(id);
        c_.Error(node["evidence"]["experiment"], ipath + ".evidence.experiment",
                 "unknown experiment \"" + cl.evidence->experiment + "\"; accepted: " +
                     (known.empty() ? std::string("an id declared under experiments (none are)") : Checker::List(known)));
      }
      if (cl.value && cl.expect && !cl.expect->Accepts(*cl.value)) {
        c_.Error(node["value"], ipath + ".value",
                 "the stated value lies outside the claim's own expectation " + cl.expect->ToString());
      }
    }
    if (dir_.empty()) return;
    for (size_t i = 0; i < p.recorded.size(); ++i) {
      const RecordedFile& r = p.recorded[i];
      if (r.path.empty() || r.sha256.empty()) continue;
      const std::string ipath = Checker::Index("recorded", i);
      const fs::path file = dir_ / r.path;
      std::error_code ec;
      if (!fs::is_regular_file(fs::symlink_status(file, ec))) {
        c_.Error(recorded_nodes_[i]["path"], ipath + ".path", "file \"" + r.path + "\" is missing from the package (or is not a regular file)");
        continue;
      }
      auto sha = Sha256File(file);
      if (!sha.ok()) {
        c_.Error(recorded_nodes_[i]["path"], ipath + ".path", sha.status().ToString());
      } else if (sha.value() != r.sha256) {
        c_.Error(recorded_nodes_[i]["sha256"], ipath + ".sha256",
                 "does not match the file's content; its sha256 is " + sha.value());
      }
    }
  }

  void CheckCommand(const YAML::Node& node, const std::string& path, const std::string& word, const Package& p) {
    std::string builtins;
    for (const auto& b : BuiltinExperiments()) builtins += (builtins.empty() ? "" : ", ") + b;
    const std::string accepted = "accepted: a built-in experiment (" + builtins +
                                 "), the runtime's interpreter (python3 for runtime python3), or a relative "
                                 "path to a file inside the package";
    switch (ClassifyCommand(word, p.environment.runtime)) {
      case CommandKind::kBuiltin:
      case CommandKind::kInterpreter:
        return;
      case CommandKind::kWrongRuntime:
        c_.Error(node, path, "python3 is the interpreter of runtime python3; set environment.runtime: python3");
        return;
      case CommandKind::kInvalid:
        c_.Error(node, path, "\"" + word + "\" is not accepted; " + accepted);
        return;
      case CommandKind::kPackageFile:
        break;
    }
    if (dir_.empty()) return;
    std::error_code ec;
    if (!fs::is_regular_file(fs::symlink_status(dir_ / word, ec))) {
      c_.Error(node, path, "\"" + word + "\" is neither a built-in experiment nor a file in the package; " + accepted);
    }
  }

  Checker& c_;
  fs::path dir_;
  std::vector<YAML::Node> recorded_nodes_;
};

}  // namespace

std::string Diagnostic::ToString() const {
  std::ostringstream os;
  os << file;
  if (line > 0) os << ":" << line << ":" << column;
  os << ": ";
  if (!path.empty()) os << path << ": ";
  os << message;
  return os.str();
}

nlohmann::json Diagnostic::ToJson() const {
  return {{"file", file}, {"line", line}, {"column", column}, {"path", path}, {"message", message}};
}

CommandKind ClassifyCommand(const std::string& word, Runtime runtime) {
  if (IsBuiltinExperiment(word)) return CommandKind::kBuiltin;
  if (word == "python3") return runtime == Runtime::kPython3 ? CommandKind::kInterpreter : CommandKind::kWrongRuntime;
  if (!SafeRelativePath(word) || word.find('{') != std::string::npos) return CommandKind::kInvalid;
  return CommandKind::kPackageFile;
}

const char* RuntimeName(Runtime r) {
  switch (r) {
    case Runtime::kNative:
      return "native";
    case Runtime::kPython3:
      return "python3";
    case Runtime::kCuda:
      return "cuda";
  }
  return "?";
}

const Experiment* Package::FindExperiment(const std::string& experiment_id) const {
  for (const Experiment& e : experiments) {
    if (e.id == experiment_id) return &e;
  }
  return nullptr;
}

nlohmann::json Package::ToJson() const {
  using nlohmann::json;
  json j = {{"format", kFormatTag}, {"id", id}, {"version", version}, {"title", title},
            {"summary", summary}, {"categories", categories}, {"tags", tags}, {"published", published}};
  j["authors"] = json::array();
  for (const Author& a : authors) {
    json ja = {{"name", a.name}};
    if (!a.orcid.empty()) ja["orcid"] = a.orcid;
    if (!a.affiliation.empty()) ja["affiliation"] = a.affiliation;
    j["authors"].push_back(ja);
  }
  if (!license.empty()) j["license"] = license;
  json prov = {{"kind", provenance.kind}};
  if (!provenance.arxiv.empty()) prov["arxiv"] = provenance.arxiv;
  if (!provenance.url.empty()) prov["url"] = provenance.url;
  if (!provenance.doi.empty()) prov["doi"] = provenance.doi;
  j["provenance"] = prov;
  j["relations"] = json::array();
  for (const Relation& r : relations) {
    json jr = {{"kind", r.kind}, {"package", r.package}};
    if (r.version) jr["version"] = r.version;
    j["relations"].push_back(jr);
  }
  j["environment"] = {{"runtime", RuntimeName(environment.runtime)},
                      {"gpu", environment.gpu},
                      {"limits",
                       {{"wall_seconds", environment.limits.wall_seconds},
                        {"memory_mb", environment.limits.memory_mb},
                        {"processes", environment.limits.processes}}}};
  j["experiments"] = json::array();
  for (const Experiment& e : experiments) {
    json je = {{"id", e.id}, {"command", e.command}};
    if (!e.description.empty()) je["description"] = e.description;
    j["experiments"].push_back(je);
  }
  j["claims"] = json::array();
  for (const Claim& c : claims) {
    json jc = {{"id", c.id}, {"statement", c.statement}, {"metric", c.metric}, {"unit", c.unit},
               {"conditions", c.conditions}};
    jc["value"] = c.value ? json(*c.value) : json(nullptr);
    jc["expect"] = c.expect ? c.expect->ToJson() : json(nullptr);
    if (c.evidence) {
      json ev = {{"experiment", c.evidence->experiment}, {"pointer", c.evidence->pointer},
                 {"output", c.evidence->output}};
      if (!c.evidence->divide_by.empty()) ev["divide_by"] = c.evidence->divide_by;
      jc["evidence"] = ev;
    } else {
      jc["evidence"] = nullptr;
    }
    j["claims"].push_back(jc);
  }
  j["recorded"] = json::array();
  for (const RecordedFile& r : recorded) j["recorded"].push_back({{"path", r.path}, {"sha256", r.sha256}});
  return j;
}

LoadResult ParseManifest(const std::string& text, const fs::path& dir) {
  LoadResult result;
  Checker checker;
  YAML::Node root;
  try {
    // A second document would be ignored by some parsers and read by others: refuse it.
    std::vector<YAML::Node> docs = YAML::LoadAll(text);
    if (docs.size() > 1) {
      Diagnostic d;
      const YAML::Mark m = docs[1].Mark();
      if (m.line >= 0) {
        d.line = m.line + 1;
        d.column = m.column + 1;
      }
      d.message = "the manifest holds " + std::to_string(docs.size()) +
                  " YAML documents; accepted: exactly one (remove the `---` separators)";
      result.diagnostics.push_back(std::move(d));
      return result;
    }
    if (!docs.empty()) root = docs[0];
  } catch (const YAML::Exception& e) {
    Diagnostic d;
    if (e.mark.line >= 0) {
      d.line = e.mark.line + 1;
      d.column = e.mark.column + 1;
    }
    d.message = "not valid YAML: " + e.msg;
    result.diagnostics.push_back(std::move(d));
    return result;
  }
  if (!root.IsDefined() || root.IsNull()) {
    Diagnostic d;
    d.message = "the manifest is empty; accepted: a mapping starting with `format: ahub/1`";
    result.diagnostics.push_back(std::move(d));
    return result;
  }
  ManifestReader reader(checker, dir);
  result.package = reader.Read(root);
  result.diagnostics = std::move(checker.diags);
  std::stable_sort(result.diagnostics.begin(), result.diagnostics.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                   });
  return result;
}

LoadResult LoadPackage(const fs::path& path) {
  std::error_code ec;
  const bool is_dir = fs::is_directory(path, ec);
  const fs::path file = is_dir ? path / kManifestName : path;
  const fs::path dir = is_dir ? path : path.parent_path();
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    LoadResult r;
    Diagnostic d;
    d.file = file.filename().string().empty() ? kManifestName : file.filename().string();
    d.message = "cannot read " + file.string() + (is_dir || fs::exists(file, ec) ? "" : ": no such file");
    r.diagnostics.push_back(std::move(d));
    return r;
  }
  std::ostringstream text;
  text << in.rdbuf();
  LoadResult r = ParseManifest(text.str(), dir.empty() ? fs::path(".") : dir);
  for (Diagnostic& d : r.diagnostics) d.file = file.filename().string();
  return r;
}

}  // namespace ahub
