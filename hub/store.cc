#include "hub/store.h"

#include <openssl/evp.h>

#include <chrono>
#include <ctime>
#include <map>
#include <sstream>
#include <unordered_map>

namespace ahub::hub {
namespace {

using nlohmann::json;

// Migration i brings the schema from version i to i+1. Never edit a released entry: append.
const std::vector<std::string_view> kMigrations = {
    R"sql(
CREATE TABLE tokens (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE packages (
  id TEXT PRIMARY KEY,
  owner INTEGER NOT NULL,
  latest_version INTEGER NOT NULL,
  title TEXT NOT NULL,
  summary TEXT NOT NULL,
  primary_category TEXT NOT NULL,
  categories TEXT NOT NULL,
  tags TEXT NOT NULL,
  published TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  seq INTEGER NOT NULL,
  score REAL NOT NULL DEFAULT 0,
  attention TEXT NOT NULL DEFAULT '{}',
  level TEXT NOT NULL DEFAULT 'declared',
  claim_count INTEGER NOT NULL DEFAULT 0,
  open_tensions INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX packages_rank ON packages(score DESC, open_tensions DESC, published DESC, id);
CREATE INDEX packages_recent ON packages(published DESC, seq DESC);
CREATE INDEX packages_category ON packages(primary_category, score DESC, open_tensions DESC, published DESC, id);
CREATE TABLE package_tags (
  package TEXT NOT NULL REFERENCES packages(id),
  tag TEXT NOT NULL,
  PRIMARY KEY (package, tag)
) WITHOUT ROWID;
CREATE INDEX package_tags_tag ON package_tags(tag, package);
CREATE VIRTUAL TABLE package_search USING fts5(package UNINDEXED, body, tokenize = 'unicode61');
CREATE TABLE versions (
  package TEXT NOT NULL REFERENCES packages(id),
  version INTEGER NOT NULL,
  content_sha256 TEXT NOT NULL,
  git_commit TEXT NOT NULL,
  manifest TEXT NOT NULL,
  submitted_at TEXT NOT NULL,
  submitted_by INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (package, version)
);
CREATE INDEX versions_sha ON versions(package, content_sha256);
CREATE TABLE claims (
  package TEXT NOT NULL,
  version INTEGER NOT NULL,
  claim TEXT NOT NULL,
  position INTEGER NOT NULL,
  statement TEXT NOT NULL,
  metric TEXT NOT NULL,
  unit TEXT NOT NULL,
  value REAL,
  expect TEXT NOT NULL,
  conditions TEXT NOT NULL,
  has_evidence INTEGER NOT NULL,
  verdict TEXT NOT NULL,
  measured REAL,
  reason TEXT NOT NULL DEFAULT '',
  level TEXT NOT NULL,
  PRIMARY KEY (package, version, claim),
  FOREIGN KEY (package, version) REFERENCES versions(package, version)
);
CREATE INDEX claims_metric ON claims(metric, unit);
CREATE TABLE reproductions (
  package TEXT NOT NULL,
  version INTEGER NOT NULL,
  claim TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  source TEXT NOT NULL,
  verdict TEXT NOT NULL,
  measured REAL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (package, version, claim, fingerprint)
);
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  package TEXT NOT NULL,
  version INTEGER NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  started_at TEXT NOT NULL DEFAULT '',
  finished_at TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  level TEXT NOT NULL DEFAULT '',
  progress TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX jobs_state ON jobs(state, id);
CREATE INDEX jobs_package ON jobs(package, version, id);
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  job INTEGER NOT NULL REFERENCES jobs(id),
  package TEXT NOT NULL,
  version INTEGER NOT NULL,
  data TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX runs_package ON runs(package, version, id);
CREATE TABLE attestations (
  id INTEGER PRIMARY KEY,
  package TEXT NOT NULL,
  version INTEGER NOT NULL,
  token INTEGER NOT NULL,
  fingerprint TEXT NOT NULL,
  level TEXT NOT NULL,
  host TEXT NOT NULL,
  report TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX attestations_package ON attestations(package, version);
CREATE TABLE tensions (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  metric TEXT NOT NULL,
  unit TEXT NOT NULL,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  note TEXT NOT NULL DEFAULT '',
  raised_by TEXT NOT NULL,
  other TEXT NOT NULL,
  divergence REAL NOT NULL,
  data TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX tensions_status ON tensions(status, divergence DESC);
CREATE INDEX tensions_metric ON tensions(metric);
CREATE INDEX tensions_raised ON tensions(raised_by);
CREATE INDEX tensions_other ON tensions(other);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO counters VALUES ('seq', 0);
)sql",
    // The search row of each package, so replacing it is a rowid lookup: package_search.package
    // is UNINDEXED, and deleting by it scanned the whole full-text table on every ingestion.
    R"sql(
ALTER TABLE packages ADD COLUMN search_rowid INTEGER;
UPDATE packages SET search_rowid = (SELECT s.rowid FROM package_search s WHERE s.package = packages.id);
)sql",
    // Facet counts of the unfiltered listing (the discoveries page after every write), kept by
    // triggers in the writing transaction: counting 100,000 packages and their tags per request
    // cost ~50 ms. kind 'category' (primary category), 'tag', and 'all' (value '', the total).
    R"sql(
CREATE TABLE facet_counts (
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (kind, value)
) WITHOUT ROWID;
INSERT INTO facet_counts SELECT 'category', primary_category, COUNT(*) FROM packages GROUP BY primary_category;
INSERT INTO facet_counts SELECT 'tag', tag, COUNT(*) FROM package_tags GROUP BY tag;
INSERT INTO facet_counts SELECT 'all', '', COUNT(*) FROM packages;
CREATE TRIGGER facet_package_insert AFTER INSERT ON packages BEGIN
  INSERT INTO facet_counts VALUES ('category', NEW.primary_category, 1)
    ON CONFLICT (kind, value) DO UPDATE SET n = n + 1;
  INSERT INTO facet_counts VALUES ('all', '', 1) ON CONFLICT (kind, value) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER facet_package_delete AFTER DELETE ON packages BEGIN
  UPDATE facet_counts SET n = n - 1 WHERE kind = 'category' AND value = OLD.primary_category;
  UPDATE facet_counts SET n = n - 1 WHERE kind = 'all';
  DELETE FROM facet_counts WHERE kind = 'category' AND value = OLD.primary_category AND n = 0;
END;
CREATE TRIGGER facet_package_category AFTER UPDATE OF primary_category ON packages
WHEN OLD.primary_category IS NOT NEW.primary_category BEGIN
  UPDATE facet_counts SET n = n - 1 WHERE kind = 'category' AND value = OLD.primary_category;
  DELETE FROM facet_counts WHERE kind = 'category' AND value = OLD.primary_category AND n = 0;
  INSERT INTO facet_counts VALUES ('category', NEW.primary_category, 1)
    ON CONFLICT (kind, value) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER facet_tag_insert AFTER INSERT ON package_tags BEGIN
  INSERT INTO facet_counts VALUES ('tag', NEW.tag, 1) ON CONFLICT (kind, value) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER facet_tag_delete AFTER DELETE ON package_tags BEGIN
  UPDATE facet_counts SET n = n - 1 WHERE kind = 'tag' AND value = OLD.tag;
  DELETE FROM facet_counts WHERE kind = 'tag' AND value = OLD.tag AND n = 0;
END;
)sql",
    // Free-text filters map the full-text matches (rowids, straight from the index) to packages
    // through this index instead of reading each match's package column: ~2x for a listing.
    R"sql(
CREATE INDEX packages_search ON packages(search_rowid);
)sql",
};

std::vector<std::string> JsonStrings(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& v : json::parse(text)) out.push_back(v.get<std::string>());
  return out;
}

json ParseOr(const std::string& text, json fallback) {
  if (text.empty()) return fallback;
  return json::parse(text, nullptr, /*allow_exceptions=*/false);
}

constexpr const char* kPackageColumns =
    "id, owner, latest_version, title, summary, categories, tags, published, created_at, "
    "updated_at, seq, score, attention, level, claim_count, open_tensions";

PackageRow ReadPackage(const Stmt& s) {
  PackageRow p;
  p.id = s.Text(0);
  p.owner = s.Int(1);
  p.latest_version = static_cast<int>(s.Int(2));
  p.title = s.Text(3);
  p.summary = s.Text(4);
  p.categories = JsonStrings(s.Text(5));
  p.tags = JsonStrings(s.Text(6));
  p.published = s.Text(7);
  p.created_at = s.Text(8);
  p.updated_at = s.Text(9);
  p.seq = s.Int(10);
  p.score = s.Double(11);
  p.attention = ParseOr(s.Text(12), json::object());
  p.level = s.Text(13);
  p.claim_count = static_cast<int>(s.Int(14));
  p.open_tensions = static_cast<int>(s.Int(15));
  return p;
}

constexpr const char* kVersionColumns =
    "package, version, content_sha256, git_commit, manifest, submitted_at, submitted_by, seq";

VersionRow ReadVersion(const Stmt& s) {
  VersionRow v;
  v.package = s.Text(0);
  v.version = static_cast<int>(s.Int(1));
  v.content_sha256 = s.Text(2);
  v.commit = s.Text(3);
  v.manifest = ParseOr(s.Text(4), json::object());
  v.submitted_at = s.Text(5);
  v.submitted_by = s.Int(6);
  v.seq = s.Int(7);
  return v;
}

constexpr const char* kClaimColumns =
    "c.package, c.version, c.claim, c.position, c.statement, c.metric, c.unit, c.value, c.expect, "
    "c.conditions, c.has_evidence, c.verdict, c.measured, c.reason, c.level, "
    "(SELECT COUNT(*) FROM reproductions r WHERE r.package = c.package AND r.version = c.version "
    " AND r.claim = c.claim AND r.verdict = 'reproduced')";

ClaimRow ReadClaim(const Stmt& s) {
  ClaimRow c;
  c.package = s.Text(0);
  c.version = static_cast<int>(s.Int(1));
  c.claim = s.Text(2);
  c.position = static_cast<int>(s.Int(3));
  c.statement = s.Text(4);
  c.metric = s.Text(5);
  c.unit = s.Text(6);
  c.value = s.OptDouble(7);
  c.expect = ParseOr(s.Text(8), nullptr);
  c.conditions = ParseOr(s.Text(9), json::object());
  c.has_evidence = s.Int(10) != 0;
  c.verdict = s.Text(11);
  c.measured = s.OptDouble(12);
  c.reason = s.Text(13);
  c.level = s.Text(14);
  c.hosts = static_cast<int>(s.Int(15));
  return c;
}

constexpr const char* kJobColumns =
    "id, package, version, state, reason, attempts, created_at, started_at, finished_at, error, level, progress";

JobRow ReadJob(const Stmt& s) {
  JobRow j;
  j.id = s.Int(0);
  j.package = s.Text(1);
  j.version = static_cast<int>(s.Int(2));
  j.state = s.Text(3);
  j.reason = s.Text(4);
  j.attempts = static_cast<int>(s.Int(5));
  j.created_at = s.Text(6);
  j.started_at = s.Text(7);
  j.finished_at = s.Text(8);
  j.error = s.Text(9);
  j.level = s.Text(10);
  j.progress = ParseOr(s.Text(11), json::object());
  return j;
}

constexpr const char* kTensionColumns =
    "id, key, metric, unit, kind, status, note, raised_by, other, divergence, data, created_at, updated_at";

TensionRow ReadTension(const Stmt& s) {
  TensionRow t;
  t.id = s.Int(0);
  t.key = s.Text(1);
  t.metric = s.Text(2);
  t.unit = s.Text(3);
  t.kind = s.Text(4);
  t.status = s.Text(5);
  t.note = s.Text(6);
  t.raised_by = s.Text(7);
  t.other = s.Text(8);
  t.divergence = s.Double(9);
  t.data = ParseOr(s.Text(10), json::object());
  t.created_at = s.Text(11);
  t.updated_at = s.Text(12);
  return t;
}

constexpr const char* kRunColumns = "id, job, package, version, data, created_at";

RunRow ReadRun(const Stmt& s) {
  return {s.Int(0), s.Int(1), s.Text(2), static_cast<int>(s.Int(3)), ParseOr(s.Text(4), json::object()), s.Text(5)};
}

AttestationRow ReadAttestation(const Stmt& s) {
  AttestationRow a;
  a.id = s.Int(0);
  a.package = s.Text(1);
  a.version = static_cast<int>(s.Int(2));
  a.token = s.Int(3);
  a.fingerprint = s.Text(4);
  a.level = s.Text(5);
  a.host = ParseOr(s.Text(6), json::object());
  a.created_at = s.Text(7);
  return a;
}

// Free text becomes an FTS5 query of quoted prefix terms, so user input is never FTS syntax.
std::string FtsQuery(const std::string& q) {
  std::string out, word;
  auto flush = [&] {
    if (word.empty()) return;
    if (!out.empty()) out += ' ';
    out += '"' + word + "\"*";
    word.clear();
  };
  for (unsigned char c : q) {
    if (std::isalnum(c) || c >= 0x80) {
      word += static_cast<char>(c);
    } else {
      flush();
    }
  }
  flush();
  return out;
}

std::string Base64Url(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();  // padding would need URL-encoding
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::optional<std::string> FromBase64Url(std::string in) {
  for (char& c : in) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (in.size() % 4 != 0) in += '=';
  if (in.empty()) return std::nullopt;
  std::string out(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  size_t len = static_cast<size_t>(n);
  for (size_t i = in.size(); i > 0 && in[i - 1] == '='; --i) --len;  // EVP counts padding as bytes
  out.resize(len);
  return out;
}

// The WHERE clause shared by listings and facets; parameters appended to `params` in order.
using Values = std::vector<std::variant<int64_t, double, std::string>>;

std::string FilterSql(const PackageFilter& f, Values& params) {
  std::string where = " WHERE 1=1";
  if (!f.category.empty()) {
    where += " AND p.primary_category = ?";
    params.push_back(f.category);
  }
  if (!f.tag.empty()) {
    // A set from the (tag, package) index, not a probe per package row.
    where += " AND p.id IN (SELECT t.package FROM package_tags t WHERE t.tag = ?)";
    params.push_back(f.tag);
  }
  const std::string fts = FtsQuery(f.q);
  if (!fts.empty()) {
    where += " AND p.search_rowid IN (SELECT rowid FROM package_search WHERE package_search MATCH ?)";
    params.push_back(fts);
  }
  return where;
}

}  // namespace

std::string NowUtc() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<std::unique_ptr<Store>> Store::Open(const std::filesystem::path& db_file) {
  std::unique_ptr<Store> store(new Store(db_file));
  static std::atomic<uint64_t> next_instance{1};
  store->instance_ = next_instance++;
  auto db = Db::Open(db_file);
  if (!db.ok()) return db.status();
  Status migrated = Migrate(*db.value(), kMigrations);
  if (!migrated.ok()) return Status::IoError(db_file.string() + ": " + migrated.message());
  return store;
}

Store::~Store() = default;

Db& Store::Conn() {
  // One connection per (thread, store). Keyed by instance number, not address, so a new Store at
  // a recycled address never picks up a connection to another file.
  thread_local std::unordered_map<uint64_t, std::unique_ptr<Db>> conns;
  auto& slot = conns[instance_];
  if (!slot) {
    auto db = Db::Open(file_);
    if (!db.ok()) throw DbError(db.status().message());
    slot = std::move(db.value());
  }
  return *slot;
}

void Store::Write(const std::function<void(Db&)>& fn, bool visible) {
  std::lock_guard<std::mutex> lock(write_mu_);
  Db& db = Conn();
  Transaction tx(db);
  fn(db);
  tx.Commit();
  if (visible) generation_.fetch_add(1, std::memory_order_acq_rel);
}

// --- tokens

int64_t Store::InsertToken(const std::string& name, const std::string& role, const std::string& hash) {
  int64_t id = 0;
  Write([&](Db& db) {
    db.Prepare("INSERT INTO tokens(name, role, hash, created_at) VALUES (?, ?, ?, ?)")
        .Bind(name, role, hash, NowUtc())
        .Run();
    id = db.LastInsertId();
  });
  return id;
}

std::optional<TokenRow> Store::FindToken(const std::string& hash) {
  return Conn().QueryOne(
      "SELECT id, name, role, created_at FROM tokens WHERE hash = ? AND revoked = 0",
      [](const Stmt& s) { return TokenRow{s.Int(0), s.Text(1), s.Text(2), s.Text(3)}; }, hash);
}

// --- packages

std::optional<PackageRow> Store::FindPackage(const std::string& id) {
  return Conn().QueryOne(std::string("SELECT ") + kPackageColumns + " FROM packages WHERE id = ?", ReadPackage, id);
}

std::optional<VersionRow> Store::FindVersion(const std::string& id, int version) {
  return Conn().QueryOne(std::string("SELECT ") + kVersionColumns +
                           " FROM versions WHERE package = ? AND version = ?", ReadVersion, id, version);
}

std::vector<VersionRow> Store::Versions(const std::string& id) {
  return Conn().QueryAll(std::string("SELECT ") + kVersionColumns +
                           " FROM versions WHERE package = ? ORDER BY version", ReadVersion, id);
}

std::optional<VersionRow> Store::FindVersionBySha(const std::string& id, const std::string& sha256) {
  return Conn().QueryOne(std::string("SELECT ") + kVersionColumns +
                           " FROM versions WHERE package = ? AND content_sha256 = ? ORDER BY version LIMIT 1", ReadVersion, id, sha256);
}

int64_t Store::PackageCount() {
  return Conn().QueryInt("SELECT COUNT(*) FROM packages");
}

PackagePage Store::ListPackages(const PackageFilter& filter, const std::string& sort,
                                const std::string& cursor, int limit) {
  Values params;
  const std::string where = FilterSql(filter, params);
  Db& db = Conn();
  PackagePage page;
  if (filter.Empty()) {
    page.total = db.QueryInt("SELECT COALESCE((SELECT n FROM facet_counts WHERE kind = 'all'), 0)");
  } else {
    Stmt& s = db.Prepare("SELECT COUNT(*) FROM packages p" + where);
    s.BindValues(params);
    s.Step();
    page.total = s.Int(0);
    s.Run();
  }
  // Keyset pagination: the cursor holds the sort key of the last row shown, so a page costs the
  // same at any depth and rows inserted meanwhile neither repeat nor vanish.
  const bool recent = sort == "recent";
  std::string after;
  if (!cursor.empty()) {
    const auto decoded = FromBase64Url(cursor);
    const json key = decoded ? json::parse(*decoded, nullptr, false) : json();
    const bool valid = key.is_array() && (recent ? key.size() == 3 && key[0].is_string() && key[1].is_number_integer() && key[2].is_string()
                                                 : key.size() == 4 && key[0].is_number() && key[1].is_number_integer() && key[2].is_string() && key[3].is_string());
    if (!valid) throw std::invalid_argument("cursor is not one this listing produced");
    if (recent) {
      after = " AND (p.published < ? OR (p.published = ? AND (p.seq < ? OR (p.seq = ? AND p.id > ?))))";
      const std::string pub = key[0], id = key[2];
      const int64_t seq = key[1];
      params.insert(params.end(), {pub, pub, seq, seq, id});
    } else {
      after = " AND (p.score < ? OR (p.score = ? AND (p.open_tensions < ? OR (p.open_tensions = ? AND "
              "(p.published < ? OR (p.published = ? AND p.id > ?))))))";
      const double score = key[0];
      const int64_t open = key[1];
      const std::string pub = key[2], id = key[3];
      params.insert(params.end(), {score, score, open, open, pub, pub, id});
    }
  }
  const std::string order = recent ? " ORDER BY p.published DESC, p.seq DESC, p.id"
                                   : " ORDER BY p.score DESC, p.open_tensions DESC, p.published DESC, p.id";
  params.emplace_back(int64_t{limit} + 1);
  Stmt& s = db.Prepare(std::string("SELECT ") + kPackageColumns + " FROM packages p" + where + after + order + " LIMIT ?");
  s.BindValues(params);
  while (s.Step()) page.items.push_back(ReadPackage(s));
  if (static_cast<int>(page.items.size()) > limit) {
    page.items.resize(static_cast<size_t>(limit));
    const PackageRow& last = page.items.back();
    const json key = recent ? json::array({last.published, last.seq, last.id})
                            : json::array({last.score, last.open_tensions, last.published, last.id});
    page.next_cursor = Base64Url(key.dump());
  }
  return page;
}

std::vector<Facet> Store::CategoryFacets(const PackageFilter& filter) {
  if (filter.Empty()) return CountedFacets("category");
  Values params;
  const std::string where = FilterSql(filter, params);
  Stmt& s = Conn().Prepare("SELECT p.primary_category, COUNT(*) AS n FROM packages p" + where +
                           " GROUP BY p.primary_category ORDER BY n DESC, p.primary_category");
  s.BindValues(params);
  std::vector<Facet> out;
  while (s.Step()) out.push_back({s.Text(0), s.Int(1)});
  return out;
}

std::vector<Facet> Store::TagFacets(const PackageFilter& filter) {
  if (filter.Empty()) return CountedFacets("tag");
  Values params;
  const std::string where = FilterSql(filter, params);
  // The tags of the matching packages: the filter picks the packages first, then their tag rows
  // come from the (package, tag) key, instead of joining every tag row to its package.
  Stmt& s = Conn().Prepare("SELECT t.tag, COUNT(*) AS n FROM package_tags t WHERE t.package IN (SELECT p.id FROM packages p" +
                           where + ") GROUP BY t.tag ORDER BY n DESC, t.tag");
  s.BindValues(params);
  std::vector<Facet> out;
  while (s.Step()) out.push_back({s.Text(0), s.Int(1)});
  return out;
}

std::vector<Facet> Store::CountedFacets(const std::string& kind) {
  return Conn().QueryAll("SELECT value, n FROM facet_counts WHERE kind = ? AND n > 0 ORDER BY n DESC, value",
                         [](const Stmt& s) { return Facet{s.Text(0), s.Int(1)}; }, kind);
}

// --- writes composed by the service

int64_t Store::NextSeq(Db& db) {
  db.Prepare("UPDATE counters SET value = value + 1 WHERE name = 'seq'").Bind().Run();
  return db.QueryInt("SELECT value FROM counters WHERE name = 'seq'");
}

void Store::InsertVersion(Db& db, const PackageRow& p, const VersionRow& v, const std::vector<ClaimRow>& claims) {
  db.Prepare("INSERT INTO packages(id, owner, latest_version, title, summary, primary_category, categories, tags, "
             "published, created_at, updated_at, seq, claim_count) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
             "ON CONFLICT(id) DO UPDATE SET latest_version = excluded.latest_version, title = excluded.title, "
             "summary = excluded.summary, primary_category = excluded.primary_category, "
             "categories = excluded.categories, tags = excluded.tags, published = excluded.published, "
             "updated_at = excluded.updated_at, seq = excluded.seq, claim_count = excluded.claim_count")
      .Bind(p.id, p.owner, p.latest_version, p.title, p.summary, p.categories.empty() ? std::string() : p.categories[0],
            json(p.categories).dump(), json(p.tags).dump(), p.published, p.created_at, p.updated_at, p.seq,
            p.claim_count)
      .Run();
  db.Prepare("DELETE FROM package_tags WHERE package = ?").Bind(p.id).Run();
  for (const std::string& tag : p.tags) {
    db.Prepare("INSERT OR IGNORE INTO package_tags(package, tag) VALUES (?, ?)").Bind(p.id, tag).Run();
  }
  const int64_t old_search = db.QueryInt("SELECT IFNULL(search_rowid, 0) FROM packages WHERE id = ?", p.id);
  if (old_search != 0) db.Prepare("DELETE FROM package_search WHERE rowid = ?").Bind(old_search).Run();
  std::string body = p.id + "\n" + p.title + "\n" + p.summary;
  for (const std::string& tag : p.tags) body += "\n" + tag;
  for (const std::string& c : p.categories) body += "\n" + c;
  db.Prepare("INSERT INTO package_search(package, body) VALUES (?, ?)").Bind(p.id, body).Run();
  db.Prepare("UPDATE packages SET search_rowid = ? WHERE id = ?").Bind(db.LastInsertId(), p.id).Run();

  db.Prepare("INSERT INTO versions(package, version, content_sha256, git_commit, manifest, submitted_at, "
             "submitted_by, seq) VALUES (?,?,?,?,?,?,?,?)")
      .Bind(v.package, v.version, v.content_sha256, v.commit, v.manifest.dump(), v.submitted_at, v.submitted_by, v.seq)
      .Run();
  for (const ClaimRow& c : claims) {
    db.Prepare("INSERT INTO claims(package, version, claim, position, statement, metric, unit, value, expect, "
               "conditions, has_evidence, verdict, measured, reason, level) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
        .Bind(c.package, c.version, c.claim, c.position, c.statement, c.metric, c.unit, c.value, c.expect.dump(),
              c.conditions.dump(), c.has_evidence, c.verdict, c.measured, c.reason, c.level)
        .Run();
  }
}

int64_t Store::InsertJob(Db& db, const std::string& package, int version, const std::string& reason) {
  db.Prepare("INSERT INTO jobs(package, version, state, reason, created_at) VALUES (?, ?, 'queued', ?, ?)")
      .Bind(package, version, reason, NowUtc())
      .Run();
  return db.LastInsertId();
}

void Store::UpdatePackageScore(Db& db, const std::string& id, double score, const json& attention,
                               const std::string& level, int open_tensions) {
  db.Prepare("UPDATE packages SET score = ?, attention = ?, level = ?, open_tensions = ? WHERE id = ?")
      .Bind(score, attention.dump(), level, open_tensions, id)
      .Run();
}

// --- claims

std::vector<ClaimRow> Store::Claims(Db& db, const std::string& id, int version) {
  return db.QueryAll(std::string("SELECT ") + kClaimColumns +
                       " FROM claims c WHERE c.package = ? AND c.version = ? ORDER BY c.position", ReadClaim, id, version);
}

std::vector<ClaimRow> Store::Claims(const std::string& id, int version) { return Claims(Conn(), id, version); }

std::vector<ClaimRow> Store::LatestClaimsWithMetrics(const std::vector<std::string>& metrics) {
  std::vector<ClaimRow> out;
  Db& db = Conn();
  const std::string base = std::string("SELECT ") + kClaimColumns +
                           " FROM claims c JOIN packages p ON p.id = c.package AND p.latest_version = c.version";
  if (metrics.empty()) {
    Stmt& s = db.Prepare(base + " ORDER BY c.package, c.position");
    s.Bind();
    while (s.Step()) out.push_back(ReadClaim(s));
    return out;
  }
  for (const std::string& m : metrics) {
    Stmt& s = db.Prepare(base + " WHERE c.metric = ? ORDER BY c.package, c.position");
    s.Bind(m);
    while (s.Step()) out.push_back(ReadClaim(s));
  }
  return out;
}

void Store::UpdateClaimVerdict(Db& db, const ClaimRow& c) {
  db.Prepare("UPDATE claims SET verdict = ?, measured = ?, reason = ?, level = ? "
             "WHERE package = ? AND version = ? AND claim = ?")
      .Bind(c.verdict, c.measured, c.reason, c.level, c.package, c.version, c.claim)
      .Run();
}

void Store::InsertReproduction(Db& db, const std::string& id, int version, const std::string& claim,
                               const std::string& fingerprint, const std::string& source, const std::string& verdict,
                               std::optional<double> measured) {
  // The latest word of a host on a claim replaces its earlier one.
  db.Prepare("INSERT INTO reproductions(package, version, claim, fingerprint, source, verdict, measured, created_at) "
             "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(package, version, claim, fingerprint) DO UPDATE SET "
             "source = excluded.source, verdict = excluded.verdict, measured = excluded.measured, "
             "created_at = excluded.created_at")
      .Bind(id, version, claim, fingerprint, source, verdict, measured, NowUtc())
      .Run();
}

std::map<std::string, int> Store::ReproducingHosts(Db& db, const std::string& id, int version) {
  Stmt& s = db.Prepare("SELECT claim, COUNT(*) FROM reproductions WHERE package = ? AND version = ? "
                       "AND verdict = 'reproduced' GROUP BY claim");
  s.Bind(id, version);
  std::map<std::string, int> out;
  while (s.Step()) out[s.Text(0)] = static_cast<int>(s.Int(1));
  return out;
}

int Store::DistinctReproducingHosts(Db& db, const std::string& id, int version) {
  return static_cast<int>(db.QueryInt("SELECT COUNT(DISTINCT fingerprint) FROM reproductions WHERE package = ? AND version = ? "
                       "AND verdict = 'reproduced'", id, version));
}

// --- jobs and runs

std::optional<JobRow> Store::ClaimJob() {
  std::optional<JobRow> job;
  std::lock_guard<std::mutex> lock(write_mu_);
  Db& db = Conn();
  Transaction tx(db);
  Stmt& s = db.Prepare(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE state = 'queued' ORDER BY id LIMIT 1");
  s.Bind();
  if (s.Step()) job = ReadJob(s);
  s.Run();
  if (job) {
    job->state = "running";
    job->attempts += 1;
    job->started_at = NowUtc();
    db.Prepare("UPDATE jobs SET state = 'running', attempts = ?, started_at = ?, progress = '{}' WHERE id = ?")
        .Bind(job->attempts, job->started_at, job->id)
        .Run();
  }
  tx.Commit();
  if (job) generation_.fetch_add(1, std::memory_order_acq_rel);
  return job;
}

std::optional<JobRow> Store::FindJob(int64_t id) {
  return Conn().QueryOne(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?", ReadJob, id);
}

std::optional<JobRow> Store::LatestJob(const std::string& id, int version) {
  return Conn().QueryOne(std::string("SELECT ") + kJobColumns +
                           " FROM jobs WHERE package = ? AND version = ? ORDER BY id DESC LIMIT 1", ReadJob, id, version);
}

void Store::SetJobProgress(int64_t id, const json& progress) {
  Write([&](Db& db) { db.Prepare("UPDATE jobs SET progress = ? WHERE id = ?").Bind(progress.dump(), id).Run(); },
        /*visible=*/false);
}

void Store::FinishJob(Db& db, int64_t id, const std::string& state, const std::string& level, const std::string& error) {
  db.Prepare("UPDATE jobs SET state = ?, level = ?, error = ?, finished_at = ? WHERE id = ?")
      .Bind(state, level, error, NowUtc(), id)
      .Run();
}

int Store::RequeueInterrupted() {
  int n = 0;
  Write([&](Db& db) {
    db.Prepare("UPDATE jobs SET state = 'queued', reason = 'restarted' WHERE state = 'running'").Bind().Run();
    n = db.Changes();
  });
  return n;
}

std::map<std::string, int64_t> Store::JobCounts() {
  Stmt& s = Conn().Prepare("SELECT state, COUNT(*) FROM jobs GROUP BY state");
  s.Bind();
  std::map<std::string, int64_t> out = {{"queued", 0}, {"running", 0}, {"done", 0}, {"error", 0}};
  while (s.Step()) out[s.Text(0)] = s.Int(1);
  return out;
}

std::pair<int64_t, int64_t> Store::ActiveJobs() {
  Stmt& s = Conn().Prepare("SELECT (SELECT COUNT(*) FROM jobs WHERE state = 'queued'), "
                           "(SELECT COUNT(*) FROM jobs WHERE state = 'running')");
  s.Bind();
  s.Step();
  const std::pair<int64_t, int64_t> out{s.Int(0), s.Int(1)};
  s.Run();
  return out;
}

int64_t Store::InsertRun(Db& db, int64_t job, const std::string& package, int version, const json& data) {
  db.Prepare("INSERT INTO runs(job, package, version, data, created_at) VALUES (?,?,?,?,?)")
      .Bind(job, package, version, data.dump(), NowUtc())
      .Run();
  return db.LastInsertId();
}

std::vector<RunRow> Store::Runs(const std::string& id, int version) {
  return Conn().QueryAll(std::string("SELECT ") + kRunColumns +
                             " FROM runs WHERE package = ? AND (? = 0 OR version = ?) ORDER BY id DESC",
                         ReadRun, id, version, version);
}

std::optional<RunRow> Store::FindRun(int64_t run_id) {
  return Conn().QueryOne(std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?", ReadRun, run_id);
}

// --- attestations

int64_t Store::InsertAttestation(Db& db, const AttestationRow& a, const json& report) {
  db.Prepare("INSERT INTO attestations(package, version, token, fingerprint, level, host, report, created_at) "
             "VALUES (?,?,?,?,?,?,?,?)")
      .Bind(a.package, a.version, a.token, a.fingerprint, a.level, a.host.dump(), report.dump(), NowUtc())
      .Run();
  return db.LastInsertId();
}

std::vector<AttestationRow> Store::Attestations(const std::string& id, int version) {
  return Conn().QueryAll("SELECT id, package, version, token, fingerprint, level, host, created_at "
                         "FROM attestations WHERE package = ? AND version = ? ORDER BY id",
                         ReadAttestation, id, version);
}

// --- tensions

std::vector<TensionRow> Store::TensionsOfPackages(Db& db, const std::set<std::string>& packages,
                                                  const std::vector<std::string>& metrics) {
  const std::set<std::string> wanted(metrics.begin(), metrics.end());
  std::vector<TensionRow> out;
  std::set<std::string> seen;
  for (const char* column : {"raised_by", "other"}) {
    Stmt& s = db.Prepare(std::string("SELECT ") + kTensionColumns + " FROM tensions WHERE " + column + " = ?");
    for (const std::string& p : packages) {
      s.Bind(p);
      while (s.Step()) {
        TensionRow t = ReadTension(s);
        if (wanted.count(t.metric) && seen.insert(t.key).second) out.push_back(std::move(t));
      }
    }
  }
  return out;
}

int64_t Store::InsertTension(Db& db, const TensionRow& t) {
  db.Prepare("INSERT INTO tensions(key, metric, unit, kind, status, note, raised_by, other, divergence, data, "
             "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")
      .Bind(t.key, t.metric, t.unit, t.kind, t.status, t.note, t.raised_by, t.other, t.divergence, t.data.dump(),
            t.created_at, t.updated_at)
      .Run();
  return db.LastInsertId();
}

void Store::UpdateTension(Db& db, const TensionRow& t) {
  db.Prepare("UPDATE tensions SET kind = ?, status = ?, note = ?, raised_by = ?, other = ?, divergence = ?, "
             "data = ?, updated_at = ? WHERE id = ?")
      .Bind(t.kind, t.status, t.note, t.raised_by, t.other, t.divergence, t.data.dump(), t.updated_at, t.id)
      .Run();
}

std::vector<TensionRow> Store::Tensions(const std::string& status) {
  // Open first, then the widest divergence.
  return Conn().QueryAll(std::string("SELECT ") + kTensionColumns +
                           " FROM tensions WHERE (? = 'all' OR status = ?) "
                           "ORDER BY CASE status WHEN 'open' THEN 0 WHEN 'explained' THEN 1 WHEN 'resolved' THEN 2 "
                           "ELSE 3 END, divergence DESC, id", ReadTension, status, status);
}

std::vector<TensionRow> Store::PackageTensions(const std::string& id) {
  return Conn().QueryAll(std::string("SELECT ") + kTensionColumns +
                           " FROM tensions WHERE raised_by = ? OR other = ? "
                           "ORDER BY CASE status WHEN 'open' THEN 0 ELSE 1 END, divergence DESC, id", ReadTension, id, id);
}

std::optional<TensionRow> Store::FindTension(Db& db, int64_t id) {
  return db.QueryOne(std::string("SELECT ") + kTensionColumns + " FROM tensions WHERE id = ?", ReadTension, id);
}

std::optional<TensionRow> Store::FindTension(int64_t id) { return FindTension(Conn(), id); }

int Store::OpenTensionsRaised(Db& db, const std::string& id) {
  return static_cast<int>(db.QueryInt("SELECT COUNT(*) FROM tensions WHERE raised_by = ? AND status = 'open'", id));
}

int Store::OpenTensionsInvolving(Db& db, const std::string& id) {
  return static_cast<int>(db.QueryInt("SELECT (SELECT COUNT(*) FROM tensions WHERE raised_by = ? AND status = 'open') + "
                             "(SELECT COUNT(*) FROM tensions WHERE other = ? AND status = 'open')", id, id));
}

std::map<std::string, int64_t> Store::VerdictCounts() {
  Stmt& s = Conn().Prepare("SELECT c.verdict, COUNT(*) FROM claims c JOIN packages p ON p.id = c.package "
                           "AND p.latest_version = c.version GROUP BY c.verdict");
  s.Bind();
  std::map<std::string, int64_t> out;
  while (s.Step()) out[s.Text(0)] = s.Int(1);
  return out;
}

}  // namespace ahub::hub
