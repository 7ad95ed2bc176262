// Tests of hub/repo.h: versions as commits in a bare repository (checked with the git CLI), and
// the git sources of a submission (repositories and bundles made with the git CLI).
#include "hub/repo.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/hub/tree_test_util.h"

namespace ahub::hub {
namespace {

namespace fs = std::filesystem;
using tree_test::IsEmptyDir;
using tree_test::ReadTree;
using tree_test::TempDir;
using tree_test::WriteFile;

constexpr int64_t kTime = 1700000000;

// Runs `git ARGS` (stdout captured, trailing newline dropped) with no user or system config.
std::string Git(const std::string& args, int* status = nullptr) {
  const std::string cmd =
      "env HOME=/nonexistent GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null "
      "GIT_AUTHOR_NAME=T GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=T "
      "GIT_COMMITTER_EMAIL=t@example.com "
      "git -c init.defaultBranch=main -c advice.detachedHead=false " +
      args + " 2>/dev/null";
  FILE* pipe = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int rc = pclose(pipe);
  if (status)
    *status = rc;
  else
    EXPECT_EQ(rc, 0) << cmd;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// ---------------------------------------------------------------------------------------------
// PackageRepo

class RepoTest : public ::testing::Test {
 protected:
  std::unique_ptr<PackageRepo> OpenRepo() {
    auto repo = PackageRepo::Open(tmp_.path() / "repos", "pkg");
    EXPECT_TRUE(repo.ok()) << repo.status().ToString();
    return std::move(repo.value());
  }
  std::string Commit(PackageRepo& repo, const fs::path& dir, int version) {
    auto id = repo.CommitVersion(dir, version, "version " + std::to_string(version) + "\n", "Ada",
                                 "ada@example.com", kTime + version);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? id.value() : "";
  }
  std::string GitDir() const { return (tmp_.path() / "repos/pkg.git").string(); }

  TempDir tmp_;
};

TEST_F(RepoTest, CommitsVersionsAsTaggedCommitsWithParents) {
  auto repo = OpenRepo();
  const fs::path v1 = tmp_.Sub("v1");
  WriteFile(v1, "package.yaml", "version: 1\n");
  WriteFile(v1, "run.sh", "#!/bin/sh\n", true);
  const std::string c1 = Commit(*repo, v1, 1);
  const fs::path v2 = tmp_.Sub("v2");
  WriteFile(v2, "package.yaml", "version: 2\n");
  const std::string c2 = Commit(*repo, v2, 2);

  EXPECT_EQ(repo->Versions(), (std::vector<int>{1, 2}));
  EXPECT_EQ(repo->CommitOf(1).value(), c1);
  EXPECT_EQ(repo->CommitOf(2).value(), c2);
  EXPECT_FALSE(repo->CommitOf(3).ok());
  EXPECT_EQ(Git("--git-dir=" + GitDir() + " rev-parse v1"), c1);
  EXPECT_EQ(Git("--git-dir=" + GitDir() + " rev-parse v2^"), c1);
  EXPECT_EQ(Git("--git-dir=" + GitDir() + " rev-list --count v1"), "1");
  EXPECT_EQ(Git("--git-dir=" + GitDir() + " ls-tree v1"),
            "100644 blob b82551848c644f63b8517a7bdf8be9a992e6f4da\tpackage.yaml\n"
            "100755 blob 1a2485251c33a70432394c93fb89330ef214bfc9\trun.sh");
  EXPECT_EQ(Git("--git-dir=" + GitDir() + " log -1 '--format=%an|%ae|%at|%s' v2"),
            "Ada|ada@example.com|1700000002|version 2");
  Git("--git-dir=" + GitDir() + " fsck --strict");

  // Reopening finds the versions again.
  repo.reset();
  EXPECT_EQ(OpenRepo()->Versions(), (std::vector<int>{1, 2}));
}

TEST_F(RepoTest, OpenRecoversFromACreationThatWasKilled) {
  // What a process killed inside git_repository_init leaves: no HEAD, a held config.lock. The
  // old Open failed on it for ever ("failed to lock file config.lock").
  fs::create_directories(GitDir());
  WriteFile(GitDir(), "config.lock", "");
  WriteFile(GitDir(), "description", "partial\n");
  auto repo = OpenRepo();
  const fs::path v1 = tmp_.Sub("v1");
  WriteFile(v1, "package.yaml", "version: 1\n");
  Commit(*repo, v1, 1);
  EXPECT_EQ(repo->Versions(), (std::vector<int>{1}));
  Git("--git-dir=" + GitDir() + " fsck --strict");
}

TEST_F(RepoTest, RemoveUnfinishedClearsOnlyInterruptedCreations) {
  const fs::path root = tmp_.path() / "repos";
  OpenRepo();
  fs::create_directories(root / ".other.git.unfinished-Ab12Cd");
  PackageRepo::RemoveUnfinished(root);
  EXPECT_FALSE(fs::exists(root / ".other.git.unfinished-Ab12Cd"));
  EXPECT_TRUE(fs::exists(root / "pkg.git/HEAD"));
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(root)) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"pkg.git"});  // no temporary name either
}

TEST_F(RepoTest, CommitIsDeterministic) {
  const fs::path dir = tmp_.Sub("v1");
  WriteFile(dir, "package.yaml", "x\n");
  WriteFile(dir, "a/b/c.txt", "deep\n");
  auto first = PackageRepo::Open(tmp_.path() / "one", "pkg");
  auto second = PackageRepo::Open(tmp_.path() / "two", "pkg");
  ASSERT_TRUE(first.ok() && second.ok());
  const std::string id = Commit(*first.value(), dir, 1);
  EXPECT_EQ(Commit(*second.value(), dir, 1), id);
  EXPECT_EQ(Commit(*first.value(), dir, 1), id);  // committing again changes nothing
  EXPECT_EQ(id.size(), 40u);
}

TEST_F(RepoTest, ParentIsTheHighestVersionBelow) {
  auto repo = OpenRepo();
  const fs::path dir = tmp_.Sub("d");
  WriteFile(dir, "f", "1");
  const std::string c1 = Commit(*repo, dir, 1);
  WriteFile(dir, "f", "3");
  const std::string c3 = Commit(*repo, dir, 3);
  WriteFile(dir, "f", "2");
  Commit(*repo, dir, 2);
  EXPECT_EQ(repo->Versions(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(Git("--git-dir=" + GitDir() + " rev-parse v3^"), c1);
  EXPECT_EQ(Git("--git-dir=" + GitDir() + " rev-parse v2^"), c1);
  EXPECT_EQ(repo->CommitOf(3).value(), c3);
}

TEST_F(RepoTest, ReplacesAStaleTag) {
  auto repo = OpenRepo();
  const fs::path dir = tmp_.Sub("d");
  WriteFile(dir, "f", "one");
  const std::string c1 = Commit(*repo, dir, 1);
  WriteFile(dir, "f", "crashed attempt");
  const std::string stale = Commit(*repo, dir, 2);
  WriteFile(dir, "f", "the acknowledged one");
  const std::string fresh = Commit(*repo, dir, 2);
  EXPECT_NE(stale, fresh);
  EXPECT_EQ(repo->CommitOf(2).value(), fresh);
  EXPECT_EQ(Git("--git-dir=" + GitDir() + " rev-parse v2^"), c1);
  EXPECT_EQ(Git("--git-dir=" + GitDir() + " show v2:f"), "the acknowledged one");
}

TEST_F(RepoTest, VersionsIgnoresOtherTags) {
  auto repo = OpenRepo();
  const fs::path dir = tmp_.Sub("d");
  WriteFile(dir, "f", "1");
  const std::string c1 = Commit(*repo, dir, 1);
  for (const char* tag : {"v01", "v2-rc", "vx", "release"})
    Git("--git-dir=" + GitDir() + " tag " + tag + " " + c1);
  EXPECT_EQ(repo->Versions(), std::vector<int>{1});
}

TEST_F(RepoTest, CheckoutWritesContentAndExecBit) {
  auto repo = OpenRepo();
  const fs::path dir = tmp_.Sub("d");
  WriteFile(dir, "package.yaml", "id: pkg\n");
  WriteFile(dir, "bin/run", "#!/bin/sh\nexit 0\n", true);
  WriteFile(dir, "data/x.csv", "a,b\n1,2\n");
  WriteFile(dir, ".git/HEAD", "not part of the package");
  Commit(*repo, dir, 1);
  const fs::path out = tmp_.Sub("out");
  ASSERT_TRUE(repo->Checkout(1, out).ok());
  const std::map<std::string, std::string> expected = {{"package.yaml", "f 644 id: pkg\n"},
                                                       {"bin", "d 755"},
                                                       {"bin/run", "f 755 #!/bin/sh\nexit 0\n"},
                                                       {"data", "d 755"},
                                                       {"data/x.csv", "f 644 a,b\n1,2\n"}};
  EXPECT_EQ(ReadTree(out), expected);
  EXPECT_FALSE(repo->Checkout(2, tmp_.Sub("none")).ok());
}

TEST_F(RepoTest, CommitRefusesLinks) {
  auto repo = OpenRepo();
  const fs::path dir = tmp_.Sub("d");
  WriteFile(dir, "f", "1");
  fs::create_symlink("/etc/passwd", dir / "evil");
  auto r = repo->CommitVersion(dir, 1, "m", "a", "a@example.com", kTime);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("evil"), std::string::npos) << r.status().message();
  EXPECT_TRUE(repo->Versions().empty());
}

TEST_F(RepoTest, OpenRefusesIdsThatAreNotPlainNames) {
  for (const char* id : {"", "../x", "a/b", ".hidden"}) {
    EXPECT_FALSE(PackageRepo::Open(tmp_.path(), id).ok()) << id;
  }
  EXPECT_FALSE(fs::exists(tmp_.path() / "x.git"));
}

TEST_F(RepoTest, ArchiveRoundTripsAndMatchesPackTarGz) {
  auto repo = OpenRepo();
  const fs::path dir = tmp_.Sub("d");
  WriteFile(dir, "package.yaml", "id: pkg\n");
  WriteFile(dir, "a-b", "dash sorts before slash\n");
  WriteFile(dir, "a/run", "#!/bin/sh\n", true);
  Commit(*repo, dir, 1);
  auto archived = repo->ArchiveTarGz(1, "pkg-v1");
  ASSERT_TRUE(archived.ok()) << archived.status().ToString();
  EXPECT_EQ(archived.value(), PackTarGz(dir, "pkg-v1").value());
  const fs::path out = tmp_.Sub("out");
  ASSERT_TRUE(ExtractTarGz(archived.value(), out, ExtractLimits{}).ok());
  EXPECT_EQ(ReadTree(out), ReadTree(dir));
  EXPECT_FALSE(repo->ArchiveTarGz(9, "").ok());
}

TEST_F(RepoTest, DiffReportsFilesStatsAndPatch) {
  auto repo = OpenRepo();
  const fs::path v1 = tmp_.Sub("v1");
  const std::string long_text = "line one\nline two\nline three\nline four\nline five\n";
  WriteFile(v1, "a.txt", "1\n2\n3\n");
  WriteFile(v1, "same.txt", "same\n");
  WriteFile(v1, "gone.txt", "x\ny\n");
  WriteFile(v1, "old-name.txt", long_text);
  Commit(*repo, v1, 1);
  const fs::path v2 = tmp_.Sub("v2");
  WriteFile(v2, "a.txt", "1\nTWO\n3\n4\n");
  WriteFile(v2, "same.txt", "same\n");
  WriteFile(v2, "new.txt", "n\n");
  WriteFile(v2, "new-name.txt", long_text);
  Commit(*repo, v2, 2);

  auto diff = repo->Diff(1, 2);
  ASSERT_TRUE(diff.ok()) << diff.status().ToString();
  EXPECT_EQ(diff->from, 1);
  EXPECT_EQ(diff->to, 2);
  std::vector<std::string> files;
  for (const DiffFile& f : diff->files) {
    files.push_back(f.path + " " + f.status + " +" + std::to_string(f.additions) + " -" +
                    std::to_string(f.deletions) +
                    (f.old_path.empty() ? "" : " from " + f.old_path));
  }
  EXPECT_EQ(files, (std::vector<std::string>{"a.txt modified +2 -1", "gone.txt deleted +0 -2",
                                             "new-name.txt renamed +0 -0 from old-name.txt",
                                             "new.txt added +1 -0"}));
  EXPECT_NE(diff->patch.find("--- a/a.txt\n+++ b/a.txt\n"), std::string::npos) << diff->patch;
  EXPECT_NE(diff->patch.find("-2\n+TWO\n"), std::string::npos) << diff->patch;

  auto from_nothing = repo->Diff(0, 1);
  ASSERT_TRUE(from_nothing.ok());
  EXPECT_EQ(from_nothing->files.size(), 4u);
  EXPECT_EQ(from_nothing->files[0].status, "added");
  EXPECT_FALSE(repo->Diff(1, 7).ok());
}

// ---------------------------------------------------------------------------------------------
// Git sources

class GitSourceTest : public ::testing::Test {
 protected:
  // A repository with two commits on main (tagged t1 and t2) and a branch `feature`.
  void SetUp() override {
    src_ = tmp_.Sub("src");
    Git("init -q " + src_.string());
    WriteFile(src_, "package.yaml", "id: demo\n");
    WriteFile(src_, "run.sh", "#!/bin/sh\necho 1\n", true);
    WriteFile(src_, "sub/x.txt", "first\n");
    GitIn("add -A");
    GitIn("commit -q -m one");
    GitIn("tag t1");
    first_ = GitIn("rev-parse HEAD");
    WriteFile(src_, "sub/x.txt", "second\n");
    GitIn("commit -q -am two");
    GitIn("tag -a t2 -m annotated");
    GitIn("checkout -q -b feature");
    WriteFile(src_, "feature.txt", "f\n");
    GitIn("add -A");
    GitIn("commit -q -m feature");
    GitIn("checkout -q main");
  }
  std::string GitIn(const std::string& args) { return Git("-C " + src_.string() + " " + args); }
  std::string Bundle(const std::string& revs, const std::string& options = "") {
    const fs::path out = tmp_.path() / "x.bundle";
    fs::remove(out);
    GitIn("bundle create -q " + options + " " + out.string() + " " + revs);
    return tree_test::ReadFile(out);
  }
  std::string XOf(const fs::path& dir) { return tree_test::ReadFile(dir / "sub/x.txt"); }

  TempDir tmp_;
  fs::path src_;
  std::string first_;
};

TEST_F(GitSourceTest, FetchesByPathAndFileUrl) {
  const fs::path a = tmp_.Sub("a");
  auto stats = FetchGitTree(src_.string(), "", a, ExtractLimits{});
  ASSERT_TRUE(stats.ok()) << stats.error().message;
  const std::map<std::string, std::string> expected = {{"package.yaml", "f 644 id: demo\n"},
                                                       {"run.sh", "f 755 #!/bin/sh\necho 1\n"},
                                                       {"sub", "d 755"},
                                                       {"sub/x.txt", "f 644 second\n"}};
  EXPECT_EQ(ReadTree(a), expected);
  EXPECT_EQ(stats->files, 3);
  EXPECT_EQ(stats->entries, 4);
  const fs::path b = tmp_.Sub("b");
  ASSERT_TRUE(FetchGitTree("file://" + src_.string(), "", b, ExtractLimits{}).ok());
  EXPECT_EQ(ReadTree(b), expected);
  // A bare clone is a repository too.
  Git("clone -q --bare " + src_.string() + " " + (tmp_.path() / "bare.git").string());
  const fs::path c = tmp_.Sub("c");
  ASSERT_TRUE(FetchGitTree((tmp_.path() / "bare.git").string(), "", c, ExtractLimits{}).ok());
  EXPECT_EQ(ReadTree(c), expected);
}

TEST_F(GitSourceTest, FetchesBranchTagAndCommit) {
  struct Case {
    std::string ref;
    std::string x;
    bool feature;
  };
  for (const Case& c :
       std::vector<Case>{{"feature", "second\n", true},
                         {"refs/heads/feature", "second\n", true},
                         {"t1", "first\n", false},
                         {"t2", "second\n", false},  // annotated: peeled to its commit
                         {first_, "first\n", false},
                         {first_.substr(0, 10), "first\n", false},
                         {"HEAD", "second\n", false}}) {
    SCOPED_TRACE(c.ref);
    TempDir dest;
    auto r = FetchGitTree(src_.string(), c.ref, dest.path(), ExtractLimits{});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(XOf(dest.path()), c.x);
    EXPECT_EQ(fs::exists(dest.path() / "feature.txt"), c.feature);
  }
}

TEST_F(GitSourceTest, RefusesNetworkUrlsAndUnknownRepositoriesOrRefs) {
  struct Case {
    std::string url;
    std::string ref;
    std::string code;
  };
  const fs::path plain = tmp_.Sub("plain");
  for (const Case& c :
       std::vector<Case>{{"http://example.com/r.git", "", "unsupported_git_url"},
                         {"https://example.com/r.git", "", "unsupported_git_url"},
                         {"ssh://git@example.com/r.git", "", "unsupported_git_url"},
                         {"git://example.com/r.git", "", "unsupported_git_url"},
                         {"git@example.com:r.git", "", "unsupported_git_url"},
                         {"file://example.com/r.git", "", "unsupported_git_url"},
                         {(tmp_.path() / "missing").string(), "", "git_not_found"},
                         {plain.string(), "", "git_not_found"},
                         {(src_ / "sub").string(), "", "git_not_found"},  // no upward search
                         {src_.string(), "no-such-branch", "git_ref_not_found"},
                         {src_.string(), "../../HEAD", "git_ref_not_found"},
                         {src_.string(), "deadbeef", "git_ref_not_found"}}) {
    SCOPED_TRACE(c.url + " " + c.ref);
    TempDir dest;
    auto r = FetchGitTree(c.url, c.ref, dest.path(), ExtractLimits{});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, c.code) << r.error().message;
    EXPECT_EQ(r.error().http, 400);
    EXPECT_TRUE(IsEmptyDir(dest.path()));
  }
}

TEST_F(GitSourceTest, RefusesSymlinksAndAppliesLimitsLeavingDestEmpty) {
  // "z-link" sorts last, so the files before it are written first and must be removed.
  fs::create_symlink("/etc/passwd", src_ / "z-link");
  GitIn("add -A");
  GitIn("commit -q -m link");
  TempDir dest;
  auto r = FetchGitTree(src_.string(), "", dest.path(), ExtractLimits{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "link_entry");
  EXPECT_EQ(r.error().message, "entry z-link: symbolic link (links are refused)");
  EXPECT_TRUE(IsEmptyDir(dest.path()));

  ExtractLimits small;
  small.max_file_bytes = 8;
  auto big = FetchGitTree(src_.string(), "t1", dest.path(), small);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, "file_too_large");
  EXPECT_EQ(big.error().http, 413);
  EXPECT_TRUE(IsEmptyDir(dest.path()));
}

TEST_F(GitSourceTest, IgnoresSubmoduleGitlinks) {
  GitIn("update-index --add --cacheinfo 160000," + first_ + ",vendored");
  GitIn("commit -q -m gitlink");
  ASSERT_EQ(GitIn("ls-tree HEAD vendored").substr(0, 6), "160000");
  TempDir dest;
  auto r = FetchGitTree(src_.string(), "", dest.path(), ExtractLimits{});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(fs::exists(dest.path() / "vendored"));
  EXPECT_TRUE(fs::exists(dest.path() / "package.yaml"));
}

TEST_F(GitSourceTest, ExtractsBundles) {
  for (const std::string version : {"2", "3"}) {  // NOLINT: copies of literals
    SCOPED_TRACE("bundle v" + version);
    const std::string bundle = Bundle("--all", "--version=" + version);
    ASSERT_EQ(bundle.substr(0, 16), "# v" + version + " git bundle\n");
    TempDir head;
    auto r = ExtractGitBundle(bundle, "", head.path(), ExtractLimits{});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(XOf(head.path()), "second\n");
    EXPECT_FALSE(fs::exists(head.path() / "feature.txt"));
    EXPECT_EQ(ReadTree(head.path())["run.sh"], "f 755 #!/bin/sh\necho 1\n");
    for (const std::string ref : {"feature", "refs/heads/feature"}) {
      TempDir dest;
      ASSERT_TRUE(ExtractGitBundle(bundle, ref, dest.path(), ExtractLimits{}).ok()) << ref;
      EXPECT_TRUE(fs::exists(dest.path() / "feature.txt")) << ref;
    }
    for (const std::string& ref : std::vector<std::string>{"t1", "t2", first_}) {
      TempDir dest;
      auto t = ExtractGitBundle(bundle, ref, dest.path(), ExtractLimits{});
      ASSERT_TRUE(t.ok()) << ref << ": " << t.error().message;
      EXPECT_EQ(XOf(dest.path()), ref == "t2" ? "second\n" : "first\n") << ref;
    }
  }
  // One branch only, without HEAD: its only ref is taken.
  TempDir only;
  ASSERT_TRUE(ExtractGitBundle(Bundle("feature"), "", only.path(), ExtractLimits{}).ok());
  EXPECT_TRUE(fs::exists(only.path() / "feature.txt"));
}

TEST_F(GitSourceTest, RefusesBadBundles) {
  const std::string good = Bundle("--all");
  const size_t pack = good.find("\n\nPACK") + 2;
  ASSERT_NE(pack, std::string::npos + 2);
  struct Case {
    std::string name;
    std::string data;
    std::string ref;
    std::string code;
  };
  std::string corrupt = good;
  for (size_t i = pack + 12; i < corrupt.size(); i += 7)
    corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  const std::vector<Case> cases = {
      {"garbage", "this is not a bundle\n\nPACK", "", "not_a_bundle"},
      {"empty", "", "", "not_a_bundle"},
      {"tarball", PackTarGz(src_).value(), "", "not_a_bundle"},
      {"no pack", good.substr(0, pack), "", "not_a_bundle"},
      {"corrupt pack", corrupt, "", "not_a_bundle"},
      {"truncated pack", good.substr(0, pack + (good.size() - pack) / 2), "", "not_a_bundle"},
      {"prerequisites", Bundle("main~1..main"), "", "bundle_prerequisites"},
      {"unknown ref", good, "nope", "git_ref_not_found"},
      {"unknown commit", good, "0123456789abcdef0123456789abcdef01234567", "git_ref_not_found"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dest;
    auto r = ExtractGitBundle(c.data, c.ref, dest.path(), ExtractLimits{});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, c.code) << r.error().message;
    EXPECT_EQ(r.error().http, 400);
    EXPECT_TRUE(IsEmptyDir(dest.path()));
  }
  ExtractLimits tiny;
  tiny.max_archive_bytes = 100;
  TempDir dest;
  auto r = ExtractGitBundle(good, "", dest.path(), tiny);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "archive_too_large");
}

TEST_F(GitSourceTest, BundleTreesObeyTheSameRules) {
  fs::create_symlink("/etc/passwd", src_ / "z-link");
  GitIn("add -A");
  GitIn("commit -q -m link");
  TempDir dest;
  auto r = ExtractGitBundle(Bundle("main"), "", dest.path(), ExtractLimits{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "link_entry");
  EXPECT_TRUE(IsEmptyDir(dest.path()));
}

}  // namespace
}  // namespace ahub::hub
