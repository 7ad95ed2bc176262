// The store alone: the trigger-kept facet counts of the unfiltered listing agree with counting
// the rows, through inserts, new versions that change category and tags, and filters.
#include "hub/store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

namespace ahub::hub {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/ahub-store-test-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    dir_ = templ;
    auto opened = Store::Open(dir_ / "hub.db");
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    store_ = std::move(opened.value());
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void Put(const std::string& id, int version, std::vector<std::string> categories, std::vector<std::string> tags,
           const std::string& summary = "") {
    PackageRow p;
    p.id = id;
    p.latest_version = version;
    p.title = id;
    p.summary = summary.empty() ? "summary of " + id : summary;
    p.categories = std::move(categories);
    p.tags = std::move(tags);
    p.published = "2026-06-11";
    p.created_at = p.updated_at = "2026-11-22T00:00:00Z";
    VersionRow v;
    v.package = id;
    v.version = version;
    v.content_sha256 = id + std::to_string(version);
    v.manifest = nlohmann::json::object();
    store_->Write([&](Db& db) {
      p.seq = v.seq = Store::NextSeq(db);
      Store::InsertVersion(db, p, v, {});
    });
  }

  // What the counts must equal: the rows counted directly.
  std::vector<Facet> Counted(const std::string& sql) {
    std::vector<Facet> out;
    Stmt& s = db().Prepare(sql);
    s.Bind();
    while (s.Step()) out.push_back({s.Text(0), s.Int(1)});
    return out;
  }
  Db& db() {
    if (!db_) db_ = std::move(Db::Open(dir_ / "hub.db").value());
    return *db_;
  }

  fs::path dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Db> db_;
};

}  // namespace

bool operator==(const Facet& a, const Facet& b) { return a.name == b.name && a.count == b.count; }

namespace {

TEST_F(StoreTest, FacetCountsFollowInsertsAndNewVersions) {
  Put("a", 1, {"cs.DC"}, {"caching", "zipf"});
  Put("b", 1, {"cs.LG", "cs.DC"}, {"caching"});
  Put("c", 1, {"cs.DC"}, {});
  // A new version moves a to cs.LG and swaps a tag; c gains one.
  Put("a", 2, {"cs.LG"}, {"caching", "kv-cache"});
  Put("c", 2, {"cs.DC"}, {"kv-cache"});

  const std::vector<Facet> categories = {{"cs.LG", 2}, {"cs.DC", 1}};
  EXPECT_EQ(store_->CategoryFacets({}), categories);
  EXPECT_EQ(store_->CategoryFacets({}),
            Counted("SELECT primary_category, COUNT(*) AS n FROM packages GROUP BY 1 ORDER BY n DESC, 1"));
  const std::vector<Facet> tags = {{"caching", 2}, {"kv-cache", 2}};
  EXPECT_EQ(store_->TagFacets({}), tags);  // zipf left with a's first version
  EXPECT_EQ(store_->TagFacets({}),
            Counted("SELECT tag, COUNT(*) AS n FROM package_tags GROUP BY 1 ORDER BY n DESC, 1"));
  EXPECT_EQ(store_->ListPackages({}, "attention", "", 10).total, 3);

  // Filtered listings count the matching rows.
  PackageFilter by_tag;
  by_tag.tag = "kv-cache";
  EXPECT_EQ(store_->ListPackages(by_tag, "attention", "", 10).total, 2);
  const std::vector<Facet> categories_of_tagged = {{"cs.DC", 1}, {"cs.LG", 1}};
  EXPECT_EQ(store_->CategoryFacets(by_tag), categories_of_tagged);
  const std::vector<Facet> tags_of_tagged = {{"kv-cache", 2}, {"caching", 1}};
  EXPECT_EQ(store_->TagFacets(by_tag), tags_of_tagged);
}

TEST_F(StoreTest, FreeTextFindsTheLatestVersionOnly) {
  Put("a", 1, {"cs.DC"}, {}, "speculative decoding with a draft model");
  Put("b", 1, {"cs.LG"}, {}, "paged attention for serving");
  Put("c", 1, {"cs.LG"}, {}, "speculative execution in caches");
  PackageFilter q;
  q.q = "speculative";
  auto ids = [&] {
    std::set<std::string> out;
    for (const PackageRow& p : store_->ListPackages(q, "attention", "", 10).items) out.insert(p.id);
    return out;
  };
  EXPECT_EQ(ids(), (std::set<std::string>{"a", "c"}));
  EXPECT_EQ(store_->ListPackages(q, "attention", "", 10).total, 2);
  // A new version's text replaces the old one's in the index.
  Put("a", 2, {"cs.DC"}, {}, "tree attention for long contexts");
  EXPECT_EQ(ids(), (std::set<std::string>{"c"}));
  q.q = "tree";
  EXPECT_EQ(ids(), (std::set<std::string>{"a"}));
  const std::vector<Facet> categories = {{"cs.DC", 1}};
  EXPECT_EQ(store_->CategoryFacets(q), categories);
}

}  // namespace
}  // namespace ahub::hub
