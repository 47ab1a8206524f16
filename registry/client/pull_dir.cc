#include "client/pull_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <map>
#include <string_view>
#include <vector>

namespace modelreg {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kLockSuffix = ".lock";
constexpr std::string_view kStagingSuffix = ".new";
constexpr size_t kMaxLockBytes = 200;
// A lock file is written under a staging name and renamed at once; one
// older than this was left by a pull killed in between.
constexpr int kStaleStagingSeconds = 60;

// `name`, known to start with a prefix of `prefix_len` bytes, ends with
// `suffix` after at least one more byte.
bool HasSuffix(const std::string& name, size_t prefix_len, std::string_view suffix) {
  return name.size() > prefix_len + suffix.size() &&
         std::string_view(name).substr(name.size() - suffix.size()) == suffix;
}

std::string ReadFd(int fd) {
  char buf[kMaxLockBytes];
  const ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

Result<std::unique_ptr<PullDir>> PullDir::Open(const fs::path& dest, const Digest& bundle) {
  std::unique_ptr<PullDir> d(new PullDir());
  d->dest_ = dest;
  const fs::path parent = dest.parent_path();
  const std::string prefix = "." + dest.filename().string() + ".partial-";
  const std::string want = bundle.str() + "\n";

  // Lock files of earlier pulls into DEST whose owner is gone.
  std::error_code ec;
  std::vector<fs::path> locks, staged;
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    if (HasSuffix(name, prefix.size(), kLockSuffix)) locks.push_back(e.path());
    if (HasSuffix(name, prefix.size(), kStagingSuffix)) staged.push_back(e.path());
  }
  // Staging files of pulls killed before their lock was in place (and the
  // directory that an older modelreg made before the rename).
  for (const auto& path : staged) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    struct stat sb;
    if (!fd.valid() || ::fstat(fd.get(), &sb) != 0 || ::time(nullptr) - sb.st_mtime < kStaleStagingSeconds ||
        ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0)
      continue;  // maybe being created right now
    std::string stem = path.string();
    stem.resize(stem.size() - kStagingSuffix.size());
    struct stat lb;
    if (::lstat((stem + std::string(kLockSuffix)).c_str(), &lb) != 0 && ::lstat(stem.c_str(), &lb) == 0 &&
        S_ISDIR(lb.st_mode))
      RemoveAll(stem);
    ::unlink(path.c_str());
  }
  std::sort(locks.begin(), locks.end());
  for (const auto& lock_path : locks) {
    UniqueFd fd(::open(lock_path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) continue;
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;  // a pull still running
    std::string dir = lock_path.string();
    dir.resize(dir.size() - kLockSuffix.size());
    struct stat sb;
    const bool is_dir = ::lstat(dir.c_str(), &sb) == 0 && S_ISDIR(sb.st_mode);
    if (!d->lock_.valid() && is_dir && ReadFd(fd.get()) == want) {
      d->dir_ = dir;
      d->lock_path_ = lock_path;
      d->lock_ = std::move(fd);
      d->adopted_ = true;
      continue;
    }
    // Left by a pull of another bundle (or a second one of this): remove.
    if (is_dir) RemoveAll(dir);
    ::unlink(lock_path.c_str());
  }
  if (d->adopted_) return d;

  // A new one. The lock is taken under a staging name that only the stale
  // check above looks at, then renamed into place, so that no one sees it
  // unlocked; the directory comes after it, so that a pull killed at any
  // point leaves nothing the next one cannot clean up.
  const std::string stem = (parent / (prefix + RandomHex(6))).string();
  const std::string staging = stem + std::string(kStagingSuffix);
  UniqueFd fd(::open(staging.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return Status::FromErrno("create " + staging, errno);
  if (::flock(fd.get(), LOCK_EX) != 0) {
    const int err = errno;
    ::unlink(staging.c_str());
    return Status::FromErrno("lock " + staging, err);
  }
  if (Status st = WriteAll(fd.get(), want.data(), want.size(), staging); !st.ok()) {
    ::unlink(staging.c_str());
    return st;
  }
  const std::string lock_path = stem + std::string(kLockSuffix);
  if (::rename(staging.c_str(), lock_path.c_str()) != 0) {
    const int err = errno;
    ::unlink(staging.c_str());
    return Status::FromErrno("rename " + staging, err);
  }
  if (::mkdir(stem.c_str(), 0755) != 0) {
    const int err = errno;
    ::unlink(lock_path.c_str());
    return Status::FromErrno("create " + stem, err);
  }
  d->dir_ = stem;
  d->lock_path_ = lock_path;
  d->lock_ = std::move(fd);
  return d;
}

PullDir::~PullDir() {
  if (committed_) return;
  RemoveAll(dir_.string());
  ::unlink(lock_path_.c_str());
}

Result<PullDir::Leftovers> PullDir::KeepVerified(const Manifest& m) {
  Leftovers kept;
  if (!adopted_) return kept;
  std::map<std::string, const Descriptor*> files;
  std::set<std::string> dirs = {dir_.string()};
  for (const auto& l : m.layers) {
    const fs::path p = dir_ / l.title;
    files.emplace(p.string(), &l);
    for (fs::path q = p.parent_path(); q.string().size() > dir_.string().size(); q = q.parent_path())
      dirs.insert(q.string());
  }
  std::vector<std::string> present, drop;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir_, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const std::string p = it->path().string();
    const auto st = it->symlink_status(ec);
    if (fs::is_directory(st)) {
      if (!dirs.count(p)) {
        drop.push_back(p);
        it.disable_recursion_pending();
      }
    } else if (fs::is_regular_file(st) && files.count(p)) {
      present.push_back(p);
    } else {
      drop.push_back(p);
    }
  }
  if (ec) return Status::FromErrno("read " + dir_.string(), ec.value());
  for (const auto& p : drop) RemoveAll(p);
  for (const auto& p : present) {
    const Descriptor& l = *files.at(p);
    struct stat sb;
    const uint64_t have = ::stat(p.c_str(), &sb) == 0 ? static_cast<uint64_t>(sb.st_size) : ~uint64_t{0};
    if (have > 0 && have < l.size) {
      kept.prefix.emplace(p, have);
      continue;
    }
    auto h = have == l.size ? HashFile(p)
                            : Result<FileDigest>(Status::DataLoss("wrong size"));  // only a whole one is hashed
    if (h.ok() && h->size == l.size && h->digest == l.digest) {
      kept.whole.insert(p);
    } else {
      ::unlink(p.c_str());
    }
  }
  return kept;
}

Status PullDir::Commit() {
  if (::rename(dir_.c_str(), dest_.c_str()) != 0) return Status::FromErrno("rename into " + dest_.string(), errno);
  committed_ = true;
  ::unlink(lock_path_.c_str());
  return FsyncDir(dest_.parent_path().string());
}

}  // namespace modelreg
