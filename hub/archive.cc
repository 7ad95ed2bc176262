#include "hub/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <locale.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace ahub::hub {
namespace {

namespace fs = std::filesystem;

constexpr int kHttpBadRequest = 400;
constexpr int kHttpTooLarge = 413;
constexpr int kHttpInternal = 500;
constexpr mode_t kFileMode = 0644;
constexpr mode_t kExecutableMode = 0755;
constexpr mode_t kDirectoryMode = 0755;
constexpr size_t kReadChunk = 1 << 16;

std::string Join(const std::vector<std::string>& parts, size_t from = 0) {
  std::string out;
  for (size_t i = from; i < parts.size(); ++i) {
    if (!out.empty()) out += '/';
    out += parts[i];
  }
  return out;
}

ApiError IoError(std::string_view path, std::string_view what) {
  return EntryError(kHttpInternal, "io_error", path,
                    std::string(what) + ": " + std::strerror(errno));
}

// Closes a file descriptor on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(-1); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset(int fd) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// libarchive converts entry names through the calling thread's locale, and under the "C" locale
// a process starts in it refuses every non-ASCII name (reading a pax archive or writing one).
// While in scope, this thread uses C.UTF-8 instead; uselocale() is per thread, so nothing else
// in the process is affected. Without C.UTF-8 on the system, names stay limited to ASCII.
class ScopedUtf8Locale {
 public:
  ScopedUtf8Locale() : utf8_(::newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{})) {
    if (utf8_ != locale_t{}) previous_ = ::uselocale(utf8_);
  }
  ~ScopedUtf8Locale() {
    if (utf8_ == locale_t{}) return;
    ::uselocale(previous_);
    ::freelocale(utf8_);
  }
  ScopedUtf8Locale(const ScopedUtf8Locale&) = delete;
  ScopedUtf8Locale& operator=(const ScopedUtf8Locale&) = delete;

 private:
  locale_t utf8_;
  locale_t previous_{};
};

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Entry paths

ApiError EntryError(int http, std::string code, std::string_view path, std::string_view problem) {
  return MakeError(http, std::move(code),
                   "entry " + std::string(path) + ": " + std::string(problem));
}

ApiResult<std::vector<std::string>> SplitEntryPath(std::string_view path, int max_depth) {
  auto unsafe = [&](std::string_view problem) {
    return EntryError(kHttpBadRequest, "unsafe_path", path, problem);
  };
  if (path.empty()) return unsafe("empty path");
  if (path.find('\0') != std::string_view::npos) return unsafe("path contains a NUL byte");
  if (path.front() == '/') return unsafe("absolute path");
  std::string_view rest = path;
  // `tar -C dir .` names entries "./x" and the root "." or "./".
  while (rest.starts_with("./")) rest.remove_prefix(2);
  if (rest == ".") rest = {};
  if (rest.ends_with('/')) rest.remove_suffix(1);
  std::vector<std::string> parts;
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    if (part.empty()) return unsafe("empty path component");
    if (part == "..") return unsafe("path leaves the package directory");
    if (part == ".") return unsafe("'.' in the middle of the path");
    for (const char c : part) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        return unsafe("control character in the name");
      }
    }
    parts.emplace_back(part);
    if (static_cast<int>(parts.size()) > max_depth) {
      return unsafe("deeper than " + std::to_string(max_depth) + " path components");
    }
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
    if (rest.empty()) return unsafe("empty path component");
  }
  return parts;
}

// ---------------------------------------------------------------------------------------------
// SafeTreeWriter

SafeTreeWriter::SafeTreeWriter(fs::path dest, const ExtractLimits& limits, int64_t archive_bytes)
    : dest_(std::move(dest)), limits_(limits), archive_bytes_(archive_bytes) {}

SafeTreeWriter::~SafeTreeWriter() {
  if (file_fd_ >= 0) ::close(file_fd_);
  if (!kept_) RemoveWritten();
}

void SafeTreeWriter::RemoveWritten() {
  if (dest_.empty()) return;
  // Only the top-level names this writer created: removing anything else would turn a caller's
  // mistake (a `dest` that was not empty) into data loss.
  std::error_code ec;
  for (const std::string& name : created_) fs::remove_all(dest_ / name, ec);
}

ApiResult<std::vector<std::string>> SafeTreeWriter::Admit(std::string_view path, bool directory) {
  auto parts = SplitEntryPath(path, limits_.max_depth);
  if (!parts.ok()) return parts.error();
  if (parts->empty()) {
    if (directory) return parts;  // the root: nothing to create
    return EntryError(kHttpBadRequest, "unsafe_path", path, "a file cannot be the package root");
  }
  if (stats_.entries + 1 > limits_.max_entries) {
    return EntryError(kHttpTooLarge, "too_many_entries", path,
                      "more than " + std::to_string(limits_.max_entries) + " entries");
  }
  std::string prefix;
  for (size_t i = 0; i + 1 < parts->size(); ++i) {
    prefix += (i ? "/" : "") + (*parts)[i];
    if (files_.contains(prefix)) {
      return EntryError(kHttpBadRequest, "duplicate_entry", path, prefix + " is already a file");
    }
  }
  const std::string full = Join(parts.value());
  const bool taken =
      files_.contains(full) || (directory ? explicit_dirs_.contains(full) : dirs_.contains(full));
  if (taken) return EntryError(kHttpBadRequest, "duplicate_entry", path, "named twice");
  prefix.clear();
  for (size_t i = 0; i + 1 < parts->size(); ++i) {
    prefix += (i ? "/" : "") + (*parts)[i];
    dirs_.insert(prefix);
  }
  if (directory) {
    dirs_.insert(full);
    explicit_dirs_.insert(full);
  } else {
    files_.insert(full);
  }
  ++stats_.entries;
  return parts;
}

ApiResult<int> SafeTreeWriter::OpenParent(const std::vector<std::string>& parts,
                                          std::string_view path) {
  Fd dir(::open(dest_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (dir.get() < 0) return IoError(path, "cannot open the destination");
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const char* name = parts[i].c_str();
    const bool made = ::mkdirat(dir.get(), name, kDirectoryMode) == 0;
    if (!made && errno != EEXIST) return IoError(path, "cannot create directory " + parts[i]);
    if (made && i == 0) created_.insert(parts[i]);
    // O_NOFOLLOW: only a directory this writer made can be entered, never a link.
    const int next = ::openat(dir.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) return IoError(path, "cannot open directory " + parts[i]);
    dir.Reset(next);
    if (made && ::fchmod(dir.get(), kDirectoryMode) != 0) return IoError(path, "chmod");
  }
  return dir.Release();
}

ApiResult<Done> SafeTreeWriter::AddDirectory(std::string_view path) {
  if (file_fd_ >= 0 || !file_path_.empty()) {
    return EntryError(kHttpInternal, "internal", path, "a file is still open");
  }
  auto parts = Admit(path, /*directory=*/true);
  if (!parts.ok()) return parts.error();
  if (parts->empty() || dest_.empty()) return Done{};
  auto parent = OpenParent(parts.value(), path);
  if (!parent.ok()) return parent.error();
  Fd dir(parent.value());
  const char* name = parts->back().c_str();
  const bool made = ::mkdirat(dir.get(), name, kDirectoryMode) == 0;
  if (!made && errno != EEXIST) return IoError(path, "cannot create directory");
  if (made && parts->size() == 1) created_.insert(parts->back());
  Fd self(::openat(dir.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (self.get() < 0 || ::fchmod(self.get(), kDirectoryMode) != 0)
    return IoError(path, "cannot open directory");
  return Done{};
}

ApiResult<Done> SafeTreeWriter::CheckBytes(std::string_view path, int64_t file_bytes,
                                           int64_t total_bytes) const {
  if (file_bytes > limits_.max_file_bytes) {
    return EntryError(kHttpTooLarge, "file_too_large", path,
                      "larger than " + std::to_string(limits_.max_file_bytes) + " bytes");
  }
  if (total_bytes > limits_.max_unpacked_bytes) {
    return EntryError(
        kHttpTooLarge, "unpacked_too_large", path,
        "the files add up to more than " + std::to_string(limits_.max_unpacked_bytes) + " bytes");
  }
  if (archive_bytes_ > 0 && total_bytes > limits_.ratio_free_bytes &&
      static_cast<double>(total_bytes) >
          limits_.max_compression_ratio * static_cast<double>(archive_bytes_)) {
    return EntryError(kHttpTooLarge, "compression_ratio", path,
                      "unpacks to more than " +
                          std::to_string(static_cast<int64_t>(limits_.max_compression_ratio)) +
                          " times the archive's " + std::to_string(archive_bytes_) + " bytes");
  }
  return Done{};
}

ApiResult<Done> SafeTreeWriter::BeginFile(std::string_view path, bool executable,
                                          int64_t declared_size) {
  if (file_fd_ >= 0 || !file_path_.empty()) {
    return EntryError(kHttpInternal, "internal", path, "a file is still open");
  }
  auto parts = Admit(path, /*directory=*/false);
  if (!parts.ok()) return parts.error();
  if (declared_size >= 0) {
    if (auto ok = CheckBytes(path, declared_size, stats_.unpacked_bytes + declared_size); !ok.ok())
      return ok;
  }
  file_bytes_ = 0;
  if (dest_.empty()) {
    file_path_ = std::string(path);
    return Done{};
  }
  auto parent = OpenParent(parts.value(), path);
  if (!parent.ok()) return parent.error();
  Fd dir(parent.value());
  // O_EXCL|O_NOFOLLOW: never reuse or follow anything already there.
  file_fd_ = ::openat(dir.get(), parts->back().c_str(),
                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, kFileMode);
  if (file_fd_ < 0) return IoError(path, "cannot create file");
  if (parts->size() == 1) created_.insert(parts->back());
  file_path_ = std::string(path);
  // Set the mode explicitly so the umask does not decide what a package's files look like.
  if (::fchmod(file_fd_, executable ? kExecutableMode : kFileMode) != 0)
    return IoError(path, "chmod");
  return Done{};
}

ApiResult<Done> SafeTreeWriter::Write(std::string_view chunk) {
  if (file_path_.empty())
    return MakeError(kHttpInternal, "internal", "Write() without BeginFile()");
  file_bytes_ += static_cast<int64_t>(chunk.size());
  stats_.unpacked_bytes += static_cast<int64_t>(chunk.size());
  if (auto ok = CheckBytes(file_path_, file_bytes_, stats_.unpacked_bytes); !ok.ok()) return ok;
  if (file_fd_ >= 0 && !WriteAll(file_fd_, chunk)) return IoError(file_path_, "write");
  return Done{};
}

ApiResult<Done> SafeTreeWriter::EndFile() {
  if (file_path_.empty())
    return MakeError(kHttpInternal, "internal", "EndFile() without BeginFile()");
  const std::string path = std::move(file_path_);
  file_path_.clear();
  ++stats_.files;
  if (file_fd_ >= 0) {
    const int fd = std::exchange(file_fd_, -1);
    if (::close(fd) != 0) return IoError(path, "close");
  }
  return Done{};
}

ApiResult<ExtractStats> SafeTreeWriter::Finish() {
  if (!file_path_.empty())
    return EntryError(kHttpInternal, "internal", file_path_, "file not ended");
  kept_ = true;
  return stats_;
}

// ---------------------------------------------------------------------------------------------
// Reading tar archives

namespace {

struct ArchiveReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchiveReader = std::unique_ptr<struct archive, ArchiveReadDeleter>;

// libarchive reports truncation (of the gzip stream or of the tar) only through its message.
ApiError ReadError(struct archive* a, std::string_view entry) {
  const char* msg = archive_error_string(a);
  const std::string text = msg ? msg : "unreadable archive";
  const bool truncated =
      text.find("runcated") != std::string::npos || text.find("Premature end") != std::string::npos;
  const std::string code = truncated ? "truncated_archive" : "not_an_archive";
  if (entry.empty())
    return MakeError(kHttpBadRequest, code, "archive: " + text + " (a tar or tar.gz is expected)");
  return EntryError(kHttpBadRequest, code, entry, text);
}

// What the first pass learns about the top level, to decide whether to strip a wrapper directory.
struct TopLevel {
  std::set<std::string> names;
  bool file_at_top = false;
  bool nested = false;
};

std::string StrippedDirectory(const TopLevel& top) {
  if (top.names.size() == 1 && !top.file_at_top && top.nested) return *top.names.begin();
  return "";
}

// One pass over the archive, feeding `writer`. With `top` set this is the checking pass (data is
// skipped, the writer writes nothing); otherwise entries under `strip` lose that first component.
ApiResult<Done> WalkTar(std::string_view data, SafeTreeWriter& writer, TopLevel* top,
                        const std::string& strip, int max_depth) {
  const ScopedUtf8Locale utf8;
  ArchiveReader a(archive_read_new());
  if (!a) return MakeError(kHttpInternal, "internal", "archive_read_new failed");
  // Only gzip and tar: zip, cpio, 7z and the rest are not package formats here.
  archive_read_support_filter_gzip(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK)
    return ReadError(a.get(), "");
  std::string buf(kReadChunk, '\0');
  for (;;) {
    struct archive_entry* e = nullptr;
    const int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return ReadError(a.get(), "");
    const char* raw = archive_entry_pathname(e);
    if (raw == nullptr)
      return MakeError(kHttpBadRequest, "unsafe_path", "an entry has no readable name");
    const std::string name = raw;
    if (const char* target = archive_entry_hardlink(e)) {
      return EntryError(kHttpBadRequest, "link_entry", name,
                        std::string("hard link to ") + target + " (links are refused)");
    }
    const mode_t type = archive_entry_filetype(e);
    if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(e);
      return EntryError(
          kHttpBadRequest, "link_entry", name,
          std::string("symbolic link to ") + (target ? target : "?") + " (links are refused)");
    }
    if (type != AE_IFREG && type != AE_IFDIR) {
      const char* kind = type == AE_IFCHR    ? "character device"
                         : type == AE_IFBLK  ? "block device"
                         : type == AE_IFIFO  ? "fifo"
                         : type == AE_IFSOCK ? "socket"
                                             : "unknown file type";
      return EntryError(kHttpBadRequest, "special_file", name,
                        std::string(kind) + " (only regular files and directories are accepted)");
    }
    auto parts = SplitEntryPath(name, max_depth);
    if (!parts.ok()) return parts.error();
    if (top && !parts->empty()) {
      top->names.insert(parts->front());
      if (parts->size() > 1)
        top->nested = true;
      else if (type == AE_IFREG)
        top->file_at_top = true;
    }
    const size_t from = !strip.empty() && !parts->empty() && parts->front() == strip ? 1 : 0;
    const std::string rel = Join(parts.value(), from);
    if (type == AE_IFDIR) {
      if (auto ok = writer.AddDirectory(rel.empty() ? "." : rel); !ok.ok()) return ok;
      continue;
    }
    const bool executable = (archive_entry_perm(e) & S_IXUSR) != 0;
    const int64_t declared = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
    if (auto ok = writer.BeginFile(rel.empty() ? name : rel, executable, declared); !ok.ok())
      return ok;
    if (top) {
      if (archive_read_data_skip(a.get()) != ARCHIVE_OK) return ReadError(a.get(), name);
    } else {
      for (;;) {
        const la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
        if (n < 0) return ReadError(a.get(), name);
        if (n == 0) break;
        if (auto ok = writer.Write(std::string_view(buf.data(), static_cast<size_t>(n))); !ok.ok())
          return ok;
      }
    }
    if (auto ok = writer.EndFile(); !ok.ok()) return ok;
  }
  return Done{};
}

}  // namespace

ApiResult<ExtractStats> ExtractTarGz(std::string_view data, const fs::path& dest,
                                     const ExtractLimits& limits) {
  const auto size = static_cast<int64_t>(data.size());
  if (size > limits.max_archive_bytes) {
    return MakeError(kHttpTooLarge, "archive_too_large",
                     "archive: " + std::to_string(size) + " bytes, more than the " +
                         std::to_string(limits.max_archive_bytes) + " accepted");
  }
  std::error_code ec;
  if (!fs::is_directory(dest, ec) || !fs::is_empty(dest, ec)) {
    return MakeError(kHttpInternal, "internal", dest.string() + ": not an empty directory");
  }
  // First pass: every rule checked on the headers and declared sizes before anything is written,
  // and the top level learnt so a wrapper directory can be stripped in the second.
  TopLevel top;
  {
    SafeTreeWriter check({}, limits, size);
    if (auto ok = WalkTar(data, check, &top, "", limits.max_depth); !ok.ok()) return ok.error();
  }
  SafeTreeWriter writer(dest, limits, size);
  if (auto ok = WalkTar(data, writer, nullptr, StrippedDirectory(top), limits.max_depth);
      !ok.ok()) {
    return ok.error();
  }
  return writer.Finish();
}

// ---------------------------------------------------------------------------------------------
// Packing

Result<std::vector<TreeEntry>> ListPackageTree(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound(dir.string() + ": not a directory");
  std::vector<TreeEntry> entries;
  for (fs::recursive_directory_iterator it(dir, ec), end; it != end; it.increment(ec)) {
    if (ec) break;
    const std::string rel = it->path().lexically_relative(dir).generic_string();
    if (rel == ".git") {
      it.disable_recursion_pending();
      continue;
    }
    const auto st = it->symlink_status(ec);
    if (ec) break;
    if (fs::is_directory(st)) {
      entries.push_back({rel, true, false});
    } else if (fs::is_regular_file(st)) {
      const bool exec = (st.permissions() & fs::perms::owner_exec) != fs::perms::none;
      entries.push_back({rel, false, exec});
    } else {
      return Status::InvalidArgument(
          rel + ": not a regular file or directory (links and special files are refused)");
    }
  }
  if (ec) return Status::IoError(dir.string() + ": " + ec.message());
  std::sort(entries.begin(), entries.end(),
            [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
  return entries;
}

Result<std::string> ReadPackageFile(const fs::path& file) {
  Fd fd(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.get() < 0)
    return Status::IoError(file.string() + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(file.string() + ": not a regular file");
  }
  std::string out;
  std::string buf(kReadChunk, '\0');
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IoError(file.string() + ": read: " + std::strerror(errno));
    if (n == 0) break;
    out.append(buf.data(), static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> PackTarGz(const fs::path& dir, const std::string& prefix) {
  auto entries = ListPackageTree(dir);
  if (!entries.ok()) return entries.status();
  const std::string lead = prefix.empty() ? "" : prefix + "/";
  TarGzWriter writer;
  if (!prefix.empty()) {
    if (Status s = writer.AddDirectory(prefix); !s.ok()) return s;
  }
  for (const TreeEntry& e : entries.value()) {
    if (e.directory) {
      if (Status s = writer.AddDirectory(lead + e.path); !s.ok()) return s;
      continue;
    }
    auto content = ReadPackageFile(dir / e.path);
    if (!content.ok()) return content.status();
    if (Status s = writer.AddFile(lead + e.path, content.value(), e.executable); !s.ok()) return s;
  }
  return writer.Finish();
}

// ---------------------------------------------------------------------------------------------
// TarGzWriter

namespace {

la_ssize_t AppendToString(struct archive*, void* client, const void* buffer, size_t length) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buffer), length);
  return static_cast<la_ssize_t>(length);
}

struct EntryDeleter {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
using Entry = std::unique_ptr<struct archive_entry, EntryDeleter>;

// The fields that make an archive reproducible: no owner names, ids 0, mtime 0.
Entry NewEntry(const std::string& path, mode_t type, mode_t perm, int64_t size) {
  Entry e(archive_entry_new());
  archive_entry_set_pathname(e.get(), path.c_str());
  archive_entry_set_filetype(e.get(), type);
  archive_entry_set_perm(e.get(), perm);
  archive_entry_set_size(e.get(), size);
  archive_entry_set_mtime(e.get(), 0, 0);
  archive_entry_set_uid(e.get(), 0);
  archive_entry_set_gid(e.get(), 0);
  return e;
}

}  // namespace

TarGzWriter::TarGzWriter() : archive_(archive_write_new()) {
  if (archive_ == nullptr) {
    status_ = Status::Internal("archive_write_new failed");
    return;
  }
  const bool ok =
      archive_write_add_filter_gzip(archive_) == ARCHIVE_OK &&
      // No timestamp in the gzip header: the same tree gives the same bytes.
      archive_write_set_filter_option(archive_, "gzip", "timestamp", nullptr) == ARCHIVE_OK &&
      // ustar where it suffices, pax headers only for what ustar cannot hold (long names).
      archive_write_set_format_pax_restricted(archive_) == ARCHIVE_OK &&
      // Without this libarchive pads the compressed stream to a 10 KiB block with zeros.
      archive_write_set_bytes_in_last_block(archive_, 1) == ARCHIVE_OK &&
      archive_write_open2(archive_, &out_, nullptr, AppendToString, nullptr, nullptr) == ARCHIVE_OK;
  if (!ok) status_ = Fail("opening the tar writer");
}

TarGzWriter::~TarGzWriter() {
  if (archive_ != nullptr) archive_write_free(archive_);
}

Status TarGzWriter::Fail(const std::string& what) {
  const char* msg = archive_ ? archive_error_string(archive_) : nullptr;
  status_ = Status::Internal(what + ": " + (msg ? msg : "libarchive error"));
  return status_;
}

Status TarGzWriter::AddFile(const std::string& path, std::string_view content, bool executable) {
  if (!status_.ok()) return status_;
  if (finished_) return Status::FailedPrecondition(path + ": the archive is already finished");
  const ScopedUtf8Locale utf8;
  Entry e = NewEntry(path, AE_IFREG, executable ? kExecutableMode : kFileMode,
                     static_cast<int64_t>(content.size()));
  if (archive_write_header(archive_, e.get()) != ARCHIVE_OK) return Fail(path);
  while (!content.empty()) {
    const la_ssize_t n = archive_write_data(archive_, content.data(), content.size());
    if (n <= 0) return Fail(path);
    content.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status TarGzWriter::AddDirectory(const std::string& path) {
  if (!status_.ok()) return status_;
  if (finished_) return Status::FailedPrecondition(path + ": the archive is already finished");
  const ScopedUtf8Locale utf8;
  Entry e = NewEntry(path.ends_with('/') ? path : path + "/", AE_IFDIR, kDirectoryMode, 0);
  if (archive_write_header(archive_, e.get()) != ARCHIVE_OK) return Fail(path);
  return Status::Ok();
}

Result<std::string> TarGzWriter::Finish() {
  if (!status_.ok()) return status_;
  if (finished_) return Status::FailedPrecondition("the archive is already finished");
  finished_ = true;
  const ScopedUtf8Locale utf8;
  if (archive_write_close(archive_) != ARCHIVE_OK) return Fail("closing the archive");
  return std::move(out_);
}

}  // namespace ahub::hub
