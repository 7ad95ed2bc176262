#include "hub/service.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "hub/arxiv_import.h"
#include "hub/blobs.h"
#include "hub/repo.h"
#include "hub/store.h"
#include "hub/tensions.h"
#include "runner/judge.h"
#include "runner/manifest.h"
#include "runner/sha256.h"

namespace ahub::hub {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kApi = "/api/v1";
constexpr int64_t kSeedOwner = 0;  // the built-in account that owns the seed packages

std::string PackageUrl(const std::string& id) { return std::string(kApi) + "/packages/" + id; }
std::string VersionUrl(const std::string& id, int v) { return PackageUrl(id) + "/versions/" + std::to_string(v); }

ApiError NotFound(const std::string& what) { return MakeError(404, "not_found", what + " does not exist"); }
ApiError Forbidden(const std::string& message) { return MakeError(403, "forbidden", message); }

// A private directory removed on destruction (staging areas, job scratch space). Mode 0711: the
// sandbox's unprivileged uid must traverse it to reach the package and output directories.
class TempDir {
 public:
  static Result<TempDir> Create(const fs::path& parent, const std::string& prefix) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    std::string templ = (parent / (prefix + "XXXXXX")).string();
    if (!mkdtemp(templ.data())) return Status::IoError("cannot create a directory in " + parent.string());
    ::chmod(templ.c_str(), 0711);
    return TempDir(templ);
  }
  TempDir() = default;
  TempDir(TempDir&& o) noexcept : path_(std::exchange(o.path_, {})) {}
  TempDir& operator=(TempDir&& o) noexcept {
    std::swap(path_, o.path_);
    return *this;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  explicit TempDir(fs::path p) : path_(std::move(p)) {}
  fs::path path_;
};

// A claim's standing once every host's word is in: the hub's own verdict where it refuted or
// failed (that run is the trusted one), else reproduced when any host reproduced it (an agent
// with a GPU can reproduce what the hub had to skip), replicated from two distinct hosts.
struct Standing {
  std::string verdict;
  std::string level;
};

Standing ClaimStanding(const ClaimRow& c) {
  if (!c.has_evidence) return {"declared", "declared"};
  if (c.verdict == "refuted" || c.verdict == "failed") return {c.verdict, c.verdict};
  if (c.hosts >= 2) return {"reproduced", "replicated"};
  if (c.hosts == 1) return {"reproduced", "reproduces"};
  if (c.verdict == "reproduced") return {"reproduced", "reproduces"};
  // Pending or skipped: valid and runnable, not yet run to a verdict.
  return {c.verdict, c.level == "declared" ? "well-formed" : c.level};
}

// The package ladder level: judge.h's PackageLevel, over the claims' standings.
std::string PackageLevelOf(const std::vector<ClaimRow>& claims) {
  std::vector<ClaimResult> results;
  for (const ClaimRow& c : claims) {
    const Standing s = ClaimStanding(c);
    ClaimResult r;
    r.level = LevelFromName(s.level).value_or(Level::kDeclared);
    // PackageLevel reads the verdict only to spot refuted, failed and declared claims.
    r.verdict = s.verdict == "refuted" ? Verdict::kRefuted
                : s.verdict == "failed" ? Verdict::kFailed
                : !c.has_evidence       ? Verdict::kDeclared
                                        : Verdict::kSkipped;
    results.push_back(r);
  }
  return LevelName(PackageLevel(results));
}

json ClaimJson(const ClaimRow& c) {
  const Standing s = ClaimStanding(c);
  return {{"id", c.claim},
          {"statement", c.statement},
          {"metric", c.metric},
          {"unit", c.unit},
          {"value", c.value ? json(*c.value) : json(nullptr)},
          {"expect", c.expect},
          {"conditions", c.conditions},
          {"has_evidence", c.has_evidence},
          {"verdict", s.verdict},
          {"hub_verdict", c.verdict},
          {"measured", c.measured ? json(*c.measured) : json(nullptr)},
          {"reason", c.reason},
          {"level", s.level},
          {"hosts", c.hosts}};
}

json PackageSummaryJson(const PackageRow& p) {
  return {{"id", p.id},
          {"version", p.latest_version},
          {"title", p.title},
          {"summary", p.summary},
          {"primary_category", p.categories.empty() ? "" : p.categories[0]},
          {"categories", p.categories},
          {"tags", p.tags},
          {"published", p.published},
          {"updated_at", p.updated_at},
          {"claims", p.claim_count},
          {"score", p.score},
          {"level", p.level},
          {"open_tensions", p.open_tensions},
          {"links", {{"self", PackageUrl(p.id)}}}};
}

json JobJson(const JobRow& j) {
  return {{"id", j.id},         {"package", j.package},       {"version", j.version},
          {"state", j.state},   {"reason", j.reason},         {"attempts", j.attempts},
          {"created_at", j.created_at}, {"started_at", j.started_at}, {"finished_at", j.finished_at},
          {"error", j.error},   {"level", j.level},           {"progress", j.progress},
          {"links", {{"self", std::string(kApi) + "/jobs/" + std::to_string(j.id)},
                     {"runs", PackageUrl(j.package) + "/runs?version=" + std::to_string(j.version)}}}};
}

json TensionJson(const TensionRow& t) {
  json j = t.data;
  j["id"] = t.id;
  j["key"] = t.key;
  j["metric"] = t.metric;
  j["unit"] = t.unit;
  j["kind"] = t.kind;
  j["status"] = t.status;
  j["note"] = t.note;
  j["raised_by"] = t.raised_by;
  j["other"] = t.other;
  j["divergence"] = t.divergence;
  j["created_at"] = t.created_at;
  j["updated_at"] = t.updated_at;
  j["links"] = {{"self", std::string(kApi) + "/tensions/" + std::to_string(t.id)}};
  return j;
}

std::string Describe(const std::vector<Diagnostic>& diagnostics) {
  std::string msg = "package.yaml is invalid (" + std::to_string(diagnostics.size()) + " problem" +
                    (diagnostics.size() == 1 ? "" : "s") + ")";
  if (!diagnostics.empty()) msg += "; first: " + diagnostics[0].ToString();
  return msg;
}

bool ValidId(const std::string& id) {
  if (id.size() < 3 || id.size() > 64) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return id[0] != '-';
}

// Makes a checkout readable by the sandbox's unprivileged uid: directories 0755, files 0644 or
// 0755 (git keeps only the executable bit).
void OpenToOthers(const fs::path& dir) {
  std::error_code ec;
  ::chmod(dir.c_str(), 0755);
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const auto st = it->symlink_status(ec);
    if (fs::is_directory(st)) {
      ::chmod(it->path().c_str(), 0755);
    } else if (fs::is_regular_file(st)) {
      const bool exec = (st.permissions() & fs::perms::owner_exec) != fs::perms::none;
      ::chmod(it->path().c_str(), exec ? 0755 : 0644);
    }
  }
}

}  // namespace

// A last look at the package an ingestion is about to add a version to, taken under the
// ingestion lock: an error refuses the submission. (The arXiv import checks that the id still
// belongs to the paper it imports.)
using IngestCheck = std::function<std::optional<ApiError>(const std::optional<PackageRow>&)>;

class Hub::Impl {
 public:
  explicit Impl(HubConfig config) : config_(std::move(config)), blobs_(config_.data_dir / "blobs") {}
  ~Impl() {
    if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
  }

  HubConfig config_;
  std::unique_ptr<Store> store_;
  BlobStore blobs_;
  std::shared_ptr<Executor> executor_;
  std::mutex ingest_mu_;  // one ingestion at a time: id/version checks and the commit are atomic
  std::mutex queue_mu_;
  // GPU packages measure the GPU: two at once would share it and skew each other's timings, so
  // their jobs run one at a time while CPU jobs keep every worker.
  std::mutex gpu_mu_;
  std::condition_variable queue_cv_;
  std::condition_variable idle_cv_;
  int busy_workers_ = 0;
  bool stopping_ = false;
  int lock_fd_ = -1;
  std::vector<std::thread> workers_;

  fs::path GitRoot() const { return config_.data_dir / "git"; }
  fs::path StagingRoot() const { return config_.data_dir / "staging"; }
  fs::path WorkRoot() const { return work_root_.path(); }
  TempDir work_root_;

  ApiResult<SubmitResult> Ingest(int64_t owner, const std::string& owner_name, bool admin, const fs::path& dir,
                                 const std::string& reason, const IngestCheck& check = {});
  void RefreshTensions(Db& db, const std::vector<std::string>& metrics, std::set<std::string>& touched);
  void RefreshPackage(Db& db, const std::string& id);
  void WorkerLoop();
  void RunJob(const JobRow& job);
  void Notify() { queue_cv_.notify_all(); }
  void Log(const std::string& line) {
    if (config_.log) config_.log(line);
  }
  json PackageJson(const PackageRow& p, int version);
};

// --- ingestion

ApiResult<SubmitResult> Hub::Impl::Ingest(int64_t owner, const std::string& owner_name, bool admin,
                                          const fs::path& dir, const std::string& reason,
                                          const IngestCheck& check) {
  LoadResult loaded = LoadPackage(dir);
  if (!loaded.ok()) {
    json details = json::array();
    for (const Diagnostic& d : loaded.diagnostics) details.push_back(d.ToJson());
    return MakeError(422, "invalid_manifest", Describe(loaded.diagnostics), details);
  }
  const Package& pkg = loaded.package;
  Result<std::string> sha = PackageContentSha256(dir);
  if (!sha.ok()) return MakeError(400, "invalid_package", sha.status().message());

  std::lock_guard<std::mutex> lock(ingest_mu_);
  const std::optional<PackageRow> existing = store_->FindPackage(pkg.id);
  if (existing && existing->owner != owner && !admin) {
    return Forbidden("package " + pkg.id + " belongs to another account; only its owner may add versions");
  }
  if (check) {
    if (std::optional<ApiError> refused = check(existing)) return *refused;
  }
  if (auto dup = store_->FindVersionBySha(pkg.id, sha.value())) {
    SubmitResult r;
    r.http = 200;
    r.body = {{"id", pkg.id}, {"version", dup->version}, {"content_sha256", dup->content_sha256},
              {"duplicate", true}, {"commit", dup->commit},
              {"links", {{"self", VersionUrl(pkg.id, dup->version)}, {"package", PackageUrl(pkg.id)}}}};
    if (auto job = store_->LatestJob(pkg.id, dup->version)) r.body["verification"] = JobJson(*job);
    return r;
  }
  if (store_->FindVersion(pkg.id, pkg.version)) {
    return MakeError(409, "version_exists",
                     pkg.id + " version " + std::to_string(pkg.version) +
                         " is already stored with different content; raise `version` in package.yaml");
  }
  if (existing && pkg.version < existing->latest_version) {
    return MakeError(409, "version_not_newer",
                     pkg.id + " version " + std::to_string(pkg.version) + " is older than the latest stored version " +
                         std::to_string(existing->latest_version));
  }

  auto repo = PackageRepo::Open(GitRoot(), pkg.id);
  if (!repo.ok()) return MakeError(500, "storage_error", repo.status().message());
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  auto commit = repo.value()->CommitVersion(dir, pkg.version, pkg.id + " v" + std::to_string(pkg.version),
                                            owner_name.empty() ? "anonymous" : owner_name, "hub@attentionhub.invalid",
                                            now.count());
  if (!commit.ok()) return MakeError(500, "storage_error", commit.status().message());

  const std::string at = NowUtc();
  PackageRow row;
  row.id = pkg.id;
  row.owner = existing ? existing->owner : owner;
  row.latest_version = pkg.version;
  row.title = pkg.title;
  row.summary = pkg.summary;
  row.categories = pkg.categories;
  row.tags = pkg.tags;
  row.published = pkg.published;
  row.created_at = existing ? existing->created_at : at;
  row.updated_at = at;
  row.claim_count = static_cast<int>(pkg.claims.size());
  VersionRow version;
  version.package = pkg.id;
  version.version = pkg.version;
  version.content_sha256 = sha.value();
  version.commit = commit.value();
  version.manifest = pkg.ToJson();
  version.submitted_at = at;
  version.submitted_by = owner;
  std::vector<ClaimRow> claims;
  std::vector<std::string> metrics;
  for (size_t i = 0; i < pkg.claims.size(); ++i) {
    const Claim& c = pkg.claims[i];
    ClaimRow cr;
    cr.package = pkg.id;
    cr.version = pkg.version;
    cr.claim = c.id;
    cr.position = static_cast<int>(i);
    cr.statement = c.statement;
    cr.metric = c.metric;
    cr.unit = c.unit;
    cr.value = c.value;
    cr.expect = c.expect ? c.expect->ToJson() : json(nullptr);
    cr.conditions = c.conditions;
    cr.has_evidence = c.evidence.has_value();
    cr.verdict = c.evidence ? "pending" : "declared";
    cr.level = c.evidence ? "well-formed" : "declared";
    claims.push_back(std::move(cr));
    metrics.push_back(c.metric);
  }
  // The previous version's metrics too: tensions it took part in may close now.
  if (existing) {
    for (const ClaimRow& c : store_->Claims(pkg.id, existing->latest_version)) metrics.push_back(c.metric);
  }
  const bool runnable = std::any_of(pkg.claims.begin(), pkg.claims.end(), [](const Claim& c) { return c.evidence.has_value(); });
  int64_t job_id = 0;
  store_->Write([&](Db& db) {
    row.seq = version.seq = Store::NextSeq(db);
    Store::InsertVersion(db, row, version, claims);
    if (runnable) job_id = Store::InsertJob(db, pkg.id, pkg.version, reason);
    std::set<std::string> touched = {pkg.id};
    RefreshTensions(db, metrics, touched);
    for (const std::string& id : touched) RefreshPackage(db, id);
  });
  Notify();

  SubmitResult r;
  r.http = 201;
  r.body = {{"id", pkg.id},
            {"version", pkg.version},
            {"content_sha256", sha.value()},
            {"commit", commit.value()},
            {"duplicate", false},
            {"links",
             {{"self", VersionUrl(pkg.id, pkg.version)},
              {"package", PackageUrl(pkg.id)},
              {"archive", VersionUrl(pkg.id, pkg.version) + "/archive"},
              {"claims", PackageUrl(pkg.id) + "/claims?version=" + std::to_string(pkg.version)},
              {"runs", PackageUrl(pkg.id) + "/runs?version=" + std::to_string(pkg.version)}}}};
  if (job_id) {
    r.body["verification"] = JobJson(*store_->FindJob(job_id));
  } else {
    r.body["verification"] = nullptr;  // declared claims only: nothing to run
  }
  return r;
}

// --- tensions and attention

void Hub::Impl::RefreshTensions(Db& db, const std::vector<std::string>& metrics_in, std::set<std::string>& touched) {
  std::set<std::string> unique(metrics_in.begin(), metrics_in.end());
  const std::vector<std::string> metrics(unique.begin(), unique.end());
  if (metrics.empty()) return;
  std::vector<TensionSide> sides;
  std::map<std::string, std::pair<std::string, int64_t>> published;  // package -> (published, seq)
  for (const ClaimRow& c : store_->LatestClaimsWithMetrics(metrics)) {
    if (!published.count(c.package)) {
      const auto p = store_->FindPackage(c.package);
      published[c.package] = {p->published, p->seq};
    }
    TensionSide s;
    s.package = c.package;
    s.version = c.version;
    s.claim = c.claim;
    s.metric = c.metric;
    s.unit = c.unit;
    s.published = published[c.package].first;
    s.sequence = published[c.package].second;
    s.value = c.value;
    s.expect = Expectation::FromJson(c.expect);
    const Standing standing = ClaimStanding(c);
    s.reproduced = standing.verdict == "reproduced" && c.measured.has_value();
    if (s.reproduced) s.measured = c.measured;
    s.conditions = c.conditions;
    sides.push_back(std::move(s));
  }
  // Only tensions of the packages that changed (the caller's `touched`) can appear or close.
  const std::set<std::string> focus = touched;
  std::map<std::string, Tension> found;
  for (Tension& t : FindTensions(sides, &focus)) found.emplace(t.Key(), std::move(t));
  std::map<std::string, TensionRow> known;
  for (TensionRow& t : Store::TensionsOfPackages(db, focus, metrics)) known.emplace(t.key, std::move(t));

  const std::string now = NowUtc();
  for (auto& [key, t] : found) {
    TensionRow row;
    row.key = key;
    row.metric = t.later.metric;
    row.unit = t.later.unit;
    row.kind = t.kind;
    row.raised_by = t.later.package;
    row.other = t.earlier.package;
    row.divergence = t.divergence;
    row.data = t.ToJson();
    row.updated_at = now;
    // A package's score and counts change only when one of its tensions opens, closes or
    // changes hands, so only those packages are rescored.
    auto it = known.find(key);
    if (it == known.end()) {
      row.status = "open";
      row.created_at = now;
      Store::InsertTension(db, row);
      touched.insert(row.raised_by);
      touched.insert(row.other);
      continue;
    }
    row.id = it->second.id;
    row.created_at = it->second.created_at;
    row.note = it->second.note;
    // A reviewer's decision stands while the divergence persists; one that closed by itself
    // and diverges again is open again.
    row.status = it->second.status == "closed" ? "open" : it->second.status;
    const bool counts_change = row.status != it->second.status || row.raised_by != it->second.raised_by;
    if (counts_change || row.data != it->second.data) Store::UpdateTension(db, row);
    if (counts_change) {
      touched.insert(row.raised_by);
      touched.insert(row.other);
      touched.insert(it->second.raised_by);
      touched.insert(it->second.other);
    }
  }
  for (auto& [key, row] : known) {
    if (found.count(key) || row.status == "closed") continue;
    row.status = "closed";
    row.note = (row.note.empty() ? "" : row.note + "\n") + "closed by the hub: the claims no longer diverge";
    row.updated_at = now;
    Store::UpdateTension(db, row);
    touched.insert(row.raised_by);
    touched.insert(row.other);
  }
}

void Hub::Impl::RefreshPackage(Db& db, const std::string& id) {
  Stmt& s = db.Prepare("SELECT latest_version FROM packages WHERE id = ?");
  s.Bind(id);
  if (!s.Step()) return;
  const int version = static_cast<int>(s.Int(0));
  s.Run();
  const std::vector<ClaimRow> claims = Store::Claims(db, id, version);
  AttentionInput in;
  for (const ClaimRow& c : claims) {
    const Standing st = ClaimStanding(c);
    if (st.verdict == "reproduced") ++in.reproduced_claims;
    if (st.verdict == "refuted") ++in.refuted_claims;
  }
  in.reproducing_hosts = Store::DistinctReproducingHosts(db, id, version);
  in.open_tensions_raised = Store::OpenTensionsRaised(db, id);
  const Attention a = ComputeAttention(in, config_.weights);
  const json attention = {{"score", a.score}, {"breakdown", a.breakdown}, {"formula", a.formula},
                          {"weights", config_.weights.ToJson()}};
  Store::UpdatePackageScore(db, id, a.score, attention, PackageLevelOf(claims), Store::OpenTensionsInvolving(db, id));
}

// --- verification jobs

void Hub::Impl::WorkerLoop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      if (stopping_) return;
    }
    std::optional<JobRow> job;
    try {
      job = store_->ClaimJob();
    } catch (const DbError& e) {
      std::cerr << "ahub: worker: " << e.what() << "\n";
    }
    if (!job) {
      std::unique_lock<std::mutex> lock(queue_mu_);
      if (stopping_) return;
      idle_cv_.notify_all();
      // Woken by a submission; the timeout also picks up jobs queued by another process
      // (e.g. a second `ahub` on the same data directory).
      queue_cv_.wait_for(lock, std::chrono::seconds(2));
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      ++busy_workers_;
    }
    try {
      RunJob(*job);
    } catch (const std::exception& e) {
      std::cerr << "ahub: job " << job->id << " (" << job->package << "@" << job->version << "): " << e.what() << "\n";
      try {
        store_->Write([&](Db& db) { Store::FinishJob(db, job->id, "error", "", e.what()); });
      } catch (const std::exception&) {
      }
    }
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      --busy_workers_;
    }
    idle_cv_.notify_all();
  }
}

void Hub::Impl::RunJob(const JobRow& job) {
  auto fail = [&](const std::string& error) {
    store_->Write([&](Db& db) { Store::FinishJob(db, job.id, "error", "", error); });
  };
  auto repo = PackageRepo::Open(GitRoot(), job.package);
  if (!repo.ok()) return fail(repo.status().message());
  auto scratch = TempDir::Create(WorkRoot(), "job-" + std::to_string(job.id) + "-");
  if (!scratch.ok()) return fail(scratch.status().message());
  const fs::path pkg_dir = scratch->path() / "pkg";
  const fs::path out_dir = scratch->path() / "out";
  fs::create_directories(pkg_dir);
  fs::create_directories(out_dir);
  ::chmod(out_dir.c_str(), 0711);
  if (Status s = repo.value()->Checkout(job.version, pkg_dir); !s.ok()) return fail(s.message());
  OpenToOthers(pkg_dir);
  const LoadResult loaded = LoadPackage(pkg_dir);
  if (!loaded.ok()) return fail(Describe(loaded.diagnostics));

  ExecutionRequest request;
  request.package_dir = pkg_dir;
  request.package = &loaded.package;
  request.work_dir = out_dir;
  request.progress = [&](const ProgressEvent& ev) {
    const char* kind = ev.kind == ProgressEvent::Kind::kStarted ? "started"
                       : ev.kind == ProgressEvent::Kind::kSkipped ? "skipped" : "finished";
    try {
      store_->SetJobProgress(job.id, {{"done", ev.done}, {"total", ev.total}, {"experiment", ev.experiment},
                                      {"event", kind}});
    } catch (const DbError&) {
      // Progress is advisory; the job's result is what must be stored.
    }
  };
  Log("job " + std::to_string(job.id) + ": verifying " + job.package + "@" + std::to_string(job.version) + " (" +
      job.reason + ")");
  std::unique_lock<std::mutex> gpu_lock(gpu_mu_, std::defer_lock);
  if (loaded.package.environment.gpu) gpu_lock.lock();
  Result<Report> report = executor_->Execute(request);
  if (gpu_lock.owns_lock()) gpu_lock.unlock();
  if (!report.ok()) {
    Log("job " + std::to_string(job.id) + ": " + report.status().message());
    return fail(report.status().message());
  }

  // Logs and outputs go to the blob store before the transaction that refers to them.
  std::vector<json> runs;
  for (const RunRecord& rec : report->runs) {
    const RunOutcome& o = rec.outcome;
    json data = {{"experiment", rec.experiment}, {"skipped", !rec.skip_reason.empty()}, {"skip_reason", rec.skip_reason}};
    if (rec.skip_reason.empty()) {
      data.update({{"exit_code", o.exit_code >= 0 ? json(o.exit_code) : json(nullptr)},
                   {"term_signal", o.term_signal},
                   {"killed_by", KilledByName(o.killed_by)},
                   {"succeeded", o.succeeded()},
                   {"failure", o.succeeded() ? "" : DescribeFailure(o)},
                   {"wall_seconds", o.wall_seconds},
                   {"cpu_seconds", o.cpu_seconds},
                   {"peak_memory_mb", o.peak_memory_mb},
                   {"output_bytes", o.output_bytes},
                   {"enforcement", o.enforcement}});
      for (const auto& [name, text] : {std::pair{"stdout", &o.stdout_text}, std::pair{"stderr", &o.stderr_text}}) {
        auto sha = blobs_.Put(*text);
        if (!sha.ok()) throw std::runtime_error(sha.status().message());
        data[name] = {{"sha256", sha.value()}, {"bytes", text->size()}};
      }
      json outputs = json::array();
      std::error_code ec;
      if (fs::is_directory(rec.output_dir, ec)) {
        std::vector<fs::path> files;
        for (auto it = fs::recursive_directory_iterator(rec.output_dir, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
          if (it->is_regular_file(ec)) files.push_back(it->path());
        }
        std::sort(files.begin(), files.end());
        for (const fs::path& f : files) {
          auto content = ReadPackageFile(f);
          if (!content.ok()) continue;
          auto sha = blobs_.Put(content.value());
          if (!sha.ok()) throw std::runtime_error(sha.status().message());
          outputs.push_back({{"name", fs::relative(f, rec.output_dir).string()}, {"sha256", sha.value()},
                             {"bytes", content->size()}});
        }
      }
      data["outputs"] = outputs;
    }
    runs.push_back(std::move(data));
  }
  auto report_sha = blobs_.Put(report->ToJson().dump(2));
  if (!report_sha.ok()) throw std::runtime_error(report_sha.status().message());

  const std::string fingerprint = executor_->host().fingerprint;
  store_->Write([&](Db& db) {
    for (json& data : runs) {
      data["report"] = report_sha.value();
      Store::InsertRun(db, job.id, job.package, job.version, data);
    }
    std::vector<std::string> metrics;
    for (size_t i = 0; i < report->claims.size(); ++i) {
      const ClaimResult& r = report->claims[i];
      const Claim& c = loaded.package.claims[i];
      metrics.push_back(c.metric);
      if (!c.evidence) continue;
      ClaimRow row;
      row.package = job.package;
      row.version = job.version;
      row.claim = r.id;
      row.verdict = VerdictName(r.verdict);
      row.measured = r.measured;
      row.reason = r.reason;
      row.level = LevelName(r.level);
      Store::UpdateClaimVerdict(db, row);
      if (r.verdict == Verdict::kReproduced || r.verdict == Verdict::kRefuted) {
        Store::InsertReproduction(db, job.package, job.version, r.id, fingerprint, "hub", row.verdict, r.measured);
      }
    }
    Store::FinishJob(db, job.id, "done", LevelName(report->level), "");
    db.Prepare("UPDATE jobs SET progress = json_set(progress, '$.report', ?) WHERE id = ?")
        .Bind(report_sha.value(), job.id)
        .Run();
    std::set<std::string> touched = {job.package};
    RefreshTensions(db, metrics, touched);
    for (const std::string& id : touched) RefreshPackage(db, id);
  });
  int reproduced = 0, with_evidence = 0;
  for (size_t i = 0; i < report->claims.size(); ++i) {
    if (!loaded.package.claims[i].evidence) continue;
    ++with_evidence;
    if (report->claims[i].verdict == Verdict::kReproduced) ++reproduced;
  }
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.2f", report->elapsed_seconds);
  Log("job " + std::to_string(job.id) + ": " + job.package + "@" + std::to_string(job.version) + " " +
      LevelName(report->level) + " (" + std::to_string(reproduced) + "/" + std::to_string(with_evidence) +
      " claims reproduced) in " + secs + " s");
}

// --- JSON views

json Hub::Impl::PackageJson(const PackageRow& p, int version) {
  const std::optional<VersionRow> v = store_->FindVersion(p.id, version);
  json j = PackageSummaryJson(p);
  j["version"] = version;
  j["latest_version"] = p.latest_version;
  j["manifest"] = v->manifest;
  for (const char* key : {"authors", "provenance", "relations", "environment", "experiments", "license"}) {
    if (v->manifest.contains(key)) j[key] = v->manifest[key];
  }
  j["title"] = v->manifest.value("title", p.title);
  j["summary"] = v->manifest.value("summary", p.summary);
  j["content_sha256"] = v->content_sha256;
  j["commit"] = v->commit;
  j["submitted_at"] = v->submitted_at;
  json claims = json::array();
  const std::vector<ClaimRow> rows = store_->Claims(p.id, version);
  for (const ClaimRow& c : rows) claims.push_back(ClaimJson(c));
  j["claims"] = claims;
  j["claim_count"] = rows.size();
  j["version_level"] = PackageLevelOf(rows);
  j["attention"] = p.attention;
  json versions = json::array();
  for (const VersionRow& vr : store_->Versions(p.id)) {
    versions.push_back({{"version", vr.version}, {"content_sha256", vr.content_sha256}, {"commit", vr.commit},
                        {"submitted_at", vr.submitted_at}, {"links", {{"self", VersionUrl(p.id, vr.version)}}}});
  }
  j["versions"] = versions;
  json attestations = json::array();
  for (const AttestationRow& a : store_->Attestations(p.id, version)) {
    attestations.push_back({{"id", a.id}, {"fingerprint", a.fingerprint}, {"level", a.level}, {"host", a.host},
                            {"created_at", a.created_at}});
  }
  j["attestations"] = attestations;
  const auto job = store_->LatestJob(p.id, version);
  j["verification"] = job ? JobJson(*job) : json(nullptr);
  j["links"] = {{"self", VersionUrl(p.id, version)},
                {"package", PackageUrl(p.id)},
                {"archive", VersionUrl(p.id, version) + "/archive"},
                {"claims", PackageUrl(p.id) + "/claims?version=" + std::to_string(version)},
                {"runs", PackageUrl(p.id) + "/runs?version=" + std::to_string(version)},
                {"tensions", PackageUrl(p.id) + "/tensions"},
                {"versions", PackageUrl(p.id) + "/versions"}};
  return j;
}

// --- Hub

Hub::Hub(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Hub::~Hub() { Stop(); }

Result<std::unique_ptr<Hub>> Hub::Open(const HubConfig& config) {
  auto impl = std::make_unique<Impl>(config);
  std::error_code ec;
  fs::create_directories(config.data_dir, ec);
  if (ec) return Status::IoError(config.data_dir.string() + ": " + ec.message());
  // The sandbox's uid must traverse the data directory to reach job checkouts, never list it.
  ::chmod(config.data_dir.c_str(), 0711);
  for (const fs::path& d : {impl->GitRoot(), impl->StagingRoot(), config.data_dir / "blobs"}) {
    fs::create_directories(d, ec);
    if (ec) return Status::IoError(d.string() + ": " + ec.message());
  }
  auto work = TempDir::Create(config.work_dir.empty() ? fs::temp_directory_path() : config.work_dir, "ahub-jobs-");
  if (!work.ok()) return work.status();
  impl->work_root_ = std::move(work.value());
  const fs::path lock = config.data_dir / "hub.lock";
  impl->lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (impl->lock_fd_ < 0) return Status::IoError(lock.string() + ": " + std::strerror(errno));
  if (::flock(impl->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Status::FailedPrecondition(config.data_dir.string() + " is in use by another ahub serve (" + lock.string() +
                                      " is locked)");
  }
  // Leftovers of a killed process, cleared only once the lock says that no other hub is using
  // them: uploads that were never acknowledged, repositories whose creation it did not finish.
  for (const auto& e : fs::directory_iterator(impl->StagingRoot(), ec)) fs::remove_all(e.path(), ec);
  PackageRepo::RemoveUnfinished(impl->GitRoot());
  auto store = Store::Open(config.data_dir / "hub.db");
  if (!store.ok()) return store.status();
  impl->store_ = std::move(store.value());
  try {
    impl->store_->RequeueInterrupted();
  } catch (const DbError& e) {
    return Status::IoError(e.what());
  }
  impl->executor_ = config.executor ? config.executor : NewLocalExecutor(LocalExecutorOptions{});
  return std::unique_ptr<Hub>(new Hub(std::move(impl)));
}

Status Hub::Start() {
  Impl& m = *impl_;
  if (m.config_.seed && m.store_->PackageCount() == 0) {
    std::error_code ec;
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(m.config_.seed_dir, ec)) {
      if (e.is_directory() && fs::exists(e.path() / kManifestName)) dirs.push_back(e.path());
    }
    std::sort(dirs.begin(), dirs.end());
    int loaded = 0;
    for (const fs::path& d : dirs) {
      auto r = m.Ingest(kSeedOwner, "seed", true, d, "seed");
      if (r.ok()) {
        ++loaded;
      } else {
        m.Log("seed package " + d.string() + " refused: " + r.error().message);
      }
    }
    m.Log("loaded " + std::to_string(loaded) + " seed packages from " + m.config_.seed_dir.string() +
          "; verifying them in the background");
  }
  std::lock_guard<std::mutex> lock(m.queue_mu_);
  m.stopping_ = false;
  for (int i = 0; i < std::max(1, m.config_.workers); ++i) m.workers_.emplace_back([&m] { m.WorkerLoop(); });
  return Status::Ok();
}

void Hub::Stop() {
  Impl& m = *impl_;
  {
    std::lock_guard<std::mutex> lock(m.queue_mu_);
    m.stopping_ = true;
  }
  m.queue_cv_.notify_all();
  for (std::thread& t : m.workers_) t.join();
  m.workers_.clear();
}

void Hub::WaitIdle() {
  Impl& m = *impl_;
  for (;;) {
    const auto counts = m.store_->JobCounts();
    std::unique_lock<std::mutex> lock(m.queue_mu_);
    if (counts.at("queued") == 0 && counts.at("running") == 0 && m.busy_workers_ == 0) return;
    m.idle_cv_.wait_for(lock, std::chrono::milliseconds(200));
  }
}

uint64_t Hub::generation() const { return impl_->store_->generation(); }

namespace {

Result<std::string> InsertNewToken(Store& store, Role role, const std::string& name) {
  if (name.empty() || name.size() > 100) return Status::InvalidArgument("token name must be 1 to 100 characters");
  const std::string token = NewToken();
  try {
    store.InsertToken(name, RoleName(role), TokenHash(token));
  } catch (const DbError& e) {
    return Status::IoError(e.what());
  }
  return token;
}

}  // namespace

Result<std::string> Hub::CreateToken(Role role, const std::string& name) {
  return InsertNewToken(*impl_->store_, role, name);
}

Result<std::string> Hub::CreateToken(const fs::path& data_dir, Role role, const std::string& name) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return Status::IoError(data_dir.string() + ": " + ec.message());
  auto store = Store::Open(data_dir / "hub.db");
  if (!store.ok()) return store.status();
  return InsertNewToken(*store.value(), role, name);
}

ApiResult<Caller> Hub::Authenticate(const std::optional<std::string>& header) {
  if (!header) return Caller{};
  const auto token = BearerToken(*header);
  if (!token) return MakeError(401, "unauthorized", "Authorization header must be `Bearer <token>`");
  const auto row = impl_->store_->FindToken(TokenHash(*token));
  if (!row) return MakeError(401, "unauthorized", "unknown or revoked token");
  const auto role = ParseRole(row->role);
  if (!role) return MakeError(401, "unauthorized", "token has an unknown role");
  return Caller{row->id, row->name, *role};
}

ApiResult<SubmitResult> Hub::Submit(const Caller& caller, const Submission& submission) {
  if (caller.anonymous()) return MakeError(401, "unauthorized", "submitting needs an author token");
  if (!Allows(caller.role, Action::kSubmit)) {
    return Forbidden(std::string("role ") + RoleName(caller.role) + " may not submit packages");
  }
  auto staging = TempDir::Create(impl_->StagingRoot(), "upload-");
  if (!staging.ok()) return MakeError(500, "storage_error", staging.status().message());
  const fs::path dir = staging->path() / "pkg";
  fs::create_directories(dir);
  ApiResult<ExtractStats> extracted = ExtractStats{};
  switch (submission.kind) {
    case Submission::Kind::kTarball:
      extracted = ExtractTarGz(submission.body, dir, impl_->config_.limits);
      break;
    case Submission::Kind::kBundle:
      extracted = ExtractGitBundle(submission.body, submission.git_ref, dir, impl_->config_.limits);
      break;
    case Submission::Kind::kGit:
      extracted = FetchGitTree(submission.git_url, submission.git_ref, dir, impl_->config_.limits);
      break;
  }
  if (!extracted.ok()) return extracted.error();
  if (!fs::exists(dir / kManifestName)) {
    return MakeError(422, "missing_manifest", "the submission has no package.yaml at its root");
  }
  return impl_->Ingest(caller.token_id, caller.name, caller.role == Role::kAdmin, dir, "submitted");
}

namespace {

// The arXiv paper a stored manifest imports ("" when it is no arXiv import).
std::string ImportedPaper(const json& manifest) {
  const json provenance = manifest.value("provenance", json::object());
  if (!provenance.is_object() || provenance.value("kind", "") != "arxiv-import") return "";
  std::optional<ArxivId> id = ParseArxivId(provenance.value("arxiv", ""));
  if (!id) id = ParseArxivId(provenance.value("url", ""));
  return id ? id->id : "";
}

// The hub's store as the target of an arXiv import: each package goes through Ingest, as a
// submission of the caller would, so the same checks, durability and verification apply.
class StoreImportTarget final : public ImportTarget {
 public:
  StoreImportTarget(Hub::Impl& hub, const Caller& caller, ahub::hub::Store& store,
                    const fs::path& staging)
      : hub_(hub), caller_(caller), store_(store), staging_(staging) {}

  std::optional<Existing> Find(const std::string& id) override {
    const std::optional<PackageRow> p = ValidId(id) ? store_.FindPackage(id) : std::nullopt;
    if (!p) return std::nullopt;
    const std::optional<VersionRow> v = store_.FindVersion(id, p->latest_version);
    return Existing{v ? ImportedPaper(v->manifest) : "", p->latest_version};
  }

  Stored Store(const RenderedPackage& package, const std::string& arxiv_id) override;

  std::string Name() const override { return "hub"; }

 private:
  Hub::Impl& hub_;
  const Caller& caller_;
  ahub::hub::Store& store_;
  fs::path staging_;
};

}  // namespace

ImportTarget::Stored StoreImportTarget::Store(const RenderedPackage& package, const std::string& arxiv_id) {
  Stored stored;
  auto staging = TempDir::Create(staging_, "import-");
  if (!staging.ok()) {
    stored.reason = staging.status().message();
    stored.io_error = true;
    return stored;
  }
  const fs::path dir = staging->path() / "pkg";
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::ofstream out(dir / kManifestName, std::ios::binary);
  out << package.yaml;
  out.close();
  if (ec || !out) {
    stored.reason = "cannot stage " + package.id + " in " + staging_.string();
    stored.io_error = true;
    return stored;
  }
  const bool existed = store_.FindPackage(package.id).has_value();
  // Under the ingestion lock, the id must still be free or this paper's.
  const IngestCheck check = [&](const std::optional<PackageRow>& existing) -> std::optional<ApiError> {
    if (!existing) return std::nullopt;
    const std::optional<VersionRow> v = store_.FindVersion(existing->id, existing->latest_version);
    if (v && ImportedPaper(v->manifest) == arxiv_id) return std::nullopt;
    return MakeError(409, "id_taken", "package " + package.id + " was taken meanwhile by another "
                                      "package than arXiv " + arxiv_id + "; import the feed again");
  };
  ApiResult<SubmitResult> r = hub_.Ingest(caller_.token_id, caller_.name, /*admin=*/true, dir,
                                          "arxiv-import", check);
  stored.location = VersionUrl(package.id, package.version);
  if (!r.ok()) {
    stored.reason = r.error().message;
    stored.io_error = r.error().http >= 500;
    return stored;
  }
  stored.outcome = r->http == 200 ? ImportOutcome::kUnchanged
                   : existed      ? ImportOutcome::kNewVersion
                                  : ImportOutcome::kCreated;
  return stored;
}

ApiResult<json> Hub::ImportArxiv(const Caller& caller, const std::string& feed) {
  if (caller.anonymous()) return MakeError(401, "unauthorized", "importing needs an admin token");
  if (!Allows(caller.role, Action::kAdmin)) {
    return Forbidden(std::string("role ") + RoleName(caller.role) +
                     " may not import arXiv feeds; only admin may");
  }
  Result<ArxivFeed> parsed = ParseArxivFeed(feed, "request body");
  if (!parsed.ok()) {
    return MakeError(400, "invalid_feed", parsed.status().message() + " (nothing was imported)");
  }
  const KeywordMap& keywords =
      impl_->config_.arxiv_keywords ? *impl_->config_.arxiv_keywords : KeywordMap::BuiltIn();
  StoreImportTarget target(*impl_, caller, *impl_->store_, impl_->StagingRoot());
  const ImportReport report = ImportFeed(parsed.value(), "request body", keywords, target);
  json body = report.ToJson();
  if (report.HasIoError()) {
    return MakeError(500, "storage_error", "the store failed during the import; the report names "
                                           "the entries that were stored",
                     body);
  }
  return body;
}

ApiResult<json> Hub::ListPackages(const ListQuery& q) {
  if (q.sort != "attention" && q.sort != "recent") {
    return MakeError(400, "invalid_query", "sort must be attention or recent, not " + q.sort);
  }
  if (q.limit < 1 || q.limit > 100) return MakeError(400, "invalid_query", "limit must be between 1 and 100");
  PackageFilter filter{q.category, q.tag, q.q};
  PackagePage page;
  try {
    page = impl_->store_->ListPackages(filter, q.sort, q.cursor, q.limit);
  } catch (const std::invalid_argument& e) {
    return MakeError(400, "invalid_cursor", e.what());
  }
  json items = json::array();
  for (const PackageRow& p : page.items) items.push_back(PackageSummaryJson(p));
  json cats = json::array(), tags = json::array();
  for (const Facet& f : impl_->store_->CategoryFacets(filter)) cats.push_back({{"name", f.name}, {"count", f.count}});
  for (const Facet& f : impl_->store_->TagFacets(filter)) tags.push_back({{"name", f.name}, {"count", f.count}});
  return json{{"items", items},
              {"total", page.total},
              {"next_cursor", page.next_cursor ? json(*page.next_cursor) : json(nullptr)},
              {"sort", q.sort},
              {"facets", {{"categories", cats}, {"tags", tags}}}};
}

ApiResult<json> Hub::GetPackage(const std::string& id, int version) {
  const auto p = ValidId(id) ? impl_->store_->FindPackage(id) : std::nullopt;
  if (!p) return NotFound("package " + id);
  const int v = version == 0 ? p->latest_version : version;
  if (!impl_->store_->FindVersion(id, v)) return NotFound("version " + std::to_string(v) + " of " + id);
  return impl_->PackageJson(*p, v);
}

ApiResult<json> Hub::ListVersions(const std::string& id) {
  const auto p = ValidId(id) ? impl_->store_->FindPackage(id) : std::nullopt;
  if (!p) return NotFound("package " + id);
  json out = json::array();
  for (const VersionRow& v : impl_->store_->Versions(id)) {
    out.push_back({{"version", v.version}, {"content_sha256", v.content_sha256}, {"commit", v.commit},
                   {"submitted_at", v.submitted_at}, {"links", {{"self", VersionUrl(id, v.version)},
                                                                {"archive", VersionUrl(id, v.version) + "/archive"}}}});
  }
  return json{{"package", id}, {"latest", p->latest_version}, {"versions", out}};
}

ApiResult<std::string> Hub::Archive(const std::string& id, int version) {
  const auto p = ValidId(id) ? impl_->store_->FindPackage(id) : std::nullopt;
  if (!p) return NotFound("package " + id);
  const int v = version == 0 ? p->latest_version : version;
  if (!impl_->store_->FindVersion(id, v)) return NotFound("version " + std::to_string(v) + " of " + id);
  auto repo = PackageRepo::Open(impl_->GitRoot(), id);
  if (!repo.ok()) return MakeError(500, "storage_error", repo.status().message());
  auto tgz = repo.value()->ArchiveTarGz(v, id + "-v" + std::to_string(v));
  if (!tgz.ok()) return MakeError(500, "storage_error", tgz.status().message());
  return tgz.value();
}

ApiResult<json> Hub::Diff(const std::string& id, int from, int to) {
  const auto p = ValidId(id) ? impl_->store_->FindPackage(id) : std::nullopt;
  if (!p) return NotFound("package " + id);
  for (int v : {from, to}) {
    if (!impl_->store_->FindVersion(id, v)) return NotFound("version " + std::to_string(v) + " of " + id);
  }
  auto repo = PackageRepo::Open(impl_->GitRoot(), id);
  if (!repo.ok()) return MakeError(500, "storage_error", repo.status().message());
  auto diff = repo.value()->Diff(from, to);
  if (!diff.ok()) return MakeError(500, "storage_error", diff.status().message());
  json files = json::array();
  for (const DiffFile& f : diff->files) {
    files.push_back({{"path", f.path}, {"status", f.status}, {"additions", f.additions}, {"deletions", f.deletions}});
  }
  return json{{"package", id}, {"from", from}, {"to", to}, {"files", files}, {"patch", diff->patch}};
}

ApiResult<json> Hub::Claims(const std::string& id, int version) {
  const auto p = ValidId(id) ? impl_->store_->FindPackage(id) : std::nullopt;
  if (!p) return NotFound("package " + id);
  const int v = version == 0 ? p->latest_version : version;
  if (!impl_->store_->FindVersion(id, v)) return NotFound("version " + std::to_string(v) + " of " + id);
  json claims = json::array();
  for (const ClaimRow& c : impl_->store_->Claims(id, v)) claims.push_back(ClaimJson(c));
  return json{{"package", id}, {"version", v}, {"claims", claims}};
}

ApiResult<json> Hub::Runs(const std::string& id, int version) {
  const auto p = ValidId(id) ? impl_->store_->FindPackage(id) : std::nullopt;
  if (!p) return NotFound("package " + id);
  if (version != 0 && !impl_->store_->FindVersion(id, version)) {
    return NotFound("version " + std::to_string(version) + " of " + id);
  }
  json runs = json::array();
  for (const RunRow& r : impl_->store_->Runs(id, version)) {
    json j = r.data;
    j["id"] = r.id;
    j["job"] = r.job;
    j["version"] = r.version;
    j["created_at"] = r.created_at;
    j["links"] = {{"self", PackageUrl(id) + "/runs/" + std::to_string(r.id)}};
    runs.push_back(std::move(j));
  }
  return json{{"package", id}, {"version", version == 0 ? json(nullptr) : json(version)}, {"runs", runs}};
}

ApiResult<json> Hub::Run(const std::string& id, int64_t run_id) {
  const auto r = impl_->store_->FindRun(run_id);
  if (!r || r->package != id) return NotFound("run " + std::to_string(run_id) + " of " + id);
  json j = r->data;
  j["id"] = r->id;
  j["job"] = r->job;
  j["package"] = r->package;
  j["version"] = r->version;
  j["created_at"] = r->created_at;
  // Logs inline (they are capped by the sandbox); outputs by link, small JSON ones inline.
  for (const char* stream : {"stdout", "stderr"}) {
    if (!j.contains(stream)) continue;
    const auto text = impl_->blobs_.Get(j[stream].value("sha256", ""));
    j[stream]["text"] = text ? *text : "";
    j[stream]["url"] = std::string(kApi) + "/blobs/" + j[stream].value("sha256", "");
  }
  if (j.contains("outputs")) {
    for (json& o : j["outputs"]) {
      o["url"] = std::string(kApi) + "/blobs/" + o.value("sha256", "");
      const std::string name = o.value("name", "");
      if (o.value("bytes", 0) <= 1 << 20 && name.size() > 5 && name.substr(name.size() - 5) == ".json") {
        if (const auto text = impl_->blobs_.Get(o.value("sha256", ""))) {
          json parsed = json::parse(*text, nullptr, false);
          if (!parsed.is_discarded()) o["json"] = std::move(parsed);
        }
      }
    }
  }
  return j;
}

ApiResult<json> Hub::PackageTensions(const std::string& id) {
  const auto p = ValidId(id) ? impl_->store_->FindPackage(id) : std::nullopt;
  if (!p) return NotFound("package " + id);
  json out = json::array();
  for (const TensionRow& t : impl_->store_->PackageTensions(id)) out.push_back(TensionJson(t));
  return json{{"package", id}, {"tensions", out}};
}

ApiResult<json> Hub::Requeue(const Caller& caller, const std::string& id, int version) {
  if (caller.anonymous()) return MakeError(401, "unauthorized", "re-queuing verification needs a reviewer token");
  if (!Allows(caller.role, Action::kRequeue)) {
    return Forbidden(std::string("role ") + RoleName(caller.role) + " may not re-queue verification");
  }
  const auto p = ValidId(id) ? impl_->store_->FindPackage(id) : std::nullopt;
  if (!p) return NotFound("package " + id);
  const int v = version == 0 ? p->latest_version : version;
  if (!impl_->store_->FindVersion(id, v)) return NotFound("version " + std::to_string(v) + " of " + id);
  int64_t job = 0;
  impl_->store_->Write([&](Db& db) { job = Store::InsertJob(db, id, v, "requeued"); });
  impl_->Notify();
  return JobJson(*impl_->store_->FindJob(job));
}

ApiResult<json> Hub::Job(int64_t job_id) {
  const auto j = impl_->store_->FindJob(job_id);
  if (!j) return NotFound("job " + std::to_string(job_id));
  return JobJson(*j);
}

ApiResult<json> Hub::Attest(const Caller& caller, const json& report) {
  if (caller.anonymous()) return MakeError(401, "unauthorized", "attesting needs a runner token");
  if (!Allows(caller.role, Action::kAttest)) {
    return Forbidden(std::string("role ") + RoleName(caller.role) + " may not post attestations");
  }
  // The fields an attestation needs, checked one by one so the error names the place.
  json details = json::array();
  auto need = [&](const char* pointer, bool ok, const char* what) {
    if (!ok) details.push_back({{"path", pointer}, {"message", what}});
  };
  need("", report.is_object(), "must be a verification report object (schemas/report.schema.json)");
  if (!details.empty()) return MakeError(422, "invalid_report", "the attestation is not a report", details);
  need("/format", report.value("format", "") == "ahub-report/1", "must be \"ahub-report/1\"");
  need("/package", report.contains("package") && report["package"].is_string(), "must be a package id");
  need("/version",
       report.contains("version") && report["version"].is_number_integer() && report["version"].get<int64_t>() >= 1 &&
           report["version"].get<int64_t>() <= std::numeric_limits<int>::max(),
       "must be a version number (a positive integer)");
  need("/content_sha256", report.contains("content_sha256") && report["content_sha256"].is_string(),
       "must be the sha256 of the package content that ran");
  need("/host/fingerprint",
       report.contains("host") && report["host"].is_object() && report["host"].contains("fingerprint") &&
           report["host"]["fingerprint"].is_string() && !report["host"]["fingerprint"].get<std::string>().empty(),
       "must be the host fingerprint");
  need("/claims", report.contains("claims") && report["claims"].is_array(), "must be an array of claim results");
  if (!details.empty()) return MakeError(422, "invalid_report", "the report is missing required fields", details);

  const std::string id = report["package"];
  const int version = report["version"];
  const auto v = ValidId(id) ? impl_->store_->FindVersion(id, version) : std::nullopt;
  if (!v) return NotFound("version " + std::to_string(version) + " of package " + id);
  if (report["content_sha256"] != v->content_sha256) {
    return MakeError(409, "content_mismatch",
                     "the report's content_sha256 is not that of " + id + " v" + std::to_string(version) +
                         " as stored (" + v->content_sha256 + ")");
  }
  const std::vector<ClaimRow> claims = impl_->store_->Claims(id, version);
  std::map<std::string, const ClaimRow*> by_id;
  for (const ClaimRow& c : claims) by_id[c.claim] = &c;
  for (size_t i = 0; i < report["claims"].size(); ++i) {
    const json& c = report["claims"][i];
    const std::string where = "/claims/" + std::to_string(i);
    if (!c.is_object() || !c.contains("id") || !c["id"].is_string() || !by_id.count(c["id"].get<std::string>())) {
      details.push_back({{"path", where + "/id"}, {"message", "is not a claim of " + id + " v" + std::to_string(version)}});
    } else if (static const std::set<std::string> kVerdicts = {"reproduced", "refuted", "failed", "skipped", "declared"};
               !c.contains("verdict") || !c["verdict"].is_string() || !kVerdicts.count(c["verdict"].get<std::string>())) {
      details.push_back({{"path", where + "/verdict"},
                         {"message", "must be one of reproduced, refuted, failed, skipped, declared"}});
    }
  }
  // The hub re-judges what it can: a "reproduced" verdict must come with a measured value its
  // claim's expectation accepts, so an agent cannot raise a claim by saying so.
  for (size_t i = 0; details.empty() && i < report["claims"].size(); ++i) {
    const json& c = report["claims"][i];
    if (c["verdict"] != "reproduced") continue;
    const ClaimRow& claim = *by_id[c["id"].get<std::string>()];
    const auto expect = Expectation::FromJson(claim.expect);
    const bool measured = c.contains("measured") && c["measured"].is_number();
    if (!measured || (expect && !expect->Accepts(c["measured"].get<double>()))) {
      details.push_back({{"path", "/claims/" + std::to_string(i) + "/measured"},
                         {"message", measured ? "is outside the claim's expectation " + (expect ? expect->ToString() : "")
                                              : "a reproduced claim needs its measured value"}});
    }
  }
  if (!details.empty()) return MakeError(422, "invalid_report", "the report's claims do not match the package", details);

  AttestationRow row;
  row.package = id;
  row.version = version;
  row.token = caller.token_id;
  row.fingerprint = report["host"]["fingerprint"];
  row.host = report["host"];
  row.level = report.value("level", "");
  int64_t attestation = 0;
  const auto latest = impl_->store_->FindPackage(id);
  impl_->store_->Write([&](Db& db) {
    attestation = Store::InsertAttestation(db, row, report);
    std::vector<std::string> metrics;
    for (const json& c : report["claims"]) {
      const std::string verdict = c["verdict"];
      const ClaimRow& claim = *by_id[c["id"].get<std::string>()];
      metrics.push_back(claim.metric);
      // A declared claim names no experiment: there is nothing a host could have reproduced.
      if (!claim.has_evidence || (verdict != "reproduced" && verdict != "refuted")) continue;
      std::optional<double> measured;
      if (c.contains("measured") && c["measured"].is_number()) measured = c["measured"].get<double>();
      Store::InsertReproduction(db, id, version, claim.claim, row.fingerprint,
                                "attestation:" + std::to_string(attestation), verdict, measured);
      // An agent can measure what the hub could not (needs gpu); its value then stands for the claim.
      if (verdict == "reproduced" && !claim.measured && measured) {
        db.Prepare("UPDATE claims SET measured = ? WHERE package = ? AND version = ? AND claim = ?")
            .Bind(*measured, id, version, claim.claim)
            .Run();
      }
    }
    if (latest && latest->latest_version == version) {
      std::set<std::string> touched = {id};
      impl_->RefreshTensions(db, metrics, touched);
      for (const std::string& t : touched) impl_->RefreshPackage(db, t);
    }
  });
  json claims_out = json::array();
  for (const ClaimRow& c : impl_->store_->Claims(id, version)) claims_out.push_back(ClaimJson(c));
  const auto p = impl_->store_->FindPackage(id);
  return json{{"id", attestation},
              {"package", id},
              {"version", version},
              {"fingerprint", row.fingerprint},
              {"claims", claims_out},
              {"level", p ? p->level : ""},
              {"score", p ? p->score : 0.0},
              {"links", {{"package", VersionUrl(id, version)}}}};
}

ApiResult<json> Hub::Tensions(const std::string& status) {
  static const std::set<std::string> kStatuses = {"open", "explained", "resolved", "closed", "all"};
  const std::string s = status.empty() ? "all" : status;
  if (!kStatuses.count(s)) {
    return MakeError(400, "invalid_query", "status must be open, explained, resolved, closed or all, not " + s);
  }
  json out = json::array();
  for (const TensionRow& t : impl_->store_->Tensions(s)) out.push_back(TensionJson(t));
  return json{{"status", s}, {"tensions", out}};
}

ApiResult<json> Hub::GetTension(int64_t id) {
  const auto t = impl_->store_->FindTension(id);
  if (!t) return NotFound("tension " + std::to_string(id));
  return TensionJson(*t);
}

ApiResult<json> Hub::UpdateTension(const Caller& caller, int64_t id, const json& patch) {
  if (caller.anonymous()) return MakeError(401, "unauthorized", "reviewing tensions needs a reviewer token");
  if (!Allows(caller.role, Action::kReviewTension)) {
    return Forbidden(std::string("role ") + RoleName(caller.role) + " may not review tensions");
  }
  if (!patch.is_object()) return MakeError(400, "invalid_body", "the body must be a JSON object");
  json details = json::array();
  for (const auto& [key, value] : patch.items()) {
    if (key == "status") {
      static const std::set<std::string> kAllowed = {"open", "explained", "resolved"};
      if (!value.is_string() || !kAllowed.count(value.get<std::string>())) {
        details.push_back({{"path", "/status"}, {"message", "must be open, explained or resolved"}});
      }
    } else if (key == "note") {
      if (!value.is_string() || value.get<std::string>().size() > 4000) {
        details.push_back({{"path", "/note"}, {"message", "must be a string of at most 4000 bytes"}});
      }
    } else {
      details.push_back({{"path", "/" + key}, {"message", "unknown field; accepted: status, note"}});
    }
  }
  if (!details.empty()) return MakeError(400, "invalid_body", "the tension update is invalid", details);
  std::optional<TensionRow> updated;
  impl_->store_->Write([&](Db& db) {
    updated = Store::FindTension(db, id);
    if (!updated) return;
    if (patch.contains("status")) updated->status = patch["status"];
    if (patch.contains("note")) updated->note = patch["note"];
    updated->updated_at = NowUtc();
    Store::UpdateTension(db, *updated);
    impl_->RefreshPackage(db, updated->raised_by);
    impl_->RefreshPackage(db, updated->other);
  });
  if (!updated) return NotFound("tension " + std::to_string(id));
  return TensionJson(*updated);
}

ApiResult<std::string> Hub::Blob(const std::string& sha256) {
  auto data = impl_->blobs_.Get(sha256);
  if (!data) return NotFound("blob " + sha256);
  return *data;
}

json Hub::Health() {
  // Cheap by design (the static baseline of the API benchmark, and what load balancers poll):
  // two index lookups for the queue; totals are in /metrics.
  const auto [queued, running] = impl_->store_->ActiveJobs();
  return {{"status", "ok"},
          {"version", kAhubVersion},
          {"workers", impl_->config_.workers},
          {"queue", {{"queued", queued}, {"running", running}}}};
}

std::string Hub::MetricsText() {
  std::string out;
  out += "# HELP ahub_jobs Verification jobs by state.\n# TYPE ahub_jobs gauge\n";
  const auto counts = impl_->store_->JobCounts();
  for (const auto& [state, n] : counts) {
    out += "ahub_jobs{state=\"" + state + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP ahub_queue_depth Verification jobs waiting or running.\n# TYPE ahub_queue_depth gauge\n";
  out += "ahub_queue_depth " + std::to_string(counts.at("queued") + counts.at("running")) + "\n";
  out += "# HELP ahub_claims Claims of the latest versions by the hub's verdict.\n# TYPE ahub_claims gauge\n";
  for (const auto& [verdict, n] : impl_->store_->VerdictCounts()) {
    out += "ahub_claims{verdict=\"" + verdict + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP ahub_packages Packages stored.\n# TYPE ahub_packages gauge\n";
  out += "ahub_packages " + std::to_string(impl_->store_->PackageCount()) + "\n";
  return out;
}

}  // namespace ahub::hub
