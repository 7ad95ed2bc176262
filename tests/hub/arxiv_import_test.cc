// arXiv import: the feed parser (hub/arxiv_feed.h), ids and manifests (hub/arxiv_import.h), the
// keyword map (hub/keyword_map.h), imports into a directory, `ahub import-arxiv` end to end, and
// the seed corpus: packages/arxiv-seed.atom must import into exactly the checked-in packages.
#include "hub/arxiv_import.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "runner/manifest.h"
#include "tests/hub/hub_process.h"

namespace ahub::hub {
namespace {

namespace fs = std::filesystem;
using ahub::testing::ReadFileText;
using ahub::testing::RunAhub;
using ahub::testing::SourceDir;
using ahub::testing::TempDir;
using nlohmann::json;

// --- feeds written for the tests, in the arXiv API's layout

struct EntrySpec {
  std::string id = "http://arxiv.org/abs/2309.17453v4";
  std::string title = "Efficient Streaming Language Models with\n  Attention Sinks";
  std::string summary =
      "  We introduce StreamingLLM, an efficient framework.\nIn streaming settings, "
      "StreamingLLM outperforms the sliding window\nrecomputation baseline by up to 22.2x "
      "speedup.\n";
  std::vector<std::string> authors = {"Guangxuan Xiao", "Yuandong Tian"};
  std::string primary = "cs.CL";
  std::vector<std::string> categories = {"cs.CL", "cs.AI"};
  std::string published = "2023-09-29T17:59:55Z";
  std::string updated = "2024-04-07T05:02:12Z";
  std::string extra;  // more XML inside <entry>
};

std::string EntryXml(const EntrySpec& e) {
  std::string x = "  <entry>\n";
  if (!e.id.empty()) x += "    <id>" + e.id + "</id>\n";
  if (!e.updated.empty()) x += "    <updated>" + e.updated + "</updated>\n";
  if (!e.published.empty()) x += "    <published>" + e.published + "</published>\n";
  if (!e.title.empty()) x += "    <title>" + e.title + "</title>\n";
  if (!e.summary.empty()) x += "    <summary>" + e.summary + "</summary>\n";
  for (const std::string& a : e.authors)
    x += "    <author>\n      <name>" + a + "</name>\n    </author>\n";
  if (!e.primary.empty()) {
    x += "    <arxiv:primary_category xmlns:arxiv=\"http://arxiv.org/schemas/atom\" term=\"" +
         e.primary + "\" scheme=\"http://arxiv.org/schemas/atom\"/>\n";
  }
  for (const std::string& c : e.categories) {
    x += "    <category term=\"" + c + "\" scheme=\"http://arxiv.org/schemas/atom\"/>\n";
  }
  return x + e.extra + "  </entry>\n";
}

std::string Feed(const std::vector<EntrySpec>& entries) {
  std::string x =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n"
      "  <title type=\"html\">ArXiv Query: id_list=2309.17453</title>\n"
      "  <id>http://arxiv.org/api/x</id>\n  <updated>2026-06-11T00:00:00-04:00</updated>\n"
      "  <opensearch:totalResults xmlns:opensearch=\"http://a9.com/-/spec/opensearch/1.1/\">" +
      std::to_string(entries.size()) + "</opensearch:totalResults>\n";
  for (const EntrySpec& e : entries) x += EntryXml(e);
  return x + "</feed>\n";
}

ArxivFeed MustParse(const std::string& xml) {
  Result<ArxivFeed> feed = ParseArxivFeed(xml, "feed.atom");
  EXPECT_TRUE(feed.ok()) << feed.status().ToString();
  return feed.ok() ? feed.value() : ArxivFeed{};
}

std::string ParseError(const std::string& xml) {
  Result<ArxivFeed> feed = ParseArxivFeed(xml, "feed.atom");
  EXPECT_FALSE(feed.ok());
  return feed.ok() ? "" : feed.status().message();
}

// --- the feed

TEST(ArxivFeedTest, ReadsTheApiFormat) {
  EntrySpec e;
  e.authors = {};
  e.categories = {"cs.CL", "cs.AI", "I.2.7", "68T05", "cs.CL"};
  e.extra =
      "    <author>\n      <name>Song Han</name>\n"
      "      <arxiv:affiliation "
      "xmlns:arxiv=\"http://arxiv.org/schemas/atom\">MIT</arxiv:affiliation>\n"
      "    </author>\n    <author><name>Mike Lewis</name></author>\n"
      "    <arxiv:doi xmlns:arxiv=\"http://arxiv.org/schemas/atom\">10.1000/xyz123</arxiv:doi>\n"
      "    <arxiv:comment xmlns:arxiv=\"http://arxiv.org/schemas/atom\">ICLR 2024</arxiv:comment>\n"
      "    <arxiv:journal_ref xmlns:arxiv=\"http://arxiv.org/schemas/atom\">ICLR\n  "
      "2024</arxiv:journal_ref>\n"
      "    <link title=\"doi\" href=\"http://dx.doi.org/10.1000/xyz123\" rel=\"related\"/>\n"
      "    <link href=\"http://arxiv.org/abs/2309.17453v4\" rel=\"alternate\" "
      "type=\"text/html\"/>\n"
      "    <link title=\"pdf\" href=\"http://arxiv.org/pdf/2309.17453v4\" rel=\"related\"/>\n";
  const ArxivFeed feed = MustParse(Feed({e}));
  ASSERT_EQ(feed.entries.size(), 1u);
  EXPECT_TRUE(feed.refused.empty());
  EXPECT_EQ(feed.total_results, 1);
  const ArxivEntry& a = feed.entries[0];
  EXPECT_EQ(a.index, 1);
  EXPECT_EQ(a.line, 7);
  EXPECT_EQ(a.arxiv_id, "2309.17453");
  EXPECT_EQ(a.version, 4);
  EXPECT_EQ(a.VersionedId(), "2309.17453v4");
  EXPECT_EQ(a.title, "Efficient Streaming Language Models with Attention Sinks");
  EXPECT_EQ(
      a.summary,
      "We introduce StreamingLLM, an efficient framework. In streaming settings, StreamingLLM "
      "outperforms the sliding window recomputation baseline by up to 22.2x speedup.");
  ASSERT_EQ(a.authors.size(), 2u);
  EXPECT_EQ(a.authors[0].name, "Song Han");
  EXPECT_EQ(a.authors[0].affiliation, "MIT");
  EXPECT_EQ(a.authors[1].affiliation, "");
  EXPECT_EQ(a.categories, (std::vector<std::string>{"cs.CL", "cs.AI"}));
  EXPECT_EQ(a.published, "2023-09-29");
  EXPECT_EQ(a.updated, "2024-04-07");
  EXPECT_EQ(a.abs_url, "http://arxiv.org/abs/2309.17453v4");
  EXPECT_EQ(a.doi, "10.1000/xyz123");
  EXPECT_EQ(a.comment, "ICLR 2024");
  EXPECT_EQ(a.journal_ref, "ICLR 2024");
  EXPECT_EQ(a.Label(), "entry 1 (line 7, arXiv 2309.17453v4)");
}

TEST(ArxivFeedTest, ThePrimaryCategoryComesFirst) {
  EntrySpec e;
  e.primary = "cs.LG";
  e.categories = {"cs.CL", "cs.LG", "stat.ML"};
  EXPECT_EQ(MustParse(Feed({e})).entries.at(0).categories,
            (std::vector<std::string>{"cs.LG", "cs.CL", "stat.ML"}));
}

TEST(ArxivFeedTest, ElementsAreMatchedByNamespaceNotPrefix) {
  const std::string xml =
      "<a:feed xmlns:a=\"http://www.w3.org/2005/Atom\" xmlns:x=\"http://arxiv.org/schemas/atom\">"
      "<a:entry><a:id>http://arxiv.org/abs/2205.14135v2</a:id><a:title>FlashAttention</a:title>"
      "<a:summary>We propose FlashAttention.</a:summary><a:author><a:name>Tri "
      "Dao</a:name></a:author>"
      "<a:published>2022-05-27T17:53:09Z</a:published><x:primary_category term=\"cs.LG\"/>"
      // An element of another namespace with the same local name is not an Atom element.
      "<title xmlns=\"urn:other\">Not the title</title>"
      "<arxiv:comment xmlns:arxiv=\"urn:not-arxiv\">not a comment</arxiv:comment>"
      "</a:entry></a:feed>";
  const ArxivFeed feed = MustParse(xml);
  ASSERT_EQ(feed.entries.size(), 1u) << (feed.refused.empty() ? "" : feed.refused[0].reason);
  EXPECT_EQ(feed.entries[0].title, "FlashAttention");
  EXPECT_EQ(feed.entries[0].categories, (std::vector<std::string>{"cs.LG"}));
  EXPECT_EQ(feed.entries[0].comment, "");
  EXPECT_EQ(feed.entries[0].updated, "2022-05-27");  // no <updated>: the first version's date
}

TEST(ArxivFeedTest, NotXmlIsRefusedAsAWhole) {
  EXPECT_EQ(ParseError("just some text\n"),
            "feed.atom:1:1: not XML: the document has no element; expected the arXiv API's Atom "
            "feed, <feed xmlns=\"http://www.w3.org/2005/Atom\">");
  EXPECT_NE(ParseError("{\"feed\": []}").find("not XML"), std::string::npos);
  EXPECT_NE(ParseError("").find("not XML"), std::string::npos);
  const std::string bad = ParseError(
      "<feed xmlns=\"http://www.w3.org/2005/Atom\">\n  <entry></entri>\n  <entry/>\n</feed>\n");
  EXPECT_EQ(bad.rfind("feed.atom:2:", 0), 0u) << bad;
  EXPECT_NE(bad.find("not well-formed XML"), std::string::npos) << bad;
}

TEST(ArxivFeedTest, ATruncatedDocumentIsRefusedAsAWhole) {
  const std::string full = Feed({EntrySpec{}, EntrySpec{}});
  for (size_t cut : {full.size() / 2, full.size() - 9, full.find("<summary>") + 5}) {
    const std::string message = ParseError(full.substr(0, cut) + "\n");
    EXPECT_NE(message.find("truncated"), std::string::npos) << cut << ": " << message;
    EXPECT_EQ(message.rfind("feed.atom:", 0), 0u) << message;
  }
}

TEST(ArxivFeedTest, AnotherDocumentIsNotAnAtomFeed) {
  EXPECT_EQ(ParseError("<rss version=\"2.0\"><channel/></rss>"),
            "feed.atom:1:1: not an Atom feed: the root element is <rss>; expected <feed "
            "xmlns=\"http://www.w3.org/2005/Atom\"> as the arXiv API returns it");
  EXPECT_NE(ParseError("<feed><entry/></feed>").find("not an Atom feed"), std::string::npos);
  EXPECT_NE(ParseError("<html xmlns=\"http://www.w3.org/1999/xhtml\"/>")
                .find("in namespace http://www.w3.org/1999/xhtml"),
            std::string::npos);
}

TEST(ArxivFeedTest, BadEntriesAreRefusedAndTheOthersKept) {
  auto with = [](auto change) {
    EntrySpec e;
    change(e);
    return e;
  };
  const std::vector<EntrySpec> entries = {
      EntrySpec{},
      with([](EntrySpec& e) { e.id = ""; }),
      with([](EntrySpec& e) { e.title = ""; }),
      with([](EntrySpec& e) { e.title = "  \n "; }),
      with([](EntrySpec& e) { e.id = "http://arxiv.org/abs/2309.17453"; }),
      with([](EntrySpec& e) {
        e.id = "http://arxiv.org/api/errors#incorrect_id_format_for_1234";
        e.summary = "incorrect id format for 1234";
      }),
      with([](EntrySpec& e) { e.id = "http://example.org/paper/7"; }),
      with([](EntrySpec& e) { e.summary = ""; }),
      with([](EntrySpec& e) { e.authors = {}; }),
      with([](EntrySpec& e) {
        e.primary = "";
        e.categories = {"I.2.7"};
      }),
      with([](EntrySpec& e) { e.updated = "2024-02-30T00:00:00Z"; }),
      with([](EntrySpec& e) { e.published = e.updated = ""; }),
      with([](EntrySpec& e) { e.id = "http://arxiv.org/abs/1911.02150v1"; }),
  };
  const ArxivFeed feed = MustParse(Feed(entries));
  ASSERT_EQ(feed.entries.size(), 2u);
  EXPECT_EQ(feed.entries[0].index, 1);
  EXPECT_EQ(feed.entries[1].index, 13);
  EXPECT_EQ(feed.entries[1].arxiv_id, "1911.02150");
  const std::vector<std::string> reasons = {
      "no <id>",           "no <title>",      "no <title>",         "has no version",
      "reports an error",  "is not an arXiv", "no <summary>",       "no <author>",
      "no arXiv category", "is not a date",   "neither <published>"};
  ASSERT_EQ(feed.refused.size(), reasons.size());
  for (size_t i = 0; i < reasons.size(); ++i) {
    SCOPED_TRACE(feed.refused[i].Label() + ": " + feed.refused[i].reason);
    EXPECT_EQ(feed.refused[i].index, static_cast<int>(i) + 2);
    EXPECT_NE(feed.refused[i].reason.find(reasons[i]), std::string::npos);
    EXPECT_GT(feed.refused[i].line, 5);
  }
  EXPECT_EQ(feed.refused[2].arxiv, "arXiv 2309.17453v4");
  EXPECT_NE(feed.refused[4].reason.find("incorrect id format for 1234"), std::string::npos);
}

TEST(ArxivFeedTest, ArxivIds) {
  auto id = [](const std::string& text) {
    std::optional<ArxivId> a = ParseArxivId(text);
    return a ? a->id + "|" + std::to_string(a->version) : "none";
  };
  EXPECT_EQ(id("2309.17453v4"), "2309.17453|4");
  EXPECT_EQ(id("http://arxiv.org/abs/2309.17453v4"), "2309.17453|4");
  EXPECT_EQ(id("https://arxiv.org/abs/1911.02150v12"), "1911.02150|12");
  EXPECT_EQ(id("0704.0001v1"), "0704.0001|1");
  EXPECT_EQ(id("http://arxiv.org/abs/hep-th/9901001v2"), "hep-th/9901001|2");
  EXPECT_EQ(id("math.GT/0309136v1"), "math.GT/0309136|1");
  EXPECT_EQ(id("2309.17453"), "2309.17453|0");
  EXPECT_EQ(id("2309.17453v0"), "none");
  EXPECT_EQ(id("23091.7453v1"), "none");
  EXPECT_EQ(id("http://example.org/abs/2309.17453v1"), "none");
}

// --- ids

TEST(PackageIdTest, TheSeedCorpusTitles) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"aiXiv: A Next-Generation Open Access Ecosystem for Scientific Discovery Generated by AI "
       "Scientists",
       "aixiv"},
      {"The AI Scientist-v2: Workshop-Level Automated Scientific Discovery via Agentic Tree Search",
       "ai-scientist-v2"},
      {"Paper2Agent: Reimagining Research Papers As Interactive and Reliable AI Agents",
       "paper2agent"},
      {"Kosmos: An AI Scientist for Autonomous Discovery", "kosmos"},
      {"The Last Human-Written Paper: Agent-Native Research Artifacts", "last-human-written-paper"},
      {"OmniScientist: Toward a Co-evolving Ecosystem of Human and AI Scientists", "omniscientist"},
      {"FlashAttention: Fast and Memory-Efficient Exact Attention with IO-Awareness",
       "flashattention"},
      {"FlashAttention-2: Faster Attention with Better Parallelism and Work Partitioning",
       "flashattention-2"},
      {"FlashAttention-3: Fast and Accurate Attention with Asynchrony and Low-precision",
       "flashattention-3"},
      {"Efficient Memory Management for Large Language Model Serving with PagedAttention",
       "pagedattention"},
      {"GQA: Training Generalized Multi-Query Transformer Models from Multi-Head Checkpoints",
       "gqa"},
      {"Fast Transformer Decoding: One Write-Head is All You Need", "fast-transformer-decoding"},
      {"AWQ: Activation-aware Weight Quantization for LLM Compression and Acceleration", "awq"},
      {"GPTQ: Accurate Post-Training Quantization for Generative Pre-trained Transformers", "gptq"},
      {"SmoothQuant: Accurate and Efficient Post-Training Quantization for Large Language Models",
       "smoothquant"},
      {"KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV Cache", "kivi"},
      {"H$_2$O: Heavy-Hitter Oracle for Efficient Generative Inference of Large Language Models",
       "h2o"},
      {"Efficient Streaming Language Models with\n  Attention Sinks",
       "efficient-streaming-language-models"},
      {"DeepSeek-V2: A Strong, Economical, and Efficient Mixture-of-Experts Language Model",
       "deepseek-v2"},
  };
  for (const auto& [title, id] : cases) EXPECT_EQ(PackageIdFromTitle(title), id) << title;
}

TEST(PackageIdTest, NamesLeadingWordsAndLimits) {
  EXPECT_EQ(
      PackageIdFromTitle("Hogwild! Inference: Parallel LLM Generation via Concurrent Attention"),
      "hogwild-inference");
  EXPECT_EQ(PackageIdFromTitle("An Empirical Study of Mamba-based Language Models"),
            "empirical-study-of-mamba-based");
  EXPECT_EQ(PackageIdFromTitle("MetaMixer Is All You Need"), "metamixer");
  EXPECT_EQ(PackageIdFromTitle("Attention Is All You Need"), "attention-is-all-you");
  EXPECT_EQ(PackageIdFromTitle("Learning to Reason with and for LLMs"), "learning-to-reason");
  EXPECT_EQ(PackageIdFromTitle("Über Attention: Sparse Heads"), "ber-attention");
  EXPECT_EQ(PackageIdFromTitle("AI"), "");
  const std::string long_name =
      "SuperLongNameWithoutAnySpacesThatGoesOnAndOnAndOnForeverAndEverAndEver: a title";
  const std::string id = PackageIdFromTitle(long_name);
  EXPECT_LE(id.size(), 58u);
  EXPECT_EQ(id.rfind("superlongname", 0), 0u);
}

// --- the keyword map

TEST(KeywordMapTest, MatchesWholeWordsAcrossPunctuationAndPrefixes) {
  Result<KeywordMap> map = KeywordMap::Parse(
      "format: ahub-keywords/1\ntags:\n  kv-cache: [KV cache, key-value cache]\n"
      "  quantization: [\"quantiz*\"]\n  attention: [attention]\n",
      "test.yaml");
  ASSERT_TRUE(map.ok()) << map.status().ToString();
  EXPECT_EQ(map->size(), 3u);
  EXPECT_EQ(map->TagsFor("the KV-cache is quantized"),
            (std::vector<std::string>{"kv-cache", "quantization"}));
  EXPECT_EQ(map->TagsFor("Key-Value  CACHE, attention."),
            (std::vector<std::string>{"kv-cache", "attention"}));
  EXPECT_TRUE(map->TagsFor("PagedAttention caches KV caches? no: kv cachex").empty());
  EXPECT_TRUE(map->TagsFor("attentional quantum").size() == 0);
}

TEST(KeywordMapTest, RefusesMalformedMapsNamingThePlace) {
  auto error = [](const std::string& yaml) {
    Result<KeywordMap> map = KeywordMap::Parse(yaml, "map.yaml");
    EXPECT_FALSE(map.ok()) << yaml;
    return map.ok() ? "" : map.status().message();
  };
  EXPECT_NE(error("tags: [unclosed").find("map.yaml:1:"), std::string::npos);
  EXPECT_NE(error("format: ahub-keywords/2\ntags: {a: [b]}\n").find("format: expected"),
            std::string::npos);
  EXPECT_NE(error("format: ahub-keywords/1\ntags: {a: [b]}\nextra: 1\n")
                .find("map.yaml:3:1: unknown key \"extra\""),
            std::string::npos);
  EXPECT_NE(error("format: ahub-keywords/1\ntags:\n  Bad_Tag: [x]\n")
                .find("map.yaml:3:3: tags.Bad_Tag: not a tag"),
            std::string::npos);
  EXPECT_NE(error("format: ahub-keywords/1\ntags:\n  a: []\n").find("one or more phrases"),
            std::string::npos);
  EXPECT_NE(error("format: ahub-keywords/1\ntags:\n  a: x\n").find("one or more phrases"),
            std::string::npos);
  EXPECT_NE(
      error("format: ahub-keywords/1\ntags:\n  a: [\"--\"]\n").find("needs a letter or a digit"),
      std::string::npos);
  EXPECT_NE(error("format: ahub-keywords/1\ntags: [a]\n").find("tags: expected a mapping"),
            std::string::npos);
}

TEST(KeywordMapTest, TheBuiltInMapIsTheFileInTheRepository) {
  Result<KeywordMap> file = KeywordMap::Load(SourceDir() / "schemas/arxiv-keywords.yaml");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(KeywordMap::BuiltIn().size(), file->size());
  EXPECT_GT(file->size(), 5u);
  const std::string text =
      "vLLM serving with PagedAttention keeps the KV cache; 4-bit quantization; AI scientists; "
      "multi-agent search; 2x speedup; grouped-query attention";
  EXPECT_EQ(KeywordMap::BuiltIn().TagsFor(text), file->TagsFor(text));
  EXPECT_EQ(file->TagsFor(text),
            (std::vector<std::string>{"kv-cache", "quantization", "llm-serving", "attention",
                                      "llm-efficiency", "ai-scientists", "agentic-research"}));
}

// --- manifests

ArxivEntry StreamingEntry() {
  EntrySpec e;
  e.extra =
      "<arxiv:comment xmlns:arxiv=\"http://arxiv.org/schemas/atom\">ICLR \"2024\"</arxiv:comment>";
  return MustParse(Feed({e})).entries.at(0);
}

TEST(RenderPackageTest, AValidDeclaredManifestFromTheEntry) {
  const RenderedPackage p =
      RenderPackage(StreamingEntry(), "efficient-streaming-language-models", KeywordMap::BuiltIn());
  EXPECT_EQ(p.metric, "efficient_streaming_language_models.speedup_x");
  const LoadResult loaded = ParseManifest(p.yaml, fs::path());
  ASSERT_TRUE(loaded.ok()) << loaded.diagnostics.front().ToString() << "\n" << p.yaml;
  const Package& pkg = loaded.package;
  EXPECT_EQ(pkg.id, "efficient-streaming-language-models");
  EXPECT_EQ(pkg.version, 4);
  EXPECT_EQ(pkg.title, "Efficient Streaming Language Models with Attention Sinks");
  EXPECT_EQ(pkg.categories, (std::vector<std::string>{"cs.CL", "cs.AI"}));
  EXPECT_EQ(pkg.tags, (std::vector<std::string>{"arxiv-import", "attention", "llm-efficiency"}));
  ASSERT_EQ(pkg.authors.size(), 2u);
  EXPECT_EQ(pkg.authors[1].name, "Yuandong Tian");
  EXPECT_EQ(pkg.published, "2024-04-07");  // the date of this version: <updated>
  EXPECT_EQ(pkg.provenance.kind, "arxiv-import");
  EXPECT_EQ(pkg.provenance.arxiv, "2309.17453v4");
  EXPECT_EQ(pkg.provenance.url, "http://arxiv.org/abs/2309.17453v4");
  ASSERT_EQ(pkg.claims.size(), 1u);
  const Claim& c = pkg.claims[0];
  EXPECT_EQ(c.id, "headline");
  EXPECT_EQ(c.metric, "efficient_streaming_language_models.speedup_x");
  EXPECT_EQ(c.unit, "x");
  EXPECT_EQ(c.value, 22.2);
  EXPECT_FALSE(c.evidence.has_value());
  EXPECT_EQ(c.statement,
            "In streaming settings, StreamingLLM outperforms the sliding window recomputation "
            "baseline by up to 22.2x speedup.");
  EXPECT_NE(p.yaml.find("\n  first_published: 2023-09-29\n"), std::string::npos) << p.yaml;
  EXPECT_NE(p.yaml.find("\n  comment: \"ICLR \\\"2024\\\"\"\n"), std::string::npos) << p.yaml;
  // Deterministic: the same entry renders the same bytes.
  EXPECT_EQ(
      RenderPackage(StreamingEntry(), "efficient-streaming-language-models", KeywordMap::BuiltIn())
          .yaml,
      p.yaml);
}

TEST(RenderPackageTest, RangesBoundsAndClaimsWithoutANumber) {
  EntrySpec e;
  e.summary = "We propose vLLM. vLLM improves the throughput by 2-4$\\times$ over Orca.";
  const RenderedPackage range =
      RenderPackage(MustParse(Feed({e})).entries.at(0), "pagedattention", KeywordMap::BuiltIn());
  const LoadResult r = ParseManifest(range.yaml, fs::path());
  ASSERT_TRUE(r.ok()) << r.diagnostics.front().ToString();
  EXPECT_FALSE(r.package.claims[0].value.has_value());
  ASSERT_TRUE(r.package.claims[0].expect.has_value());
  EXPECT_NE(range.yaml.find("expect: {between: [2, 4]}"), std::string::npos);

  e.summary = "We introduce X, a framework for agents. It works well.";
  const RenderedPackage none =
      RenderPackage(MustParse(Feed({e})).entries.at(0), "x-framework", KeywordMap::BuiltIn());
  const LoadResult n = ParseManifest(none.yaml, fs::path());
  ASSERT_TRUE(n.ok()) << n.diagnostics.front().ToString();
  EXPECT_EQ(n.package.claims[0].metric, "x_framework.contribution");
  EXPECT_EQ(n.package.claims[0].unit, "");
  EXPECT_FALSE(n.package.claims[0].value.has_value());
  EXPECT_FALSE(n.package.claims[0].expect.has_value());
  EXPECT_EQ(n.package.claims[0].statement, "We introduce X, a framework for agents.");
}

TEST(RenderPackageTest, TextIsDataAndOldStyleIdsKeepTheirAddress) {
  EntrySpec e;
  e.id = "http://arxiv.org/abs/hep-th/9901001v2";
  e.primary = "hep-th";
  e.categories = {"hep-th", "gr-qc"};
  e.title = "Quotes \"here\", a back\\slash, a #hash: and {braces} &amp; more";
  e.summary = "We present a model: key: value, - dash, [list], 'single', \\times and 3x faster.";
  const ArxivEntry entry = MustParse(Feed({e})).entries.at(0);
  const RenderedPackage p = RenderPackage(entry, "true", KeywordMap::BuiltIn());
  const LoadResult loaded = ParseManifest(p.yaml, fs::path());
  ASSERT_TRUE(loaded.ok()) << loaded.diagnostics.front().ToString() << "\n" << p.yaml;
  EXPECT_EQ(loaded.package.id, "true");
  EXPECT_EQ(loaded.package.title, entry.title);
  EXPECT_EQ(loaded.package.summary, entry.summary);
  EXPECT_EQ(loaded.package.provenance.arxiv, "");
  EXPECT_EQ(loaded.package.provenance.url, "http://arxiv.org/abs/hep-th/9901001v2");
  EXPECT_EQ(loaded.package.categories, (std::vector<std::string>{"hep-th", "gr-qc"}));
}

// --- importing into a directory

KeywordMap MapOf(const std::string& tags) {
  Result<KeywordMap> map = KeywordMap::Parse("format: ahub-keywords/1\ntags:\n" + tags, "test");
  EXPECT_TRUE(map.ok()) << map.status().ToString();
  return map.ok() ? map.value() : KeywordMap();
}

ImportReport Import(const std::string& xml, const fs::path& dir,
                    const KeywordMap& map = KeywordMap::BuiltIn()) {
  DirectoryTarget target(dir);
  return ImportFeed(MustParse(xml), "feed.atom", map, target);
}

std::vector<std::string> Outcomes(const ImportReport& r) {
  std::vector<std::string> out;
  for (const EntryReport& e : r.entries)
    out.push_back(std::string(OutcomeName(e.outcome)) + " " + e.id);
  return out;
}

EntrySpec Paper(const std::string& arxiv, const std::string& title, int version = 1) {
  EntrySpec e;
  e.id = "http://arxiv.org/abs/" + arxiv + "v" + std::to_string(version);
  e.title = title;
  return e;
}

TEST(DirectoryImportTest, CreatedThenUnchangedByteForByte) {
  TempDir dir;
  const std::string xml =
      Feed({Paper("2402.02750", "KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV Cache"),
            Paper("2205.14135", "FlashAttention: Fast and Memory-Efficient Exact Attention")});
  const ImportReport first = Import(xml, dir.path());
  EXPECT_EQ(Outcomes(first), (std::vector<std::string>{"created kivi", "created flashattention"}));
  EXPECT_EQ(first.entries[0].location, (dir.path() / "kivi/package.yaml").string());
  const std::string kivi = ReadFileText(dir.path() / "kivi/package.yaml");
  const auto mtime = fs::last_write_time(dir.path() / "kivi/package.yaml");
  ASSERT_FALSE(kivi.empty());
  EXPECT_TRUE(LoadPackage(dir.path() / "kivi").ok());

  const ImportReport again = Import(xml, dir.path());
  EXPECT_EQ(Outcomes(again),
            (std::vector<std::string>{"unchanged kivi", "unchanged flashattention"}));
  EXPECT_EQ(ReadFileText(dir.path() / "kivi/package.yaml"), kivi);
  EXPECT_EQ(fs::last_write_time(dir.path() / "kivi/package.yaml"), mtime);
  // Nothing but the two package folders: no temporary files left behind.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir.path()))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"flashattention", "kivi"}));
  for (const auto& e : fs::directory_iterator(dir.path() / "kivi"))
    EXPECT_EQ(e.path().filename(), "package.yaml");
}

TEST(DirectoryImportTest, ANewerArxivVersionIsANewPackageVersion) {
  TempDir dir;
  const std::string title = "KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV Cache";
  EXPECT_EQ(Outcomes(Import(Feed({Paper("2402.02750", title, 1)}), dir.path())),
            (std::vector<std::string>{"created kivi"}));
  EntrySpec v2 = Paper("2402.02750", title, 2);
  v2.summary = "We propose KIVI. KIVI uses 2.6x less peak memory.";
  EXPECT_EQ(Outcomes(Import(Feed({v2}), dir.path())),
            (std::vector<std::string>{"new_version kivi"}));
  const LoadResult loaded = LoadPackage(dir.path() / "kivi");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded.package.version, 2);
  EXPECT_EQ(loaded.package.claims[0].metric, "kivi.peak_memory_reduction_x");

  // The older version again: refused, the file stays at version 2.
  const ImportReport older = Import(Feed({Paper("2402.02750", title, 1)}), dir.path());
  EXPECT_EQ(Outcomes(older), (std::vector<std::string>{"refused kivi"}));
  EXPECT_NE(older.entries[0].reason.find("holds version 2, newer than arXiv v1"), std::string::npos)
      << older.entries[0].reason;
  EXPECT_EQ(LoadPackage(dir.path() / "kivi").package.version, 2);
}

TEST(DirectoryImportTest, OtherContentUnderAStoredVersionIsRefused) {
  TempDir dir;
  const std::string xml =
      Feed({Paper("2402.02750", "KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV Cache")});
  Import(xml, dir.path());
  const std::string before = ReadFileText(dir.path() / "kivi/package.yaml");
  const ImportReport r = Import(xml, dir.path(), MapOf("  streaming: [streaming]\n"));
  EXPECT_EQ(Outcomes(r), (std::vector<std::string>{"refused kivi"}));
  EXPECT_NE(
      r.entries[0].reason.find("already holds version 1 of arXiv 2402.02750 with other content"),
      std::string::npos)
      << r.entries[0].reason;
  EXPECT_EQ(ReadFileText(dir.path() / "kivi/package.yaml"), before);
}

TEST(DirectoryImportTest, CollidingTitlesGetSuffixesAndKeepThemOnReimport) {
  TempDir dir;
  const std::string title = "Attention Sinks: Revisited";
  const std::string xml =
      Feed({Paper("2401.00001", title), Paper("2401.00002", title), Paper("2401.00003", title)});
  EXPECT_EQ(Outcomes(Import(xml, dir.path())),
            (std::vector<std::string>{"created attention-sinks", "created attention-sinks-2",
                                      "created attention-sinks-3"}));
  // The same papers in another order find the ids they were given.
  const std::string reordered =
      Feed({Paper("2401.00003", title), Paper("2401.00001", title), Paper("2401.00002", title)});
  EXPECT_EQ(Outcomes(Import(reordered, dir.path())),
            (std::vector<std::string>{"unchanged attention-sinks-3", "unchanged attention-sinks",
                                      "unchanged attention-sinks-2"}));
}

TEST(DirectoryImportTest, APackageThatIsNoImportOfThePaperKeepsItsId) {
  TempDir dir;
  const fs::path seed = SourceDir() / "packages" / "cache-admission-zipfian";
  fs::create_directories(dir.path() / "kivi");
  fs::copy_file(seed / "package.yaml", dir.path() / "kivi" / "package.yaml");
  fs::create_directories(dir.path() / "kivi-2");  // a folder without a manifest
  const ImportReport r = Import(
      Feed({Paper("2402.02750", "KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV Cache")}),
      dir.path());
  EXPECT_EQ(Outcomes(r), (std::vector<std::string>{"created kivi-3"}));
  EXPECT_EQ(ReadFileText(dir.path() / "kivi" / "package.yaml"),
            ReadFileText(seed / "package.yaml"));
}

TEST(DirectoryImportTest, AnEntryWhosePackageWouldBeInvalidIsRefusedAndNotWritten) {
  TempDir dir;
  const std::string long_title = "KIVI: " + std::string(400, 'k');
  const ImportReport r =
      Import(Feed({Paper("2402.02750", long_title), Paper("2205.14135", "FlashAttention: Fast")}),
             dir.path());
  EXPECT_EQ(Outcomes(r), (std::vector<std::string>{"refused kivi", "created flashattention"}));
  EXPECT_NE(r.entries[0].reason.find("the package made from it is invalid: package.yaml:"),
            std::string::npos)
      << r.entries[0].reason;
  EXPECT_NE(r.entries[0].reason.find("title"), std::string::npos) << r.entries[0].reason;
  EXPECT_FALSE(fs::exists(dir.path() / "kivi"));
}

TEST(DirectoryImportTest, TheReport) {
  TempDir dir;
  EntrySpec bad;
  bad.title = "";
  const ImportReport r = Import(
      Feed({Paper("2402.02750", "KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV Cache"),
            bad}),
      dir.path());
  const json j = r.ToJson();
  EXPECT_EQ(j["source"], "feed.atom");
  EXPECT_EQ(j["target"], dir.path().string());
  EXPECT_EQ(j["total_results"], 2);
  EXPECT_EQ(j["summary"],
            json::parse(
                R"({"entries": 2, "created": 1, "new_version": 0, "unchanged": 0, "refused": 1})"));
  const json& kivi = j["entries"][0];
  EXPECT_EQ(kivi["entry"], 1);
  EXPECT_EQ(kivi["arxiv"], "2402.02750v1");
  EXPECT_EQ(kivi["id"], "kivi");
  EXPECT_EQ(kivi["version"], 1);
  EXPECT_EQ(kivi["outcome"], "created");
  EXPECT_EQ(kivi["reason"], nullptr);
  EXPECT_EQ(kivi["claim"]["metric"], "kivi.speedup_x");
  EXPECT_EQ(kivi["claim"]["value"], 22.2);
  EXPECT_EQ(kivi["claim"]["rule"], "quantitative");
  EXPECT_EQ(kivi["tags"],
            json::parse(R"(["arxiv-import", "kv-cache", "quantization", "llm-efficiency"])"));
  const json& refused = j["entries"][1];
  EXPECT_EQ(refused["outcome"], "refused");
  EXPECT_EQ(refused["id"], nullptr);
  EXPECT_EQ(refused["claim"], nullptr);
  EXPECT_NE(refused["reason"].get<std::string>().find("no <title>"), std::string::npos);
  const std::string text = r.ToText();
  EXPECT_NE(text.find("created     kivi v1  arXiv 2402.02750v1  kivi.speedup_x = 22.2 x\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("refused     entry 2 (line "), std::string::npos) << text;
  EXPECT_NE(text.find("2 entries from feed.atom into " + dir.path().string() +
                      ": 1 created, 0 new versions, 0 unchanged, 1 refused\n"),
            std::string::npos)
      << text;
}

// --- the seed corpus

TEST(SeedCorpusFileTest, TheSeedFeedImportsIntoTheCheckedInPackages) {
  TempDir dir;
  const fs::path feed = SourceDir() / "packages" / "arxiv-seed.atom";
  const ImportReport r = Import(ReadFileText(feed), dir.path());
  ASSERT_EQ(r.entries.size(), 19u);
  EXPECT_EQ(r.Count(ImportOutcome::kCreated), 19);
  const std::set<std::string> v2 = {"aixiv",  "ai-scientist-v2",          "paper2agent",
                                    "kosmos", "last-human-written-paper", "omniscientist"};
  for (const EntryReport& e : r.entries) {
    SCOPED_TRACE(e.id);
    const fs::path checked_in = SourceDir() / "packages" / e.id / "package.yaml";
    EXPECT_EQ(ReadFileText(dir.path() / e.id / "package.yaml"), ReadFileText(checked_in))
        << "packages/" << e.id << " is not what `ahub import-arxiv packages/arxiv-seed.atom` "
        << "makes: import it again";
    EXPECT_EQ(e.version, v2.count(e.id) ? 2 : 1);
    const LoadResult loaded = LoadPackage(checked_in);
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(loaded.package.published, "2026-06-11");
    EXPECT_EQ(loaded.package.claims.size(), 1u);
  }
}

TEST(SeedCorpusFileTest, IdsAndMetricsThatOtherPackagesReferTo) {
  // GPU packages re-measure these papers under these ids and metric keys (relations: replicates).
  TempDir dir;
  const ImportReport r =
      Import(ReadFileText(SourceDir() / "packages" / "arxiv-seed.atom"), dir.path());
  std::map<std::string, std::string> metric;
  for (const EntryReport& e : r.entries) metric[e.arxiv] = e.id + " " + e.package->metric;
  EXPECT_EQ(metric["2205.14135v1"], "flashattention flashattention.speedup_x");
  EXPECT_EQ(metric["2307.08691v1"], "flashattention-2 flashattention_2.speedup_x");
  EXPECT_EQ(metric["2407.08608v1"], "flashattention-3 flashattention_3.speedup_x");
  EXPECT_EQ(metric["2309.06180v1"], "pagedattention pagedattention.throughput_x");
  EXPECT_EQ(metric["2305.13245v1"], "gqa gqa.original_pre_training_compute_pct");
  EXPECT_EQ(metric["1911.02150v1"],
            "fast-transformer-decoding fast_transformer_decoding.contribution");
  EXPECT_EQ(metric["2402.02750v1"], "kivi kivi.peak_memory_reduction_x");
  EXPECT_EQ(metric["2309.17453v1"],
            "efficient-streaming-language-models efficient_streaming_language_models.speedup_x");
  EXPECT_EQ(metric["2306.14048v1"], "h2o h2o.throughput_x");
}

// --- ahub import-arxiv

TEST(ImportCliTest, ImportsReportsAndExitsZeroThenUnchanged) {
  TempDir dir;
  const fs::path feed = dir.path() / "feed.atom";
  std::ofstream(feed) << Feed(
      {Paper("2402.02750", "KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV Cache")});
  const fs::path out = dir.path() / "out";
  auto r = RunAhub({"import-arxiv", feed.string(), "--out", out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("created     kivi v1"), std::string::npos) << r.out;
  EXPECT_TRUE(LoadPackage(out / "kivi").ok());
  r = RunAhub({"import-arxiv", feed.string(), "--out", out.string(), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["summary"]["unchanged"], 1);
  EXPECT_EQ(j["entries"][0]["outcome"], "unchanged");
}

TEST(ImportCliTest, SomeRefusedEntriesExitOneAndTheOthersAreImported) {
  TempDir dir;
  EntrySpec no_id;
  no_id.id = "";
  const fs::path feed = dir.path() / "feed.atom";
  std::ofstream(feed) << Feed(
      {no_id, Paper("2205.14135", "FlashAttention: Fast and Memory-Efficient")});
  const auto r = RunAhub({"import-arxiv", feed.string(), "--out", (dir.path() / "out").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("refused     entry 1 (line 7): no <id>"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir.path() / "out" / "flashattention" / "package.yaml"));
}

TEST(ImportCliTest, ABrokenFeedOrMapExitsTwoAndWritesNothing) {
  TempDir dir;
  const fs::path out = dir.path() / "out";
  const fs::path feed = dir.path() / "feed.atom";
  const std::string full =
      Feed({Paper("2402.02750", "KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV Cache")});
  std::ofstream(feed) << full.substr(0, full.size() / 2);
  auto r = RunAhub({"import-arxiv", feed.string(), "--out", out.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("ahub import-arxiv: " + feed.string() + ":"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was imported"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));

  r = RunAhub({"import-arxiv", feed.string(), "--out", out.string(), "--json"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(json::parse(r.out)["error"].get<std::string>().find("truncated"), std::string::npos);

  std::ofstream(feed) << full;
  const fs::path map = dir.path() / "map.yaml";
  std::ofstream(map) << "format: ahub-keywords/1\ntags:\n  BAD: [x]\n";
  r = RunAhub(
      {"import-arxiv", feed.string(), "--out", out.string(), "--keyword-map", map.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(map.string() + ":3:3: tags.BAD: not a tag"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));

  EXPECT_EQ(RunAhub({"import-arxiv"}).exit_code, 2);
  EXPECT_EQ(RunAhub({"import-arxiv", (dir.path() / "missing.atom").string()}).exit_code, 2);
}

TEST(ImportCliTest, TheKeywordMapOptionReplacesTheBuiltInTags) {
  TempDir dir;
  const fs::path feed = dir.path() / "feed.atom";
  std::ofstream(feed) << Feed(
      {Paper("2402.02750", "KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV Cache")});
  const fs::path map = dir.path() / "map.yaml";
  std::ofstream(map)
      << "format: ahub-keywords/1\ntags:\n  streaming: [\"stream*\"]\n  kv: [KV cache]\n";
  const auto r = RunAhub({"import-arxiv", feed.string(), "--out", (dir.path() / "out").string(),
                          "--keyword-map", map.string(), "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["entries"][0]["tags"],
            json::parse(R"(["arxiv-import", "streaming", "kv"])"));
}

}  // namespace
}  // namespace ahub::hub
