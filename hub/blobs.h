// BlobStore: run outputs and logs kept content-addressed on disk, as <root>/<ab>/<sha256>. A
// blob is written to a temporary file, fsynced and renamed into place, so a reader (or a crash)
// never sees a partial blob; storing the same bytes twice costs nothing.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "runner/status.h"

namespace ahub::hub {

class BlobStore {
 public:
  explicit BlobStore(std::filesystem::path root) : root_(std::move(root)) {}
  // Stores `data` durably and returns its sha256 (hex).
  Result<std::string> Put(std::string_view data);
  // The blob's bytes; nullopt for an unknown or malformed id.
  std::optional<std::string> Get(const std::string& sha256) const;

 private:
  std::filesystem::path PathOf(const std::string& sha256) const;
  std::filesystem::path root_;
};

// Writes `data` to `path` atomically and durably: temporary file, fsync, rename, fsync of the
// directory.
Status WriteFileDurably(const std::filesystem::path& path, std::string_view data);

}  // namespace ahub::hub
