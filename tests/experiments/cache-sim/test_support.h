// Helpers shared by the cache-sim tests: temporary directories, running a program (the built
// cache-sim, CPython) and capturing its exit status, stdout and stderr.
//
// Thread-safety: none needed; GoogleTest runs the cases of one binary sequentially.
#ifndef AHUB_TESTS_EXPERIMENTS_CACHE_SIM_TEST_SUPPORT_H_
#define AHUB_TESTS_EXPERIMENTS_CACHE_SIM_TEST_SUPPORT_H_

#include <filesystem>
#include <string>
#include <vector>

namespace cachesim::testing {

// The interpreter the seed package's figures were produced with; tests fail (not skip) when it
// is missing, because a skipped comparison would pass silently.
inline constexpr const char* kPython = "/usr/bin/python3";

std::string ReferenceScript();  // bench/cache-sim/reference.py
std::string CacheSimBinary();   // <build>/bin/cache-sim

// A fresh directory, removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;  // -1 when the program did not exit normally
  std::string out;
  std::string err;
};

// Runs argv[0] with the arguments (no shell interpretation of their contents).
CommandResult RunCommand(const std::vector<std::string>& argv);

// Runs `kPython ReferenceScript() args...` and fails the current test on a non-zero exit.
std::string RunReference(const std::vector<std::string>& args);

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& contents);

}  // namespace cachesim::testing

#endif  // AHUB_TESTS_EXPERIMENTS_CACHE_SIM_TEST_SUPPORT_H_
