// The discovery corpus on the real `ahub serve` (tests/hub/hub_process.h): POST
// /api/v1/imports/arxiv (roles, media types, created / unchanged / new version / refused), and the
// seed directory loaded on an empty store, which must show the seed page's 25 packages as the
// issue states them: scores and order, primary categories, versions.
//
// Other packages may sit in packages/ beside the 25 (GPU experiments): the checks name the 25.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "hub/archive.h"
#include "tests/hub/hub_process.h"
#include "tests/hub/http_test_util.h"

namespace {

namespace fs = std::filesystem;
using ahub::testing::ErrorCode;
using ahub::testing::GetJson;
using ahub::testing::HubProcess;
using ahub::testing::ParseBody;
using ahub::testing::WaitForIdleQueue;
using ahub::testing::ReadFileText;
using ahub::testing::SourceDir;
using nlohmann::json;

// A deadline for the seed packages' verification on a loaded 2-core machine, not a speed target.
constexpr std::chrono::seconds kJobDeadline{300};
const std::vector<std::string> kNoRateLimit = {"--rate", "100000", "--rate-burst", "100000"};
constexpr const char* kAtom = "application/atom+xml";

httplib::Result PostFeed(httplib::Client& http, const std::string& token, const std::string& feed,
                         const std::string& type = kAtom) {
  return http.Post("/api/v1/imports/arxiv", HubProcess::Auth(token), feed, type.c_str());
}

// "outcome id" per entry of an import report.
std::vector<std::string> Outcomes(const json& report) {
  std::vector<std::string> out;
  for (const json& e : report["entries"]) {
    out.push_back(e["outcome"].get<std::string>() + " " +
                  (e["id"].is_string() ? e["id"].get<std::string>() : "-"));
  }
  return out;
}

std::string Entry(const std::string& arxiv, const std::string& title, const std::string& summary) {
  return "  <entry>\n    <id>http://arxiv.org/abs/" + arxiv +
         "</id>\n"
         "    <updated>2026-06-11T12:00:00Z</updated>\n    "
         "<published>2024-02-05T12:00:00Z</published>\n"
         "    <title>" +
         title + "</title>\n    <summary>  " + summary +
         "\n</summary>\n"
         "    <author>\n      <name>Zirui Liu</name>\n    </author>\n"
         "    <arxiv:primary_category xmlns:arxiv=\"http://arxiv.org/schemas/atom\" "
         "term=\"cs.CL\"/>\n"
         "    <category term=\"cs.CL\" scheme=\"http://arxiv.org/schemas/atom\"/>\n  </entry>\n";
}

std::string Feed(const std::string& entries) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed "
         "xmlns=\"http://www.w3.org/2005/Atom\">\n"
         "  <title>ArXiv Query</title>\n" +
         entries + "</feed>\n";
}

const std::string kKiviTitle = "KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV Cache";
const std::string kKiviV1 = "We propose KIVI. KIVI uses 2.6$\\times$ less peak memory.";
const std::string kKiviV2 =
    "We propose KIVI. KIVI uses 2.6$\\times$ less peak memory and brings "
    "2.35$\\times$ more throughput.";

TEST(ImportRouteTest, OnlyAnAdminMayImportAndOnlyXml) {
  HubProcess hub({.extra_args = kNoRateLimit});
  auto http = hub.Client();
  const std::string feed = Feed(Entry("2402.02750v1", kKiviTitle, kKiviV1));
  auto res = http.Post("/api/v1/imports/arxiv", feed, kAtom);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(ErrorCode(res), "unauthorized");
  for (const char* role : {"author", "reviewer", "runner"}) {
    res = PostFeed(http, hub.CreateToken(role, std::string(role) + "-1"), feed);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 403) << role << ": " << res->body;
    EXPECT_EQ(ErrorCode(res), "forbidden");
  }
  const std::string admin = hub.CreateToken("admin", "root");
  res = PostFeed(http, admin, feed, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 415);
  EXPECT_EQ(ErrorCode(res), "unsupported_media_type");
  for (const std::string& broken : {std::string("not xml at all"), feed.substr(0, feed.size() / 2),
                                    std::string("<rss version=\"2.0\"/>")}) {
    res = PostFeed(http, admin, broken);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << res->body;
    EXPECT_EQ(ErrorCode(res), "invalid_feed");
    EXPECT_NE(ParseBody(res)["error"]["message"].get<std::string>().find("request body:"),
              std::string::npos)
        << res->body;
  }
  // Nothing was stored by any of these.
  EXPECT_EQ(GetJson(http, "/api/v1/packages")["total"], 0);
}

TEST(ImportRouteTest, CreatedUnchangedNewVersionAndRefusedEntries) {
  HubProcess hub({.extra_args = kNoRateLimit});
  auto http = hub.Client();
  const std::string admin = hub.CreateToken("admin", "root");
  const std::string flash = Entry(
      "2205.14135v2", "FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness",
      "We propose FlashAttention. It yields a 3$\\times$ speedup on GPT-2.");
  const std::string untitled = Entry("2309.17453v4", "", "An entry without a title.");
  const std::string feed = Feed(Entry("2402.02750v1", kKiviTitle, kKiviV1) + untitled + flash);

  auto res = PostFeed(http, admin, feed);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json report = ParseBody(res);
  EXPECT_EQ(Outcomes(report),
            (std::vector<std::string>{"created kivi", "refused -", "created flashattention"}));
  EXPECT_EQ(report["summary"],
            json::parse(
                R"({"entries": 3, "created": 2, "new_version": 0, "unchanged": 0, "refused": 1})"));
  EXPECT_EQ(report["target"], "hub");
  EXPECT_EQ(report["entries"][0]["location"], "/api/v1/packages/kivi/versions/1");
  EXPECT_NE(report["entries"][1]["reason"].get<std::string>().find("no <title>"),
            std::string::npos);
  EXPECT_EQ(report["entries"][1]["line"], 17);

  const json kivi = GetJson(http, "/api/v1/packages/kivi");
  EXPECT_EQ(kivi["version"], 1);
  EXPECT_EQ(kivi["title"], kKiviTitle);
  EXPECT_EQ(kivi["primary_category"], "cs.CL");
  EXPECT_EQ(kivi["published"], "2026-06-11");
  EXPECT_EQ(kivi["provenance"]["kind"], "arxiv-import");
  EXPECT_EQ(kivi["provenance"]["arxiv"], "2402.02750v1");
  ASSERT_EQ(kivi["claims"].size(), 1u);
  EXPECT_EQ(kivi["claims"][0]["metric"], "kivi.peak_memory_reduction_x");
  EXPECT_EQ(kivi["claims"][0]["value"], 2.6);
  EXPECT_EQ(kivi["claims"][0]["level"], "declared");
  EXPECT_EQ(kivi["score"], 4.0);
  EXPECT_EQ(kivi["verification"], nullptr);  // declared claims only: nothing to run

  // The same feed again changes nothing.
  res = PostFeed(http, admin, feed);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(Outcomes(ParseBody(res)),
            (std::vector<std::string>{"unchanged kivi", "refused -", "unchanged flashattention"}));
  EXPECT_EQ(GetJson(http, "/api/v1/packages/kivi/versions")["versions"].size(), 1u);

  // A newer arXiv version is a new package version; the older one then is refused.
  res = PostFeed(http, admin, Feed(Entry("2402.02750v2", kKiviTitle, kKiviV2)));
  ASSERT_TRUE(res);
  EXPECT_EQ(Outcomes(ParseBody(res)), (std::vector<std::string>{"new_version kivi"}));
  EXPECT_EQ(GetJson(http, "/api/v1/packages/kivi")["version"], 2);
  EXPECT_EQ(GetJson(http, "/api/v1/packages/kivi/versions")["versions"].size(), 2u);
  res = PostFeed(http, admin, Feed(Entry("2402.02750v1", kKiviTitle, kKiviV1)));
  ASSERT_TRUE(res);
  report = ParseBody(res);
  EXPECT_EQ(Outcomes(report), (std::vector<std::string>{"unchanged kivi"}))
      << "v1's content is stored, as version 1: " << res->body;
  res = PostFeed(http, admin, Feed(Entry("2402.02750v1", kKiviTitle, "We propose KIVI, again.")));
  ASSERT_TRUE(res);
  report = ParseBody(res);
  EXPECT_EQ(Outcomes(report), (std::vector<std::string>{"refused kivi"}));
  EXPECT_NE(report["entries"][0]["reason"].get<std::string>().find("version 1"), std::string::npos)
      << res->body;

  // The packages are the admin's: an author may not add a version.
  const std::string author = hub.CreateToken("author", "alice");
  const fs::path dir = hub.root() / "kivi-by-alice";
  fs::create_directories(dir);
  std::string yaml = ReadFileText(SourceDir() / "packages" / "kivi" / "package.yaml");
  yaml.replace(yaml.find("version: 1\n"), 11, "version: 3\n");
  std::ofstream(dir / "package.yaml") << yaml;
  auto tgz = ahub::hub::PackTarGz(dir, "");
  ASSERT_TRUE(tgz.ok()) << tgz.status().ToString();
  res = http.Post("/api/v1/packages", HubProcess::Auth(author), tgz.value(), "application/gzip");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403) << res->body;
  EXPECT_NE(res->body.find("belongs to another account"), std::string::npos) << res->body;
}

// --- the seed corpus

struct Card {
  double score;
  std::string category;
  int version;
  int claims;
};

// The 25 cards of the seed discovery page (../shared/seeds/001_*.txt), in its order.
const std::vector<std::pair<std::string, Card>> kSeedPage = {
    {"cache-admission-zipfian-cap1000", {13.0, "cs.DC", 1, 2}},
    {"cache-admission-zipfian", {10.0, "cs.DC", 1, 3}},
    {"bisect-membership", {10.0, "cs.DC", 1, 3}},
    {"tierkv", {4.0, "cs.DC", 1, 3}},
    {"heteroserve", {4.0, "cs.DC", 1, 3}},
    {"marco", {4.0, "cs.AI", 1, 3}},
    {"aixiv", {4.0, "cs.AI", 2, 1}},
    {"ai-scientist-v2", {4.0, "cs.AI", 2, 1}},
    {"paper2agent", {4.0, "cs.AI", 2, 1}},
    {"kosmos", {4.0, "cs.AI", 2, 1}},
    {"last-human-written-paper", {4.0, "cs.LG", 2, 1}},
    {"omniscientist", {4.0, "cs.CY", 2, 1}},
    {"flashattention", {4.0, "cs.LG", 1, 1}},
    {"flashattention-2", {4.0, "cs.LG", 1, 1}},
    {"flashattention-3", {4.0, "cs.LG", 1, 1}},
    {"pagedattention", {4.0, "cs.LG", 1, 1}},
    {"gqa", {4.0, "cs.CL", 1, 1}},
    {"fast-transformer-decoding", {4.0, "cs.NE", 1, 1}},
    {"awq", {4.0, "cs.CL", 1, 1}},
    {"gptq", {4.0, "cs.LG", 1, 1}},
    {"smoothquant", {4.0, "cs.CL", 1, 1}},
    {"kivi", {4.0, "cs.CL", 1, 1}},
    {"h2o", {4.0, "cs.LG", 1, 1}},
    {"efficient-streaming-language-models", {4.0, "cs.CL", 1, 1}},
    {"deepseek-v2", {4.0, "cs.CL", 1, 1}},
};

// Every package of the ranked listing, in rank order.
std::vector<json> Ranked(httplib::Client& http) {
  std::vector<json> items;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    const json j = GetJson(http, "/api/v1/packages?sort=attention&limit=100" +
                                     (cursor.empty() ? "" : "&cursor=" + cursor));
    if (!j.is_object()) break;
    for (const json& item : j["items"]) items.push_back(item);
    if (!j["next_cursor"].is_string()) break;
    cursor = j["next_cursor"];
  }
  return items;
}

TEST(SeedCorpusTest, AnEmptyStoreLoadsTheSeedPageAsItShows) {
  HubProcess hub({.seed = true, .workers = 2, .extra_args = kNoRateLimit});
  auto http = hub.Client();
  WaitForIdleQueue(http, kJobDeadline);
  std::map<std::string, Card> expected(kSeedPage.begin(), kSeedPage.end());
  ASSERT_EQ(expected.size(), 25u);

  // The 25 in rank order, whatever other packages rank among them.
  std::vector<json> cards;
  for (const json& item : Ranked(http)) {
    if (expected.count(item["id"].get<std::string>())) cards.push_back(item);
  }
  ASSERT_EQ(cards.size(), 25u) << hub.Stderr();
  EXPECT_EQ(cards[0]["id"], "cache-admission-zipfian-cap1000");
  EXPECT_EQ(cards[1]["id"], "cache-admission-zipfian");
  EXPECT_EQ(cards[2]["id"], "bisect-membership");
  std::map<std::string, int> categories;
  for (const json& card : cards) {
    const std::string id = card["id"];
    SCOPED_TRACE(id);
    const Card& want = expected.at(id);
    EXPECT_EQ(card["score"].get<double>(), want.score) << card.dump();
    EXPECT_EQ(card["primary_category"], want.category);
    EXPECT_EQ(card["version"], want.version);
    EXPECT_EQ(card["claims"], want.claims);
    EXPECT_EQ(card["published"], "2026-06-11");
    ++categories[card["primary_category"].get<std::string>()];
  }
  EXPECT_EQ(
      categories,
      (std::map<std::string, int>{
          {"cs.LG", 7}, {"cs.CL", 6}, {"cs.AI", 5}, {"cs.DC", 5}, {"cs.NE", 1}, {"cs.CY", 1}}));
  std::set<std::string> v2;
  for (const json& card : cards) {
    if (card["version"] == 2) v2.insert(card["id"].get<std::string>());
  }
  EXPECT_EQ(v2, (std::set<std::string>{"aixiv", "ai-scientist-v2", "paper2agent", "kosmos",
                                       "last-human-written-paper", "omniscientist"}));

  // The hub's own import of the seed feed renders exactly the checked-in packages.
  const std::string admin = hub.CreateToken("admin", "root");
  auto res = PostFeed(http, admin, ReadFileText(SourceDir() / "packages" / "arxiv-seed.atom"));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(ParseBody(res)["summary"]["unchanged"], 19) << res->body;
}

}  // namespace
