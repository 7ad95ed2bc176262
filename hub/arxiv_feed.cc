#include "hub/arxiv_feed.h"

#include <algorithm>
#include <charconv>
#include <pugixml.hpp>
#include <regex>

#include "runner/text.h"

namespace ahub::hub {
namespace {

constexpr std::string_view kAtomNs = "http://www.w3.org/2005/Atom";
constexpr std::string_view kArxivNs = "http://arxiv.org/schemas/atom";
constexpr std::string_view kOpenSearchNs = "http://a9.com/-/spec/opensearch/1.1/";

// Line and column (1-based) of byte `offset`.
class Lines {
 public:
  explicit Lines(std::string_view text) {
    starts_.push_back(0);
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') starts_.push_back(i + 1);
    }
  }
  std::pair<int, int> At(ptrdiff_t offset) const {
    const size_t o = offset < 0 ? 0 : static_cast<size_t>(offset);
    const auto it = std::upper_bound(starts_.begin(), starts_.end(), o);
    const size_t line = static_cast<size_t>(it - starts_.begin());
    return {static_cast<int>(line), static_cast<int>(o - starts_[line - 1] + 1)};
  }

 private:
  std::vector<size_t> starts_;
};

// The namespace URI of a prefix ("" for the default namespace) in scope at `node`.
std::string_view NamespaceOf(pugi::xml_node node, std::string_view prefix) {
  const std::string attribute = prefix.empty() ? "xmlns" : "xmlns:" + std::string(prefix);
  for (pugi::xml_node n = node; n && n.type() == pugi::node_element; n = n.parent()) {
    if (pugi::xml_attribute a = n.attribute(attribute.c_str())) return a.value();
  }
  return prefix == "xml" ? "http://www.w3.org/XML/1998/namespace" : "";
}

std::string_view LocalName(pugi::xml_node node) {
  const std::string_view name = node.name();
  const size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

bool Is(pugi::xml_node node, std::string_view ns, std::string_view local) {
  if (node.type() != pugi::node_element || LocalName(node) != local) return false;
  const std::string_view name = node.name();
  const size_t colon = name.find(':');
  const std::string_view prefix = colon == std::string_view::npos ? "" : name.substr(0, colon);
  return NamespaceOf(node, prefix) == ns;
}

std::vector<pugi::xml_node> Children(pugi::xml_node parent, std::string_view ns,
                                     std::string_view local) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node c : parent.children()) {
    if (Is(c, ns, local)) out.push_back(c);
  }
  return out;
}

pugi::xml_node Child(pugi::xml_node parent, std::string_view ns, std::string_view local) {
  for (pugi::xml_node c : parent.children()) {
    if (Is(c, ns, local)) return c;
  }
  return {};
}

// All character data inside `node` (text and CDATA, nested elements' text included).
std::string Text(pugi::xml_node node) {
  std::string out;
  for (pugi::xml_node c : node.children()) {
    if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) {
      out += c.value();
    } else if (c.type() == pugi::node_element) {
      out += Text(c);
    }
  }
  return CollapseWhitespace(out);
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// "2023-09-29T17:59:55Z" -> "2023-09-29"; nullopt unless it starts with a real calendar date.
std::optional<std::string> DateOf(std::string_view timestamp) {
  static const std::regex kDate(R"(^(\d{4})-(\d{2})-(\d{2})(?:[Tt ].*)?$)");
  std::cmatch m;
  const std::string text(timestamp);
  if (!std::regex_match(text.c_str(), m, kDate)) return std::nullopt;
  const int y = std::stoi(m[1]), mo = std::stoi(m[2]), d = std::stoi(m[3]);
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1) return std::nullopt;
  const int days = kDays[mo - 1] + (mo == 2 && IsLeapYear(y) ? 1 : 0);
  if (d > days) return std::nullopt;
  return text.substr(0, 10);
}

// An arXiv taxonomy category ("cs.LG", "hep-th", "q-bio.NC"), as the manifest format accepts
// them; the ACM and MSC classes that feeds also list as categories ("I.2.7", "68T05") are not.
bool IsTaxonomyCategory(const std::string& term) {
  static const std::regex kCategory(R"(^[a-z-]+(\.[A-Za-z-]+)?$)");
  return std::regex_match(term, kCategory);
}

std::string Quoted(const std::string& s) {
  constexpr size_t kMax = 80;
  return "\"" + (s.size() > kMax ? s.substr(0, kMax) + "..." : s) + "\"";
}

}  // namespace

std::optional<ArxivId> ParseArxivId(std::string_view text) {
  static const std::regex kId(
      R"(^(?:https?://(?:www\.|export\.)?arxiv\.org/abs/)?(\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Za-z-]+)?/\d{7})(?:v(\d+))?$)");
  std::smatch m;
  const std::string s = CollapseWhitespace(text);
  if (!std::regex_match(s, m, kId)) return std::nullopt;
  ArxivId id;
  id.id = m[1];
  if (m[2].matched) {
    const std::string v = m[2];
    int version = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), version);
    if (ec != std::errc() || end != v.data() + v.size() || version < 1 || version > 1000000000) {
      return std::nullopt;
    }
    id.version = version;
  }
  return id;
}

std::string ArxivEntry::Label() const {
  return "entry " + std::to_string(index) + " (line " + std::to_string(line) + ", arXiv " +
         VersionedId() + ")";
}

std::string RefusedEntry::Label() const {
  std::string label = "entry " + std::to_string(index) + " (line " + std::to_string(line);
  if (!arxiv.empty()) label += ", " + arxiv;
  return label + ")";
}

Result<ArxivFeed> ParseArxivFeed(std::string_view xml, const std::string& source) {
  const Lines lines(xml);
  auto at = [&](ptrdiff_t offset) {
    const auto [line, column] = lines.At(offset);
    return source + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  };
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(
      xml.data(), xml.size(), pugi::parse_default | pugi::parse_declaration, pugi::encoding_utf8);
  if (!parsed) {
    if (parsed.status == pugi::status_no_document_element) {
      return Status::InvalidArgument(at(0) +
                                     "not XML: the document has no element; expected the "
                                     "arXiv API's Atom feed, <feed xmlns=\"" +
                                     std::string(kAtomNs) + "\">");
    }
    // Where the parser stopped: in the last tag or text of the document (no tag opens after
    // it), the document was cut short; elsewhere, it is not well-formed.
    size_t content_end = xml.size();
    while (content_end > 0 &&
           std::string_view(" \t\r\n").find(xml[content_end - 1]) != std::string_view::npos) {
      --content_end;
    }
    const size_t stop =
        std::min(static_cast<size_t>(std::max<ptrdiff_t>(parsed.offset, 0)), content_end);
    if (xml.substr(0, content_end).find('<', stop + 1) == std::string_view::npos) {
      return Status::InvalidArgument(
          at(static_cast<ptrdiff_t>(content_end)) +
          "the document ends before its elements are closed: truncated? (" + parsed.description() +
          "); expected a complete feed ending with </feed>");
    }
    return Status::InvalidArgument(at(parsed.offset) +
                                   "not well-formed XML: " + parsed.description());
  }
  const pugi::xml_node root = doc.document_element();
  if (!Is(root, kAtomNs, "feed")) {
    const std::string_view ns = NamespaceOf(root, "");
    return Status::InvalidArgument(
        at(std::max<ptrdiff_t>(root.offset_debug() - 1, 0)) +  // the '<' of its tag
        "not an Atom feed: the root element is <" + root.name() + ">" +
        (ns.empty() ? "" : " in namespace " + std::string(ns)) + "; expected <feed xmlns=\"" +
        std::string(kAtomNs) + "\"> as the arXiv API returns it");
  }

  ArxivFeed feed;
  if (pugi::xml_node total = Child(root, kOpenSearchNs, "totalResults")) {
    const std::string text = Text(total);
    int64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec == std::errc() && end == text.data() + text.size()) feed.total_results = n;
  }
  int index = 0;
  for (pugi::xml_node node : Children(root, kAtomNs, "entry")) {
    ++index;
    const int line = lines.At(node.offset_debug()).first;
    RefusedEntry refused{index, line, "", "", ""};
    auto refuse = [&](std::string reason) {
      refused.reason = std::move(reason);
      feed.refused.push_back(refused);
    };
    const pugi::xml_node id_node = Child(node, kAtomNs, "id");
    const std::string id_text = Text(id_node);
    refused.arxiv = id_text;
    refused.title = Text(Child(node, kAtomNs, "title"));
    if (!id_node || id_text.empty()) {
      refuse(
          "no <id>; expected the paper's address, e.g. <id>http://arxiv.org/abs/2309.17453v4</id>");
      continue;
    }
    if (id_text.find("arxiv.org/api/errors") != std::string::npos) {
      refuse("the arXiv API reports an error: " + Quoted(Text(Child(node, kAtomNs, "summary"))));
      continue;
    }
    const std::optional<ArxivId> id = ParseArxivId(id_text);
    if (!id) {
      refuse("<id> " + Quoted(id_text) +
             " is not an arXiv paper; expected e.g. http://arxiv.org/abs/2309.17453v4");
      continue;
    }
    refused.arxiv = "arXiv " + id->id + (id->version ? "v" + std::to_string(id->version) : "");
    if (id->version == 0) {
      refuse("<id> " + Quoted(id_text) +
             " has no version; expected the versioned id the arXiv API gives, e.g. " + id->id +
             "v1");
      continue;
    }
    ArxivEntry e;
    e.index = index;
    e.line = line;
    e.arxiv_id = id->id;
    e.version = id->version;
    e.title = refused.title;
    if (e.title.empty()) {
      refuse("no <title>, or an empty one; every paper needs its title");
      continue;
    }
    e.summary = Text(Child(node, kAtomNs, "summary"));
    if (e.summary.empty()) {
      refuse("no <summary> (the abstract), or an empty one");
      continue;
    }
    for (pugi::xml_node a : Children(node, kAtomNs, "author")) {
      ArxivAuthor author{Text(Child(a, kAtomNs, "name")), Text(Child(a, kArxivNs, "affiliation"))};
      if (!author.name.empty()) e.authors.push_back(std::move(author));
    }
    if (e.authors.empty()) {
      refuse("no <author> with a <name>");
      continue;
    }
    std::vector<std::string> categories;
    if (pugi::xml_node primary = Child(node, kArxivNs, "primary_category")) {
      categories.emplace_back(primary.attribute("term").value());
    }
    for (pugi::xml_node c : Children(node, kAtomNs, "category")) {
      categories.emplace_back(c.attribute("term").value());
    }
    for (const std::string& c : categories) {
      if (IsTaxonomyCategory(c) &&
          std::find(e.categories.begin(), e.categories.end(), c) == e.categories.end()) {
        e.categories.push_back(c);
      }
    }
    if (e.categories.empty()) {
      refuse(
          "no arXiv category: expected <arxiv:primary_category term=\"cs.LG\"/> or "
          "<category term=\"cs.LG\"/>");
      continue;
    }
    const std::string published = Text(Child(node, kAtomNs, "published"));
    const std::string updated = Text(Child(node, kAtomNs, "updated"));
    const std::optional<std::string> published_date = DateOf(published);
    const std::optional<std::string> updated_date = DateOf(updated);
    if (!published.empty() && !published_date) {
      refuse("<published> " + Quoted(published) +
             " is not a date; expected e.g. 2023-09-29T17:59:55Z");
      continue;
    }
    if (!updated.empty() && !updated_date) {
      refuse("<updated> " + Quoted(updated) + " is not a date; expected e.g. 2024-04-07T05:02:12Z");
      continue;
    }
    if (!published_date && !updated_date) {
      refuse("neither <published> nor <updated>: the package needs the date of this version");
      continue;
    }
    e.published = published_date.value_or(*updated_date);
    e.updated = updated_date.value_or(*published_date);
    for (pugi::xml_node link : Children(node, kAtomNs, "link")) {
      const std::string_view rel = link.attribute("rel").value();
      const std::string_view title = link.attribute("title").value();
      if ((rel == "alternate" || rel.empty()) && title.empty() && e.abs_url.empty()) {
        e.abs_url = link.attribute("href").value();
      }
    }
    if (e.abs_url.empty()) e.abs_url = "http://arxiv.org/abs/" + e.VersionedId();
    e.doi = Text(Child(node, kArxivNs, "doi"));
    e.comment = Text(Child(node, kArxivNs, "comment"));
    e.journal_ref = Text(Child(node, kArxivNs, "journal_ref"));
    feed.entries.push_back(std::move(e));
  }
  return feed;
}

}  // namespace ahub::hub
