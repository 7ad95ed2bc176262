// `ahub submit`: sends a package directory to a hub, follows the verification job the hub queues
// for it, and prints the hub's verdict on every claim. The package is validated here first, so an
// author sees every problem at once (file:line:col) without a round trip and nothing invalid is
// sent.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hub/archive.h"
#include "hub/cli.h"
#include "hub/hub_client.h"
#include "runner/expectation.h"
#include "runner/manifest.h"
#include "runner/text.h"

namespace ahub::cli {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

// Polling the job: quick at first (small packages verify in well under a second), then backing
// off so a long verification costs the hub one request every couple of seconds.
constexpr std::chrono::milliseconds kFirstPoll{200};
constexpr std::chrono::milliseconds kLongestPoll{2000};
constexpr double kPollGrowth = 1.5;

struct SubmitArgs {
  std::string dir;
  std::string hub;
  std::string token;
  bool json = false;
  bool no_wait = false;
  int timeout_seconds = 600;
};

// A refusal (4xx) means the package or the request must change; anything else is the hub's or
// the network's state.
int ExitFor(const hub::ApiError& error) {
  return hub::IsRefusal(error) ? kExitInvalid : kExitEnvironment;
}

json ErrorJson(const hub::ApiError& error) {
  return {{"http", error.http},
          {"code", error.code},
          {"message", error.message},
          {"details", error.details}};
}

// The human form of a claim's expectation as the hub stores it (Expectation::ToJson's form).
std::string ExpectationText(const json& e) {
  if (e.is_null()) return "-";
  const std::optional<Expectation> x = Expectation::FromJson(e);
  return x ? x->ToString() : e.dump();  // a form newer than this client: shown as the hub sent it
}

// The claims of GET /packages/{id}/claims as a table, in the columns of `ahub verify`.
std::string FormatClaims(const json& doc, const std::string& level) {
  std::ostringstream os;
  os << doc.value("package", "") << " v" << doc.value("version", 0);
  if (!level.empty()) os << "   level: " << level;
  os << "\n\n";
  const json claims = doc.value("claims", json::array());
  size_t id_w = 7, value_w = 9, expect_w = 13, verdict_w = 9;
  std::vector<std::vector<std::string>> rows;
  for (const json& c : claims) {
    const std::string unit = c.value("unit", "").empty() ? "" : " " + c.value("unit", "");
    auto number = [&](const char* key) {
      return c.contains(key) && c[key].is_number() ? Value(c[key].get<double>()) + unit : "-";
    };
    rows.push_back({c.value("id", ""), number("value"), number("measured"),
                    ExpectationText(c.value("expect", json(nullptr))), c.value("verdict", ""),
                    c.value("level", "")});
    id_w = std::max(id_w, rows.back()[0].size() + 2);
    value_w = std::max({value_w, rows.back()[1].size() + 2, rows.back()[2].size() + 2});
    expect_w = std::max(expect_w, rows.back()[3].size() + 2);
    verdict_w = std::max(verdict_w, rows.back()[4].size() + 2);
  }
  os << Pad("CLAIM", id_w) << Pad("CLAIMED", value_w) << Pad("MEASURED", value_w)
     << Pad("EXPECTATION", expect_w) << Pad("VERDICT", verdict_w) << "LEVEL\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    os << Pad(r[0], id_w) << Pad(r[1], value_w) << Pad(r[2], value_w) << Pad(r[3], expect_w)
       << Pad(r[4], verdict_w) << r[5] << "\n";
    const std::string reason = claims[i].value("reason", "");
    if (r[4] != "reproduced" && !reason.empty()) os << "    " << reason << "\n";
  }
  return os.str();
}

// The exit status `ahub verify` would give for the same verdicts: a claim that is neither
// reproduced nor declared-only (skipped, or still pending) is not a success.
int ClaimsExitCode(const json& doc) {
  bool unfinished = false;
  for (const json& c : doc.value("claims", json::array())) {
    const std::string verdict = c.value("verdict", "");
    if (verdict == "refuted" || verdict == "failed") return kExitClaimsFailed;
    unfinished |= verdict != "reproduced" && verdict != "declared";
  }
  return unfinished ? kExitSkipped : kExitOk;
}

// One line about where a job stands, e.g. "[1/2] sim: running…"; it is printed when it changes.
std::string JobLine(const json& job) {
  const std::string state = job.value("state", "");
  const std::string name = "job " + std::to_string(job.value("id", 0));
  if (state == "done") return name + ": done, level " + job.value("level", "");
  if (state == "error") return name + ": error: " + job.value("error", "");
  const json progress = job.value("progress", json::object());
  if (state == "running" && progress.is_object() && progress.contains("experiment")) {
    const std::string event = progress.value("event", "");
    std::string line = "[" + std::to_string(progress.value("done", 0)) + "/" +
                       std::to_string(progress.value("total", 0)) + "] " +
                       progress.value("experiment", "") + ": ";
    if (event == "started") return line + "running…";
    if (event == "skipped") return line + "skipped";
    return line + "done";
  }
  return name + ": " + state;
}

// Polls GET /jobs/{id} until the job is done or in error, or the deadline passes.
hub::ApiResult<json> FollowJob(hub::HubClient& client, json job, Clock::time_point deadline,
                               int timeout_seconds) {
  std::chrono::milliseconds delay = kFirstPoll;
  std::string shown;
  while (true) {
    const std::string line = JobLine(job);
    if (line != shown) std::cerr << line << "\n";
    shown = line;
    const std::string state = job.value("state", "");
    if (state == "done" || state == "error") return job;
    if (Clock::now() + delay > deadline) {
      return hub::MakeError(0, "timeout",
                            "job " + std::to_string(job.value("id", 0)) + " is still " + state +
                                " after " + std::to_string(timeout_seconds) +
                                " s; it goes on at the hub: " +
                                client.Url("/jobs/" + std::to_string(job.value("id", 0))));
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(kLongestPoll,
                     std::chrono::milliseconds(static_cast<int64_t>(delay.count() * kPollGrowth)));
    hub::ApiResult<hub::HubReply> polled =
        client.Get("/jobs/" + std::to_string(job.value("id", 0)));
    if (!polled.ok()) return polled.error();
    job = polled->json;
  }
}

int Submit(const SubmitArgs& args) {
  json out = {{"submission", nullptr}, {"job", nullptr}, {"claims", nullptr}};
  // Every ending prints the JSON document (in --json mode) and the message on stderr.
  auto fail = [&](const hub::ApiError& error, int code) {
    std::cerr << "ahub submit: " << hub::FormatApiError(error) << "\n";
    if (args.json) {
      out["error"] = ErrorJson(error);
      std::cout << out.dump(2) << "\n";
    }
    return code;
  };

  const LoadResult loaded = LoadPackage(args.dir);
  if (!loaded.ok()) {
    for (const Diagnostic& d : loaded.diagnostics) std::cerr << d.ToString() << "\n";
    std::cerr << args.dir << ": " << loaded.diagnostics.size() << " problem"
              << (loaded.diagnostics.size() == 1 ? "" : "s")
              << "; nothing was sent; the format is documented in schemas/README.md\n";
    if (args.json) {
      json details = json::array();
      for (const Diagnostic& d : loaded.diagnostics) details.push_back(d.ToJson());
      out["error"] = {{"http", 0},
                      {"code", "invalid_manifest"},
                      {"message", args.dir + ": package.yaml is invalid"},
                      {"details", details}};
      std::cout << out.dump(2) << "\n";
    }
    return kExitInvalid;
  }
  const Package& pkg = loaded.package;
  Result<std::string> archive = hub::PackTarGz(args.dir);
  if (!archive.ok()) {
    const bool bad_tree = archive.status().code() == Status::Code::kInvalidArgument;
    return fail(hub::MakeError(0, bad_tree ? "invalid_package" : "io_error",
                               args.dir + ": cannot pack: " + archive.status().ToString()),
                bad_tree ? kExitInvalid : kExitEnvironment);
  }
  auto client =
      hub::HubClient::Create(args.hub, args.token, std::chrono::seconds(args.timeout_seconds));
  if (!client.ok()) {
    return fail(hub::MakeError(0, "invalid_url", client.status().ToString()), kExitInvalid);
  }
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(args.timeout_seconds);

  std::cerr << "ahub submit: sending " << pkg.id << " v" << pkg.version << " (" << archive->size()
            << " bytes) to " << client.value()->Url("/packages") << "\n";
  hub::ApiResult<hub::HubReply> posted =
      client.value()->Post("/packages", archive.value(), "application/gzip");
  if (!posted.ok()) return fail(posted.error(), ExitFor(posted.error()));
  const json& submission = posted->json;
  out["submission"] = submission;
  const std::string id = submission.value("id", pkg.id);
  const int version = submission.value("version", pkg.version);
  std::ostream& said = args.json ? std::cerr : std::cout;
  if (posted->status == 201) {
    said << "submitted " << id << " v" << version << " (new version, content sha256 "
         << submission.value("content_sha256", "").substr(0, 12) << ")\n";
  } else {
    said << "already stored: " << id << " v" << version << " has this content (sha256 "
         << submission.value("content_sha256", "").substr(0, 12) << "); nothing was added\n";
  }

  json job = submission.value("verification", json(nullptr));
  if (!job.is_object()) {
    said << "no verification job: every claim is declared only\n";
  } else if (args.no_wait) {
    said << "verification job " << job.value("id", 0) << " is " << job.value("state", "")
         << "; follow it at " << client.value()->Url("/jobs/" + std::to_string(job.value("id", 0)))
         << "\n";
    out["job"] = job;
    if (args.json) std::cout << out.dump(2) << "\n";
    return kExitOk;
  } else {
    hub::ApiResult<json> followed = FollowJob(*client.value(), job, deadline, args.timeout_seconds);
    if (!followed.ok()) return fail(followed.error(), kExitEnvironment);
    job = followed.value();
  }
  out["job"] = job;

  hub::ApiResult<hub::HubReply> claims =
      client.value()->Get("/packages/" + id + "/claims?version=" + std::to_string(version));
  if (!claims.ok()) return fail(claims.error(), kExitEnvironment);
  out["claims"] = claims->json;
  if (args.json) {
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << "\n" << FormatClaims(claims->json, job.is_object() ? job.value("level", "") : "");
  }
  if (job.is_object() && job.value("state", "") == "error") {
    // The hub could not verify (its sandbox, its store): the verdicts above are not its answer.
    std::cerr << "ahub submit: the hub could not verify " << id << " v" << version << ": "
              << job.value("error", "") << "\n";
    return kExitEnvironment;
  }
  return ClaimsExitCode(claims->json);
}

}  // namespace

Command RegisterSubmit(CLI::App& app) {
  auto args = std::make_shared<SubmitArgs>();
  CLI::App* sub = app.add_subcommand(
      "submit", "Send a package to a hub, follow its verification and print the hub's verdicts.");
  sub->add_option("DIR", args->dir, "package directory")->required();
  sub->add_option("--hub", args->hub, "the hub's base URL, http://HOST:PORT[/PREFIX]")
      ->required()
      ->envname("AHUB_HUB");
  sub->add_option("--token", args->token, "an author (or admin) token, from `ahub token create`")
      ->required()
      ->envname("AHUB_TOKEN");
  sub->add_flag("--json", args->json,
                "print one JSON document {submission, job, claims} (and error, if any) on stdout");
  sub->add_flag("--no-wait", args->no_wait, "return once the hub has stored the package");
  sub->add_option("--timeout", args->timeout_seconds,
                  "seconds to wait for each request and for the verification to finish")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  sub->footer(
      "The package is validated locally first; nothing is sent when it is invalid.\n"
      "Progress goes to stderr; the claims table (or the JSON document) to stdout.\n"
      "Exit status: 0 every claim with evidence reproduced (or declared only; or --no-wait and\n"
      "stored), 1 a claim refuted or failed, 2 invalid package, usage error or refused by the hub\n"
      "(4xx: bad token, not the owner, version exists...), 3 claims skipped (e.g. needs gpu),\n"
      "4 hub unreachable, hub error (5xx), verification error on the hub, or --timeout passed.");
  return [args] {
    // A hub answer of an unexpected shape (an older or newer hub, a proxy) ends the command
    // here rather than in std::terminate.
    try {
      return Submit(*args);
    } catch (const json::exception& e) {
      std::cerr << "ahub submit: the hub's answer is not in the form this client reads: "
                << e.what() << "\n";
      return kExitEnvironment;
    }
  };
}

}  // namespace ahub::cli
