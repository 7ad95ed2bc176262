// arXiv import: each entry of an arXiv API feed (hub/arxiv_feed.h) becomes one declared ahub/1
// package: its id from the title, its version from the arXiv version, its tags from the keyword
// map (hub/keyword_map.h) and its one claim from the abstract (hub/claim_extract.h). The rules
// are documented in schemas/arxiv-import.md.
//
// Where packages go is an ImportTarget: a directory of package folders (`ahub import-arxiv`,
// DirectoryTarget below) or the hub's store (`POST /api/v1/imports/arxiv`, in hub/service.cc).
// Both answer per entry: created, unchanged (the same bytes are already there), new version
// (the paper's package gains a version), or refused with the reason.
//
// Invariants:
//   1. The same paper always gets the same id: an id is taken over by a paper only when no
//      package holds it yet, or when the package there is an import of that very paper.
//   2. A manifest is rendered deterministically from the entry and the keyword map, and is
//      valid (runner/manifest.h) before it is handed to the target.
//   3. A version is never changed in place: other bytes under a stored version are refused.
//
// Thread-safety: ImportFeed calls the target from the calling thread only; DirectoryTarget is
// not meant for two importers into one directory at once (each write is atomic, a rename).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "hub/arxiv_feed.h"
#include "hub/claim_extract.h"
#include "hub/keyword_map.h"

namespace ahub::hub {

// The id a title asks for, before any collision suffix (see schemas/arxiv-import.md, "Ids"):
// the part before a colon when it is a name ("FlashAttention-2: ..." -> flashattention-2),
// else a word of the title written as a name ("...with PagedAttention" -> pagedattention), else
// the leading words ("Efficient Streaming Language Models with ..." ->
// efficient-streaming-language-models). Empty when the title yields fewer than 3 characters.
std::string PackageIdFromTitle(std::string_view title);

// The manifest (package.yaml) of `entry` as package `id`.
struct RenderedPackage {
  std::string id;
  int version = 0;
  std::string yaml;
  std::string metric;  // the claim's metric key
  HeadlineClaim claim;
  std::vector<std::string> tags;
};
RenderedPackage RenderPackage(const ArxivEntry& entry, const std::string& id,
                              const KeywordMap& keywords);

enum class ImportOutcome { kCreated, kUnchanged, kNewVersion, kRefused };
const char* OutcomeName(ImportOutcome outcome);  // created | unchanged | new_version | refused

class ImportTarget {
 public:
  struct Existing {
    std::string arxiv_id;  // the paper a package imports (no version); "" when it is no import
    int version = 0;       // its latest version
  };
  struct Stored {
    ImportOutcome outcome = ImportOutcome::kRefused;
    std::string reason;     // why it was refused
    std::string location;   // where it is: a path, an API address
    bool io_error = false;  // refused because storage failed, not because of the entry
  };
  virtual ~ImportTarget() = default;
  // The package `id`, or nullopt when there is none.
  virtual std::optional<Existing> Find(const std::string& id) = 0;
  // Stores `package`, which imports `arxiv_id`.
  virtual Stored Store(const RenderedPackage& package, const std::string& arxiv_id) = 0;
  // Where the packages go, for reports ("packages", "hub").
  virtual std::string Name() const = 0;
};

// Package folders under `dir`: DIR/<id>/package.yaml. A new package is written into a
// temporary folder and renamed into place; a new version replaces package.yaml by a rename.
class DirectoryTarget : public ImportTarget {
 public:
  explicit DirectoryTarget(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::optional<Existing> Find(const std::string& id) override;
  Stored Store(const RenderedPackage& package, const std::string& arxiv_id) override;
  std::string Name() const override { return dir_.string(); }

 private:
  std::filesystem::path dir_;
};

struct EntryReport {
  int index = 0;
  int line = 0;
  std::string arxiv;  // "2309.17453v4", or what could be read of a refused entry's id
  std::string title;
  std::string id;  // "" when refused before an id was chosen
  int version = 0;
  ImportOutcome outcome = ImportOutcome::kRefused;
  std::string reason;
  std::string location;
  bool io_error = false;
  std::optional<RenderedPackage> package;  // absent when refused before one was made
};

struct ImportReport {
  std::string source;  // the feed's name
  std::string target;
  std::optional<int64_t> total_results;
  std::vector<EntryReport> entries;  // in feed order

  int Count(ImportOutcome outcome) const;
  bool HasIoError() const;
  nlohmann::json ToJson() const;
  std::string ToText() const;  // one line per entry and a summary line
};

ImportReport ImportFeed(const ArxivFeed& feed, const std::string& source,
                        const KeywordMap& keywords, ImportTarget& target);

}  // namespace ahub::hub
