// The arXiv API's Atom response (https://info.arxiv.org/help/api/user-manual.html), read with a
// real XML parser (pugixml) into plain values: one ArxivEntry per <entry>, with the text of
// titles and abstracts as arXiv wrote it (TeX included) but whitespace collapsed.
//
// Elements are matched by namespace URI and local name, whatever prefixes the document declares:
// Atom (http://www.w3.org/2005/Atom), arXiv (http://arxiv.org/schemas/atom) and OpenSearch
// (http://a9.com/-/spec/opensearch/1.1/).
//
// Invariants of a parsed ArxivFeed:
//   1. Every entry has an arXiv id with a version, a title, an abstract, at least one author,
//      a primary category of the arXiv taxonomy (first in `categories`) and a date.
//   2. An <entry> that lacks any of these is in `refused`, with the reason; the others are in
//      `entries`, in document order.
// A document that is not XML, is cut short, or is not an Atom feed is refused as a whole.
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runner/status.h"

namespace ahub::hub {

struct ArxivAuthor {
  std::string name;
  std::string affiliation;  // the first <arxiv:affiliation>, or ""
};

struct ArxivEntry {
  int index = 0;         // 1-based position among the feed's <entry> elements
  int line = 0;          // line of its <entry> tag
  std::string arxiv_id;  // without version: "2309.17453", or old style "hep-th/9901001"
  int version = 0;       // 4 for "2309.17453v4"
  std::string title;     // whitespace collapsed, TeX kept
  std::string summary;   // the abstract, whitespace collapsed, TeX kept
  std::vector<ArxivAuthor> authors;
  std::vector<std::string> categories;  // the primary category first, no duplicates
  std::string published;                // YYYY-MM-DD of <published>: the first version
  std::string updated;  // YYYY-MM-DD of <updated>: this version (<published> when absent)
  std::string abs_url;  // the abstract page (<link rel="alternate">), or built from the id
  std::string doi, comment, journal_ref;

  std::string VersionedId() const { return arxiv_id + "v" + std::to_string(version); }
  // "entry 3 (line 57, arXiv 2309.17453v4)", for messages.
  std::string Label() const;
};

struct RefusedEntry {
  int index = 0;
  int line = 0;
  std::string arxiv;  // the id as far as it could be read, or ""
  std::string title;  // or ""
  std::string reason;
  std::string Label() const;
};

struct ArxivFeed {
  std::vector<ArxivEntry> entries;
  std::vector<RefusedEntry> refused;
  std::optional<int64_t> total_results;  // <opensearch:totalResults>: the query's hits, all pages
};

// Parses `xml`. A non-ok Status (InvalidArgument) says why the document as a whole is refused,
// as "SOURCE:LINE:COLUMN: what is wrong; what is expected".
Result<ArxivFeed> ParseArxivFeed(std::string_view xml, const std::string& source);

// "2309.17453v4" or "http://arxiv.org/abs/2309.17453v4" -> {"2309.17453", 4}; old-style ids
// ("hep-th/9901001v2") too. Version 0 when the id has none; nullopt when it is no arXiv id.
struct ArxivId {
  std::string id;
  int version = 0;
};
std::optional<ArxivId> ParseArxivId(std::string_view text);

}  // namespace ahub::hub
