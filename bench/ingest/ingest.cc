// hub-bench-ingest: how many small packages a running hub acknowledges per second.
//
// Generates N distinct declared-only packages (bench/api/synthetic.h: package.yaml only, two
// claims without evidence, so the hub queues no verification job), packs each as a tar.gz in
// memory (TarGzWriter, as `ahub submit` would send it), then POSTs them to /api/v1/packages over
// C keep-alive connections at once (one thread each, taking the next package from a shared
// counter) and times from the first request to the last answer. Every answer must be 201 for a
// new version of the package sent; afterwards every package must read back with GET
// /api/v1/packages/{id}. The hub acknowledges a 201 only after its git objects are fsynced and
// the SQLite transaction committed with synchronous=FULL (hub/service.h), so the rate measured is
// that of durable ingestion.
//
// Before timing, the first manifests are checked against the runner's validator.
//
// Usage: hub-bench-ingest --url http://HOST:PORT --token TOKEN [--packages N] [--clients C]
//                         [--prefix ID_PREFIX] [--seed S] [--shared-metrics]
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/api/synthetic.h"
#include "hub/archive.h"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr int64_t kDefaultPackages = 500;
constexpr uint64_t kDefaultSeed = 20261123;
constexpr int64_t kCheckedManifests = 50;
constexpr int kClaimsPerPackage = 2;
constexpr time_t kTimeoutSeconds = 120;
constexpr int kParts = 5;

struct Args {
  std::string host;
  int port = 0;
  std::string token;
  int64_t packages = kDefaultPackages;
  int clients = 1;
  std::string prefix = "ingest";
  uint64_t seed = kDefaultSeed;
  bool shared_metrics = false;
};

bool ParseArgs(int argc, char** argv, Args& a) {
  std::string url;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--url" && has_value) {
      url = argv[++i];
    } else if (arg == "--token" && has_value) {
      a.token = argv[++i];
    } else if (arg == "--packages" && has_value) {
      a.packages = std::strtoll(argv[++i], nullptr, 10);
    } else if (arg == "--clients" && has_value) {
      a.clients = std::atoi(argv[++i]);
    } else if (arg == "--prefix" && has_value) {
      a.prefix = argv[++i];
    } else if (arg == "--seed" && has_value) {
      a.seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--shared-metrics") {
      a.shared_metrics = true;
    } else {
      return false;
    }
  }
  // http://HOST:PORT
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return false;
  const std::string rest = url.substr(scheme.size());
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos) return false;
  a.host = rest.substr(0, colon);
  a.port = std::atoi(rest.substr(colon + 1).c_str());
  return a.port > 0 && !a.token.empty() && a.packages > 0 && a.clients > 0;
}

struct Answer {
  int status = 0;  // 0: no answer (connection error)
  double ms = 0;
  std::string body;
};

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, args)) {
    std::fprintf(stderr,
                 "usage: hub-bench-ingest --url http://HOST:PORT --token TOKEN [--packages N] [--clients C]\n"
                 "                        [--prefix ID_PREFIX] [--seed S] [--shared-metrics]\n");
    return 2;
  }

  // The packages, packed before anything is timed.
  ahub::bench::SyntheticOptions options;
  options.id_prefix = args.prefix;
  options.min_claims = options.max_claims = kClaimsPerPackage;
  options.shared_metrics = args.shared_metrics;
  ahub::bench::SyntheticGenerator generator(args.seed, options);
  std::vector<std::string> ids, bodies;
  size_t bytes = 0;
  for (int64_t i = 0; i < args.packages; ++i) {
    const ahub::bench::SyntheticPackage p = generator.Next(i);
    if (i < kCheckedManifests) {
      if (const ahub::Status s = ahub::bench::CheckAgainstParser(p); !s.ok()) {
        std::fprintf(stderr, "hub-bench-ingest: %s\n", s.ToString().c_str());
        return 1;
      }
    }
    ahub::hub::TarGzWriter writer;
    if (const ahub::Status s = writer.AddFile("package.yaml", ahub::bench::ManifestYaml(p), false); !s.ok()) {
      std::fprintf(stderr, "hub-bench-ingest: %s\n", s.ToString().c_str());
      return 1;
    }
    auto tgz = writer.Finish();
    if (!tgz.ok()) {
      std::fprintf(stderr, "hub-bench-ingest: %s\n", tgz.status().ToString().c_str());
      return 1;
    }
    bytes += tgz.value().size();
    ids.push_back(p.id);
    bodies.push_back(std::move(tgz.value()));
  }

  const httplib::Headers auth = {{"Authorization", "Bearer " + args.token}};
  std::vector<Answer> answers(static_cast<size_t>(args.packages));
  std::atomic<int64_t> next{0};
  const auto start = Clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < args.clients; ++c) {
    clients.emplace_back([&] {
      httplib::Client cli(args.host, args.port);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);  // as curl and wrk do: the body is not held back by Nagle
      cli.set_read_timeout(kTimeoutSeconds, 0);
      cli.set_write_timeout(kTimeoutSeconds, 0);
      for (int64_t i = next++; i < args.packages; i = next++) {
        const auto t0 = Clock::now();
        httplib::Result res = cli.Post("/api/v1/packages", auth, bodies[static_cast<size_t>(i)], "application/gzip");
        Answer& a = answers[static_cast<size_t>(i)];
        a.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (res) {
          a.status = res->status;
          a.body = res->body;
        } else {
          a.body = httplib::to_string(res.error());
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  // Every answer a 201 for the package sent, then every package readable.
  int64_t created = 0;
  const Answer* first_bad = nullptr;
  int64_t first_bad_index = -1;
  std::vector<double> ms;
  for (size_t i = 0; i < answers.size(); ++i) {
    const Answer& a = answers[i];
    ms.push_back(a.ms);
    bool good = a.status == 201;
    if (good) {
      const json body = json::parse(a.body, nullptr, false);
      good = body.is_object() && body.value("id", "") == ids[i] && body.value("version", 0) == 1 &&
             !body.value("duplicate", true) && body.contains("verification") && body["verification"].is_null();
    }
    if (good) {
      ++created;
    } else if (!first_bad) {
      first_bad = &a;
      first_bad_index = static_cast<int64_t>(i);
    }
  }
  int64_t readable = 0;
  {
    httplib::Client cli(args.host, args.port);
    cli.set_keep_alive(true);
    for (const std::string& id : ids) {
      httplib::Result res = cli.Get("/api/v1/packages/" + id);
      if (res && res->status == 200 && json::parse(res->body, nullptr, false).value("id", "") == id) ++readable;
    }
  }

  std::printf("hub-bench-ingest: %lld packages (%s metrics, %d claims each, %.0f bytes per tar.gz) over %d "
              "keep-alive connection%s\n",
              static_cast<long long>(args.packages), args.shared_metrics ? "shared" : "per-package",
              kClaimsPerPackage, static_cast<double>(bytes) / static_cast<double>(args.packages), args.clients,
              args.clients == 1 ? "" : "s");
  std::printf("  %.1f packages/s  (%.2f s)   latency median %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms\n",
              static_cast<double>(args.packages) / seconds, seconds, Percentile(ms, 0.5), Percentile(ms, 0.9),
              Percentile(ms, 0.99), Percentile(ms, 1.0));
  // The median latency of each fifth of the submissions, in sending order: a cost that grows
  // with the store shows here.
  std::printf("  median latency by fifth of the run:");
  for (int part = 0; part < kParts; ++part) {
    const size_t lo = ms.size() * static_cast<size_t>(part) / kParts;
    const size_t hi = ms.size() * static_cast<size_t>(part + 1) / kParts;
    if (hi > lo) std::printf(" %.1f", Percentile({ms.begin() + lo, ms.begin() + hi}, 0.5));
  }
  std::printf(" ms\n");
  std::printf("  201 created: %lld/%lld   read back: %lld/%lld\n", static_cast<long long>(created),
              static_cast<long long>(args.packages), static_cast<long long>(readable),
              static_cast<long long>(args.packages));
  if (first_bad) {
    std::fprintf(stderr, "hub-bench-ingest: %s answered %d: %.300s\n", ids[static_cast<size_t>(first_bad_index)].c_str(),
                 first_bad->status, first_bad->body.c_str());
  }
  return created == args.packages && readable == args.packages ? 0 : 1;
}
