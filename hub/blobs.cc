#include "hub/blobs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "runner/sha256.h"

namespace ahub::hub {
namespace fs = std::filesystem;

namespace {

bool IsSha256(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status Errno(const fs::path& path, const char* what) {
  return Status::IoError(path.string() + ": " + what + ": " + std::strerror(errno));
}

}  // namespace

Status WriteFileDurably(const fs::path& path, std::string_view data) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const fs::path tmp = path.string() + ".tmp" + std::to_string(rng());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno(tmp, "create");
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = Errno(tmp, "write");
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = Errno(tmp, "fsync");
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = Errno(path, "rename");
    ::unlink(tmp.c_str());
    return s;
  }
  // The rename is durable only once the directory entry is.
  const int dfd = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

fs::path BlobStore::PathOf(const std::string& sha256) const { return root_ / sha256.substr(0, 2) / sha256; }

Result<std::string> BlobStore::Put(std::string_view data) {
  const std::string sha = Sha256Hex(data);
  const fs::path path = PathOf(sha);
  std::error_code ec;
  if (fs::exists(path, ec)) return sha;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return Status::IoError(path.parent_path().string() + ": " + ec.message());
  Status s = WriteFileDurably(path, data);
  if (!s.ok()) return s;
  return sha;
}

std::optional<std::string> BlobStore::Get(const std::string& sha256) const {
  if (!IsSha256(sha256)) return std::nullopt;
  std::ifstream in(PathOf(sha256), std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace ahub::hub
