// Package archives: safe extraction of an uploaded tar.gz into a directory, and deterministic
// packing of a directory (or, through TarGzWriter, of a git tree) into a tar.gz.
//
// Every way a submission reaches the hub (tarball, git repository, git bundle) ends in the same
// SafeTreeWriter, so all three obey one set of limits and refuse the same things with the same
// ApiError codes.
//
// Invariants of a successful extraction into `dest`:
//   1. `dest` holds only regular files (mode 0644 or 0755) and directories (0755) that the
//      archive named; nothing outside `dest` was created or modified.
//   2. No limit of ExtractLimits was exceeded, counting the bytes actually written.
// A refused extraction leaves `dest` empty again.
//
// Thread-safety: the functions are reentrant; a SafeTreeWriter or TarGzWriter object is used by
// one thread at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "hub/api_error.h"
#include "runner/status.h"

struct archive;

namespace ahub::hub {

struct ExtractLimits {
  int64_t max_archive_bytes = 32LL << 20;  // compressed upload size
  int64_t max_entries = 10000;
  int64_t max_unpacked_bytes = 256LL << 20;  // sum of file sizes
  int64_t max_file_bytes = 64LL << 20;
  // Unpacked bytes / archive bytes, checked while streaming on the bytes actually written.
  double max_compression_ratio = 200;
  // The ratio is only enforced beyond this many unpacked bytes: a tiny archive of a few highly
  // repetitive files can exceed any ratio while costing nothing, and is not a bomb.
  int64_t ratio_free_bytes = 1LL << 20;
  int max_depth = 32;  // path components
};

struct ExtractStats {
  int64_t entries = 0;  // files and directories written
  int64_t files = 0;
  int64_t unpacked_bytes = 0;
};

// Extracts a gzip-compressed (or plain) tar held in memory into `dest` (exists, empty).
// Regular files and directories only; the executable bit is kept, other mode bits normalised
// (0644/0755); no ownership or times restored. When every entry sits under one top-level
// directory, that directory is stripped, so both `tar czf p.tgz mypkg/` and
// `tar czf p.tgz -C mypkg .` give the package at the root ("./" prefixes are fine).
// Refusals (and `dest` is emptied again):
//   413 archive_too_large, too_many_entries, unpacked_too_large, file_too_large, compression_ratio
//   400 not_an_archive (not gzip/tar, or corrupt), truncated_archive, unsafe_path (absolute,
//       "..", empty or odd components, too deep), duplicate_entry, link_entry (symlink or
//       hardlink), special_file (device, fifo, socket)
// Each message names the entry and the problem, e.g.
//   "entry ../../etc/passwd: path leaves the package directory".
ApiResult<ExtractStats> ExtractTarGz(std::string_view data, const std::filesystem::path& dest,
                                     const ExtractLimits& limits);

// Packs the regular files and directories under `dir` (skipping a top-level .git, refusing links
// and special files) as a gzip'd ustar/pax tar. Deterministic: entries sorted by path, mtime 0,
// uid/gid 0, empty uname/gname, mode 0644 or 0755, no gzip timestamp. Entries are prefixed with
// `prefix` + "/" when `prefix` is non-empty.
Result<std::string> PackTarGz(const std::filesystem::path& dir, const std::string& prefix = "");

// Builds a deterministic tar.gz in memory, entry by entry (shared by PackTarGz and the git
// archive export). The caller supplies entries in the order they should appear.
class TarGzWriter {
 public:
  TarGzWriter();
  ~TarGzWriter();
  TarGzWriter(const TarGzWriter&) = delete;
  TarGzWriter& operator=(const TarGzWriter&) = delete;

  Status AddFile(const std::string& path, std::string_view content, bool executable);
  Status AddDirectory(const std::string& path);
  // Writes the end-of-archive blocks and returns the bytes; the writer is spent afterwards.
  Result<std::string> Finish();

 private:
  Status Fail(const std::string& what);

  struct archive* archive_;
  std::string out_;
  Status status_;  // the first failure; every later call returns it
  bool finished_ = false;
};

// One entry of a package directory as every packer sees it.
struct TreeEntry {
  std::string path;  // relative, '/'-separated
  bool directory = false;
  bool executable = false;  // files only: the owner's execute bit
};

// The regular files and directories under `dir`, sorted by path, skipping a top-level .git (as
// PackageContentSha256 does). Links and special files are refused with InvalidArgument.
Result<std::vector<TreeEntry>> ListPackageTree(const std::filesystem::path& dir);

// The bytes of a regular file, refusing to follow a link in its place.
Result<std::string> ReadPackageFile(const std::filesystem::path& file);

// Writes a package tree into an empty directory entry by entry, enforcing ExtractLimits and the
// path rules above; shared by ExtractTarGz and the git sources (hub/repo.h).
// Paths are relative, '/'-separated and checked here. Directories are created as needed.
// Files are created with O_NOFOLLOW|O_CREAT|O_EXCL below directories this writer made itself,
// so nothing outside `dest` is ever reached.
// Unless Finish() succeeded, the destructor removes what this writer created under `dest`
// (and nothing that was there before).
class SafeTreeWriter {
 public:
  // `archive_bytes` is the size of the input the tree came from, for the compression ratio
  // (0: the ratio is not checked, e.g. for a local git repository). An empty `dest` checks every
  // rule on the declared sizes without writing anything (the first pass over an archive).
  SafeTreeWriter(std::filesystem::path dest, const ExtractLimits& limits, int64_t archive_bytes);
  ~SafeTreeWriter();
  SafeTreeWriter(const SafeTreeWriter&) = delete;
  SafeTreeWriter& operator=(const SafeTreeWriter&) = delete;

  ApiResult<Done> AddDirectory(std::string_view path);
  // Starts a file; `declared_size` (-1 when unknown) is checked against the limits up front,
  // and the bytes given to Write() are checked again as they arrive.
  ApiResult<Done> BeginFile(std::string_view path, bool executable, int64_t declared_size);
  ApiResult<Done> Write(std::string_view chunk);
  ApiResult<Done> EndFile();
  // Succeeds when no file is open; from then on the tree is kept.
  ApiResult<ExtractStats> Finish();

 private:
  // Checks and records `path` as a new entry; returns the components to create.
  ApiResult<std::vector<std::string>> Admit(std::string_view path, bool directory);
  ApiResult<int> OpenParent(const std::vector<std::string>& parts, std::string_view path);
  ApiResult<Done> CheckBytes(std::string_view path, int64_t file_bytes, int64_t total_bytes) const;
  void RemoveWritten();

  std::filesystem::path dest_;
  ExtractLimits limits_;
  int64_t archive_bytes_;
  ExtractStats stats_;
  std::set<std::string, std::less<>> dirs_;           // directories made (explicitly or as parents)
  std::set<std::string, std::less<>> files_;          // files written
  std::set<std::string, std::less<>> explicit_dirs_;  // directories named by an entry
  std::set<std::string, std::less<>> created_;        // top-level names this writer created on disk
  int file_fd_ = -1;
  std::string file_path_;
  int64_t file_bytes_ = 0;
  bool kept_ = false;
};

// Checks one entry path against the rules shared by every source and returns its components
// ("./" prefixes and a trailing "/" are accepted; an empty result means the root itself).
// The error is unsafe_path and names the entry.
ApiResult<std::vector<std::string>> SplitEntryPath(std::string_view path, int max_depth);

// The refusal of one entry: "entry PATH: PROBLEM".
ApiError EntryError(int http, std::string code, std::string_view path, std::string_view problem);

}  // namespace ahub::hub
