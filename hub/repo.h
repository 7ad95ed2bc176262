// Package contents in git (libgit2), and the git sources of a submission.
//
// One bare repository per package at `<root>/<package_id>.git`. Version N is a commit whose tree
// is the package directory and whose parent is the commit of the highest earlier version; it is
// named by the lightweight tag `refs/tags/vN` (lightweight: the tag carries nothing the commit
// does not already record, and a tag object would be one more thing to write and fsync).
//
// Invariants:
//   1. Objects and refs are fsynced (GIT_OPT_ENABLE_FSYNC_GITDIR) before CommitVersion returns,
//      so the hub can acknowledge a submission once it returned.
//   2. A commit depends only on the tree, the parent, the message, the identity and the given
//      time, so committing the same version twice yields the same id.
//   3. libgit2 runs no hooks and no filters, and this module reads no user or system git
//      configuration (the search paths are emptied once per process): untrusted repositories
//      and bundles cannot make it run anything or reach the network.
//
// Thread-safety: one PackageRepo object is used by one thread at a time; distinct objects (one
// package or distinct packages) may be used from distinct threads. The free functions are
// reentrant.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hub/api_error.h"
#include "hub/archive.h"
#include "runner/status.h"

struct git_repository;

namespace ahub::hub {

struct DiffFile {
  std::string path;      // the new path (the old one for deleted files)
  std::string old_path;  // renamed files only
  std::string status;    // added | modified | deleted | renamed
  int additions = 0;
  int deletions = 0;
};

struct VersionDiff {
  int from = 0;
  int to = 0;
  std::vector<DiffFile> files;  // in path order
  std::string patch;            // unified diff text
};

class PackageRepo {
 public:
  ~PackageRepo();
  PackageRepo(const PackageRepo&) = delete;
  PackageRepo& operator=(const PackageRepo&) = delete;

  // Opens, or creates when missing, the bare repository of `package_id` under `root` (created
  // too). `package_id` must be a plain name (no '/', not starting with '.'). Creating must not race
  // with another Open of the same id: the hub creates repositories only while ingesting, under its
  // ingestion lock.
  static Result<std::unique_ptr<PackageRepo>> Open(const std::filesystem::path& root,
                                                   const std::string& package_id);

  // Removes the repositories whose creation a killed process left unfinished under `root`. Call
  // it once at start-up, before any Open: a creation in progress looks the same.
  static void RemoveUnfinished(const std::filesystem::path& root);

  // Commits the regular files and directories of `dir` (executable bit kept, a top-level .git
  // skipped, links refused; empty directories are not recorded, as git stores no empty trees)
  // as version `version` (>= 1). The parent is the commit of the highest existing version below
  // `version`, if any. An existing tag vN that points elsewhere (left by a crash before the
  // database acknowledged it) is replaced. Returns the commit id (hex). `time` is unix seconds
  // (UTC), given so that the result is deterministic.
  Result<std::string> CommitVersion(const std::filesystem::path& dir, int version,
                                    const std::string& message, const std::string& author_name,
                                    const std::string& author_email, int64_t time);

  // Writes the tree of `version` as plain files into `dest` (exists, empty); exec bit kept.
  Status Checkout(int version, const std::filesystem::path& dest) const;

  // The tree of `version` as a deterministic tar.gz (see PackTarGz), entries under `prefix`/.
  Result<std::string> ArchiveTarGz(int version, const std::string& prefix) const;

  // The changes from version `from` to version `to`; `from` 0 means the empty tree.
  // Renames are detected (git's default 50% similarity).
  Result<VersionDiff> Diff(int from, int to) const;

  // The versions that have a tag, ascending.
  std::vector<int> Versions() const;

  // The commit id (hex) of `version`; NotFound when it has no tag.
  Result<std::string> CommitOf(int version) const;

 private:
  static constexpr const char* kUnfinishedSuffix = ".git.unfinished-";
  static Status Create(const std::filesystem::path& root, const std::string& package_id,
                       const std::filesystem::path& path);

  PackageRepo(git_repository* repo, std::filesystem::path path);

  git_repository* repo_;
  std::filesystem::path path_;
};

// The sources of a submission other than a tarball. Both write plain files into `dest` (exists,
// empty) through SafeTreeWriter, so they obey the same limits and refuse the same things with the
// same ApiError codes as ExtractTarGz (a symlink in the tree is link_entry); gitlinks (submodules)
// are skipped. On refusal `dest` is left empty.

// `url` is a local path or a file:// URL of a git repository (bare or not); any other scheme
// (http, https, ssh, git://, user@host:path) is refused with 400 unsupported_git_url: the hub never
// reaches the network. `ref` is a branch, tag or commit id (full or abbreviated); empty means
// HEAD. Unknown repository: 400 git_not_found; unknown ref: 400 git_ref_not_found.
ApiResult<ExtractStats> FetchGitTree(const std::string& url, const std::string& ref,
                                     const std::filesystem::path& dest,
                                     const ExtractLimits& limits);

// A git bundle held in memory (`git bundle create x.bundle --all`, or one branch; v2 or v3
// header, sha1 objects). Its packfile is indexed into a temporary bare repository (removed
// afterwards) and the tree of `ref` written out. `ref` is a listed ref name (full, or short for a
// branch or tag) or a commit id; empty means HEAD when listed, else refs/heads/main, else
// refs/heads/master, else the only ref. Refusals: archive_too_large (413, over
// max_archive_bytes), not_a_bundle (400: bad header or packfile), bundle_prerequisites (400: the
// bundle is incremental, a complete history is needed), git_ref_not_found (400), plus those of
// SafeTreeWriter; the compression ratio is taken against the bundle's size.
ApiResult<ExtractStats> ExtractGitBundle(std::string_view data, const std::string& ref,
                                         const std::filesystem::path& dest,
                                         const ExtractLimits& limits);

}  // namespace ahub::hub
