#include "hub/arxiv_import.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "runner/manifest.h"
#include "runner/text.h"

namespace ahub::hub {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr size_t kMaxIdLength = 64;
constexpr size_t kMaxBaseIdLength = 58;  // room for a "-NNNNN" collision suffix
constexpr size_t kMaxLeadingWords = 4;
constexpr size_t kMaxLeadingChars = 40;
constexpr int kMaxCollisionSuffix = 10000;
constexpr const char* kClaimId = "headline";

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLowerAscii(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigitChar(char c) { return c >= '0' && c <= '9'; }

std::string Lower(std::string s) {
  for (char& c : s) {
    if (IsUpper(c)) c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// ASCII letters and digits in lower case, everything else one '-', none at the ends.
std::string Slug(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (IsLowerAscii(c) || IsDigitChar(c)) {
      out += c;
    } else if (IsUpper(c)) {
      out += static_cast<char>(c - 'A' + 'a');
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

// `slug` no longer than `max`, cut at a '-' where it can be.
std::string CutSlug(std::string slug, size_t max) {
  if (slug.size() <= max) return slug;
  const size_t dash = slug.rfind('-', max);
  slug.resize(dash != std::string::npos && dash >= 3 ? dash : max);
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug;
}

// The words of a title, without the punctuation around them ("Hogwild!" -> "Hogwild").
std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) {
    auto keep = [](char c) {
      return IsUpper(c) || IsLowerAscii(c) || IsDigitChar(c) ||
             static_cast<unsigned char>(c) >= 0x80;
    };
    size_t b = 0, e = w.size();
    while (b < e && !keep(w[b])) ++b;
    while (e > b && !keep(w[e - 1])) --e;
    if (e > b) out.push_back(w.substr(b, e - b));
  }
  return out;
}

// Written as a name: a capital after the first letter of a part ("AI", "aiXiv", "GQA",
// "DeepSeek-V2") or a digit ("Paper2Agent", "H2O", "Scientist-v2").
bool LooksLikeName(const std::string& word) {
  size_t part_start = 0;
  for (size_t i = 0; i < word.size(); ++i) {
    if (word[i] == '-') {
      part_start = i + 1;
      continue;
    }
    if (IsDigitChar(word[i]) || (IsUpper(word[i]) && i > part_start)) return true;
  }
  return false;
}

// A lower-case letter followed by a capital: "PagedAttention", "vLLM", "MetaMixer".
bool IsCamelCase(const std::string& word) {
  for (size_t i = 1; i < word.size(); ++i) {
    if (IsLowerAscii(word[i - 1]) && IsUpper(word[i])) return true;
  }
  return false;
}

bool IsArticle(const std::string& w) {
  const std::string l = Lower(w);
  return l == "a" || l == "an" || l == "the";
}

bool IsStopWord(const std::string& w) {
  static const std::set<std::string> kStop = {
      "a",    "an",      "the",    "of",      "for",   "with", "and",   "or", "in",
      "on",   "to",      "via",    "by",      "from",  "at",   "as",    "is", "are",
      "into", "towards", "toward", "through", "using", "vs",   "versus"};
  return kStop.count(Lower(w)) > 0;
}

std::string SlugOfWords(std::vector<std::string> words) {
  while (!words.empty() && IsArticle(words.front())) words.erase(words.begin());
  std::string text;
  for (const std::string& w : words) text += (text.empty() ? "" : " ") + w;
  return Slug(text);
}

// YAML: a double-quoted scalar holding exactly `s` (JSON's string syntax is YAML's).
std::string Quote(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

// A plain scalar where YAML 1.2 reads it back as the same string, else quoted.
std::string PlainOrQuoted(const std::string& s) {
  bool plain = !s.empty() && (IsUpper(s[0]) || IsLowerAscii(s[0]));
  for (char c : s) {
    plain = plain &&
            (IsUpper(c) || IsLowerAscii(c) || IsDigitChar(c) || c == '.' || c == '-' || c == '_');
  }
  const std::string l = Lower(s);
  if (l == "null" || l == "true" || l == "false") plain = false;
  return plain ? s : Quote(s);
}

// A number as YAML: whole numbers without a fraction ("4", "4000000"), others in their
// shortest exact form ("22.2").
std::string Number(double v) {
  char buf[64];
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    const auto r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v));
    return std::string(buf, r.ptr);
  }
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string FlowList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + PlainOrQuoted(items[i]);
  return out + "]";
}

std::optional<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes `content` to a new file made from `templ` (mkstemp) and fsyncs it; its path, or the
// error.
Result<fs::path> WriteTemp(const fs::path& templ, const std::string& content) {
  std::string name = templ.string();
  const int fd = mkstemp(name.data());
  if (fd < 0) return Status::IoError("cannot create " + name + ": " + std::strerror(errno));
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string error = std::strerror(errno);
      ::close(fd);
      ::unlink(name.c_str());
      return Status::IoError("cannot write " + name + ": " + error);
    }
    written += static_cast<size_t>(n);
  }
  ::fchmod(fd, 0644);
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) {
    ::unlink(name.c_str());
    return Status::IoError("cannot sync " + name + ": " + std::strerror(errno));
  }
  return fs::path(name);
}

void SyncDirectory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

std::string ValueText(const HeadlineClaim& c) {
  if (c.between) return Number(c.between->first) + "-" + Number(c.between->second) + " " + c.unit;
  if (c.value)
    return (c.at_least ? ">= " : "") + Number(*c.value) + (c.unit.empty() ? "" : " " + c.unit);
  return "(no value)";
}

}  // namespace

std::string PackageIdFromTitle(std::string_view title) {
  const std::string plain = PlainText(title);
  auto valid = [](const std::string& slug) { return slug.size() >= 3; };
  std::string lead = plain;
  if (const size_t colon = plain.find(':'); colon != std::string::npos) {
    lead = plain.substr(0, colon);
    const std::vector<std::string> words = Words(lead);
    const bool name = !words.empty() && words.size() <= kMaxLeadingWords &&
                      (words.size() == 1 || std::any_of(words.begin(), words.end(), LooksLikeName));
    if (name) {
      if (std::string slug = CutSlug(SlugOfWords(words), kMaxBaseIdLength); valid(slug))
        return slug;
    }
  }
  for (const std::string& w : Words(plain)) {
    if (!IsCamelCase(w)) continue;
    if (std::string slug = CutSlug(Slug(w), kMaxBaseIdLength); valid(slug)) return slug;
  }
  std::vector<std::string> words = Words(lead);
  while (!words.empty() && IsArticle(words.front())) words.erase(words.begin());
  std::vector<std::string> leading;
  size_t chars = 0;
  for (const std::string& w : words) {
    const size_t add = Slug(w).size() + (leading.empty() ? 0 : 1);
    if (leading.size() == kMaxLeadingWords || (!leading.empty() && chars + add > kMaxLeadingChars))
      break;
    leading.push_back(w);
    chars += add;
  }
  while (leading.size() > 1 && IsStopWord(leading.back())) leading.pop_back();
  std::string slug = CutSlug(SlugOfWords(leading), kMaxBaseIdLength);
  return valid(slug) ? slug : "";
}

RenderedPackage RenderPackage(const ArxivEntry& e, const std::string& id,
                              const KeywordMap& keywords) {
  RenderedPackage p;
  p.id = id;
  p.version = e.version;
  p.claim = ExtractHeadlineClaim(e.summary);
  p.tags = {"arxiv-import"};
  for (const std::string& tag : keywords.TagsFor(PlainText(e.title + " " + e.summary))) {
    if (std::find(p.tags.begin(), p.tags.end(), tag) == p.tags.end()) p.tags.push_back(tag);
  }
  std::string ns = id;
  std::replace(ns.begin(), ns.end(), '-', '_');
  p.metric = ns + "." + p.claim.measure;

  const bool new_style = e.arxiv_id.find('/') == std::string::npos;
  std::string y;
  y += "# Imported from arXiv " + e.VersionedId() + " by `ahub import-arxiv`; the claim is the\n";
  y += "# abstract's headline as the rules of schemas/arxiv-import.md read it. Import again to\n";
  y += "# regenerate; do not edit.\n";
  y += "format: ahub/1\n";
  y += "id: " + PlainOrQuoted(id) + "\n";
  y += "version: " + std::to_string(e.version) + "\n";
  y += "title: " + Quote(e.title) + "\n";
  y += "summary: " + Quote(e.summary) + "\n";
  y += "categories: " + FlowList(e.categories) + "\n";
  y += "tags: " + FlowList(p.tags) + "\n";
  y += "authors:\n";
  for (const ArxivAuthor& a : e.authors) {
    y += "  - {name: " + Quote(a.name);
    if (!a.affiliation.empty()) y += ", affiliation: " + Quote(a.affiliation);
    y += "}\n";
  }
  y += "published: " + e.updated + "\n";
  y += "provenance:\n";
  y += "  kind: arxiv-import\n";
  // The format's `arxiv` field takes new-style ids; an old-style one lives in the url.
  if (new_style) y += "  arxiv: " + Quote(e.VersionedId()) + "\n";
  y += "  url: " + Quote(e.abs_url) + "\n";
  if (!e.doi.empty()) y += "  doi: " + Quote(e.doi) + "\n";
  y += "x-arxiv:\n";
  y += "  id: " + Quote(e.VersionedId()) + "\n";
  y += "  first_published: " + e.published + "\n";
  if (!e.comment.empty()) y += "  comment: " + Quote(e.comment) + "\n";
  if (!e.journal_ref.empty()) y += "  journal_ref: " + Quote(e.journal_ref) + "\n";
  y += "claims:\n";
  y += std::string("  - id: ") + kClaimId + "\n";
  y += "    statement: " + Quote(p.claim.statement) + "\n";
  y += "    metric: " + p.metric + "\n";
  y += "    unit: " + Quote(p.claim.unit) + "\n";
  if (p.claim.value) y += "    value: " + Number(*p.claim.value) + "\n";
  if (p.claim.between) {
    y += "    expect: {between: [" + Number(p.claim.between->first) + ", " +
         Number(p.claim.between->second) + "]}\n";
  } else if (p.claim.at_least) {
    y += "    expect: {at_least: " + Number(*p.claim.at_least) + "}\n";
  }
  y += std::string("    x-extraction: ") + RuleName(p.claim.rule) + "\n";
  p.yaml = std::move(y);
  return p;
}

const char* OutcomeName(ImportOutcome outcome) {
  switch (outcome) {
    case ImportOutcome::kCreated:
      return "created";
    case ImportOutcome::kUnchanged:
      return "unchanged";
    case ImportOutcome::kNewVersion:
      return "new_version";
    case ImportOutcome::kRefused:
      return "refused";
  }
  return "?";
}

// --- DirectoryTarget

std::optional<ImportTarget::Existing> DirectoryTarget::Find(const std::string& id) {
  std::error_code ec;
  const fs::path dir = dir_ / id;
  if (!fs::exists(fs::symlink_status(dir, ec))) return std::nullopt;
  Existing existing;
  const std::optional<std::string> text = ReadFile(dir / kManifestName);
  if (!text) return existing;  // a folder without a manifest: not an import
  const LoadResult loaded = ParseManifest(*text, fs::path());
  existing.version = loaded.package.version;
  const Provenance& p = loaded.package.provenance;
  if (p.kind != "arxiv-import") return existing;
  std::optional<ArxivId> arxiv = ParseArxivId(p.arxiv);
  if (!arxiv) arxiv = ParseArxivId(p.url);
  if (arxiv) existing.arxiv_id = arxiv->id;
  return existing;
}

ImportTarget::Stored DirectoryTarget::Store(const RenderedPackage& package,
                                            const std::string& arxiv_id) {
  Stored stored;
  const fs::path dir = dir_ / package.id;
  const fs::path file = dir / kManifestName;
  stored.location = file.string();
  auto io_error = [&](const std::string& message) {
    stored.outcome = ImportOutcome::kRefused;
    stored.reason = message;
    stored.io_error = true;
    return stored;
  };
  std::error_code ec;
  if (fs::exists(fs::symlink_status(dir, ec))) {
    const std::optional<std::string> old = ReadFile(file);
    if (old && *old == package.yaml) {
      stored.outcome = ImportOutcome::kUnchanged;
      return stored;
    }
    const int version = old ? ParseManifest(*old, fs::path()).package.version : 0;
    if (version == package.version) {
      stored.reason = file.string() + " already holds version " + std::to_string(version) +
                      " of arXiv " + arxiv_id +
                      " with other content (a changed keyword map or "
                      "extraction rule?); a version is never changed in place: delete " +
                      dir.string() + " to import it afresh";
      return stored;
    }
    if (version > package.version) {
      stored.reason = file.string() + " holds version " + std::to_string(version) +
                      ", newer than arXiv v" + std::to_string(package.version);
      return stored;
    }
    Result<fs::path> temp = WriteTemp(dir / ".package.yaml.tmp-XXXXXX", package.yaml);
    if (!temp.ok()) return io_error(temp.status().message());
    fs::rename(temp.value(), file, ec);
    if (ec) {
      fs::remove(temp.value());
      return io_error("cannot replace " + file.string() + ": " + ec.message());
    }
    SyncDirectory(dir);
    stored.outcome = ImportOutcome::kNewVersion;
    return stored;
  }
  fs::create_directories(dir_, ec);
  if (ec) return io_error("cannot create " + dir_.string() + ": " + ec.message());
  std::string templ = (dir_ / ("." + package.id + ".tmp-XXXXXX")).string();
  if (!mkdtemp(templ.data()))
    return io_error("cannot create a folder in " + dir_.string() + ": " + std::strerror(errno));
  const fs::path temp_dir = templ;
  ::chmod(temp_dir.c_str(), 0755);
  Result<fs::path> temp = WriteTemp(temp_dir / ".package.yaml.tmp-XXXXXX", package.yaml);
  if (temp.ok()) fs::rename(temp.value(), temp_dir / kManifestName, ec);
  if (temp.ok() && !ec) {
    SyncDirectory(temp_dir);
    fs::rename(temp_dir, dir, ec);
  }
  if (!temp.ok() || ec) {
    fs::remove_all(temp_dir);
    return io_error(temp.ok() ? "cannot create " + dir.string() + ": " + ec.message()
                              : temp.status().message());
  }
  SyncDirectory(dir_);
  stored.outcome = ImportOutcome::kCreated;
  return stored;
}

// --- the import

ImportReport ImportFeed(const ArxivFeed& feed, const std::string& source,
                        const KeywordMap& keywords, ImportTarget& target) {
  ImportReport report;
  report.source = source;
  report.target = target.Name();
  report.total_results = feed.total_results;
  size_t e = 0, r = 0;
  while (e < feed.entries.size() || r < feed.refused.size()) {
    const bool take_refused =
        r < feed.refused.size() &&
        (e == feed.entries.size() || feed.refused[r].index < feed.entries[e].index);
    EntryReport out;
    if (take_refused) {
      const RefusedEntry& bad = feed.refused[r++];
      out.index = bad.index;
      out.line = bad.line;
      out.arxiv = bad.arxiv;
      out.title = bad.title;
      out.reason = bad.reason;
      report.entries.push_back(std::move(out));
      continue;
    }
    const ArxivEntry& entry = feed.entries[e++];
    out.index = entry.index;
    out.line = entry.line;
    out.arxiv = entry.VersionedId();
    out.title = entry.title;
    out.version = entry.version;
    std::string base = PackageIdFromTitle(entry.title);
    if (base.empty()) base = CutSlug("arxiv-" + Slug(entry.arxiv_id), kMaxBaseIdLength);
    for (int n = 1; n <= kMaxCollisionSuffix; ++n) {
      const std::string candidate = n == 1 ? base : base + "-" + std::to_string(n);
      const std::optional<ImportTarget::Existing> existing = target.Find(candidate);
      if (!existing || existing->arxiv_id == entry.arxiv_id) {
        out.id = candidate;
        break;
      }
    }
    if (out.id.empty() || out.id.size() > kMaxIdLength) {
      out.reason = "no free package id for \"" + base + "\"";
      report.entries.push_back(std::move(out));
      continue;
    }
    RenderedPackage package = RenderPackage(entry, out.id, keywords);
    const LoadResult check = ParseManifest(package.yaml, fs::path());
    if (!check.ok()) {
      out.reason = "the package made from it is invalid: " + check.diagnostics.front().ToString();
      out.package = std::move(package);
      report.entries.push_back(std::move(out));
      continue;
    }
    const ImportTarget::Stored stored = target.Store(package, entry.arxiv_id);
    out.outcome = stored.outcome;
    out.reason = stored.reason;
    out.location = stored.location;
    out.io_error = stored.io_error;
    out.package = std::move(package);
    report.entries.push_back(std::move(out));
  }
  return report;
}

int ImportReport::Count(ImportOutcome outcome) const {
  return static_cast<int>(std::count_if(
      entries.begin(), entries.end(), [&](const EntryReport& e) { return e.outcome == outcome; }));
}

bool ImportReport::HasIoError() const {
  return std::any_of(entries.begin(), entries.end(),
                     [](const EntryReport& e) { return e.io_error; });
}

json ImportReport::ToJson() const {
  json entries_json = json::array();
  for (const EntryReport& e : entries) {
    json j = {{"entry", e.index},
              {"line", e.line},
              {"arxiv", e.arxiv.empty() ? json(nullptr) : json(e.arxiv)},
              {"title", e.title},
              {"id", e.id.empty() ? json(nullptr) : json(e.id)},
              {"version", e.version ? json(e.version) : json(nullptr)},
              {"outcome", OutcomeName(e.outcome)},
              {"reason", e.reason.empty() ? json(nullptr) : json(e.reason)},
              {"location", e.location.empty() ? json(nullptr) : json(e.location)}};
    if (e.package) {
      const HeadlineClaim& c = e.package->claim;
      json expect = nullptr;
      if (c.between) expect = {{"between", {c.between->first, c.between->second}}};
      if (c.at_least && !c.between) expect = {{"at_least", *c.at_least}};
      j["tags"] = e.package->tags;
      j["claim"] = {{"statement", c.statement}, {"metric", e.package->metric},
                    {"unit", c.unit},           {"value", c.value ? json(*c.value) : json(nullptr)},
                    {"expect", expect},         {"rule", RuleName(c.rule)}};
    } else {
      j["tags"] = nullptr;
      j["claim"] = nullptr;
    }
    entries_json.push_back(std::move(j));
  }
  return {{"source", source},
          {"target", target},
          {"total_results", total_results ? json(*total_results) : json(nullptr)},
          {"entries", entries_json},
          {"summary",
           {{"entries", entries.size()},
            {"created", Count(ImportOutcome::kCreated)},
            {"new_version", Count(ImportOutcome::kNewVersion)},
            {"unchanged", Count(ImportOutcome::kUnchanged)},
            {"refused", Count(ImportOutcome::kRefused)}}}};
}

std::string ImportReport::ToText() const {
  size_t id_width = 0;
  for (const EntryReport& e : entries) {
    id_width = std::max(id_width, e.id.size() + 1 + std::to_string(e.version).size() + 1);
  }
  std::string out;
  for (const EntryReport& e : entries) {
    const std::string outcome =
        e.outcome == ImportOutcome::kNewVersion ? "new version" : OutcomeName(e.outcome);
    std::string line = Pad(outcome, 12);
    if (e.outcome == ImportOutcome::kRefused) {
      line += "entry " + std::to_string(e.index) + " (line " + std::to_string(e.line) +
              (e.arxiv.empty() ? "" : ", " + e.arxiv) + (e.id.empty() ? "" : ", id " + e.id) +
              "): " + e.reason;
    } else {
      line += Pad(e.id + " v" + std::to_string(e.version), id_width) + "  arXiv " + e.arxiv;
      if (e.package) line += "  " + e.package->metric + " = " + ValueText(e.package->claim);
    }
    out += line + "\n";
  }
  out += std::to_string(entries.size()) + (entries.size() == 1 ? " entry" : " entries") + " from " +
         source + " into " + target + ": " + std::to_string(Count(ImportOutcome::kCreated)) +
         " created, " + std::to_string(Count(ImportOutcome::kNewVersion)) + " new versions, " +
         std::to_string(Count(ImportOutcome::kUnchanged)) + " unchanged, " +
         std::to_string(Count(ImportOutcome::kRefused)) + " refused\n";
  return out;
}

}  // namespace ahub::hub
