// `ahub serve`: the hub's HTTP service. Opens the store, starts the verification workers, serves
// the API until SIGINT or SIGTERM, then stops accepting, lets running jobs finish and exits 0.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "hub/api.h"
#include "hub/cli.h"
#include "hub/keyword_map.h"
#include "hub/service.h"

namespace ahub::cli {
namespace {

struct Endpoint {
  std::string host;
  int port = 0;
};

// "HOST:PORT" or "[IPv6]:PORT".
std::optional<Endpoint> ParseListen(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  Endpoint e;
  e.host = text.substr(0, colon);
  if (e.host.size() >= 2 && e.host.front() == '[' && e.host.back() == ']') {
    e.host = e.host.substr(1, e.host.size() - 2);
  }
  const std::string port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  e.port = std::stoi(port);
  if (e.host.empty() || e.port > 65535) return std::nullopt;
  return e;
}

std::string Url(const Endpoint& e, int port) {
  const bool v6 = e.host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + e.host + "]" : e.host) + ":" + std::to_string(port);
}

// Waits for SIGINT/SIGTERM on its own thread (they are blocked everywhere else) and stops the
// server on the first; a second one ends the process at once, for a shutdown that waits on a
// long verification job.
class SignalWatcher {
 public:
  explicit SignalWatcher(hub::ApiServer& server) : server_(server) {
    thread_ = std::thread([this] { Watch(); });
  }
  ~SignalWatcher() {
    done_ = true;
    pthread_kill(thread_.native_handle(), SIGTERM);  // releases sigwait if no signal came
    thread_.join();
  }
  // Blocks the signals in the calling thread and every thread it creates afterwards.
  static void BlockSignals() {
    sigset_t set = Signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
  }

 private:
  static sigset_t Signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
  }
  void Watch() {
    const sigset_t set = Signals();
    int signal_number = 0;
    sigwait(&set, &signal_number);
    if (done_) return;
    std::cerr << "ahub serve: " << (signal_number == SIGINT ? "SIGINT" : "SIGTERM")
              << ": stopping (running verification jobs finish first; signal again to exit now)"
              << std::endl;
    server_.Stop();
    sigwait(&set, &signal_number);
    if (done_) return;
    std::cerr << "ahub serve: second signal: exiting without waiting" << std::endl;
    std::_Exit(128 + signal_number);
  }

  hub::ApiServer& server_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace

Command RegisterServe(CLI::App& app) {
  struct Args {
    std::string listen = "127.0.0.1:8080";
    std::string data = "var";
    std::string seed_dir = "packages";
    bool seed = true;
    int workers = 2;
    int threads = hub::ApiOptions{}.threads;
    double rate = hub::ApiOptions{}.rate_per_second;
    double burst = hub::ApiOptions{}.rate_burst;
    int64_t max_upload = hub::ExtractLimits{}.max_archive_bytes;
    bool verbose = false;
    bool quiet = false;
    std::string weights;
    std::string arxiv_keywords;
  };
  auto args = std::make_shared<Args>();
  CLI::App* sub =
      app.add_subcommand("serve", "Serve the hub's HTTP API and run verification jobs.");
  sub->add_option("--listen", args->listen, "HOST:PORT to listen on; port 0 picks a free one")
      ->envname("AHUB_LISTEN")
      ->capture_default_str();
  sub->add_option("--data", args->data, "data directory (database, git repositories, blobs)")
      ->envname("AHUB_DATA")
      ->capture_default_str();
  sub->add_flag("--seed,!--no-seed", args->seed,
                "on an empty store, load the packages of --seed-dir (AHUB_SEED=0 to disable)")
      ->envname("AHUB_SEED");
  sub->add_option("--seed-dir", args->seed_dir, "where the seed packages are")
      ->envname("AHUB_SEED_DIR")
      ->capture_default_str();
  sub->add_option("--workers", args->workers, "verification jobs run at once")
      ->envname("AHUB_WORKERS")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  sub->add_option("--threads", args->threads, "HTTP threads (connections served at once)")
      ->envname("AHUB_THREADS")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  sub->add_option("--rate", args->rate, "requests a second allowed per token")
      ->envname("AHUB_RATE_PER_SECOND")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--rate-burst", args->burst, "requests a token may make at once above --rate")
      ->envname("AHUB_RATE_BURST")
      ->check(CLI::Range(1.0, 1e9))
      ->capture_default_str();
  sub->add_option("--max-upload-bytes", args->max_upload, "largest accepted request body")
      ->envname("AHUB_MAX_UPLOAD_BYTES")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 34))
      ->capture_default_str();
  sub->add_flag("--verbose", args->verbose, "log one line per request on stderr")
      ->envname("AHUB_VERBOSE");
  sub->add_flag("--quiet", args->quiet, "do not log seed loading and verification jobs on stderr")
      ->envname("AHUB_QUIET");
  sub->add_option("--weights", args->weights,
                  "JSON file overriding the attention weights, e.g. {\"per_open_tension\": 3}")
      ->envname("AHUB_WEIGHTS")
      ->check(CLI::ExistingFile);
  sub->add_option("--arxiv-keywords", args->arxiv_keywords,
                  "keyword map (YAML) for POST /api/v1/imports/arxiv instead of the built-in "
                  "schemas/arxiv-keywords.yaml")
      ->envname("AHUB_ARXIV_KEYWORDS")
      ->check(CLI::ExistingFile);
  sub->footer(
      "Prints \"AttentionHub serving http://HOST:PORT (data: DIR)\" on stdout once it accepts\n"
      "requests. SIGINT/SIGTERM stop it cleanly. Create tokens with `ahub token create`.\n"
      "Exit status: 0 stopped by a signal, 2 usage error, 4 the port or the store is unavailable.");

  return [args]() -> int {
    const std::optional<Endpoint> endpoint = ParseListen(args->listen);
    if (!endpoint) {
      std::cerr << "ahub serve: --listen " << args->listen
                << ": expected HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:0\n";
      return kExitInvalid;
    }
    // Before any thread exists, so only the watcher ever receives them.
    SignalWatcher::BlockSignals();

    hub::HubConfig config;
    config.data_dir = args->data;
    config.seed = args->seed;
    config.seed_dir = args->seed_dir;
    config.workers = args->workers;
    config.limits.max_archive_bytes = args->max_upload;
    if (!args->weights.empty()) {
      std::ifstream in(args->weights);
      const nlohmann::json doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
      auto weights = hub::AttentionWeights::FromJson(doc);
      if (doc.is_discarded() || !weights.ok()) {
        std::cerr << "ahub serve: --weights " << args->weights << ": "
                  << (doc.is_discarded() ? "not valid JSON" : weights.status().ToString()) << "\n";
        return kExitInvalid;
      }
      config.weights = weights.value();
    }
    if (!args->arxiv_keywords.empty()) {
      Result<hub::KeywordMap> keywords = hub::KeywordMap::Load(args->arxiv_keywords);
      if (!keywords.ok()) {
        std::cerr << "ahub serve: --arxiv-keywords " << keywords.status().ToString() << "\n";
        return kExitInvalid;
      }
      config.arxiv_keywords = std::make_shared<const hub::KeywordMap>(std::move(keywords.value()));
    }
    if (!args->quiet) {
      // Background work (seeds, jobs) is reported as it happens: long work shows progress.
      config.log = [](const std::string& line) { std::cerr << "ahub serve: " + line + "\n"; };
    }
    auto opened = hub::Hub::Open(config);
    if (!opened.ok()) {
      std::cerr << "ahub serve: cannot open the store in " << args->data << ": "
                << opened.status().ToString() << "\n";
      return kExitEnvironment;
    }
    hub::Hub& hub = *opened.value();

    hub::ApiOptions options;
    options.threads = args->threads;
    options.rate_per_second = args->rate;
    options.rate_burst = args->burst;
    options.max_body_bytes = static_cast<size_t>(args->max_upload);
    options.verbose = args->verbose;
    hub::ApiServer server(hub, options);
    if (Status s = server.Bind(endpoint->host, endpoint->port); !s.ok()) {
      std::cerr << "ahub serve: " << s.ToString() << "\n";
      return kExitEnvironment;
    }
    if (Status s = hub.Start(); !s.ok()) {
      std::cerr << "ahub serve: cannot start the hub: " << s.ToString() << "\n";
      return kExitEnvironment;
    }

    Status served;
    {
      SignalWatcher watcher(server);
      std::cout << "AttentionHub serving " << Url(*endpoint, server.port())
                << " (data: " << args->data << ")" << std::endl;
      served = server.Serve();
      hub.Stop();  // inside the watcher's scope: a second signal can still cut a long job short
    }
    if (!served.ok()) {
      std::cerr << "ahub serve: " << served.ToString() << "\n";
      return kExitEnvironment;
    }
    std::cerr << "ahub serve: stopped\n";
    return kExitOk;
  };
}

}  // namespace ahub::cli
