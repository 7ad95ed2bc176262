#include "runner/sha256.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <memory>
#include <vector>

namespace ahub {
namespace {

namespace fs = std::filesystem;

class Hasher {
 public:
  Hasher() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
  void Update(std::string_view data) { EVP_DigestUpdate(ctx_.get(), data.data(), data.size()); }
  std::string HexDigest() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), md.data(), &len);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
      out += kHex[md[i] >> 4];
      out += kHex[md[i] & 0xf];
    }
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

Status HashFileInto(const fs::path& file, Hasher& h) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::IoError(file.string() + ": cannot open");
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.Update(std::string_view(buf.data(), static_cast<size_t>(in.gcount())));
  }
  if (in.bad()) return Status::IoError(file.string() + ": read error");
  return Status::Ok();
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  Hasher h;
  h.Update(data);
  return h.HexDigest();
}

Result<std::string> Sha256File(const fs::path& file) {
  Hasher h;
  if (Status s = HashFileInto(file, h); !s.ok()) return s;
  return h.HexDigest();
}

Result<std::string> PackageContentSha256(const fs::path& dir) {
  std::error_code ec;
  std::vector<std::string> files;
  for (fs::recursive_directory_iterator it(dir, ec), end; it != end; it.increment(ec)) {
    if (ec) break;
    const fs::path rel = it->path().lexically_relative(dir);
    if (rel.begin()->string() == ".git") {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    const auto st = it->symlink_status();
    if (fs::is_directory(st)) continue;
    if (!fs::is_regular_file(st)) {
      return Status::InvalidArgument(rel.string() + ": not a regular file (links and special files are refused)");
    }
    files.push_back(rel.generic_string());
  }
  if (ec) return Status::IoError(dir.string() + ": " + ec.message());
  std::sort(files.begin(), files.end());
  Hasher h;
  for (const std::string& rel : files) {
    const auto perms = fs::status(dir / rel).permissions();
    const bool exec = (perms & fs::perms::owner_exec) != fs::perms::none;
    // Length-prefixed fields keep distinct trees from hashing alike.
    h.Update(std::to_string(rel.size()) + ":" + rel + (exec ? ":x:" : ":-:"));
    h.Update(std::to_string(fs::file_size(dir / rel)) + ":");
    if (Status s = HashFileInto(dir / rel, h); !s.ok()) return s;
  }
  return h.HexDigest();
}

}  // namespace ahub
