// Helpers shared by the archive and repository tests: temporary directories, writing a package
// tree, and reading a tree back (content and mode of every entry) to compare two of them.
#pragma once

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace ahub::hub::tree_test {

namespace fs = std::filesystem;

// A fresh directory under the system temp directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "ahub-tree-test-XXXXXX").string();
    path_ = ::mkdtemp(templ.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  // A new empty subdirectory.
  fs::path Sub(const std::string& name) const {
    fs::create_directories(path_ / name);
    return path_ / name;
  }

 private:
  fs::path path_;
};

inline void WriteFile(const fs::path& dir, const std::string& rel, const std::string& content,
                      bool exec = false) {
  const fs::path p = dir / rel;
  fs::create_directories(p.parent_path());
  // Directory modes must not depend on the umask the tests run under.
  for (fs::path d = p.parent_path(); d != dir && d.has_relative_path(); d = d.parent_path()) {
    fs::permissions(d, fs::perms(0755));
  }
  std::ofstream(p, std::ios::binary) << content;
  fs::permissions(p, exec ? fs::perms(0755) : fs::perms(0644));
}

inline std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every entry under `dir` as "path" -> "d 755" for a directory or "f 644 <content>" for a file
// ("l" for anything else), so EXPECT_EQ on two trees shows what differs.
inline std::map<std::string, std::string> ReadTree(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    struct stat st {};
    ::lstat(e.path().c_str(), &st);
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%03o", st.st_mode & 07777);
    const std::string rel = e.path().lexically_relative(dir).generic_string();
    if (S_ISDIR(st.st_mode))
      out[rel] = std::string("d ") + mode;
    else if (S_ISREG(st.st_mode))
      out[rel] = std::string("f ") + mode + " " + ReadFile(e.path());
    else
      out[rel] = "l";
  }
  return out;
}

inline bool IsEmptyDir(const fs::path& dir) { return fs::is_directory(dir) && fs::is_empty(dir); }

}  // namespace ahub::hub::tree_test
