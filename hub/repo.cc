#include "hub/repo.h"

#include <git2.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <charconv>
#include <limits>
#include <optional>
#include <system_error>
#include <utility>

namespace ahub::hub {
namespace {

namespace fs = std::filesystem;

constexpr int kHttpBadRequest = 400;
constexpr int kHttpTooLarge = 413;
constexpr int kHttpInternal = 500;
constexpr const char* kTagPrefix = "refs/tags/v";
// Bounds the indexer's memory on an untrusted bundle (it keeps a record per object).
constexpr size_t kMaxBundleObjects = 1'000'000;
constexpr size_t kHexOidLength = GIT_OID_HEXSZ;
constexpr size_t kMinAbbreviatedOid = 4;

// libgit2 is initialised once per process and never shut down: objects may outlive any caller.
void InitLibgit2() {
  [[maybe_unused]] static const bool done = [] {
    git_libgit2_init();
    // The hub acknowledges a submission only once it is durable.
    git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 1);
    // No user, XDG, system or ProgramData configuration: nothing outside the repositories this
    // module opens may change how it reads or writes them.
    for (const git_config_level_t level : {GIT_CONFIG_LEVEL_SYSTEM, GIT_CONFIG_LEVEL_XDG,
                                           GIT_CONFIG_LEVEL_GLOBAL, GIT_CONFIG_LEVEL_PROGRAMDATA}) {
      git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, "");
    }
    return true;
  }();
}

std::string GitMessage() {
  const git_error* e = git_error_last();
  return e && e->message ? e->message : "unknown libgit2 error";
}

template <typename T, void (*Free)(T*)>
struct GitFree {
  void operator()(T* p) const { Free(p); }
};
template <typename T, void (*Free)(T*)>
using GitPtr = std::unique_ptr<T, GitFree<T, Free>>;
using Repository = GitPtr<git_repository, git_repository_free>;
using Object = GitPtr<git_object, git_object_free>;
using Tree = GitPtr<git_tree, git_tree_free>;
using Commit = GitPtr<git_commit, git_commit_free>;
using Reference = GitPtr<git_reference, git_reference_free>;
using Signature = GitPtr<git_signature, git_signature_free>;
using Index = GitPtr<git_index, git_index_free>;
using Odb = GitPtr<git_odb, git_odb_free>;
using Blob = GitPtr<git_blob, git_blob_free>;
using DiffPtr = GitPtr<git_diff, git_diff_free>;
using Patch = GitPtr<git_patch, git_patch_free>;
using RefIterator = GitPtr<git_reference_iterator, git_reference_iterator_free>;

std::string OidHex(const git_oid& oid) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof(hex), &oid);
  return hex;
}

std::string TagName(int version) { return kTagPrefix + std::to_string(version); }

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The limits of the hub's own trees: they were checked when they came in.
ExtractLimits Unlimited() {
  ExtractLimits l;
  l.max_archive_bytes = l.max_entries = l.max_unpacked_bytes = l.max_file_bytes =
      std::numeric_limits<int64_t>::max();
  l.max_depth = std::numeric_limits<int>::max();
  return l;
}

Status ToStatus(const ApiError& e) {
  return e.http >= 500 ? Status::IoError(e.message) : Status::InvalidArgument(e.message);
}

// Writes `tree` through `writer`, so a git tree obeys the same rules as a tarball. A blob the
// repository lacks is refused with `missing_code`.
ApiResult<Done> WriteTree(git_repository* repo, const git_tree* tree, SafeTreeWriter& writer,
                          const std::string& missing_code) {
  git_odb* raw_odb = nullptr;
  if (git_repository_odb(&raw_odb, repo) != 0)
    return MakeError(kHttpInternal, "internal", GitMessage());
  Odb odb(raw_odb);
  struct Walk {
    git_repository* repo;
    git_odb* odb;
    SafeTreeWriter* writer;
    const std::string* missing_code;
    std::optional<ApiError> error;
  } walk{repo, raw_odb, &writer, &missing_code, std::nullopt};
  auto visit = [](const char* root, const git_tree_entry* entry, void* payload) -> int {
    auto* w = static_cast<Walk*>(payload);
    const std::string path = std::string(root) + git_tree_entry_name(entry);
    auto fail = [&](ApiError e) {
      w->error = std::move(e);
      return -1;
    };
    switch (git_tree_entry_filemode(entry)) {
      case GIT_FILEMODE_TREE:
        if (auto ok = w->writer->AddDirectory(path); !ok.ok()) return fail(ok.error());
        return 0;
      case GIT_FILEMODE_COMMIT:  // a submodule: not part of the package
        return 0;
      case GIT_FILEMODE_LINK:
        return fail(
            EntryError(kHttpBadRequest, "link_entry", path, "symbolic link (links are refused)"));
      case GIT_FILEMODE_BLOB:
      case GIT_FILEMODE_BLOB_EXECUTABLE:
        break;
      default:
        return fail(EntryError(kHttpBadRequest, "special_file", path, "unknown git file mode"));
    }
    // The size from the object header lets the limits refuse a huge blob before it is loaded.
    size_t size = 0;
    git_object_t type = GIT_OBJECT_INVALID;
    if (git_odb_read_header(&size, &type, w->odb, git_tree_entry_id(entry)) != 0 ||
        type != GIT_OBJECT_BLOB) {
      return fail(EntryError(kHttpBadRequest, *w->missing_code, path,
                             "missing or invalid blob: " + GitMessage()));
    }
    const bool exec = git_tree_entry_filemode(entry) == GIT_FILEMODE_BLOB_EXECUTABLE;
    if (auto ok = w->writer->BeginFile(path, exec, static_cast<int64_t>(size)); !ok.ok())
      return fail(ok.error());
    git_blob* raw = nullptr;
    if (git_blob_lookup(&raw, w->repo, git_tree_entry_id(entry)) != 0) {
      return fail(EntryError(kHttpInternal, "internal", path, GitMessage()));
    }
    Blob blob(raw);
    const std::string_view content(static_cast<const char*>(git_blob_rawcontent(raw)),
                                   static_cast<size_t>(git_blob_rawsize(raw)));
    if (auto ok = w->writer->Write(content); !ok.ok()) return fail(ok.error());
    if (auto ok = w->writer->EndFile(); !ok.ok()) return fail(ok.error());
    return 0;
  };
  if (git_tree_walk(tree, GIT_TREEWALK_PRE, visit, &walk) != 0) {
    if (walk.error) return *walk.error;
    return MakeError(kHttpInternal, "internal", "walking the tree: " + GitMessage());
  }
  return Done{};
}

// Removes a temporary directory and everything in it on scope exit.
class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "ahub-git-XXXXXX").string();
    if (::mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Peels `obj` to its tree, or explains why `ref` has none.
ApiResult<Tree> PeelToTree(git_object* obj, const std::string& ref) {
  git_object* peeled = nullptr;
  if (git_object_peel(&peeled, obj, GIT_OBJECT_TREE) != 0) {
    return MakeError(kHttpBadRequest, "git_ref_not_found",
                     "ref " + ref + ": names no commit or tree: " + GitMessage());
  }
  return Tree(reinterpret_cast<git_tree*>(peeled));
}

// A commit id, full or abbreviated, looked up in `repo`.
ApiResult<Tree> LookupObjectId(git_repository* repo, const std::string& ref) {
  git_oid oid;
  git_object* raw = nullptr;
  if (ref.size() < kMinAbbreviatedOid || ref.size() > kHexOidLength || !IsHex(ref) ||
      git_oid_fromstrn(&oid, ref.data(), ref.size()) != 0 ||
      git_object_lookup_prefix(&raw, repo, &oid, ref.size(), GIT_OBJECT_ANY) != 0) {
    return MakeError(kHttpBadRequest, "git_ref_not_found",
                     "ref " + ref + ": not a branch, tag or commit of the repository");
  }
  Object obj(raw);
  return PeelToTree(raw, ref);
}

// `ref` as a branch, tag or commit id of `repo`; empty means HEAD.
ApiResult<Tree> ResolveTree(git_repository* repo, const std::string& ref) {
  const std::string name = ref.empty() ? "HEAD" : ref;
  // Validate before any lookup: a ref name becomes a file path inside the repository.
  int valid = 0;
  if (name != "HEAD" &&
      (git_reference_name_is_valid(&valid, ("refs/heads/" + name).c_str()) != 0 || !valid)) {
    return MakeError(kHttpBadRequest, "git_ref_not_found",
                     "ref " + name + ": not a valid ref name");
  }
  git_reference* raw = nullptr;
  if (git_reference_dwim(&raw, repo, name.c_str()) == 0) {
    Reference r(raw);
    git_object* target = nullptr;
    if (git_reference_peel(&target, raw, GIT_OBJECT_TREE) != 0) {
      return MakeError(kHttpBadRequest, "git_ref_not_found",
                       "ref " + name + ": names no commit: " + GitMessage());
    }
    return Tree(reinterpret_cast<git_tree*>(target));
  }
  return LookupObjectId(repo, name);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// PackageRepo

PackageRepo::PackageRepo(git_repository* repo, fs::path path)
    : repo_(repo), path_(std::move(path)) {}

PackageRepo::~PackageRepo() { git_repository_free(repo_); }

Result<std::unique_ptr<PackageRepo>> PackageRepo::Open(const fs::path& root,
                                                       const std::string& package_id) {
  InitLibgit2();
  if (package_id.empty() || package_id.front() == '.' ||
      package_id.find('/') != std::string::npos || package_id.find('\0') != std::string::npos) {
    return Status::InvalidArgument("package id '" + package_id +
                                   "': not usable as a repository name");
  }
  const fs::path path = root / (package_id + ".git");
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return Status::IoError(root.string() + ": " + ec.message());
  if (!fs::exists(path / "HEAD", ec)) {
    if (Status created = Create(root, package_id, path); !created.ok()) return created;
  }
  git_repository* raw = nullptr;
  if (git_repository_open_bare(&raw, path.c_str()) != 0) {
    return Status::IoError(path.string() + ": cannot open: " + GitMessage());
  }
  return std::unique_ptr<PackageRepo>(new PackageRepo(raw, path));
}

// A process killed inside git_repository_init leaves a directory without HEAD and with a
// config.lock that makes every later init of that path fail. So a repository is initialised
// under a temporary name (a dot name, which no package id can take) and renamed into place.
Status PackageRepo::Create(const fs::path& root, const std::string& package_id,
                           const fs::path& path) {
  std::error_code ec;
  // A leftover without HEAD never held a version (tags come after init), so nothing
  // acknowledged is lost by clearing it.
  fs::remove_all(path, ec);
  std::string tmp = (root / ("." + package_id + kUnfinishedSuffix + "XXXXXX")).string();
  if (::mkdtemp(tmp.data()) == nullptr) {
    return Status::IoError(tmp + ": cannot create: " + std::strerror(errno));
  }
  git_repository* raw = nullptr;
  if (git_repository_init(&raw, tmp.c_str(), /*is_bare=*/1) != 0) {
    const std::string message = GitMessage();
    fs::remove_all(tmp, ec);
    return Status::IoError(path.string() + ": cannot create: " + message);
  }
  git_repository_free(raw);
  fs::rename(tmp, path, ec);
  if (ec) {
    const std::string reason = ec.message();
    fs::remove_all(tmp, ec);
    return Status::IoError(path.string() + ": cannot create: " + reason);
  }
  return Status::Ok();
}

void PackageRepo::RemoveUnfinished(const fs::path& root) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    const std::string name = e.path().filename().string();
    if (name.front() == '.' && name.find(kUnfinishedSuffix) != std::string::npos) {
      fs::remove_all(e.path(), ec);
    }
  }
}

std::vector<int> PackageRepo::Versions() const {
  std::vector<int> out;
  git_reference_iterator* raw = nullptr;
  if (git_reference_iterator_glob_new(&raw, repo_, "refs/tags/v*") != 0) return out;
  RefIterator it(raw);
  const char* name = nullptr;
  const size_t prefix = std::string_view(kTagPrefix).size();
  while (git_reference_next_name(&name, raw) == 0) {
    const std::string_view digits = std::string_view(name).substr(prefix);
    int v = 0;
    const auto [end, err] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    // Only canonical names count: "v01" or "v2-rc" are not versions.
    if (err == std::errc() && end == digits.data() + digits.size() && v > 0 &&
        digits.front() != '0')
      out.push_back(v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::string> PackageRepo::CommitOf(int version) const {
  git_reference* raw = nullptr;
  if (git_reference_lookup(&raw, repo_, TagName(version).c_str()) != 0) {
    return Status::NotFound(path_.filename().string() + ": no version " + std::to_string(version));
  }
  Reference ref(raw);
  git_object* target = nullptr;
  if (git_reference_peel(&target, raw, GIT_OBJECT_COMMIT) != 0) {
    return Status::Internal(TagName(version) + ": names no commit: " + GitMessage());
  }
  Object obj(target);
  return OidHex(*git_object_id(target));
}

Result<std::string> PackageRepo::CommitVersion(const fs::path& dir, int version,
                                               const std::string& message,
                                               const std::string& author_name,
                                               const std::string& author_email, int64_t time) {
  if (version < 1)
    return Status::InvalidArgument("version " + std::to_string(version) + ": must be 1 or more");
  auto entries = ListPackageTree(dir);
  if (!entries.ok()) return entries.status();

  // An in-memory index turns the flat file list into nested trees.
  git_index* raw_index = nullptr;
  if (git_index_new(&raw_index) != 0) return Status::Internal("index: " + GitMessage());
  Index index(raw_index);
  for (const TreeEntry& e : entries.value()) {
    if (e.directory) continue;
    auto content = ReadPackageFile(dir / e.path);
    if (!content.ok()) return content.status();
    git_index_entry entry{};
    entry.path = e.path.c_str();
    entry.mode = e.executable ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB;
    if (git_blob_create_from_buffer(&entry.id, repo_, content->data(), content->size()) != 0 ||
        git_index_add(raw_index, &entry) != 0) {
      return Status::InvalidArgument(e.path + ": " + GitMessage());
    }
  }
  git_oid tree_id;
  if (git_index_write_tree_to(&tree_id, raw_index, repo_) != 0)
    return Status::IoError("tree: " + GitMessage());
  git_tree* raw_tree = nullptr;
  if (git_tree_lookup(&raw_tree, repo_, &tree_id) != 0)
    return Status::Internal("tree: " + GitMessage());
  Tree tree(raw_tree);

  Commit parent;
  const std::vector<int> versions = Versions();
  const auto below =
      std::find_if(versions.rbegin(), versions.rend(), [&](int v) { return v < version; });
  if (below != versions.rend()) {
    git_reference* raw_ref = nullptr;
    git_object* raw_obj = nullptr;
    if (git_reference_lookup(&raw_ref, repo_, TagName(*below).c_str()) != 0)
      return Status::Internal(GitMessage());
    Reference ref(raw_ref);
    if (git_reference_peel(&raw_obj, raw_ref, GIT_OBJECT_COMMIT) != 0)
      return Status::Internal(GitMessage());
    parent.reset(reinterpret_cast<git_commit*>(raw_obj));
  }

  git_signature* raw_sig = nullptr;
  if (git_signature_new(&raw_sig, author_name.c_str(), author_email.c_str(),
                        static_cast<git_time_t>(time), 0) != 0) {
    return Status::InvalidArgument("author " + author_name + " <" + author_email +
                                   ">: " + GitMessage());
  }
  Signature sig(raw_sig);
  git_oid commit_id;
  const git_commit* parents[] = {parent.get()};
  if (git_commit_create(&commit_id, repo_, /*update_ref=*/nullptr, raw_sig, raw_sig,
                        /*encoding=*/nullptr, message.c_str(), raw_tree, parent ? 1 : 0,
                        parents) != 0) {
    return Status::IoError("commit: " + GitMessage());
  }

  const std::string tag = TagName(version);
  git_oid existing;
  if (git_reference_name_to_id(&existing, repo_, tag.c_str()) == 0 &&
      git_oid_equal(&existing, &commit_id)) {
    return OidHex(commit_id);
  }
  // force=1: a tag left by an unacknowledged attempt is replaced.
  git_reference* raw_tag = nullptr;
  if (git_reference_create(&raw_tag, repo_, tag.c_str(), &commit_id, /*force=*/1,
                           "ahub: version") != 0) {
    return Status::IoError(tag + ": " + GitMessage());
  }
  Reference tag_ref(raw_tag);
  return OidHex(commit_id);
}

namespace {

Result<Tree> VersionTree(git_repository* repo, const std::string& repo_name, int version) {
  git_reference* raw = nullptr;
  if (git_reference_lookup(&raw, repo, TagName(version).c_str()) != 0) {
    return Status::NotFound(repo_name + ": no version " + std::to_string(version));
  }
  Reference ref(raw);
  git_object* tree = nullptr;
  if (git_reference_peel(&tree, raw, GIT_OBJECT_TREE) != 0) return Status::Internal(GitMessage());
  return Tree(reinterpret_cast<git_tree*>(tree));
}

}  // namespace

Status PackageRepo::Checkout(int version, const fs::path& dest) const {
  auto tree = VersionTree(repo_, path_.filename().string(), version);
  if (!tree.ok()) return tree.status();
  SafeTreeWriter writer(dest, Unlimited(), 0);
  if (auto ok = WriteTree(repo_, tree->get(), writer, "internal"); !ok.ok())
    return ToStatus(ok.error());
  if (auto ok = writer.Finish(); !ok.ok()) return ToStatus(ok.error());
  return Status::Ok();
}

Result<std::string> PackageRepo::ArchiveTarGz(int version, const std::string& prefix) const {
  auto tree = VersionTree(repo_, path_.filename().string(), version);
  if (!tree.ok()) return tree.status();
  struct Item {
    std::string path;
    git_oid id;
    git_filemode_t mode;
  };
  std::vector<Item> items;
  auto collect = [](const char* root, const git_tree_entry* entry, void* payload) -> int {
    static_cast<std::vector<Item>*>(payload)->push_back(
        {std::string(root) + git_tree_entry_name(entry), *git_tree_entry_id(entry),
         git_tree_entry_filemode(entry)});
    return 0;
  };
  if (git_tree_walk(tree->get(), GIT_TREEWALK_PRE, collect, &items) != 0)
    return Status::Internal(GitMessage());
  // Path order, as PackTarGz: a version's archive equals the archive of its checkout.
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.path < b.path; });
  const std::string lead = prefix.empty() ? "" : prefix + "/";
  TarGzWriter writer;
  if (!prefix.empty()) {
    if (Status s = writer.AddDirectory(prefix); !s.ok()) return s;
  }
  for (const Item& item : items) {
    if (item.mode == GIT_FILEMODE_TREE) {
      if (Status s = writer.AddDirectory(lead + item.path); !s.ok()) return s;
      continue;
    }
    if (item.mode != GIT_FILEMODE_BLOB && item.mode != GIT_FILEMODE_BLOB_EXECUTABLE) {
      return Status::InvalidArgument(item.path + ": neither a file nor a directory");
    }
    git_blob* raw = nullptr;
    if (git_blob_lookup(&raw, repo_, &item.id) != 0)
      return Status::Internal(item.path + ": " + GitMessage());
    Blob blob(raw);
    const std::string_view content(static_cast<const char*>(git_blob_rawcontent(raw)),
                                   static_cast<size_t>(git_blob_rawsize(raw)));
    if (Status s =
            writer.AddFile(lead + item.path, content, item.mode == GIT_FILEMODE_BLOB_EXECUTABLE);
        !s.ok()) {
      return s;
    }
  }
  return writer.Finish();
}

Result<VersionDiff> PackageRepo::Diff(int from, int to) const {
  const std::string name = path_.filename().string();
  Tree old_tree;
  if (from != 0) {
    auto t = VersionTree(repo_, name, from);
    if (!t.ok()) return t.status();
    old_tree = std::move(t.value());
  }
  auto new_tree = VersionTree(repo_, name, to);
  if (!new_tree.ok()) return new_tree.status();

  git_diff_options opts;
  git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
  git_diff* raw_diff = nullptr;
  if (git_diff_tree_to_tree(&raw_diff, repo_, old_tree.get(), new_tree->get(), &opts) != 0) {
    return Status::Internal("diff: " + GitMessage());
  }
  DiffPtr diff(raw_diff);
  git_diff_find_options find;
  git_diff_find_options_init(&find, GIT_DIFF_FIND_OPTIONS_VERSION);
  find.flags = GIT_DIFF_FIND_RENAMES;
  if (git_diff_find_similar(raw_diff, &find) != 0) return Status::Internal("diff: " + GitMessage());

  VersionDiff out;
  out.from = from;
  out.to = to;
  for (size_t i = 0; i < git_diff_num_deltas(raw_diff); ++i) {
    const git_diff_delta* delta = git_diff_get_delta(raw_diff, i);
    DiffFile file;
    file.path = delta->status == GIT_DELTA_DELETED ? delta->old_file.path : delta->new_file.path;
    switch (delta->status) {
      case GIT_DELTA_ADDED:
        file.status = "added";
        break;
      case GIT_DELTA_DELETED:
        file.status = "deleted";
        break;
      case GIT_DELTA_RENAMED:
        file.status = "renamed";
        file.old_path = delta->old_file.path;
        break;
      default:
        file.status = "modified";
        break;  // content, mode or type changed
    }
    git_patch* raw_patch = nullptr;
    if (git_patch_from_diff(&raw_patch, raw_diff, i) != 0)
      return Status::Internal("patch: " + GitMessage());
    Patch patch(raw_patch);
    if (raw_patch != nullptr) {
      size_t context = 0, additions = 0, deletions = 0;
      git_patch_line_stats(&context, &additions, &deletions, raw_patch);
      file.additions = static_cast<int>(additions);
      file.deletions = static_cast<int>(deletions);
      git_buf text = GIT_BUF_INIT;
      if (git_patch_to_buf(&text, raw_patch) == 0) out.patch.append(text.ptr, text.size);
      git_buf_dispose(&text);
    }
    out.files.push_back(std::move(file));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Git sources

namespace {

// The local path a git URL names, or the refusal of a URL that would reach the network.
ApiResult<fs::path> LocalPathOf(const std::string& url) {
  auto unsupported = [&](const std::string& why) {
    return MakeError(kHttpBadRequest, "unsupported_git_url",
                     "git url " + url + ": " + why + " (a local path or file:// URL is accepted)");
  };
  if (url.empty()) return MakeError(kHttpBadRequest, "git_not_found", "git url: empty");
  constexpr std::string_view kFile = "file://";
  if (url.starts_with(kFile)) {
    std::string rest = url.substr(kFile.size());
    if (rest.starts_with("localhost/")) rest.erase(0, std::string_view("localhost").size());
    if (!rest.starts_with('/')) return unsupported("a file:// URL must name a local absolute path");
    return fs::path(rest);
  }
  if (url.find("://") != std::string::npos)
    return unsupported("the hub does not fetch over the network");
  // git reads "host:path" (scp syntax) as ssh when the colon comes before any slash.
  const size_t colon = url.find(':');
  if (colon != std::string::npos && colon < url.find('/'))
    return unsupported("scp-style addresses are ssh");
  return fs::path(url);
}

}  // namespace

ApiResult<ExtractStats> FetchGitTree(const std::string& url, const std::string& ref,
                                     const fs::path& dest, const ExtractLimits& limits) {
  InitLibgit2();
  auto path = LocalPathOf(url);
  if (!path.ok()) return path.error();
  git_repository* raw = nullptr;
  // NO_SEARCH: the path itself must be the repository (or its work tree), never a parent of it.
  if (git_repository_open_ext(&raw, path->c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0) {
    return MakeError(kHttpBadRequest, "git_not_found",
                     "git url " + url + ": not a git repository: " + GitMessage());
  }
  Repository repo(raw);
  auto tree = ResolveTree(raw, ref);
  if (!tree.ok()) return tree.error();
  SafeTreeWriter writer(dest, limits, /*archive_bytes=*/0);
  if (auto ok = WriteTree(raw, tree->get(), writer, "git_not_found"); !ok.ok()) return ok.error();
  return writer.Finish();
}

namespace {

struct BundleRef {
  std::string oid;
  std::string name;
};

struct BundleHeader {
  std::vector<BundleRef> refs;
  std::string_view pack;
};

ApiError NotABundle(const std::string& why) {
  return MakeError(kHttpBadRequest, "not_a_bundle",
                   "bundle: " + why + " (the output of `git bundle create` is expected)");
}

// The text header of a bundle (gitformat-bundle(5)): signature, v3 capabilities, prerequisites,
// references, a blank line; then the packfile.
ApiResult<BundleHeader> ParseBundle(std::string_view data) {
  BundleHeader out;
  size_t pos = 0;
  auto next_line = [&](std::string_view& line) {
    const size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) return false;
    line = data.substr(pos, nl - pos);
    pos = nl + 1;
    return true;
  };
  std::string_view line;
  if (!next_line(line) || (line != "# v2 git bundle" && line != "# v3 git bundle"))
    return NotABundle("no bundle signature");
  const bool v3 = line == "# v3 git bundle";
  for (;;) {
    if (!next_line(line)) return NotABundle("the header does not end");
    if (line.empty()) break;
    if (line.front() == '@') {
      if (!v3) return NotABundle("capability line in a v2 bundle");
      if (line == "@object-format=sha1") continue;
      if (line.starts_with("@filter")) {
        return MakeError(
            kHttpBadRequest, "bundle_prerequisites",
            "bundle: a filtered (partial) bundle lacks objects; a complete history is needed");
      }
      return NotABundle("unsupported capability " + std::string(line));
    }
    if (line.front() == '-') {
      return MakeError(kHttpBadRequest, "bundle_prerequisites",
                       "bundle: requires commit " + std::string(line.substr(1, kHexOidLength)) +
                           " it does not contain; create it from the whole history (git bundle "
                           "create x.bundle --all)");
    }
    const size_t space = line.find(' ');
    const std::string_view oid = line.substr(0, space);
    if (space != kHexOidLength || !IsHex(oid) || space + 1 >= line.size()) {
      return NotABundle("malformed reference line '" + std::string(line) + "'");
    }
    out.refs.push_back({std::string(oid), std::string(line.substr(space + 1))});
  }
  out.pack = data.substr(pos);
  if (!out.pack.starts_with("PACK")) return NotABundle("no packfile after the header");
  if (out.refs.empty()) return NotABundle("no references");
  return out;
}

struct ChosenRef {
  std::string id;       // hex, possibly abbreviated
  bool listed = false;  // named by the bundle's header, so the pack must contain it
};

// The object a bundle ref selection names (see ExtractGitBundle), or a refusal.
ApiResult<ChosenRef> ChooseBundleRef(const std::vector<BundleRef>& refs, const std::string& ref) {
  auto find = [&](const std::string& name) -> const BundleRef* {
    for (const BundleRef& r : refs) {
      if (r.name == name) return &r;
    }
    return nullptr;
  };
  std::string listed;
  for (const BundleRef& r : refs) listed += (listed.empty() ? "" : ", ") + r.name;
  if (ref.empty()) {
    for (const char* name : {"HEAD", "refs/heads/main", "refs/heads/master"}) {
      if (const BundleRef* r = find(name)) return ChosenRef{r->oid, true};
    }
    if (refs.size() == 1) return ChosenRef{refs.front().oid, true};
    return MakeError(kHttpBadRequest, "git_ref_not_found",
                     "bundle lists several refs (" + listed + "); name one");
  }
  for (const std::string& name : {ref, "refs/heads/" + ref, "refs/tags/" + ref}) {
    if (const BundleRef* r = find(name)) return ChosenRef{r->oid, true};
  }
  if (ref.size() >= kMinAbbreviatedOid && ref.size() <= kHexOidLength && IsHex(ref))
    return ChosenRef{ref, false};
  return MakeError(kHttpBadRequest, "git_ref_not_found",
                   "ref " + ref + ": not in the bundle (it lists " + listed + ")");
}

int LimitBundleObjects(const git_indexer_progress* stats, void*) {
  if (stats->total_objects > kMaxBundleObjects) {
    git_error_set_str(GIT_ERROR_INDEXER, "too many objects in the packfile");
    return -1;
  }
  return 0;
}

}  // namespace

ApiResult<ExtractStats> ExtractGitBundle(std::string_view data, const std::string& ref,
                                         const fs::path& dest, const ExtractLimits& limits) {
  InitLibgit2();
  const auto size = static_cast<int64_t>(data.size());
  if (size > limits.max_archive_bytes) {
    return MakeError(kHttpTooLarge, "archive_too_large",
                     "bundle: " + std::to_string(size) + " bytes, more than the " +
                         std::to_string(limits.max_archive_bytes) + " accepted");
  }
  auto header = ParseBundle(data);
  if (!header.ok()) return header.error();
  auto chosen = ChooseBundleRef(header->refs, ref);
  if (!chosen.ok()) return chosen.error();

  TempDir tmp;
  if (tmp.path().empty())
    return MakeError(kHttpInternal, "io_error", "cannot create a temporary directory");
  git_repository* raw_repo = nullptr;
  if (git_repository_init(&raw_repo, (tmp.path() / "bundle.git").c_str(), /*is_bare=*/1) != 0) {
    return MakeError(kHttpInternal, "io_error", "temporary repository: " + GitMessage());
  }
  Repository repo(raw_repo);
  git_odb* raw_odb = nullptr;
  if (git_repository_odb(&raw_odb, raw_repo) != 0)
    return MakeError(kHttpInternal, "internal", GitMessage());
  Odb odb(raw_odb);
  git_odb_writepack* pack = nullptr;
  if (git_odb_write_pack(&pack, raw_odb, LimitBundleObjects, nullptr) != 0) {
    return MakeError(kHttpInternal, "internal", "packfile writer: " + GitMessage());
  }
  git_indexer_progress stats{};
  const bool indexed = pack->append(pack, header->pack.data(), header->pack.size(), &stats) == 0 &&
                       pack->commit(pack, &stats) == 0;
  const std::string pack_error = indexed ? "" : GitMessage();
  pack->free(pack);
  if (!indexed) return NotABundle("packfile: " + pack_error);

  auto tree = LookupObjectId(raw_repo, chosen->id);
  if (!tree.ok()) {
    if (chosen->listed)
      return NotABundle("the packfile lacks the commit of a listed ref: " + tree.error().message);
    return tree.error();
  }
  SafeTreeWriter writer(dest, limits, size);
  if (auto ok = WriteTree(raw_repo, tree->get(), writer, "not_a_bundle"); !ok.ok())
    return ok.error();
  return writer.Finish();
}

}  // namespace ahub::hub
