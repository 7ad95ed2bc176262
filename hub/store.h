// Store: the hub's SQLite database. Owns the schema (migrations versioned here) and every SQL
// statement, behind methods named after what the service needs. Values cross the boundary as the
// plain structs below; JSON columns hold documents the API returns as they are.
//
// Connections: one per thread (SQLite connections must not be shared), opened on first use and
// kept for the thread's life. Writes go through Write(), which serialises them in this process
// and runs them in one BEGIN IMMEDIATE transaction, so a write is all-or-nothing.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hub/db.h"
#include "runner/status.h"

namespace ahub::hub {

struct TokenRow {
  int64_t id = 0;
  std::string name;
  std::string role;
  std::string created_at;
};

struct PackageRow {
  std::string id;
  int64_t owner = 0;  // token id; 0 for the built-in seed account
  int latest_version = 0;
  std::string title;
  std::string summary;
  std::vector<std::string> categories;  // primary first
  std::vector<std::string> tags;
  std::string published;
  std::string created_at;
  std::string updated_at;
  int64_t seq = 0;  // ingestion sequence of the latest version
  double score = 0;
  nlohmann::json attention = nlohmann::json::object();  // breakdown, formula, weights
  std::string level = "declared";
  int claim_count = 0;
  int open_tensions = 0;  // open tensions it takes part in, raised or not
};

struct VersionRow {
  std::string package;
  int version = 0;
  std::string content_sha256;
  std::string commit;
  nlohmann::json manifest;
  std::string submitted_at;
  int64_t submitted_by = 0;
  int64_t seq = 0;
};

// A claim of a stored version, with the hub's own verdict and the hosts that reproduced it.
struct ClaimRow {
  std::string package;
  int version = 0;
  std::string claim;
  int position = 0;
  std::string statement;
  std::string metric;
  std::string unit;
  std::optional<double> value;
  nlohmann::json expect;      // null when declared without expectation
  nlohmann::json conditions;  // object
  bool has_evidence = false;
  std::string verdict = "pending";  // pending | reproduced | refuted | failed | skipped | declared
  std::optional<double> measured;
  std::string reason;
  std::string level = "declared";
  int hosts = 0;  // distinct host fingerprints that reproduced it
};

struct JobRow {
  int64_t id = 0;
  std::string package;
  int version = 0;
  std::string state;  // queued | running | done | error
  std::string reason; // why it was queued: submitted | seed | requeued | restarted
  int attempts = 0;
  std::string created_at;
  std::string started_at;
  std::string finished_at;
  std::string error;
  std::string level;  // the package level the run reached (done jobs)
  nlohmann::json progress = nlohmann::json::object();
};

struct RunRow {
  int64_t id = 0;
  int64_t job = 0;
  std::string package;
  int version = 0;
  nlohmann::json data;  // outcome, logs' blob ids, outputs' blob ids (see Hub::Run)
  std::string created_at;
};

struct TensionRow {
  int64_t id = 0;
  std::string key;
  std::string metric;
  std::string unit;
  std::string kind;
  std::string status;  // open | explained | resolved | closed
  std::string note;
  std::string raised_by;
  std::string other;
  double divergence = 0;
  nlohmann::json data;  // both sides, intervals, condition diff (tensions::Tension::ToJson)
  std::string created_at;
  std::string updated_at;
};

struct AttestationRow {
  int64_t id = 0;
  std::string package;
  int version = 0;
  int64_t token = 0;
  std::string fingerprint;
  std::string level;
  nlohmann::json host;
  std::string created_at;
};

// The filters of a package listing; facets are counted over the same filter.
struct PackageFilter {
  std::string category;
  std::string tag;
  std::string q;
  bool Empty() const { return category.empty() && tag.empty() && q.empty(); }
};

struct PackagePage {
  std::vector<PackageRow> items;
  int64_t total = 0;
  std::optional<std::string> next_cursor;
};

struct Facet {
  std::string name;
  int64_t count = 0;
};

class Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const std::filesystem::path& db_file);
  ~Store();

  // Runs `fn` in one write transaction (serialised with every other write of this process) and
  // commits when it returns normally; an exception rolls everything back and propagates.
  // Bumps generation() after the commit.
  // `visible` false: the write changes nothing the cached read responses show (job progress),
  // so generation() stays.
  void Write(const std::function<void(Db&)>& fn, bool visible = true);
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // --- tokens
  int64_t InsertToken(const std::string& name, const std::string& role, const std::string& hash);
  std::optional<TokenRow> FindToken(const std::string& hash);

  // --- packages and versions (reads)
  std::optional<PackageRow> FindPackage(const std::string& id);
  std::optional<VersionRow> FindVersion(const std::string& id, int version);
  std::vector<VersionRow> Versions(const std::string& id);
  std::optional<VersionRow> FindVersionBySha(const std::string& id, const std::string& sha256);
  int64_t PackageCount();
  PackagePage ListPackages(const PackageFilter& filter, const std::string& sort, const std::string& cursor, int limit);
  std::vector<Facet> CategoryFacets(const PackageFilter& filter);
  std::vector<Facet> TagFacets(const PackageFilter& filter);
  // The trigger-kept counts of the unfiltered listing: kind "category", "tag".
  std::vector<Facet> CountedFacets(const std::string& kind);

  // --- writes used inside Write(): the caller composes them into one transaction.
  // Inserts the version, its claims, and creates or updates the package row to point at it.
  static void InsertVersion(Db& db, const PackageRow& package, const VersionRow& version,
                            const std::vector<ClaimRow>& claims);
  static int64_t NextSeq(Db& db);
  static int64_t InsertJob(Db& db, const std::string& package, int version, const std::string& reason);
  static void UpdatePackageScore(Db& db, const std::string& id, double score, const nlohmann::json& attention,
                                 const std::string& level, int open_tensions);

  // --- claims
  std::vector<ClaimRow> Claims(const std::string& id, int version);
  // Latest-version claims carrying one of `metrics` (for tension detection); all when empty.
  std::vector<ClaimRow> LatestClaimsWithMetrics(const std::vector<std::string>& metrics);
  static std::vector<ClaimRow> Claims(Db& db, const std::string& id, int version);
  static void UpdateClaimVerdict(Db& db, const ClaimRow& claim);
  static void InsertReproduction(Db& db, const std::string& id, int version, const std::string& claim,
                                 const std::string& fingerprint, const std::string& source,
                                 const std::string& verdict, std::optional<double> measured);
  // Distinct fingerprints that reproduced each claim of the version: claim -> count.
  static std::map<std::string, int> ReproducingHosts(Db& db, const std::string& id, int version);
  static int DistinctReproducingHosts(Db& db, const std::string& id, int version);

  // --- jobs and runs
  // Takes the oldest queued job and marks it running (attempts + 1); nullopt when none.
  std::optional<JobRow> ClaimJob();
  std::optional<JobRow> FindJob(int64_t id);
  std::optional<JobRow> LatestJob(const std::string& id, int version);
  void SetJobProgress(int64_t id, const nlohmann::json& progress);
  static void FinishJob(Db& db, int64_t id, const std::string& state, const std::string& level,
                        const std::string& error);
  // Jobs left running by a dead process go back to the queue.
  int RequeueInterrupted();
  std::map<std::string, int64_t> JobCounts();  // by state
  std::pair<int64_t, int64_t> ActiveJobs();     // (queued, running), from the state index only
  static int64_t InsertRun(Db& db, int64_t job, const std::string& package, int version,
                           const nlohmann::json& data);
  std::vector<RunRow> Runs(const std::string& id, int version);
  std::optional<RunRow> FindRun(int64_t run_id);

  // --- attestations and hosts
  static int64_t InsertAttestation(Db& db, const AttestationRow& row, const nlohmann::json& report);
  std::vector<AttestationRow> Attestations(const std::string& id, int version);

  // --- tensions
  // Tensions with one of `metrics` that one of `packages` takes part in, each once; read through
  // the raised_by / other indexes, so the cost follows those packages' tensions, not the metric's.
  static std::vector<TensionRow> TensionsOfPackages(Db& db, const std::set<std::string>& packages,
                                                    const std::vector<std::string>& metrics);
  static int64_t InsertTension(Db& db, const TensionRow& row);
  static void UpdateTension(Db& db, const TensionRow& row);
  std::vector<TensionRow> Tensions(const std::string& status);  // "all" for every status
  std::vector<TensionRow> PackageTensions(const std::string& id);
  std::optional<TensionRow> FindTension(int64_t id);
  static std::optional<TensionRow> FindTension(Db& db, int64_t id);
  static int OpenTensionsRaised(Db& db, const std::string& id);
  static int OpenTensionsInvolving(Db& db, const std::string& id);
  std::map<std::string, int64_t> VerdictCounts();  // latest versions' claims by verdict

 private:
  explicit Store(std::filesystem::path file) : file_(std::move(file)) {}
  Db& Conn();  // this thread's connection

  std::filesystem::path file_;
  std::mutex write_mu_;
  std::atomic<uint64_t> generation_{1};
  uint64_t instance_;  // distinguishes Stores in the thread-local connection map
};

// The current UTC time as ISO 8601 with seconds ("2026-11-22T20:10:53Z").
std::string NowUtc();

}  // namespace ahub::hub
