#include "test_support.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace cachesim::testing {
namespace {

std::string ShellQuote(const std::string& word) {
  std::string quoted = "'";
  for (const char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  quoted += "'";
  return quoted;
}

}  // namespace

std::string ReferenceScript() {
  return std::string(AHUB_SOURCE_DIR) + "/bench/cache-sim/reference.py";
}

std::string CacheSimBinary() { return std::string(AHUB_BIN_DIR) + "/cache-sim"; }

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "cache-sim-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

CommandResult RunCommand(const std::vector<std::string>& argv) {
  const TempDir capture;
  std::string command;
  for (const std::string& word : argv) command += ShellQuote(word) + " ";
  command += ">";
  command += ShellQuote(capture.File("out"));
  command += " 2>";
  command += ShellQuote(capture.File("err"));
  const int status = std::system(command.c_str());
  CommandResult result;
  result.exit_code = (status != -1 && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  result.out = ReadFile(capture.File("out"));
  result.err = ReadFile(capture.File("err"));
  return result;
}

std::string RunReference(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kPython, ReferenceScript()};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult result = RunCommand(argv);
  EXPECT_EQ(result.exit_code, 0) << "reference.py failed: " << result.err;
  return result.out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace cachesim::testing
