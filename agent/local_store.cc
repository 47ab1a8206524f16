#include "local_store.h"

#include <dirent.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/clock.h"
#include "core/file_util.h"

namespace modelreg::agent {

Status AgentDiskFailure(Status st) {
  switch (st.code()) {
    case StatusCode::kOk:
    case StatusCode::kDataLoss:
      return st;
    case StatusCode::kUnavailable:
      return Status::ResourceExhausted("the agent's disk is full: " + st.message());
    default:
      return Status::FailedPrecondition("the agent's disk: " + st.message());
  }
}
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
std::string HexOf(const std::string& digest) { return digest.rfind("sha256:", 0) == 0 ? digest.substr(7) : digest; }
}  // namespace

Result<LocalStore> LocalStore::Open(const std::string& root) {
  for (const char* d : {"/cache/blobs", "/cache/partial", "/versions"}) MR_RETURN_IF_ERROR(MakeDirs(root + d));
  // Leftovers of an interrupted materialization are never `current`.
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root + "/versions", ec))
    if (e.path().filename().string().find(".partial") != std::string::npos) {
      fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add, ec);
      for (const auto& sub : fs::recursive_directory_iterator(e.path(), ec))
        if (sub.is_directory()) fs::permissions(sub.path(), fs::perms::owner_all, fs::perm_options::add, ec);
      fs::remove_all(e.path(), ec);
    }
  return LocalStore(fs::absolute(root).lexically_normal().string());
}

std::string LocalStore::BlobPath(const Digest& d) const { return root_ + "/cache/blobs/" + d.hex(); }
std::string LocalStore::PartialPath(const Digest& d) const { return root_ + "/cache/partial/" + d.hex(); }
std::string LocalStore::VersionDir(const std::string& digest) const { return root_ + "/versions/" + HexOf(digest); }

bool LocalStore::HasBlob(const Digest& d) const { return ::access(BlobPath(d).c_str(), F_OK) == 0; }

uint64_t LocalStore::MissingBytes(const Manifest& m) const {
  uint64_t n = 0;
  std::set<std::string> seen;
  for (const auto& l : m.layers)
    if (seen.insert(l.digest.str()).second && !HasBlob(l.digest)) {
      struct stat sb;
      uint64_t have = ::stat(PartialPath(l.digest).c_str(), &sb) == 0 ? static_cast<uint64_t>(sb.st_size) : 0;
      n += l.size > have ? l.size - have : 0;
    }
  return n;
}

uint64_t LocalStore::FreeBytes() const {
  struct statvfs s;
  if (::statvfs(root_.c_str(), &s) != 0) return UINT64_MAX;
  return static_cast<uint64_t>(s.f_bavail) * s.f_frsize;
}

Status LocalStore::CommitBlob(const Digest& d) {
  return AgentDiskFailure([&]() -> Status {
    std::string p = PartialPath(d);
    ::chmod(p.c_str(), 0444);
    if (::rename(p.c_str(), BlobPath(d).c_str()) != 0) return Status::FromErrno("rename into cache", errno);
    return Status::OK();
  }());
}

bool LocalStore::HasVersion(const std::string& digest) const {
  struct stat sb;
  return ::stat(VersionDir(digest).c_str(), &sb) == 0 && S_ISDIR(sb.st_mode);
}

Status LocalStore::Materialize(const std::string& digest, int64_t version, const Manifest& m) {
  return AgentDiskFailure([&]() -> Status {
    const std::string final_dir = VersionDir(digest);
    if (HasVersion(digest)) return Status::OK();
    const std::string tmp = final_dir + ".partial";
    std::error_code ec;
    fs::remove_all(tmp, ec);
    MR_RETURN_IF_ERROR(MakeDirs(tmp));
    std::vector<std::string> dirs = {tmp};
    for (const auto& l : m.layers) {
      fs::path target = fs::path(tmp) / l.title;  // validated by ParseManifest
      fs::create_directories(target.parent_path(), ec);
      if (ec) return Status::FromErrno("mkdir " + target.parent_path().string(), ec.value());
      for (fs::path p = target.parent_path(); p.string().size() > tmp.size(); p = p.parent_path())
        dirs.push_back(p.string());
      if (::link(BlobPath(l.digest).c_str(), target.c_str()) != 0) return Status::FromErrno("link " + l.title, errno);
    }
    // Read-only tree: files are read-only already (the cache's inodes).
    std::sort(dirs.begin(), dirs.end());
    dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) ::chmod(it->c_str(), 0555);
    MR_RETURN_IF_ERROR(FsyncDir(tmp));
    if (::rename(tmp.c_str(), final_dir.c_str()) != 0) return Status::FromErrno("rename " + tmp, errno);
    json meta = {{"version", version}, {"digest", digest}, {"at_ms", NowMs()}};
    MR_RETURN_IF_ERROR(WriteFileAtomic(final_dir + ".json", meta.dump() + "\n"));
    return FsyncDir(root_ + "/versions");
  }());
}

Status LocalStore::Swap(const std::string& digest) {
  return AgentDiskFailure([&]() -> Status {
    const std::string link_tmp = root_ + "/.current.tmp";
    ::unlink(link_tmp.c_str());
    if (::symlink(("versions/" + HexOf(digest)).c_str(), link_tmp.c_str()) != 0)
      return Status::FromErrno("symlink", errno);
    if (::rename(link_tmp.c_str(), (root_ + "/current").c_str()) != 0)
      return Status::FromErrno("rename current", errno);
    return FsyncDir(root_);
  }());
}

void LocalStore::ClearCurrent() {
  ::unlink((root_ + "/current").c_str());
  (void)FsyncDir(root_);
}

std::optional<CurrentVersion> LocalStore::Current() const {
  char buf[512];
  ssize_t n = ::readlink((root_ + "/current").c_str(), buf, sizeof buf - 1);
  if (n <= 0) return std::nullopt;
  std::string target(buf, static_cast<size_t>(n));
  std::string hex = fs::path(target).filename().string();
  auto meta = ReadSmallFile(root_ + "/versions/" + hex + ".json", 4096);
  if (!meta.ok()) return std::nullopt;
  auto j = json::parse(*meta, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return CurrentVersion{j.value("digest", ""), j.value("version", int64_t{0}), root_ + "/versions/" + hex};
}

void LocalStore::CollectGarbage(int keep) {
  struct Entry {
    std::string hex;
    int64_t at_ms;
  };
  std::vector<Entry> versions;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_ + "/versions", ec)) {
    if (e.path().extension() != ".json") continue;
    auto meta = ReadSmallFile(e.path().string(), 4096);
    auto j = meta.ok() ? json::parse(*meta, nullptr, false) : json();
    versions.push_back({e.path().stem().string(), j.is_object() ? j.value("at_ms", int64_t{0}) : 0});
  }
  std::sort(versions.begin(), versions.end(), [](const Entry& a, const Entry& b) { return a.at_ms > b.at_ms; });
  auto cur = Current();
  std::string cur_hex = cur ? fs::path(cur->dir).filename().string() : "";
  int kept = 0;
  for (const auto& v : versions) {
    if (v.hex == cur_hex || kept < keep) {
      ++kept;
      continue;
    }
    std::string dir = root_ + "/versions/" + v.hex;
    for (const auto& sub : fs::recursive_directory_iterator(dir, ec))
      if (sub.is_directory()) fs::permissions(sub.path(), fs::perms::owner_all, fs::perm_options::add, ec);
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir, ec);
    fs::remove(dir + ".json", ec);
  }
  // A cache blob with one link is used by no version directory.
  for (const auto& e : fs::directory_iterator(root_ + "/cache/blobs", ec)) {
    struct stat sb;
    if (::stat(e.path().c_str(), &sb) == 0 && sb.st_nlink == 1) fs::remove(e.path(), ec);
  }
}

Result<AgentState> LocalStore::LoadState() const {
  AgentState s;
  auto text = ReadSmallFile(root_ + "/state.json", 1 << 16);
  if (!text.ok()) return s;
  auto j = json::parse(*text, nullptr, false);
  if (j.is_discarded()) return s;
  s.seq = j.value("seq", int64_t{0});
  s.failed_digest = j.value("failed_digest", "");
  s.failed_seq = j.value("failed_seq", int64_t{0});
  s.bytes_downloaded = j.value("bytes_downloaded", uint64_t{0});
  return s;
}

Status LocalStore::SaveState(const AgentState& s) const {
  return AgentDiskFailure([&]() -> Status {
    json j = {{"seq", s.seq},
              {"failed_digest", s.failed_digest},
              {"failed_seq", s.failed_seq},
              {"bytes_downloaded", s.bytes_downloaded}};
    return WriteFileAtomic(root_ + "/state.json", j.dump() + "\n");
  }());
}

}  // namespace modelreg::agent
