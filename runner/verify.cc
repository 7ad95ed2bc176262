#include "runner/verify.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <atomic>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "runner/sha256.h"
#include "runner/text.h"

namespace ahub {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPython3 = "/usr/bin/python3";

std::string Expand(std::string word) {
  static const std::pair<const char*, const char*> kPlaceholders[] = {{"{out}", kOutputMount},
                                                                      {"{pkg}", kPackageMount}};
  for (const auto& [from, to] : kPlaceholders) {
    for (size_t p = word.find(from); p != std::string::npos; p = word.find(from, p + std::strlen(to))) {
      word.replace(p, std::strlen(from), to);
    }
  }
  return word;
}

std::string UtcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::ostringstream os;
  os << std::put_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  return os.str();
}

Result<nlohmann::json> ReadJsonFile(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::NotFound("the experiment wrote no such file");
  nlohmann::json doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::InvalidArgument("not valid JSON");
  return doc;
}

}  // namespace

Result<std::vector<std::string>> ResolveCommand(const Experiment& experiment, const Package& package) {
  if (experiment.command.empty()) return Status::InvalidArgument("experiment " + experiment.id + ": empty command");
  std::vector<std::string> argv;
  const std::string& first = experiment.command[0];
  switch (ClassifyCommand(first, package.environment.runtime)) {
    case CommandKind::kBuiltin:
      argv.push_back(std::string(kBuiltinMount) + "/" + first);
      break;
    case CommandKind::kInterpreter:
      argv.push_back(kPython3);
      break;
    case CommandKind::kPackageFile:
      argv.push_back(std::string(kPackageMount) + "/" + first);
      break;
    case CommandKind::kWrongRuntime:
      return Status::InvalidArgument("experiment " + experiment.id + ": python3 needs runtime python3");
    case CommandKind::kInvalid:
      return Status::InvalidArgument("experiment " + experiment.id + ": command[0] \"" + first +
                                     "\" is not a built-in, the runtime's interpreter or a package file");
  }
  for (size_t i = 1; i < experiment.command.size(); ++i) argv.push_back(Expand(experiment.command[i]));
  return argv;
}

Result<Report> VerifyPackage(const fs::path& dir, const Package& package, Sandbox& sandbox,
                             const HostInfo& host, const VerifyOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  Report report;
  report.package = package;
  report.host = host;
  report.started_at = UtcNow();
  Result<std::string> sha = PackageContentSha256(dir);
  if (!sha.ok()) return sha.status();
  report.content_sha256 = sha.value();

  // Only experiments a claim cites are run, in manifest order.
  std::set<std::string> cited;
  for (const Claim& c : package.claims) {
    if (c.evidence) cited.insert(c.evidence->experiment);
  }
  for (const Experiment& e : package.experiments) {
    if (!cited.count(e.id)) continue;
    RunRecord rec;
    rec.experiment = e.id;
    rec.output_dir = options.work_dir / e.id;
    if (package.environment.gpu && !options.host_has_gpu) rec.skip_reason = "needs gpu";
    report.runs.push_back(std::move(rec));
  }

  const int total = static_cast<int>(report.runs.size());
  std::atomic<int> next{0};
  std::atomic<int> done{0};
  std::mutex mu;  // serialises progress callbacks and the first sandbox error
  Status sandbox_error;
  auto report_progress = [&](ProgressEvent ev) {
    if (!options.progress) return;
    std::lock_guard<std::mutex> lock(mu);
    ev.total = total;
    options.progress(ev);
  };
  auto worker = [&] {
    for (int i = next++; i < total; i = next++) {
      RunRecord& rec = report.runs[static_cast<size_t>(i)];
      if (!rec.skip_reason.empty()) {
        report_progress({ProgressEvent::Kind::kSkipped, rec.experiment, ++done, 0, nullptr});
        continue;
      }
      const Experiment& e = *package.FindExperiment(rec.experiment);
      SandboxSpec spec;
      Result<std::vector<std::string>> argv = ResolveCommand(e, package);
      std::error_code ec;
      fs::remove_all(rec.output_dir, ec);
      fs::create_directories(rec.output_dir, ec);
      if (!argv.ok() || ec) {
        std::lock_guard<std::mutex> lock(mu);
        if (sandbox_error.ok()) sandbox_error = !argv.ok() ? argv.status() : Status::IoError(rec.output_dir.string() + ": " + ec.message());
        continue;
      }
      spec.argv = argv.value();
      spec.package_dir = fs::absolute(dir);
      spec.output_dir = rec.output_dir;
      spec.ro_binds.emplace_back(options.builtin_dir, kBuiltinMount);
      spec.gpu = package.environment.gpu;
      spec.limits.wall_seconds = package.environment.limits.wall_seconds;
      spec.limits.memory_mb = package.environment.limits.memory_mb;
      spec.limits.processes = package.environment.limits.processes;
      report_progress({ProgressEvent::Kind::kStarted, rec.experiment, done.load(), 0, nullptr});
      Result<RunOutcome> outcome = sandbox.Run(spec);
      if (!outcome.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (sandbox_error.ok()) sandbox_error = outcome.status();
        continue;
      }
      rec.outcome = std::move(outcome.value());
      report_progress({ProgressEvent::Kind::kFinished, rec.experiment, ++done, 0, &rec.outcome});
    }
  };
  const int jobs = std::clamp(options.jobs, 1, std::max(total, 1));
  std::vector<std::thread> threads;
  for (int j = 1; j < jobs; ++j) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  if (!sandbox_error.ok()) return sandbox_error;

  std::map<std::string, ExperimentRun> runs;
  for (const RunRecord& rec : report.runs) {
    ExperimentRun run;
    run.experiment = rec.experiment;
    run.skip_reason = rec.skip_reason;
    run.outcome = rec.outcome;
    const fs::path out = rec.output_dir;
    run.read_output = [out](const std::string& name) { return ReadJsonFile(out / name); };
    runs.emplace(rec.experiment, std::move(run));
  }
  report.claims = JudgeClaims(package, runs);
  report.level = PackageLevel(report.claims);
  report.elapsed_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

int Report::ExitCode() const {
  bool skipped = false;
  for (const ClaimResult& c : claims) {
    if (c.verdict == Verdict::kRefuted || c.verdict == Verdict::kFailed) return 1;
    skipped |= c.verdict == Verdict::kSkipped;
  }
  return skipped ? 3 : 0;
}

nlohmann::json Report::ToJson() const {
  using nlohmann::json;
  json j = {{"format", "ahub-report/1"}, {"package", package.id}, {"version", package.version},
            {"content_sha256", content_sha256}, {"level", LevelName(level)}};
  j["claims"] = json::array();
  for (size_t i = 0; i < claims.size(); ++i) {
    const Claim& c = package.claims[i];
    const ClaimResult& r = claims[i];
    j["claims"].push_back({{"id", c.id}, {"metric", c.metric}, {"unit", c.unit},
                           {"value", c.value ? json(*c.value) : json(nullptr)},
                           {"expect", c.expect ? c.expect->ToJson() : json(nullptr)},
                           {"measured", r.measured ? json(*r.measured) : json(nullptr)},
                           {"verdict", VerdictName(r.verdict)}, {"level", LevelName(r.level)},
                           {"reason", r.reason}});
  }
  j["runs"] = json::array();
  for (const RunRecord& rec : runs) {
    json jr = {{"experiment", rec.experiment}};
    if (!rec.skip_reason.empty()) {
      jr.update({{"exit", nullptr}, {"signal", 0}, {"wall_seconds", 0}, {"cpu_seconds", 0},
                 {"peak_memory_mb", 0}, {"killed_by", "none"}, {"stderr_tail", ""},
                 {"skipped", rec.skip_reason}});
    } else {
      const RunOutcome& o = rec.outcome;
      const std::string& err = o.stderr_text;
      jr.update({{"exit", o.exit_code >= 0 ? json(o.exit_code) : json(nullptr)},
                 {"signal", o.term_signal}, {"wall_seconds", o.wall_seconds},
                 {"cpu_seconds", o.cpu_seconds}, {"peak_memory_mb", o.peak_memory_mb},
                 {"killed_by", KilledByName(o.killed_by)}, {"enforcement", o.enforcement},
                 {"stderr_tail", err.size() > 2000 ? err.substr(err.size() - 2000) : err}});
    }
    j["runs"].push_back(jr);
  }
  j["host"] = host.ToJson();
  j["started_at"] = started_at;
  j["elapsed_seconds"] = elapsed_seconds;
  return j;
}

std::string FormatReport(const Report& r) {
  std::ostringstream os;
  os << r.package.id << " v" << r.package.version << " — " << r.package.title << "\n";
  os << "level: " << LevelName(r.level) << "   content sha256: " << r.content_sha256.substr(0, 12) << "\n\n";
  // Columns as wide as their longest cell, plus two spaces.
  size_t id_w = 7, value_w = 9, expect_w = 13;
  std::vector<std::array<std::string, 3>> cells;
  for (size_t i = 0; i < r.claims.size(); ++i) {
    const Claim& c = r.package.claims[i];
    const std::string unit = c.unit.empty() ? "" : " " + c.unit;
    cells.push_back({c.value ? Value(*c.value) + unit : "-",
                     r.claims[i].measured ? Value(*r.claims[i].measured) + unit : "-",
                     c.expect ? c.expect->ToString() : "-"});
    id_w = std::max(id_w, c.id.size() + 2);
    value_w = std::max({value_w, cells.back()[0].size() + 2, cells.back()[1].size() + 2});
    expect_w = std::max(expect_w, cells.back()[2].size() + 2);
  }
  os << Pad("CLAIM", id_w) << Pad("CLAIMED", value_w) << Pad("MEASURED", value_w) << Pad("EXPECTATION", expect_w)
     << "VERDICT\n";
  for (size_t i = 0; i < r.claims.size(); ++i) {
    const ClaimResult& res = r.claims[i];
    os << Pad(r.package.claims[i].id, id_w) << Pad(cells[i][0], value_w) << Pad(cells[i][1], value_w)
       << Pad(cells[i][2], expect_w) << VerdictName(res.verdict) << "\n";
    if (res.verdict != Verdict::kReproduced) os << "    " << res.reason << "\n";
  }
  if (!r.runs.empty()) {
    os << "\n" << Pad("RUN", id_w) << Pad("EXIT", 8) << Pad("WALL", 10) << Pad("PEAK MEM", 12) << "ENDED\n";
    for (const RunRecord& rec : r.runs) {
      if (!rec.skip_reason.empty()) {
        os << Pad(rec.experiment, id_w) << "skipped: " << rec.skip_reason << "\n";
        continue;
      }
      const RunOutcome& o = rec.outcome;
      os << Pad(rec.experiment, id_w) << Pad(o.exit_code >= 0 ? std::to_string(o.exit_code) : "-", 8)
         << Pad(Fixed(o.wall_seconds, 2) + " s", 10) << Pad(Fixed(o.peak_memory_mb, 1) + " MB", 12)
         << (o.succeeded() ? "ok" : DescribeFailure(o)) << "\n";
    }
  }
  os << "\nhost: " << r.host.cpu << ", " << r.host.cores << " cores, " << r.host.os;
  if (!r.host.gpu.empty()) os << ", " << r.host.gpu;
  os << "\nverified in " << Fixed(r.elapsed_seconds, 2) << " s\n";
  return os.str();
}

}  // namespace ahub
