#include "blob/blob_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

namespace modelreg {

// In-memory state of an upload session: serializes appenders and carries the
// running hash so that finishing does not re-read the bytes. Lost on restart;
// then CommitUpload re-hashes the file.
struct UploadAppender::Session {
  std::mutex busy;
  std::unique_ptr<Sha256> hash;  // valid while hashed == file size
  uint64_t hashed = 0;
};

bool IsValidUploadId(std::string_view id) {
  return id.size() == 32 &&
         std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

UploadAppender::UploadAppender(std::shared_ptr<Session> s, UniqueFd fd, uint64_t offset, std::string path,
                               bool direct_io)
    : session_(std::move(s)), fd_(std::move(fd)), offset_(offset) {
  hashing_ = session_->hash && session_->hashed == offset;
  if (!hashing_) session_->hash.reset();
  writer_ = std::make_unique<PipelinedWriter>(fd_.get(), std::move(path), hashing_ ? session_->hash.get() : nullptr,
                                              offset, UINT64_MAX, PipelinedWriter::kSyncEvery, direct_io,
                                              // the uploading client hashes on the other core
                                              PipelinedWriter::HashOn::kCaller);
}

UploadAppender::~UploadAppender() { (void)Close(); }

Status UploadAppender::Write(const char* data, size_t len) {
  if (closed_) return Status::FailedPrecondition("appender closed");
  return writer_->Write(data, len);
}

Result<std::pair<char*, size_t>> UploadAppender::Space() {
  if (closed_) return Status::FailedPrecondition("appender closed");
  return writer_->Space();
}

Status UploadAppender::Commit(size_t n) {
  if (closed_) return Status::FailedPrecondition("appender closed");
  return writer_->Commit(n);
}

Status UploadAppender::Close() {
  if (closed_) return Status::OK();
  closed_ = true;
  Status st = writer_->Finish();
  if (st.ok()) {
    offset_ = writer_->end_offset();
    if (hashing_) session_->hashed = offset_;
  } else {
    // Whatever reached the file is the session's size; the hash is lost.
    session_->hash.reset();
    struct stat sb;
    offset_ = ::fstat(fd_.get(), &sb) == 0 ? static_cast<uint64_t>(sb.st_size) : writer_->end_offset();
  }
  writer_.reset();
  fd_ = UniqueFd();
  if (lock_.owns_lock()) lock_.unlock();
  return st;
}

Result<std::unique_ptr<BlobStore>> BlobStore::Open(const std::string& root, bool direct_io) {
  MR_RETURN_IF_ERROR(MakeDirs(root + "/blobs/sha256"));
  MR_RETURN_IF_ERROR(MakeDirs(root + "/uploads"));
  return std::unique_ptr<BlobStore>(new BlobStore(root, direct_io));
}

std::string BlobStore::BlobPath(const Digest& d) const { return root_ + "/blobs/sha256/" + d.shard() + "/" + d.hex(); }

std::optional<uint64_t> BlobStore::Stat(const Digest& d) const {
  struct stat sb;
  if (::stat(BlobPath(d).c_str(), &sb) != 0 || !S_ISREG(sb.st_mode)) return std::nullopt;
  return static_cast<uint64_t>(sb.st_size);
}

Result<UniqueFd> BlobStore::OpenBlob(const Digest& d, uint64_t* size) const {
  std::string p = BlobPath(d);
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return Status::NotFound("blob " + d.str() + " not found");
    return Status::FromErrno("open " + p, errno);
  }
  struct stat sb;
  if (::fstat(fd.get(), &sb) != 0) return Status::FromErrno("stat " + p, errno);
  if (size) *size = static_cast<uint64_t>(sb.st_size);
  return fd;
}

Status BlobStore::Publish(const std::string& tmp, const Digest& d, bool sync_dir) {
  std::string dir = root_ + "/blobs/sha256/" + d.shard();
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Status::FromErrno("mkdir " + dir, errno);
  std::string dst = dir + "/" + d.hex();
  ::chmod(tmp.c_str(), 0444);
  if (::rename(tmp.c_str(), dst.c_str()) != 0) return Status::FromErrno("rename to " + dst, errno);
  return sync_dir ? FsyncDir(dir) : Status::OK();
}

void BlobStore::Touch(const Digest& d) const { (void)::utimensat(AT_FDCWD, BlobPath(d).c_str(), nullptr, 0); }

Result<std::optional<uint64_t>> BlobStore::Remove(const Digest& d) {
  const std::string path = BlobPath(d);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<uint64_t>();
    return Status::FromErrno("stat " + path, errno);
  }
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return std::optional<uint64_t>();
    return Status::FromErrno("remove " + path, errno);
  }
  return std::optional<uint64_t>(static_cast<uint64_t>(st.st_size));
}

Status BlobStore::PutBytes(const Digest& expected, std::string_view bytes) {
  Digest got = Digest::Of(bytes);
  if (got != expected)
    return Status::InvalidArgument("digest mismatch: expected " + expected.str() + ", got " + got.str());
  if (Stat(expected)) {
    Touch(expected);
    return Status::OK();
  }
  std::string tmp = root_ + "/uploads/put-" + RandomHex(16);
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return Status::FromErrno("create " + tmp, errno);
  Status st = WriteAll(fd.get(), bytes.data(), bytes.size(), tmp);
  if (st.ok() && ::fsync(fd.get()) != 0) st = Status::FromErrno("fsync " + tmp, errno);
  fd = UniqueFd();
  if (st.ok()) st = Publish(tmp, expected, true);
  if (!st.ok()) ::unlink(tmp.c_str());
  return st;
}

std::shared_ptr<UploadAppender::Session> BlobStore::SessionFor(const std::string& id) {
  std::lock_guard<std::mutex> l(mu_);
  auto& s = sessions_[id];
  if (!s) s = std::make_shared<UploadAppender::Session>();
  return s;
}

Status BlobStore::CreateUpload(const std::string& id) {
  if (!IsValidUploadId(id)) return Status::InvalidArgument("bad upload id");
  std::string p = UploadPath(id);
  UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return Status::FromErrno("create " + p, errno);
  auto s = SessionFor(id);
  s->hash = std::make_unique<Sha256>();
  s->hashed = 0;
  return Status::OK();
}

Result<uint64_t> BlobStore::UploadSize(const std::string& id) const {
  if (!IsValidUploadId(id)) return Status::InvalidArgument("bad upload id");
  struct stat sb;
  if (::stat(UploadPath(id).c_str(), &sb) != 0) {
    if (errno == ENOENT) return Status::NotFound("upload " + id + " not found");
    return Status::FromErrno("stat upload " + id, errno);
  }
  return static_cast<uint64_t>(sb.st_size);
}

Result<BlobStore::Claim> BlobStore::ClaimUpload(const std::string& id, int open_flags) {
  if (!IsValidUploadId(id)) return Status::InvalidArgument("bad upload id");
  Claim c;
  c.session = SessionFor(id);
  c.lock = std::unique_lock<std::mutex>(c.session->busy, std::try_to_lock);
  if (!c.lock.owns_lock()) return Status::Aborted("upload " + id + " is being written by another request");
  c.path = UploadPath(id);
  c.fd = UniqueFd(::open(c.path.c_str(), open_flags | O_CLOEXEC));
  if (!c.fd.valid()) {
    if (errno == ENOENT) return Status::NotFound("upload " + id + " not found");
    return Status::FromErrno("open " + c.path, errno);
  }
  struct stat sb;
  if (::fstat(c.fd.get(), &sb) != 0) return Status::FromErrno("stat " + c.path, errno);
  c.size = static_cast<uint64_t>(sb.st_size);
  return c;
}

Result<std::unique_ptr<UploadAppender>> BlobStore::Append(const std::string& id, uint64_t expected_offset) {
  MR_ASSIGN_OR_RETURN(Claim c, ClaimUpload(id, O_WRONLY | O_APPEND));
  UploadAppender::Session* s = c.session.get();
  if (c.size != expected_offset)
    return Status::OutOfRange("upload " + id + " is at offset " + std::to_string(c.size) + ", chunk starts at " +
                              std::to_string(expected_offset));
  if (s->hash && s->hashed != c.size) s->hash.reset();
  if (!s->hash && c.size == 0) {
    s->hash = std::make_unique<Sha256>();
    s->hashed = 0;
  }
  std::unique_ptr<UploadAppender> a(
      new UploadAppender(std::move(c.session), std::move(c.fd), c.size, std::move(c.path), direct_io_));
  a->lock_ = std::move(c.lock);
  return a;
}

Result<FileDigest> BlobStore::CommitUpload(const std::string& id, const Digest& expected) {
  MR_ASSIGN_OR_RETURN(Claim c, ClaimUpload(id, O_RDONLY));
  if (::fsync(c.fd.get()) != 0) return Status::FromErrno("fsync " + c.path, errno);
  UploadAppender::Session& s = *c.session;
  std::optional<Digest> got;
  if (s.hash && s.hashed == c.size) {
    got = s.hash->Finish();
    s.hash.reset();
  } else {
    c.fd = UniqueFd();
    auto h = HashFile(c.path);  // after a restart the running hash is gone
    if (!h.ok()) return h.status();
    got = h->digest;
  }
  if (*got != expected) {
    c.lock.unlock();
    RemoveUpload(id);
    return Status::InvalidArgument("digest mismatch: upload of " + std::to_string(c.size) + " bytes has " + got->str() +
                                   ", client said " + expected.str());
  }
  if (Stat(expected)) {
    ::unlink(c.path.c_str());  // already stored: identical bytes, keep the old file
  } else {
    MR_RETURN_IF_ERROR(Publish(c.path, expected, true));
  }
  c.lock.unlock();
  std::lock_guard<std::mutex> l(mu_);
  sessions_.erase(id);
  return FileDigest{expected, c.size};
}

void BlobStore::RemoveUpload(const std::string& id) {
  if (!IsValidUploadId(id)) return;
  ::unlink(UploadPath(id).c_str());
  std::lock_guard<std::mutex> l(mu_);
  sessions_.erase(id);
}

std::vector<std::string> BlobStore::ListUploadFiles() const {
  std::vector<std::string> out;
  DIR* d = ::opendir((root_ + "/uploads").c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  ::closedir(d);
  return out;
}

size_t BlobStore::RemoveUploadFilesExcept(std::vector<std::string> known) {
  std::sort(known.begin(), known.end());
  size_t removed = 0;
  for (const auto& f : ListUploadFiles()) {
    if (IsValidUploadId(f) && std::binary_search(known.begin(), known.end(), f)) continue;
    if (::unlink(UploadPath(f).c_str()) == 0) ++removed;
  }
  return removed;
}

Result<std::string> BlobStore::Quarantine(const Digest& d, const struct stat& seen) {
  const std::string from = BlobPath(d);
  struct stat now;
  if (::stat(from.c_str(), &now) != 0) return Status::FromErrno("stat " + from, errno);
  if (now.st_ino != seen.st_ino || now.st_dev != seen.st_dev || now.st_size != seen.st_size ||
      now.st_mtim.tv_sec != seen.st_mtim.tv_sec || now.st_mtim.tv_nsec != seen.st_mtim.tv_nsec)
    return Status::FailedPrecondition("blob " + d.str() + " changed while it was checked; left in place");
  const std::string dir = root_ + "/quarantine/sha256";
  MR_RETURN_IF_ERROR(MakeDirs(dir));
  std::string to = dir + "/" + d.hex();
  for (int n = 1; ::access(to.c_str(), F_OK) == 0; ++n) to = dir + "/" + d.hex() + "." + std::to_string(n);
  if (::rename(from.c_str(), to.c_str()) != 0) return Status::FromErrno("move " + from + " to " + to, errno);
  MR_RETURN_IF_ERROR(FsyncDir(dir));
  MR_RETURN_IF_ERROR(FsyncDir(root_ + "/blobs/sha256/" + d.shard()));
  return to;
}

std::vector<Digest> BlobStore::ListBlobs() const {
  std::vector<Digest> out;
  std::string base = root_ + "/blobs/sha256";
  DIR* d = ::opendir(base.c_str());
  if (!d) return out;
  std::set<std::string> shards;
  while (dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') shards.insert(e->d_name);
  ::closedir(d);
  for (const auto& sh : shards) {
    DIR* sd = ::opendir((base + "/" + sh).c_str());
    if (!sd) continue;
    while (dirent* e = ::readdir(sd)) {
      auto dg = Digest::Parse(std::string("sha256:") + e->d_name);
      if (dg.ok()) out.push_back(*dg);
    }
    ::closedir(sd);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---- LocalBlobBatch ----

LocalBlobBatch::LocalBlobBatch(BlobStore* store) : StagedBlobBatch(store->root_ + "/uploads", 0644), store_(store) {}

Result<size_t> LocalBlobBatch::Publish(std::vector<Staged>& blobs) {
  if (blobs.empty()) return size_t{0};
  // One sync for the data of every file in the batch instead of one fsync
  // each; then renames, then one more sync for the directory entries.
  UniqueFd dir(::open(store_->root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid() || ::syncfs(dir.get()) != 0) return Status::FromErrno("syncfs", errno);
  size_t n = 0;
  for (auto& it : blobs) {
    if (store_->Stat(it.digest)) continue;  // already stored: the staged file is removed
    MR_RETURN_IF_ERROR(store_->Publish(it.path, it.digest, false));
    it.path.clear();
    ++n;
  }
  if (::syncfs(dir.get()) != 0) return Status::FromErrno("syncfs", errno);
  return n;
}

}  // namespace modelreg
