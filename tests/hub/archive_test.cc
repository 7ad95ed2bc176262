// Tests of hub/archive.h: packing and extracting package tarballs, and every refusal of a
// malicious or oversized archive (each crafted here with libarchive's writer).
#include "hub/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "tests/hub/archive_builder.h"
#include "tests/hub/tree_test_util.h"

namespace ahub::hub {
namespace {

namespace fs = std::filesystem;
using tree_test::ArchiveBuilder;
using tree_test::IsEmptyDir;
using tree_test::RandomBytes;
using tree_test::ReadTree;
using tree_test::TempDir;
using tree_test::WriteFile;

void MakeSamplePackage(const fs::path& dir) {
  WriteFile(dir, "package.yaml", "format: ahub/1\nid: sample\n");
  WriteFile(dir, "run.sh", "#!/bin/sh\necho hi\n", /*exec=*/true);
  WriteFile(dir, "src/lib/util.py", "def f():\n    return 1\n");
  WriteFile(dir, "data/blob.bin", RandomBytes(5000));
  fs::create_directories(dir / "empty");
  fs::permissions(dir / "empty", fs::perms(0755));
}

// The headers of an archive as "path mode uid gid mtime uname gname".
std::vector<std::string> Headers(const std::string& data) {
  std::vector<std::string> out;
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_all(a);
  EXPECT_EQ(archive_read_open_memory(a, data.data(), data.size()), ARCHIVE_OK);
  archive_entry* e = nullptr;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%o", archive_entry_perm(e));
    const char* uname = archive_entry_uname(e);
    const char* gname = archive_entry_gname(e);
    out.push_back(std::string(archive_entry_pathname(e)) + " " + mode + " " +
                  std::to_string(archive_entry_uid(e)) + " " +
                  std::to_string(archive_entry_gid(e)) + " " +
                  std::to_string(archive_entry_mtime(e)) + " " + (uname ? uname : "") + " " +
                  (gname ? gname : ""));
  }
  archive_read_free(a);
  return out;
}

TEST(ArchiveTest, PackThenExtractRoundTrips) {
  TempDir tmp;
  const fs::path src = tmp.Sub("src");
  MakeSamplePackage(src);
  // Names a plain ustar header cannot hold: pax records, read back whatever the process locale.
  WriteFile(src, "data/données-√.csv", "x,y\n");
  WriteFile(src, "data/" + std::string(150, 'n') + ".txt", "long\n");
  auto packed = PackTarGz(src);
  ASSERT_TRUE(packed.ok()) << packed.status().ToString();
  const fs::path dest = tmp.Sub("dest");
  auto stats = ExtractTarGz(packed.value(), dest, ExtractLimits{});
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  EXPECT_EQ(ReadTree(dest), ReadTree(src));
  EXPECT_EQ(ReadTree(dest)["run.sh"].substr(0, 5), "f 755");
  EXPECT_EQ(stats->files, 6);
  EXPECT_EQ(stats->entries, 10);  // 6 files, data, empty, src, src/lib
  int64_t bytes = 0;
  for (const auto& e : fs::recursive_directory_iterator(src)) {
    if (e.is_regular_file()) bytes += static_cast<int64_t>(e.file_size());
  }
  EXPECT_EQ(stats->unpacked_bytes, bytes);
  EXPECT_GT(bytes, 5000);
}

TEST(ArchiveTest, PackIsDeterministicAndCarriesNoOwnerOrTime) {
  TempDir tmp;
  const fs::path src = tmp.Sub("src");
  MakeSamplePackage(src);
  auto first = PackTarGz(src, "pkg");
  fs::last_write_time(src / "package.yaml",
                      fs::file_time_type::clock::now() - std::chrono::hours(50));
  auto second = PackTarGz(src, "pkg");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first.value(), second.value());
  // No timestamp in the gzip header either (bytes 4..7).
  EXPECT_EQ(first->substr(4, 4), std::string(4, '\0'));
  const std::vector<std::string> expected = {
      "pkg/ 755 0 0 0  ",       "pkg/data/ 755 0 0 0  ",        "pkg/data/blob.bin 644 0 0 0  ",
      "pkg/empty/ 755 0 0 0  ", "pkg/package.yaml 644 0 0 0  ", "pkg/run.sh 755 0 0 0  ",
      "pkg/src/ 755 0 0 0  ",   "pkg/src/lib/ 755 0 0 0  ",     "pkg/src/lib/util.py 644 0 0 0  "};
  EXPECT_EQ(Headers(first.value()), expected);
}

TEST(ArchiveTest, PackSkipsGitAndRefusesLinks) {
  TempDir tmp;
  const fs::path src = tmp.Sub("src");
  WriteFile(src, "package.yaml", "x");
  WriteFile(src, ".git/config", "[core]");
  auto packed = PackTarGz(src);
  ASSERT_TRUE(packed.ok());
  EXPECT_EQ(Headers(packed.value()), std::vector<std::string>{"package.yaml 644 0 0 0  "});
  fs::create_symlink("package.yaml", src / "alias");
  auto refused = PackTarGz(src);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("alias"), std::string::npos)
      << refused.status().message();
}

TEST(ArchiveTest, StripsASingleTopLevelDirectory) {
  const std::string data = ArchiveBuilder()
                               .Dir("mypkg/")
                               .File("mypkg/package.yaml", "id: x\n")
                               .File("mypkg/src/a.py", "print(1)\n", 0700)
                               .Finish();
  TempDir tmp;
  auto stats = ExtractTarGz(data, tmp.path(), ExtractLimits{});
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  const std::map<std::string, std::string> expected = {
      {"package.yaml", "f 644 id: x\n"}, {"src", "d 755"}, {"src/a.py", "f 755 print(1)\n"}};
  EXPECT_EQ(ReadTree(tmp.path()), expected);
}

TEST(ArchiveTest, AcceptsDotSlashEntriesAndKeepsSeveralTopLevelNames) {
  const std::string data = ArchiveBuilder()
                               .Dir("./")
                               .File("./package.yaml", "id: x\n")
                               .Dir("./src/")
                               .File("./src/a.py", "1")
                               .Finish();
  TempDir tmp;
  ASSERT_TRUE(ExtractTarGz(data, tmp.path(), ExtractLimits{}).ok());
  EXPECT_EQ(ReadTree(tmp.path()).size(), 3u);
  EXPECT_TRUE(fs::exists(tmp.path() / "package.yaml"));
  EXPECT_TRUE(fs::exists(tmp.path() / "src/a.py"));  // "src" was not taken for a wrapper

  // A lone top-level file is not a wrapper directory either.
  TempDir other;
  ASSERT_TRUE(
      ExtractTarGz(ArchiveBuilder().File("only.txt", "1").Finish(), other.path(), ExtractLimits{})
          .ok());
  EXPECT_TRUE(fs::exists(other.path() / "only.txt"));
}

TEST(ArchiveTest, AcceptsPlainTarAndNormalisesModes) {
  const std::string data = ArchiveBuilder(ArchiveBuilder::Kind::kTar)
                               .Dir("d", 0700)
                               .File("d/setuid", "x", 04777)
                               .File("private", "y", 0600)
                               .File("group-exec", "z", 0710)
                               .Finish();
  TempDir tmp;
  ASSERT_TRUE(ExtractTarGz(data, tmp.path(), ExtractLimits{}).ok());
  const std::map<std::string, std::string> expected = {
      {"d", "d 755"}, {"d/setuid", "f 755 x"}, {"private", "f 644 y"}, {"group-exec", "f 755 z"}};
  EXPECT_EQ(ReadTree(tmp.path()), expected);
}

TEST(ArchiveTest, SplitEntryPathRules) {
  auto ok = SplitEntryPath("./a/b/", 32);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.value(), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(SplitEntryPath("./", 32).ok());
  EXPECT_TRUE(SplitEntryPath("./", 32)->empty());
  const std::vector<std::string> bad_paths = {"",   "/abs", "a//b",  "a/./b",
                                              "..", "a/..", "a\x01", "a/b/c"};
  for (const std::string& bad : bad_paths) {
    auto r = SplitEntryPath(bad, 2);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "unsafe_path") << bad;
  }
}

struct Refusal {
  std::string name;
  std::function<std::string()> archive;
  std::string code;
  int http;
  std::string message;  // a part of the message
  std::function<void(ExtractLimits&)> limits = [](ExtractLimits&) {};
};

// Every refusal: the code, the status, a message naming the entry, and an empty `dest`. Each bad
// archive begins with a good file, so an extractor that wrote before checking would be caught.
TEST(ArchiveTest, RefusesEachBadArchiveAndLeavesDestEmpty) {
  const std::string zeros(16 << 20, '\0');
  const std::vector<Refusal> cases = {
      {"absolute",
       [] { return ArchiveBuilder().File("ok", "1").File("/etc/passwd", "x").Finish(); },
       "unsafe_path", 400, "entry /etc/passwd: absolute path"},
      {"dotdot", [] { return ArchiveBuilder().File("ok", "1").File("../x", "x").Finish(); },
       "unsafe_path", 400, "entry ../x: path leaves the package directory"},
      {"inner dotdot",
       [] { return ArchiveBuilder().File("ok", "1").File("a/../../x", "x").Finish(); },
       "unsafe_path", 400, "entry a/../../x: path leaves"},
      {"empty component",
       [] { return ArchiveBuilder().File("ok", "1").File("a//b", "x").Finish(); }, "unsafe_path",
       400, "entry a//b: empty path component"},
      {"too deep", [] { return ArchiveBuilder().File("ok", "1").File("a/b/c/d/e", "x").Finish(); },
       "unsafe_path", 400, "deeper than 4", [](ExtractLimits& l) { l.max_depth = 4; }},
      {"symlink",
       [] { return ArchiveBuilder().File("ok", "1").Symlink("evil", "/etc/passwd").Finish(); },
       "link_entry", 400, "entry evil: symbolic link to /etc/passwd"},
      {"hardlink", [] { return ArchiveBuilder().File("ok", "1").Hardlink("evil", "ok").Finish(); },
       "link_entry", 400, "entry evil: hard link to ok"},
      {"char device",
       [] { return ArchiveBuilder().File("ok", "1").Special("null", AE_IFCHR).Finish(); },
       "special_file", 400, "entry null: character device"},
      {"fifo", [] { return ArchiveBuilder().File("ok", "1").Special("pipe", AE_IFIFO).Finish(); },
       "special_file", 400, "entry pipe: fifo"},
      {"duplicate", [] { return ArchiveBuilder().File("ok", "1").File("ok", "2").Finish(); },
       "duplicate_entry", 400, "entry ok: named twice"},
      {"file then child",
       [] { return ArchiveBuilder().File("ok", "1").File("ok/x", "2").Finish(); },
       "duplicate_entry", 400, "entry ok/x: ok is already a file"},
      {"too many entries",
       [] {
         ArchiveBuilder b;
         for (int i = 0; i < 6; ++i) b.File("f" + std::to_string(i), "x");
         return b.Finish();
       },
       "too_many_entries", 413, "entry f5: more than 5 entries",
       [](ExtractLimits& l) { l.max_entries = 5; }},
      {"file too large",
       [] { return ArchiveBuilder().File("ok", "1").File("big", std::string(11, 'x')).Finish(); },
       "file_too_large", 413, "entry big: larger than 10 bytes",
       [](ExtractLimits& l) { l.max_file_bytes = 10; }},
      {"unpacked too large",
       [] {
         return ArchiveBuilder()
             .File("a", std::string(10, 'x'))
             .File("b", std::string(10, 'x'))
             .Finish();
       },
       "unpacked_too_large", 413, "entry b: the files add up to more than 15",
       [](ExtractLimits& l) { l.max_unpacked_bytes = 15; }},
      {"zip bomb", [&] { return ArchiveBuilder().File("ok", "1").File("zeros", zeros).Finish(); },
       "compression_ratio", 413, "entry zeros: unpacks to more than 200 times"},
      {"archive too large", [] { return ArchiveBuilder().File("ok", RandomBytes(4000)).Finish(); },
       "archive_too_large", 413, "more than the 1000 accepted",
       [](ExtractLimits& l) { l.max_archive_bytes = 1000; }},
      {"truncated",
       [] {
         const std::string full =
             ArchiveBuilder().File("ok", "1").File("noise", RandomBytes(200000)).Finish();
         return full.substr(0, full.size() / 2);
       },
       "truncated_archive", 400, "entry noise: Truncated"},
      {"random bytes", [] { return RandomBytes(3000); }, "not_an_archive", 400, "archive:"},
      {"empty input", [] { return std::string(); }, "not_an_archive", 400, "archive:"},
      {"zip", [] { return ArchiveBuilder(ArchiveBuilder::Kind::kZip).File("ok", "1").Finish(); },
       "not_an_archive", 400, "archive:"},
  };
  for (const Refusal& c : cases) {
    SCOPED_TRACE(c.name);
    ExtractLimits limits;
    c.limits(limits);
    TempDir tmp;
    auto r = ExtractTarGz(c.archive(), tmp.path(), limits);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, c.code);
    EXPECT_EQ(r.error().http, c.http);
    EXPECT_NE(r.error().message.find(c.message), std::string::npos) << r.error().message;
    EXPECT_TRUE(IsEmptyDir(tmp.path()));
  }
}

// The limits hold for the bytes actually written, whatever was declared, and a refusal midway
// removes what was already written.
TEST(ArchiveTest, WriterChecksBytesWrittenAndRemovesThemOnRefusal) {
  TempDir tmp;
  ExtractLimits limits;
  limits.max_compression_ratio = 10;
  limits.ratio_free_bytes = 0;
  {
    SafeTreeWriter writer(tmp.path(), limits, /*archive_bytes=*/100);
    ASSERT_TRUE(writer.AddDirectory("a/b").ok());
    ASSERT_TRUE(writer.BeginFile("a/b/first", false, /*declared_size=*/1).ok());
    ASSERT_TRUE(writer.Write(std::string(600, 'x')).ok());
    ASSERT_TRUE(writer.EndFile().ok());
    ASSERT_TRUE(writer.BeginFile("second", false, -1).ok());
    ASSERT_TRUE(writer.Write(std::string(400, 'x')).ok());  // 1000 bytes: exactly 10 x 100
    EXPECT_EQ(tree_test::ReadFile(tmp.path() / "a/b/first"), std::string(600, 'x'));
    auto over = writer.Write("x");
    ASSERT_FALSE(over.ok());
    EXPECT_EQ(over.error().code, "compression_ratio");
    EXPECT_EQ(over.error().message.substr(0, 13), "entry second:");
  }
  EXPECT_TRUE(IsEmptyDir(tmp.path()));
}

TEST(ArchiveTest, WriterKeepsTheTreeOnceFinished) {
  TempDir tmp;
  {
    SafeTreeWriter writer(tmp.path(), ExtractLimits{}, 0);
    ASSERT_TRUE(writer.BeginFile("x/y", true, 2).ok());
    ASSERT_TRUE(writer.Write("hi").ok());
    ASSERT_TRUE(writer.EndFile().ok());
    auto stats = writer.Finish();
    ASSERT_TRUE(stats.ok());
    EXPECT_EQ(stats->files, 1);
    EXPECT_EQ(stats->entries, 1);
    EXPECT_EQ(stats->unpacked_bytes, 2);
  }
  const std::map<std::string, std::string> expected = {{"x", "d 755"}, {"x/y", "f 755 hi"}};
  EXPECT_EQ(ReadTree(tmp.path()), expected);
}

TEST(ArchiveTest, RefusesToWriteIntoAnExistingEntry) {
  TempDir tmp;
  WriteFile(tmp.path(), "pre-existing", "keep me");
  {
    SafeTreeWriter writer(tmp.path(), ExtractLimits{}, 0);
    auto r = writer.BeginFile("pre-existing", false, 1);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, "io_error");
  }
  // The refusal's clean-up removes only what the writer created.
  EXPECT_EQ(tree_test::ReadFile(tmp.path() / "pre-existing"), "keep me");
}

}  // namespace
}  // namespace ahub::hub
