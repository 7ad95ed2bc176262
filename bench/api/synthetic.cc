#include "bench/api/synthetic.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "runner/manifest.h"

namespace ahub::bench {
namespace {

using nlohmann::json;

// arXiv categories with rough relative frequencies of CS submissions (cs.LG, cs.CL and cs.AI
// dominate); the first one listed for a package is its primary category.
const std::vector<std::string> kCategories = {
    "cs.LG", "cs.CL", "cs.AI", "cs.CV", "cs.DC", "cs.PF", "cs.DS", "cs.DB",
    "cs.IR", "cs.NI", "cs.OS", "cs.CR", "stat.ML", "math.OC"};
const std::vector<double> kCategoryWeights = {20, 14, 12, 10, 6, 4, 4, 3, 3, 2, 2, 2, 6, 2};

const std::vector<std::string> kTags = {
    "caching", "cache-eviction", "zipfian-workload", "attention", "transformers", "kv-cache",
    "quantization", "sparsity", "inference", "training", "distributed-training", "gpu-kernels",
    "cuda", "scheduling", "tail-latency", "load-balancing", "consensus", "replication",
    "compression", "indexing", "b-trees", "lsm-trees", "hashing", "sorting", "search",
    "benchmarks", "reproducibility", "microbenchmark", "memory-bandwidth", "numa", "networking",
    "rdma", "serverless", "storage", "ssd", "vector-search", "embeddings", "retrieval",
    "tokenization", "fine-tuning", "llm-evaluation", "pruning"};

// Title and summary words, most frequent first (drawn with weight 1 / (rank + 1)).
const std::vector<std::string> kWords = {
    "the", "of", "and", "a", "in", "for", "with", "on", "we", "is", "model", "cache", "latency",
    "throughput", "memory", "attention", "training", "inference", "data", "performance",
    "results", "show", "method", "benchmark", "workload", "speedup", "kernel", "gpu", "layer",
    "sequence", "tokens", "batch", "accuracy", "baseline", "error", "scaling", "compression",
    "quantization", "sparse", "dense", "parallel", "distributed", "network", "storage", "index",
    "query", "search", "hash", "tree", "graph", "sorting", "eviction", "policy", "admission",
    "replacement", "hit", "miss", "rate", "tail", "p99", "median", "variance", "bandwidth",
    "cpu", "core", "thread", "lock", "contention", "scheduler", "queue", "request", "response",
    "server", "client", "replica", "consensus", "raft", "paxos", "log", "compaction", "merge",
    "bloom", "filter", "vector", "embedding", "retrieval", "transformer", "decoder", "encoder",
    "context", "window", "prefill", "decode", "speculative", "draft", "verifier", "pruning",
    "distillation", "fine-tuning", "adapter", "lora", "optimizer", "adam", "gradient",
    "learning", "schedule", "warmup", "regularization", "dropout", "normalization", "softmax",
    "flash", "tiling", "fusion", "register", "shared", "warp", "occupancy", "roofline",
    "arithmetic", "intensity", "precision", "fp8", "int4", "calibration", "outlier", "channel",
    "token", "vocabulary", "tokenizer", "corpus", "evaluation", "perplexity", "zero-shot",
    "few-shot", "prompt", "chain", "reasoning", "agent", "tool", "planner", "reward",
    "rollout", "simulation", "trace", "replay", "zipfian", "skew", "uniform", "synthetic",
    "production", "microbenchmark", "profiling", "counter", "cycle", "instruction", "branch",
    "prefetch", "numa", "socket", "rdma", "kernel-bypass", "io_uring", "syscall", "ssd",
    "nvme", "flash-translation", "wear", "durability", "fsync", "journal", "checkpoint",
    "recovery", "snapshot", "isolation", "serializable", "transaction", "deadlock", "timeout",
    "retry", "backoff", "admission-control", "overload", "autoscaling", "serverless",
    "cold-start", "container", "sandbox", "isolation-level", "reproducible", "replicated",
    "measured", "declared", "claimed", "observed"};

const std::vector<std::string> kFirstNames = {"Ada", "Alan", "Grace", "Edsger", "Barbara",
                                              "Donald", "Frances", "John", "Leslie", "Margaret",
                                              "Niklaus", "Radia", "Tony", "Whitfield", "Shafi"};
const std::vector<std::string> kLastNames = {"Lovelace", "Turing", "Hopper", "Dijkstra",
                                             "Liskov", "Knuth", "Allen", "Backus", "Lamport",
                                             "Hamilton", "Wirth", "Perlman", "Hoare", "Diffie",
                                             "Goldwasser"};

struct MetricDef {
  const char* name;
  const char* unit;
};
const std::vector<MetricDef> kMetrics = {
    {"cache.hit_rate_pct", "%"},         {"cache.hit_rate_gap_pp", "pp"},
    {"latency.p50_ms", "ms"},            {"latency.p99_ms", "ms"},
    {"throughput.requests_per_s", "requests/s"}, {"throughput.tokens_per_s", "tokens/s"},
    {"speedup.vs_baseline", "x"},        {"memory.peak_mb", "MiB"},
    {"accuracy.top1_pct", "%"},          {"accuracy.exact_match_pct", "%"},
    {"model.perplexity", ""},            {"training.steps_to_target", "steps"},
    {"kernel.tflops", "TFLOP/s"},        {"kernel.bandwidth_gbs", "GB/s"},
    {"storage.write_amplification", "x"}, {"search.crossover_n", "items"},
    {"compression.ratio", "x"},          {"energy.joules_per_request", "J"},
    {"index.build_seconds", "s"},        {"queue.wait_ms", "ms"}};

// Every package is published between 2023-01-01 and 2026-11-20.
constexpr int kFirstYear = 2023;
constexpr int kYears = 4;
constexpr int kLastYearMonths = 11;
constexpr int kTitleWordsMin = 6, kTitleWordsMax = 12;
constexpr int kSummaryWordsMin = 40, kSummaryWordsMax = 55;
constexpr int kTagsMin = 2, kTagsMax = 5;
constexpr int kCategoriesMax = 3;
constexpr int kAuthorsMax = 3;
// Claim values are k / kValueScale: two decimals, printed and parsed back exactly.
constexpr int kValueScale = 100;
constexpr int kValueMax = 50000;
constexpr int kConditionSeedMax = 100000;
constexpr int kIdDigits = 6;

int Uniform(std::mt19937_64& rng, int lo, int hi) {  // inclusive
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}

std::discrete_distribution<size_t> ZipfDistribution(size_t n) {
  std::vector<double> w(n);
  for (size_t i = 0; i < n; ++i) w[i] = 1.0 / static_cast<double>(i + 1);
  return std::discrete_distribution<size_t>(w.begin(), w.end());
}

// Distinct elements of `from`, `count` of them, in drawing order.
std::vector<std::string> Distinct(std::mt19937_64& rng, const std::vector<std::string>& from, int count) {
  std::vector<std::string> out;
  while (static_cast<int>(out.size()) < count) {
    const std::string& s = from[static_cast<size_t>(Uniform(rng, 0, static_cast<int>(from.size()) - 1))];
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  return out;
}

std::string Quoted(const std::string& s) { return json(s).dump(); }  // JSON strings are YAML

std::string FlowList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + Quoted(items[i]);
  return out + "]";
}

std::string Decimal(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

}  // namespace

SyntheticGenerator::SyntheticGenerator(uint64_t seed, SyntheticOptions options)
    : rng_(seed),
      options_(std::move(options)),
      word_(ZipfDistribution(kWords.size())),
      category_(kCategoryWeights.begin(), kCategoryWeights.end()) {}

std::string SyntheticGenerator::Pick(const std::vector<std::string>& from) {
  return from[static_cast<size_t>(Uniform(rng_, 0, static_cast<int>(from.size()) - 1))];
}

std::string SyntheticGenerator::Words(int count, bool capitalise_first) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    if (i) out += ' ';
    out += kWords[word_(rng_)];
  }
  if (capitalise_first && !out.empty()) out[0] = static_cast<char>(std::toupper(out[0]));
  return out;
}

SyntheticPackage SyntheticGenerator::Next(int64_t index) {
  SyntheticPackage p;
  char id[64];
  std::snprintf(id, sizeof id, "%s-%0*lld", options_.id_prefix.c_str(), kIdDigits,
                static_cast<long long>(index));
  p.id = id;
  p.title = Words(Uniform(rng_, kTitleWordsMin, kTitleWordsMax), true);
  // Three sentences, ~300 bytes.
  const int words = Uniform(rng_, kSummaryWordsMin, kSummaryWordsMax);
  for (int s = 0; s < 3; ++s) {
    if (s) p.summary += ' ';
    p.summary += Words(words / 3, true) + '.';
  }
  const int n_categories = Uniform(rng_, 1, kCategoriesMax);
  while (static_cast<int>(p.categories.size()) < n_categories) {
    const std::string& c = kCategories[category_(rng_)];
    if (std::find(p.categories.begin(), p.categories.end(), c) == p.categories.end()) p.categories.push_back(c);
  }
  p.tags = Distinct(rng_, kTags, Uniform(rng_, kTagsMin, kTagsMax));
  const int n_authors = Uniform(rng_, 1, kAuthorsMax);
  for (int a = 0; a < n_authors; ++a) p.authors.push_back(Pick(kFirstNames) + " " + Pick(kLastNames));
  const int year = kFirstYear + Uniform(rng_, 0, kYears - 1);
  const int month = Uniform(rng_, 1, year == kFirstYear + kYears - 1 ? kLastYearMonths : 12);
  const int day = Uniform(rng_, 1, 28);
  char date[16];
  std::snprintf(date, sizeof date, "%04d-%02d-%02d", year, month, day);
  p.published = date;

  const int n_claims = Uniform(rng_, options_.min_claims, options_.max_claims);
  for (int c = 0; c < n_claims; ++c) {
    const MetricDef& m = kMetrics[static_cast<size_t>(Uniform(rng_, 0, static_cast<int>(kMetrics.size()) - 1))];
    SyntheticClaim claim;
    claim.id = "claim-" + std::to_string(c + 1);
    claim.metric = options_.shared_metrics ? m.name : std::string(m.name) + "." + p.id.substr(p.id.rfind('-') + 1) +
                                                          "_" + std::to_string(c + 1);
    claim.unit = m.unit;
    claim.value = static_cast<double>(Uniform(rng_, 1, kValueMax)) / kValueScale;
    claim.statement = Words(Uniform(rng_, 8, 14), true) + " reaches " + Decimal(claim.value) + " " + claim.unit;
    claim.conditions = {{"seed", Uniform(rng_, 1, kConditionSeedMax)}, {"n", 1 << Uniform(rng_, 4, 20)}};
    p.claims.push_back(std::move(claim));
  }
  return p;
}

std::string ManifestYaml(const SyntheticPackage& p) {
  std::string y;
  y += "format: ahub/1\n";
  y += "id: " + Quoted(p.id) + "\n";
  y += "version: 1\n";
  y += "title: " + Quoted(p.title) + "\n";
  y += "summary: " + Quoted(p.summary) + "\n";
  y += "categories: " + FlowList(p.categories) + "\n";
  y += "tags: " + FlowList(p.tags) + "\n";
  y += "authors:\n";
  for (const std::string& a : p.authors) y += "  - name: " + Quoted(a) + "\n";
  y += "published: " + Quoted(p.published) + "\n";
  y += "license: MIT\n";
  y += "provenance:\n  kind: original\n";
  y += "environment:\n  runtime: native\n";
  y += "claims:\n";
  for (const SyntheticClaim& c : p.claims) {
    y += "  - id: " + Quoted(c.id) + "\n";
    y += "    statement: " + Quoted(c.statement) + "\n";
    y += "    metric: " + Quoted(c.metric) + "\n";
    y += "    unit: " + Quoted(c.unit) + "\n";
    y += "    value: " + Decimal(c.value) + "\n";
    y += "    conditions: {";
    bool first = true;
    for (const auto& [key, value] : c.conditions.items()) {
      y += (first ? "" : ", ") + key + ": " + value.dump();
      first = false;
    }
    y += "}\n";
  }
  return y;
}

json ManifestJson(const SyntheticPackage& p) {
  const Limits limits;
  json j = {{"format", "ahub/1"}, {"id", p.id}, {"version", 1}, {"title", p.title},
            {"summary", p.summary}, {"categories", p.categories}, {"tags", p.tags},
            {"published", p.published}};
  j["authors"] = json::array();
  for (const std::string& a : p.authors) j["authors"].push_back({{"name", a}});
  j["license"] = "MIT";
  j["provenance"] = {{"kind", "original"}};
  j["relations"] = json::array();
  j["environment"] = {{"runtime", "native"},
                      {"gpu", false},
                      {"limits",
                       {{"wall_seconds", limits.wall_seconds},
                        {"memory_mb", limits.memory_mb},
                        {"processes", limits.processes}}}};
  j["experiments"] = json::array();
  j["claims"] = json::array();
  for (const SyntheticClaim& c : p.claims) {
    j["claims"].push_back({{"id", c.id}, {"statement", c.statement}, {"metric", c.metric}, {"unit", c.unit},
                           {"conditions", c.conditions}, {"value", c.value}, {"expect", nullptr},
                           {"evidence", nullptr}});
  }
  j["recorded"] = json::array();
  return j;
}

Status CheckAgainstParser(const SyntheticPackage& p) {
  const LoadResult loaded = ParseManifest(ManifestYaml(p), {});
  if (!loaded.ok()) {
    return Status::InvalidArgument(p.id + ": the generated package.yaml is invalid: " +
                                   loaded.diagnostics[0].ToString());
  }
  const json parsed = loaded.package.ToJson();
  const json direct = ManifestJson(p);
  if (parsed != direct) {
    return Status::Internal(p.id + ": the manifest built directly differs from the parsed one; diff: " +
                            json::diff(parsed, direct).dump());
  }
  return Status::Ok();
}

const std::string& CategoryName(size_t i) { return kCategories.at(i); }
const std::string& WordOfRank(size_t rank) { return kWords.at(rank); }

}  // namespace ahub::bench
