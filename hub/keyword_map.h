// KeywordMap: the tags `ahub import-arxiv` gives an imported paper, from phrases in its title
// and abstract. The map is a YAML file (format ahub-keywords/1): the built-in one is
// schemas/arxiv-keywords.yaml as it was when the binary was built, and `--keyword-map FILE`
// (or `ahub serve --arxiv-keywords FILE`) replaces it. The format and the matching rules are
// documented in schemas/arxiv-import.md ("Tags").
//
// Matching: case does not matter, and every run of characters other than letters and digits
// counts as one space ("KV-cache", "KV cache" and "kv  cache" are the same). A phrase matches
// where it starts at the start of a word and ends at the end of one; a phrase ending in "*"
// may end inside a word ("quantiz*" matches "quantization" and "quantized").
//
// Invariants: every tag matches ^[a-z0-9][a-z0-9-]{0,63}$, tags are unique, every tag has at
// least one phrase and no phrase is empty.
//
// Thread-safety: a KeywordMap is immutable once made; BuiltIn() is safe from any thread.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "runner/status.h"

namespace ahub::hub {

class KeywordMap {
 public:
  // `source` names the text in messages ("schemas/arxiv-keywords.yaml:12:5: ...").
  static Result<KeywordMap> Parse(std::string_view yaml, const std::string& source);
  static Result<KeywordMap> Load(const std::filesystem::path& path);
  static const KeywordMap& BuiltIn();

  // The tags whose phrases occur in `text`, in the order of the map.
  std::vector<std::string> TagsFor(std::string_view text) const;

  size_t size() const { return rules_.size(); }

 private:
  struct Rule {
    std::string tag;
    std::vector<std::string> phrases;  // normalised; a trailing '*' kept as the prefix marker
  };
  std::vector<Rule> rules_;
};

// `text` in lower case with every run of other characters than ASCII letters and digits as one
// space, and a space before and after: the form phrases are matched in.
std::string NormalizeForMatching(std::string_view text);

}  // namespace ahub::hub
