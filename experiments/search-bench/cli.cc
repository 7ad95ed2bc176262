#include "experiments/search-bench/cli.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>

#include "experiments/search-bench/workload.h"

namespace search_bench {
namespace {

constexpr int64_t kMaxQueries = 1'000'000;
constexpr int64_t kMaxRepeats = 1000;
constexpr int64_t kMaxMinBatchUs = 10'000'000;  // 10 s

constexpr const char* kSizeRange = "[1, 1048576]";
static_assert(kMaxSize == 1048576, "kSizeRange spells out kMaxSize");

template <typename T>
std::optional<T> ParseNumber(std::string_view text) {
  T value{};
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) {
    return std::nullopt;
  }
  return value;
}

std::optional<int64_t> ParseInRange(std::string_view text, int64_t lo, int64_t hi) {
  const std::optional<int64_t> value = ParseNumber<int64_t>(text);
  if (!value || *value < lo || *value > hi) {
    return std::nullopt;
  }
  return value;
}

std::string Refusal(std::string_view option, std::string_view value, std::string_view accepted) {
  return "search-bench: " + std::string(option) + ": '" + std::string(value) +
         "' is not accepted; accepted: " + std::string(accepted);
}

ParsedArgs UsageError(std::string message) {
  ParsedArgs parsed;
  parsed.action = ParsedArgs::Action::kUsageError;
  parsed.error = std::move(message);
  return parsed;
}

// Comma-separated sizes; returned sorted, without duplicates.
std::optional<std::vector<int64_t>> ParseSizes(std::string_view text) {
  std::vector<int64_t> sizes;
  while (true) {
    const std::size_t comma = text.find(',');
    const std::optional<int64_t> size = ParseInRange(text.substr(0, comma), 1, kMaxSize);
    if (!size) {
      return std::nullopt;
    }
    sizes.push_back(*size);
    if (comma == std::string_view::npos) {
      break;
    }
    text.remove_prefix(comma + 1);
  }
  std::sort(sizes.begin(), sizes.end());
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  return sizes;
}

}  // namespace

std::string Usage() {
  std::ostringstream text;
  text << "usage: search-bench [options]\n"
       << "Times membership tests on sorted int64 arrays: a linear scan that stops at the first\n"
       << "element >= x vs std::binary_search, on seeded mixed hit/miss queries. Writes one JSON\n"
       << "document: per size {n, linear_ns, binary_ns, speedup}, crossover_n, speedup_at.\n"
       << "\n"
       << "  --sizes LIST       comma-separated sizes in " << kSizeRange << "\n"
       << "                     (default: 1, 2, 3, 4, 6, 8, 12, ... powers of two and 1.5x them)\n"
       << "  --max-size N       drop sizes above N, N in " << kSizeRange << " (default " << kMaxSize
       << ")\n"
       << "  --queries N        queries per timed pass, in [1, " << kMaxQueries
       << "] (default 200)\n"
       << "  --repeats K        timed batches per contender, minimum kept, in [1, " << kMaxRepeats
       << "] (default 7)\n"
       << "  --min-batch-us N   shortest timed batch in microseconds, in [1, " << kMaxMinBatchUs
       << "] (default " << TimingConfig{}.min_batch_ns / 1000 << ")\n"
       << "  --seed S           query seed, an unsigned 64-bit integer (default 20260611)\n"
       << "  --hit-fraction F   share of queries that are elements, in [0, 1] (default 0.5)\n"
       << "  --out FILE         write the JSON here, atomically (default: stdout)\n"
       << "  --help             this text\n"
       << "  --version          the program version\n"
       << "Exit status: 0 done, 1 verification or output failure, 2 bad options.\n";
  return text.str();
}

ParsedArgs ParseArgs(std::span<const std::string_view> args) {
  ParsedArgs parsed;
  parsed.config.sizes = SizeLadder(kMaxSize);
  std::optional<int64_t> max_size;

  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view option = args[i];
    if (option == "--help") {
      parsed.action = ParsedArgs::Action::kHelp;
      return parsed;
    }
    if (option == "--version") {
      parsed.action = ParsedArgs::Action::kVersion;
      return parsed;
    }
    std::optional<std::string_view> value;
    if (const std::size_t eq = option.find('='); option.starts_with("--") && eq != option.npos) {
      value = option.substr(eq + 1);
      option = option.substr(0, eq);
    }
    std::string missing_value;
    const auto needs_value = [&](std::string_view accepted) -> std::optional<std::string_view> {
      if (value) {
        return value;
      }
      if (i + 1 < args.size()) {
        return args[++i];
      }
      missing_value = "search-bench: " + std::string(option) +
                      " needs a value; accepted: " + std::string(accepted);
      return std::nullopt;
    };

    if (option == "--sizes") {
      const std::string accepted = std::string("comma-separated integers in ") + kSizeRange;
      const auto text = needs_value(accepted);
      if (!text) {
        return UsageError(missing_value);
      }
      const auto sizes = ParseSizes(*text);
      if (!sizes) {
        return UsageError(Refusal(option, *text, accepted));
      }
      parsed.config.sizes = *sizes;
    } else if (option == "--max-size") {
      const std::string accepted = std::string("an integer in ") + kSizeRange;
      const auto text = needs_value(accepted);
      if (!text) {
        return UsageError(missing_value);
      }
      max_size = ParseInRange(*text, 1, kMaxSize);
      if (!max_size) {
        return UsageError(Refusal(option, *text, accepted));
      }
    } else if (option == "--queries") {
      const std::string accepted = "an integer in [1, " + std::to_string(kMaxQueries) + "]";
      const auto text = needs_value(accepted);
      if (!text) {
        return UsageError(missing_value);
      }
      const auto queries = ParseInRange(*text, 1, kMaxQueries);
      if (!queries) {
        return UsageError(Refusal(option, *text, accepted));
      }
      parsed.config.queries = *queries;
    } else if (option == "--repeats") {
      const std::string accepted = "an integer in [1, " + std::to_string(kMaxRepeats) + "]";
      const auto text = needs_value(accepted);
      if (!text) {
        return UsageError(missing_value);
      }
      const auto repeats = ParseInRange(*text, 1, kMaxRepeats);
      if (!repeats) {
        return UsageError(Refusal(option, *text, accepted));
      }
      parsed.config.timing.repeats = static_cast<int>(*repeats);
    } else if (option == "--min-batch-us") {
      const std::string accepted = "an integer in [1, " + std::to_string(kMaxMinBatchUs) + "]";
      const auto text = needs_value(accepted);
      if (!text) {
        return UsageError(missing_value);
      }
      const auto micros = ParseInRange(*text, 1, kMaxMinBatchUs);
      if (!micros) {
        return UsageError(Refusal(option, *text, accepted));
      }
      parsed.config.timing.min_batch_ns = *micros * 1000;
    } else if (option == "--seed") {
      const std::string accepted = "an unsigned 64-bit integer";
      const auto text = needs_value(accepted);
      if (!text) {
        return UsageError(missing_value);
      }
      const auto seed = ParseNumber<uint64_t>(*text);
      if (!seed) {
        return UsageError(Refusal(option, *text, accepted));
      }
      parsed.config.seed = *seed;
    } else if (option == "--hit-fraction") {
      const std::string accepted = "a number in [0, 1]";
      const auto text = needs_value(accepted);
      if (!text) {
        return UsageError(missing_value);
      }
      const auto fraction = ParseNumber<double>(*text);
      if (!fraction || !(*fraction >= 0.0 && *fraction <= 1.0)) {
        return UsageError(Refusal(option, *text, accepted));
      }
      parsed.config.hit_fraction = *fraction;
    } else if (option == "--out") {
      const std::string accepted = "a file path";
      const auto text = needs_value(accepted);
      if (!text) {
        return UsageError(missing_value);
      }
      if (text->empty()) {
        return UsageError(Refusal(option, *text, accepted));
      }
      parsed.out_path = std::string(*text);
    } else {
      return UsageError("search-bench: unknown option '" + std::string(args[i]) +
                        "'; accepted: --sizes, --max-size, --queries, --repeats, "
                        "--min-batch-us, --seed, --hit-fraction, --out, --help, --version");
    }
  }

  if (max_size) {
    std::erase_if(parsed.config.sizes, [&](int64_t n) { return n > *max_size; });
    if (parsed.config.sizes.empty()) {
      return UsageError("search-bench: --max-size: " + std::to_string(*max_size) +
                        " is below every size of --sizes; accepted: a value >= the smallest size");
    }
  }
  return parsed;
}

}  // namespace search_bench
