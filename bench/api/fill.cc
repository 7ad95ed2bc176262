// hub-bench-fill: a hub store with N synthetic packages, for benchmarking the read API at scale.
//
// Writes DIR/hub.db directly through Store (Store::Write transactions of kBatch packages, each
// package through Store::InsertVersion and Store::UpdatePackageScore, as ingestion does), with
// no git repositories and no blobs: the listing, the facets and GET /packages/{id} read only the
// database, so `ahub serve --data DIR --no-seed` serves them; the archive and diff routes of
// these packages answer 500 (no repository). Packages are declared-only (bench/api/synthetic.h);
// scores are drawn in steps of 0.5 from 4 to 30, a few packages have open tensions.
//
// At the end the full-text index is merged into one segment ('optimize'), as a long-running hub's
// would be after automatic merges.
//
// Before it writes anything it checks that the generated manifests are what the runner's
// validator makes of their package.yaml (the first kCheckedManifests), and after filling that
// the store counts N packages and ranks them by score.
//
// Usage: hub-bench-fill --data DIR [--packages N] [--seed S]   (DIR must not hold a hub.db)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "bench/api/synthetic.h"
#include "hub/attention.h"
#include "hub/store.h"

namespace {

namespace fs = std::filesystem;
using ahub::bench::SyntheticPackage;
using ahub::hub::ClaimRow;
using ahub::hub::Db;
using ahub::hub::PackageRow;
using ahub::hub::Store;
using ahub::hub::VersionRow;
using nlohmann::json;

constexpr int64_t kDefaultPackages = 100000;
constexpr uint64_t kDefaultSeed = 20261122;
constexpr int64_t kBatch = 10000;          // packages per write transaction
constexpr int64_t kCheckedManifests = 200;  // compared with the runner's parser first
constexpr double kScoreMin = 4.0;           // the "published" points every package has
constexpr int kScoreSteps = 52;             // 4.0, 4.5, ..., 30.0
constexpr double kScoreStep = 0.5;
constexpr int64_t kOwner = 0;               // the built-in seed account

void Usage() {
  std::fprintf(stderr, "usage: hub-bench-fill --data DIR [--packages N] [--seed S]\n");
}

std::string RandomHex(std::mt19937_64& rng, int digits) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < digits; ++i) out += kHex[rng() & 0xf];
  return out;
}

struct Rows {
  PackageRow package;
  VersionRow version;
  std::vector<ClaimRow> claims;
};

Rows RowsOf(const SyntheticPackage& p, std::mt19937_64& rng, const std::string& now) {
  Rows r;
  PackageRow& row = r.package;
  row.id = p.id;
  row.owner = kOwner;
  row.latest_version = 1;
  row.title = p.title;
  row.summary = p.summary;
  row.categories = p.categories;
  row.tags = p.tags;
  row.published = p.published;
  row.created_at = row.updated_at = now;
  row.claim_count = static_cast<int>(p.claims.size());
  VersionRow& v = r.version;
  v.package = p.id;
  v.version = 1;
  v.content_sha256 = RandomHex(rng, 64);
  v.commit = RandomHex(rng, 40);  // names no object: there is no repository
  v.manifest = ahub::bench::ManifestJson(p);
  v.submitted_at = now;
  v.submitted_by = kOwner;
  for (size_t i = 0; i < p.claims.size(); ++i) {
    ClaimRow c;
    c.package = p.id;
    c.version = 1;
    c.claim = p.claims[i].id;
    c.position = static_cast<int>(i);
    c.statement = p.claims[i].statement;
    c.metric = p.claims[i].metric;
    c.unit = p.claims[i].unit;
    c.value = p.claims[i].value;
    c.expect = nullptr;
    c.conditions = p.claims[i].conditions;
    c.has_evidence = false;
    c.verdict = "declared";
    c.level = "declared";
    r.claims.push_back(std::move(c));
  }
  return r;
}

// Roughly nine packages in ten have no open tension, as in a hub where most claims agree.
int OpenTensions(std::mt19937_64& rng) {
  const int roll = std::uniform_int_distribution<int>(0, 99)(rng);
  return roll < 90 ? 0 : roll < 98 ? 1 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  fs::path data;
  int64_t packages = kDefaultPackages;
  uint64_t seed = kDefaultSeed;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--data" && has_value) {
      data = argv[++i];
    } else if (arg == "--packages" && has_value) {
      packages = std::strtoll(argv[++i], nullptr, 10);
    } else if (arg == "--seed" && has_value) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else {
      Usage();
      return 2;
    }
  }
  if (data.empty() || packages <= 0) {
    Usage();
    return 2;
  }
  const fs::path db_file = data / "hub.db";
  if (fs::exists(db_file)) {
    std::fprintf(stderr, "hub-bench-fill: %s exists; give a new directory\n", db_file.c_str());
    return 2;
  }
  std::error_code ec;
  fs::create_directories(data, ec);
  if (ec) {
    std::fprintf(stderr, "hub-bench-fill: %s: %s\n", data.c_str(), ec.message().c_str());
    return 1;
  }

  // The reference check, before anything is written.
  {
    ahub::bench::SyntheticGenerator check(seed, {});
    for (int64_t i = 0; i < std::min(packages, kCheckedManifests); ++i) {
      const ahub::Status s = ahub::bench::CheckAgainstParser(check.Next(i));
      if (!s.ok()) {
        std::fprintf(stderr, "hub-bench-fill: %s\n", s.ToString().c_str());
        return 1;
      }
    }
  }

  auto opened = Store::Open(db_file);
  if (!opened.ok()) {
    std::fprintf(stderr, "hub-bench-fill: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  Store& store = *opened.value();
  ahub::bench::SyntheticGenerator generator(seed, {});
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  const json weights = ahub::hub::AttentionWeights{}.ToJson();
  const std::string now = ahub::hub::NowUtc();

  const auto start = std::chrono::steady_clock::now();
  for (int64_t first = 0; first < packages; first += kBatch) {
    const int64_t last = std::min(packages, first + kBatch);
    store.Write([&](Db& db) {
      for (int64_t i = first; i < last; ++i) {
        Rows r = RowsOf(generator.Next(i), rng, now);
        r.package.seq = r.version.seq = Store::NextSeq(db);
        Store::InsertVersion(db, r.package, r.version, r.claims);
        const double score =
            kScoreMin + kScoreStep * std::uniform_int_distribution<int>(0, kScoreSteps)(rng);
        const json attention = {{"score", score},
                                {"breakdown", json::array()},
                                {"formula", "synthetic score (hub-bench-fill)"},
                                {"weights", weights}};
        Store::UpdatePackageScore(db, r.package.id, score, attention, "declared", OpenTensions(rng));
      }
    });
  }
  store.Write([](Db& db) {
    db.Exec("INSERT INTO package_search(package_search) VALUES ('optimize');");
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // The store answers as the hub will read it.
  const int64_t count = store.PackageCount();
  const ahub::hub::PackagePage page = store.ListPackages({}, "attention", "", 20);
  bool ranked = page.total == packages && !page.items.empty();
  for (size_t i = 1; i < page.items.size(); ++i) ranked = ranked && page.items[i - 1].score >= page.items[i].score;
  if (count != packages || !ranked) {
    std::fprintf(stderr, "hub-bench-fill: the store holds %lld packages (expected %lld) or does not rank them\n",
                 static_cast<long long>(count), static_cast<long long>(packages));
    return 1;
  }
  std::printf("hub-bench-fill: %lld packages in %.1f s (%.0f packages/s) into %s\n",
              static_cast<long long>(packages), seconds, static_cast<double>(packages) / seconds,
              db_file.c_str());
  std::printf("hub-bench-fill: no git repositories: listings and GET /packages/{id} read only the "
              "database; archive and diff routes fail for these packages\n");
  return 0;
}
