#include "cli.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "python_random.h"

namespace cachesim {
namespace {

constexpr std::string_view kOptionList =
    "--zipf-s, --catalog, --requests, --seed, --trace, --trace-format, --capacity, --warmup, "
    "--policies, --out, --help, --version";

std::string Quoted(std::string_view s) {
  // Built by appends: GCC 12 reports a false -Wrestrict for "'" + std::string(s) at -O3.
  std::string quoted(1, '\'');
  quoted.append(s);
  quoted.push_back('\'');
  return quoted;
}

std::optional<uint64_t> ParseUnsigned(std::string_view text) {
  uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> ParseFinite(std::string_view text) {
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

std::vector<std::string_view> SplitCommas(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) return parts;
    start = comma + 1;
  }
}

std::string PolicyNames() {
  std::string names;
  for (const Policy p : AllPolicies()) {
    if (!names.empty()) names += ", ";
    names += PolicyName(p);
  }
  return names;
}

// Capacity entries before the default warm-up is known: `warmup` empty means "use --warmup".
struct CapacityEntry {
  uint64_t capacity;
  std::optional<uint64_t> warmup;
};

Result<std::vector<CapacityEntry>> ParseCapacities(std::string_view text) {
  constexpr std::string_view kAccepted =
      "; accepted: comma-separated entries CAP or CAP@WARMUP, integers CAP >= 1 and "
      "WARMUP >= 0 (e.g. 100,1000@20000)";
  std::vector<CapacityEntry> entries;
  for (const std::string_view entry : SplitCommas(text)) {
    const size_t at = entry.find('@');
    const auto capacity = ParseUnsigned(entry.substr(0, at));
    if (!capacity || *capacity == 0) {
      return Error("--capacity: " + Quoted(entry) + " is not a capacity" + std::string(kAccepted));
    }
    std::optional<uint64_t> warmup;
    if (at != std::string_view::npos) {
      warmup = ParseUnsigned(entry.substr(at + 1));
      if (!warmup) {
        return Error("--capacity: " + Quoted(entry) + " has no valid warm-up after '@'" +
                     std::string(kAccepted));
      }
    }
    entries.push_back({*capacity, warmup});
  }
  return entries;
}

Result<std::vector<Policy>> ParsePolicies(std::string_view text) {
  std::vector<Policy> policies;
  for (const std::string_view name : SplitCommas(text)) {
    const auto policy = ParsePolicy(name);
    if (!policy) {
      return Error("--policies: unknown policy " + Quoted(name) +
                   "; accepted: a comma-separated list of " + PolicyNames());
    }
    if (std::find(policies.begin(), policies.end(), *policy) != policies.end()) {
      return Error("--policies: " + Quoted(name) + " is listed twice; list each policy once");
    }
    policies.push_back(*policy);
  }
  return policies;
}

}  // namespace

Result<CommandLine> ParseCommandLine(std::span<const std::string_view> args) {
  CommandLine line;
  ZipfWorkload zipf;
  TraceWorkload trace;
  bool use_trace = false;
  std::optional<std::string_view> zipf_option;  // first Zipf-only option seen
  std::optional<std::string_view> format_option;
  std::vector<CapacityEntry> capacities = {{100, std::nullopt}};
  uint64_t default_warmup = 0;

  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--help" || arg == "-h") {
      line.action = CommandLine::Action::kHelp;
      return line;
    }
    if (arg == "--version") {
      line.action = CommandLine::Action::kVersion;
      return line;
    }
    if (!arg.starts_with("--")) {
      return Error("unexpected argument " + Quoted(arg) +
                   "; accepted options: " + std::string(kOptionList));
    }
    std::string_view name = arg;
    std::optional<std::string_view> inline_value;
    if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    constexpr std::string_view kValued[] = {
        "--zipf-s",       "--catalog",  "--requests", "--seed",     "--trace",
        "--trace-format", "--capacity", "--warmup",   "--policies", "--out"};
    if (std::find(std::begin(kValued), std::end(kValued), name) == std::end(kValued)) {
      return Error("unknown option " + Quoted(name) + "; accepted: " + std::string(kOptionList));
    }
    std::string_view value;
    if (inline_value) {
      value = *inline_value;
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return Error(std::string(name) + " needs a value (see --help)");
    }

    if (name == "--zipf-s") {
      const auto s = ParseFinite(value);
      if (!s || *s < 0) {
        return Error("--zipf-s: " + Quoted(value) +
                     " is not accepted; accepted: a finite "
                     "number >= 0 (the Zipf exponent, e.g. 1.1)");
      }
      zipf.params.s = *s;
      zipf_option = zipf_option.value_or(name);
    } else if (name == "--catalog") {
      const auto n = ParseUnsigned(value);
      if (!n || *n == 0 || *n > kMaxRequests) {
        return Error("--catalog: " + Quoted(value) +
                     " is not accepted; accepted: an integer "
                     "from 1 to " +
                     std::to_string(kMaxRequests));
      }
      zipf.params.catalog = static_cast<uint32_t>(*n);
      zipf_option = zipf_option.value_or(name);
    } else if (name == "--requests") {
      const auto n = ParseUnsigned(value);
      if (!n || *n == 0 || *n > kMaxRequests) {
        return Error("--requests: " + Quoted(value) +
                     " is not accepted; accepted: an integer "
                     "from 1 to " +
                     std::to_string(kMaxRequests));
      }
      zipf.params.requests = *n;
      zipf_option = zipf_option.value_or(name);
    } else if (name == "--seed") {
      auto key = SeedKeyFromDecimal(value);
      if (!key) {
        return Error("--seed: " + Quoted(value) +
                     " is not accepted; accepted: a decimal "
                     "integer of any size (Python's random.Random(seed))");
      }
      zipf.seed_text = std::string(value);
      zipf.seed_key = std::move(*key);
      zipf_option = zipf_option.value_or(name);
    } else if (name == "--trace") {
      if (value.empty()) return Error("--trace: needs a file path");
      trace.path = std::string(value);
      use_trace = true;
    } else if (name == "--trace-format") {
      const auto format = ParseTraceFormat(value);
      if (!format) {
        return Error("--trace-format: " + Quoted(value) +
                     " is not a trace format; accepted: text, oracle-general");
      }
      trace.format = *format;
      format_option = name;
    } else if (name == "--capacity") {
      auto parsed = ParseCapacities(value);
      if (!parsed.ok()) return parsed.error();
      capacities = std::move(parsed).value();
    } else if (name == "--warmup") {
      const auto n = ParseUnsigned(value);
      if (!n) {
        return Error("--warmup: " + Quoted(value) +
                     " is not accepted; accepted: an integer "
                     ">= 0 (requests replayed before hits are counted)");
      }
      default_warmup = *n;
    } else if (name == "--policies") {
      auto parsed = ParsePolicies(value);
      if (!parsed.ok()) return parsed.error();
      line.options.policies = std::move(parsed).value();
    } else if (name == "--out") {
      if (value.empty()) return Error("--out: needs a file path");
      line.out_path = std::string(value);
    }
  }

  if (use_trace && zipf_option) {
    return Error(std::string(*zipf_option) +
                 " describes the Zipf workload and cannot be combined with --trace");
  }
  if (!use_trace && format_option) {
    return Error("--trace-format needs --trace FILE");
  }
  line.options.runs.clear();
  for (const CapacityEntry& entry : capacities) {
    const uint64_t warmup = entry.warmup.value_or(default_warmup);
    if (!use_trace && warmup >= zipf.params.requests) {
      return Error("--capacity " + std::to_string(entry.capacity) + "@" + std::to_string(warmup) +
                   ": the warm-up must be smaller than --requests " +
                   std::to_string(zipf.params.requests));
    }
    line.options.runs.push_back({entry.capacity, warmup});
  }
  if (use_trace) {
    line.options.workload = std::move(trace);
  } else {
    line.options.workload = std::move(zipf);
  }
  return line;
}

std::string UsageText() {
  return R"(cache-sim: replay a request stream through cache replacement policies and report
hit rates as one JSON document.

Usage:
  cache-sim [ZIPF WORKLOAD | TRACE WORKLOAD] [--capacity LIST] [--warmup N]
            [--policies LIST] [--out FILE]
  cache-sim --help | --version

Zipf workload (the default), generated bit for bit as CPython's
  random.Random(seed) + bisect over the normalised cumulative 1/i**s weights:
  --zipf-s S          Zipf exponent, a finite number >= 0            (default 1.1)
  --catalog N         number of distinct objects                     (default 10000)
  --requests R        number of requests                             (default 200000)
  --seed SEED         decimal integer of any size                    (default 42)

Trace workload:
  --trace FILE        replay the requests in FILE
  --trace-format F    text: one unsigned 64-bit object id per line, blank lines and
                        '#' comments skipped                         (default)
                      oracle-general: libCacheSim's binary oracleGeneral records
                        (24 bytes: uint32 time, uint64 id, uint32 size, int64 next)

Simulation:
  --capacity LIST     comma-separated cache sizes in objects, each CAP or CAP@WARMUP;
                      all are simulated over the same stream         (default 100)
  --warmup N          requests replayed before hits are counted, for entries
                      without @WARMUP                                (default 0)
  --policies LIST     comma-separated, in report order; gap_pp compares the first two
                      (default lfu,lru). Available:
                        lru         evict the least recently used object
                        lfu         counts kept across evictions; evict the smallest
                                    count, ties -> least recently used
                        lfu-forget  in-cache LFU: count reset on eviction
                        fifo        evict the oldest insertion
                        sieve       SIEVE (NSDI'24): visited bit and moving hand
                        opt         Belady MIN: evict the farthest next use
  --out FILE          write the JSON document to FILE, atomically (default stdout)

Output: {"experiment":"cache-sim","version":"1","workload":{...},"policies":[...],
         "runs":[{"capacity","warmup","measured_requests","hit_rate_pct":{..},
                  "hits":{..},"gap_pp","seconds":{..},"cpu_seconds":{..}}],
         "workload_seconds","elapsed_seconds"}

Exit status: 0 success; 1 the run failed (unreadable or invalid trace, a warm-up not
smaller than the trace, output not writable; nothing is written); 2 usage error.

Examples:
  cache-sim --capacity 100
  cache-sim --capacity 1000@20000,100@0 --out results.json
  cache-sim --zipf-s 0.9 --catalog 1000000 --requests 10000000 --capacity 10000 \
            --policies lru,lfu,lfu-forget,fifo,sieve,opt
  cache-sim --trace requests.txt --capacity 50,500 --policies sieve,lru
  cache-sim --trace cluster52.oracleGeneral --trace-format oracle-general --capacity 10000
)";
}

}  // namespace cachesim
