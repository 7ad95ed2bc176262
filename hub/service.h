// Hub: the service behind `ahub serve`. It owns the store (SQLite + one git repository per
// package + content-addressed blobs), ingests submissions, runs verification jobs on a pool of
// workers through an Executor, keeps attention scores and tensions up to date, and answers the
// API's questions as JSON documents. The HTTP layer (hub/api.h) only routes, authenticates and
// wraps errors; every rule of the hub lives here.
//
// Durability: a submission is acknowledged only after its git objects and tag are fsynced and the
// database transaction that makes the version visible has committed (synchronous=FULL). A crash
// before that leaves at most an unreferenced git tag, which the next submission of that version
// replaces; jobs that were running when the process died are queued again on the next Open().
//
// Thread-safety: every public method may be called from any thread at any time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "hub/api_error.h"
#include "hub/archive.h"
#include "hub/attention.h"
#include "hub/auth.h"
#include "hub/executor.h"
#include "runner/status.h"

namespace ahub::hub {

class KeywordMap;

struct HubConfig {
  std::filesystem::path data_dir = "var";  // hub.db, git/, blobs/, staging/ beneath
  // Checkouts and outputs of running jobs. The sandbox's unprivileged uid must traverse every
  // directory above them, which a data directory under a home directory (0700) would not allow,
  // so by default they live in a fresh directory under the system's temporary directory.
  std::filesystem::path work_dir;
  int workers = 2;                          // verification jobs run at once
  bool seed = true;                         // on an empty store, load every package of seed_dir
  std::filesystem::path seed_dir = "packages";
  ExtractLimits limits;
  AttentionWeights weights;
  // Where the hub reports what it does in the background (seed loading, jobs started and
  // finished), one line per call; null: silent. Called from worker threads.
  std::function<void(const std::string&)> log;
  // The executor that runs verification jobs; null: a LocalExecutor (bubblewrap on this host).
  std::shared_ptr<Executor> executor;
  // The tags of POST /imports/arxiv (hub/keyword_map.h); null: the built-in map.
  std::shared_ptr<const KeywordMap> arxiv_keywords;
};

// Who is calling. token_id 0 is an anonymous reader.
struct Caller {
  int64_t token_id = 0;
  std::string name;
  Role role = Role::kAuthor;
  bool anonymous() const { return token_id == 0; }
};

// A submission body as the API received it.
struct Submission {
  enum class Kind { kTarball, kBundle, kGit };
  Kind kind = Kind::kTarball;
  std::string body;  // the archive or bundle bytes
  std::string git_url;
  std::string git_ref;
};

// The answer to POST /packages: 201 for a new version, 200 when the same content was already
// stored (the existing version is returned, nothing is duplicated).
struct SubmitResult {
  int http = 201;
  nlohmann::json body;
};

struct ListQuery {
  std::string sort = "attention";  // attention | recent
  std::string category;
  std::string tag;
  std::string q;       // free text over id, title, summary, tags
  std::string cursor;  // opaque, from a previous page's next_cursor
  int limit = 20;      // 1..100
};

class Hub {
 public:
  // Opens (creating and migrating when needed) the store under config.data_dir and re-queues
  // interrupted jobs. Starts no thread. Holds an exclusive lock on DATA/hub.lock for its life:
  // a second Hub on the same data directory is refused (FailedPrecondition), since recovery
  // (re-queuing jobs, clearing staging/) is only safe for the one process that runs them.
  static Result<std::unique_ptr<Hub>> Open(const HubConfig& config);
  ~Hub();  // Stop()s

  // Starts the workers; on an empty store with config.seed, ingests the seed packages (owned by
  // the built-in "seed" account) and queues their verification.
  Status Start();
  // Lets running jobs finish, then joins the workers.
  void Stop();

  // Tokens. Create returns the token itself; only its hash is stored.
  Result<std::string> CreateToken(Role role, const std::string& name);
  // The same on the store in `data_dir` alone, beside a running server (`ahub token create`).
  static Result<std::string> CreateToken(const std::filesystem::path& data_dir, Role role, const std::string& name);
  // A missing header is anonymous; a wrong, malformed or revoked token is 401.
  ApiResult<Caller> Authenticate(const std::optional<std::string>& authorization_header);

  // POST /packages. 401/403 for callers who may not submit or do not own the id; 4xx for every
  // refused archive or manifest (nothing is written then).
  ApiResult<SubmitResult> Submit(const Caller& caller, const Submission& submission);

  // GET /packages: {"items": [package summary...], "next_cursor": str|null, "total": n,
  // "facets": {"categories": [{"name", "count"}], "tags": [...]}}.
  ApiResult<nlohmann::json> ListPackages(const ListQuery& query);
  // GET /packages/{id}[/versions/{n}]: the package with manifest, claims, level, attention
  // breakdown, versions, relations and links. version 0: the latest.
  ApiResult<nlohmann::json> GetPackage(const std::string& id, int version);
  ApiResult<nlohmann::json> ListVersions(const std::string& id);
  // GET /packages/{id}/versions/{n}/archive (and /packages/{id}/archive for the latest).
  ApiResult<std::string> Archive(const std::string& id, int version);
  ApiResult<nlohmann::json> Diff(const std::string& id, int from, int to);
  ApiResult<nlohmann::json> Claims(const std::string& id, int version);
  ApiResult<nlohmann::json> Runs(const std::string& id, int version);
  ApiResult<nlohmann::json> Run(const std::string& id, int64_t run_id);
  ApiResult<nlohmann::json> PackageTensions(const std::string& id);
  // POST /packages/{id}/verify (reviewer, admin): queues verification of a version (0: latest).
  ApiResult<nlohmann::json> Requeue(const Caller& caller, const std::string& id, int version);
  // GET /jobs/{id}: state of a verification job (submit follows it).
  ApiResult<nlohmann::json> Job(int64_t job_id);
  // POST /attestations (runner, admin): an agent's report (schemas/report.schema.json).
  ApiResult<nlohmann::json> Attest(const Caller& caller, const nlohmann::json& report);
  // GET /tensions?status=open|explained|resolved|closed|all (open first, then by divergence).
  ApiResult<nlohmann::json> Tensions(const std::string& status);
  ApiResult<nlohmann::json> GetTension(int64_t tension_id);
  // PATCH /tensions/{id} (reviewer, admin): {"status": "open|explained|resolved", "note": "..."}.
  ApiResult<nlohmann::json> UpdateTension(const Caller& caller, int64_t tension_id,
                                          const nlohmann::json& patch);
  // POST /imports/arxiv (admin): each entry of an arXiv API Atom feed becomes a declared package
  // version owned by the caller, as `ahub import-arxiv` makes them (hub/arxiv_import.h). 200 with
  // the per-entry report (ImportReport::ToJson) even when entries were refused; 400 when the
  // document as a whole is refused (not XML, not Atom, truncated).
  ApiResult<nlohmann::json> ImportArxiv(const Caller& caller, const std::string& feed);
  // GET /blobs/{sha256}: a stored run output or log.
  ApiResult<std::string> Blob(const std::string& sha256);

  // GET /healthz: {"status": "ok", "version", "workers", "queue": {"queued", "running"}}.
  nlohmann::json Health();
  // Gauges for /metrics: jobs by state and verdict totals, in Prometheus text.
  std::string MetricsText();

  // Bumped by every committed write; the API caches read responses per generation.
  uint64_t generation() const;

  // Blocks until no job is queued or running (tests, `make run`'s "settled" message).
  void WaitIdle();

  class Impl;

 private:
  explicit Hub(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ahub::hub
