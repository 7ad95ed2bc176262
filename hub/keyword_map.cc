#include "hub/keyword_map.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace ahub::hub {

// schemas/arxiv-keywords.yaml, generated into the build by hub/CMakeLists.txt.
extern const char kArxivKeywordsYamlText[];

namespace {

constexpr const char* kFormat = "ahub-keywords/1";

std::string Place(const std::string& source, const YAML::Mark& mark) {
  if (mark.is_null()) return source + ": ";
  return source + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) +
         ": ";
}

}  // namespace

std::string NormalizeForMatching(std::string_view text) {
  std::string out = " ";
  for (char c : text) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
    if (word) {
      out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    } else if (out.back() != ' ') {
      out += ' ';
    }
  }
  if (out.back() != ' ') out += ' ';
  return out;
}

Result<KeywordMap> KeywordMap::Parse(std::string_view yaml, const std::string& source) {
  YAML::Node doc;
  try {
    doc = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(Place(source, e.mark) + "not valid YAML: " + e.msg);
  }
  const std::string expected =
      std::string("expected a mapping {format: ") + kFormat + ", tags: {TAG: [PHRASE, ...], ...}}";
  if (!doc.IsMap()) return Status::InvalidArgument(Place(source, doc.Mark()) + expected);
  for (const auto& item : doc) {
    const std::string key = item.first.Scalar();
    if (key != "format" && key != "tags") {
      return Status::InvalidArgument(Place(source, item.first.Mark()) + "unknown key \"" + key +
                                     "\"; accepted: format, tags");
    }
  }
  const YAML::Node format = doc["format"];
  if (!format || !format.IsScalar() || format.Scalar() != kFormat) {
    return Status::InvalidArgument(Place(source, format ? format.Mark() : doc.Mark()) +
                                   "format: expected \"" + kFormat + "\"");
  }
  const YAML::Node tags = doc["tags"];
  if (!tags || !tags.IsMap()) {
    return Status::InvalidArgument(Place(source, tags ? tags.Mark() : doc.Mark()) +
                                   "tags: " + expected);
  }
  static const std::regex kTag(R"(^[a-z0-9][a-z0-9-]{0,63}$)");
  KeywordMap map;
  std::set<std::string> seen;
  for (const auto& item : tags) {
    const std::string tag = item.first.Scalar();
    const std::string where = Place(source, item.first.Mark()) + "tags." + tag + ": ";
    if (!item.first.IsScalar() || !std::regex_match(tag, kTag)) {
      return Status::InvalidArgument(where +
                                     "not a tag; accepted: ^[a-z0-9][a-z0-9-]{0,63}$, "
                                     "e.g. kv-cache");
    }
    if (!seen.insert(tag).second) {
      return Status::InvalidArgument(where + "listed twice; each tag once, with all its phrases");
    }
    const YAML::Node& phrases = item.second;
    if (!phrases.IsSequence() || phrases.size() == 0) {
      return Status::InvalidArgument(where +
                                     "expected a list of one or more phrases, e.g. "
                                     "[\"KV cache\", \"key-value cache\"]");
    }
    Rule rule{tag, {}};
    for (const YAML::Node& p : phrases) {
      const std::string text = p.IsScalar() ? p.Scalar() : "";
      const bool prefix = !text.empty() && text.back() == '*';
      std::string normal = NormalizeForMatching(prefix ? text.substr(0, text.size() - 1) : text);
      if (normal.size() <= 2) {  // nothing but the padding spaces
        return Status::InvalidArgument(Place(source, p.Mark()) + "tags." + tag +
                                       ": a phrase needs a letter or a digit; got \"" + text +
                                       "\"");
      }
      normal.pop_back();  // the phrase's own end is checked when matching
      rule.phrases.push_back(prefix ? normal + "*" : normal);
    }
    map.rules_.push_back(std::move(rule));
  }
  return map;
}

Result<KeywordMap> KeywordMap::Load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path.string() + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path.string());
}

const KeywordMap& KeywordMap::BuiltIn() {
  static const KeywordMap map = [] {
    Result<KeywordMap> parsed = Parse(kArxivKeywordsYamlText, "schemas/arxiv-keywords.yaml");
    // tests/hub/arxiv_import_test.cc parses the file; were it broken, imports would get no tags.
    return parsed.ok() ? parsed.value() : KeywordMap();
  }();
  return map;
}

std::vector<std::string> KeywordMap::TagsFor(std::string_view text) const {
  const std::string normal = NormalizeForMatching(text);
  std::vector<std::string> out;
  for (const Rule& rule : rules_) {
    for (const std::string& phrase : rule.phrases) {
      const bool prefix = phrase.back() == '*';
      const std::string needle = prefix ? phrase.substr(0, phrase.size() - 1) : phrase + " ";
      if (normal.find(needle) != std::string::npos) {
        out.push_back(rule.tag);
        break;
      }
    }
  }
  return out;
}

}  // namespace ahub::hub
