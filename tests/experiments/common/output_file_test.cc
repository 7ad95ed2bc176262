// experiments/common/output_file: the atomic write every experiment's --out goes through.
#include "experiments/common/output_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

TEST(OutputFileTest, ReplacesTheFileAndLeavesNoTemporary) {
  const fs::path dir = fs::temp_directory_path() / ("exp-atomic-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / "r.json";
  ASSERT_EQ(expcommon::WriteFileAtomically(file.string(), "old"), "");
  ASSERT_EQ(expcommon::WriteFileAtomically(file.string(), "new\n"), "");
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "new\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  const std::string error = expcommon::WriteFileAtomically((dir / "no-such-dir" / "r.json").string(), "x");
  EXPECT_NE(error.find("no-such-dir"), std::string::npos) << error;
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  fs::remove_all(dir);
}

}  // namespace
