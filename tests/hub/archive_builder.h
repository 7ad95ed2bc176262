// ArchiveBuilder: writes tar(.gz) or zip archives entry by entry with no checks, so tests can
// make the malicious ones (links, devices, "..", bombs) that the hub must refuse.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <random>
#include <string>

namespace ahub::hub::tree_test {

// Builds an archive entry by entry, with no checks: the point is to make bad ones.
class ArchiveBuilder {
 public:
  enum class Kind { kTarGz, kTar, kZip };
  explicit ArchiveBuilder(Kind kind = Kind::kTarGz) : a_(archive_write_new()) {
    if (kind == Kind::kTarGz) archive_write_add_filter_gzip(a_);
    if (kind == Kind::kZip) {
      archive_write_set_format_zip(a_);
    } else {
      archive_write_set_format_pax_restricted(a_);
    }
    archive_write_open2(a_, &out_, nullptr, Append, nullptr, nullptr);
  }
  ~ArchiveBuilder() { archive_write_free(a_); }

  ArchiveBuilder& File(const std::string& path, const std::string& content, int perm = 0644) {
    archive_entry* e = Entry(path, AE_IFREG, perm);
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    Write(e, content);
    return *this;
  }
  ArchiveBuilder& Dir(const std::string& path, int perm = 0755) {
    Write(Entry(path, AE_IFDIR, perm), "");
    return *this;
  }
  ArchiveBuilder& Symlink(const std::string& path, const std::string& target) {
    archive_entry* e = Entry(path, AE_IFLNK, 0777);
    archive_entry_set_symlink(e, target.c_str());
    Write(e, "");
    return *this;
  }
  ArchiveBuilder& Hardlink(const std::string& path, const std::string& target) {
    archive_entry* e = Entry(path, AE_IFREG, 0644);
    archive_entry_set_hardlink(e, target.c_str());
    Write(e, "");
    return *this;
  }
  ArchiveBuilder& Special(const std::string& path, mode_t type) {
    archive_entry* e = Entry(path, type, 0644);
    archive_entry_set_rdev(e, makedev(1, 3));
    Write(e, "");
    return *this;
  }
  std::string Finish() {
    archive_write_close(a_);
    return out_;
  }

 private:
  static la_ssize_t Append(archive*, void* out, const void* buf, size_t n) {
    static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  }
  archive_entry* Entry(const std::string& path, mode_t type, int perm) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, perm);
    return e;
  }
  void Write(archive_entry* e, const std::string& content) {
    ASSERT_EQ(archive_write_header(a_, e), ARCHIVE_OK) << archive_error_string(a_);
    if (!content.empty()) {
      ASSERT_EQ(archive_write_data(a_, content.data(), content.size()),
                static_cast<la_ssize_t>(content.size()));
    }
    archive_entry_free(e);
  }

  archive* a_;
  std::string out_;
};

inline std::string RandomBytes(size_t n, unsigned seed = 7) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

}  // namespace ahub::hub::tree_test
