// BlobStore: the content-addressed store under DATA/ (docs/architecture.md).
//
//   DATA/blobs/sha256/ab/abcdef...   committed blobs, immutable
//   DATA/uploads/<id>                bytes of an open upload session
//
// A blob becomes visible only after all its bytes were received, its size
// and sha256 checked, fsync'ed and renamed into place; a crash at any instant
// leaves either no blob or the whole blob. Nothing is held whole in memory.
//
// Thread-safe. Appends to one upload session are serialized: a second
// concurrent appender gets Aborted. Session ownership and expiry live in the
// database (store/token_store.h); this class only owns bytes.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "blob/blob_backend.h"
#include "blob/staged_batch.h"
#include "core/digest.h"
#include "core/file_util.h"
#include "core/pipelined_writer.h"
#include "core/status.h"

namespace modelreg {

class BlobStore;

// Streams one chunk into an upload session. Obtained from BlobStore::Append;
// Close() (or destruction) flushes what was received, so a truncated chunk
// still advances the session's offset by the bytes that arrived. Hashing and
// writing run on helper threads (core/pipelined_writer.h).
class UploadAppender : public BlobAppender {
 public:
  ~UploadAppender() override;
  Status Write(const char* data, size_t len) override;
  // Zero-copy writing (PipelinedWriter::Space / Commit).
  Result<std::pair<char*, size_t>> Space() override;
  Status Commit(size_t n) override;
  Status Close() override;
  uint64_t offset() const override { return offset_; }  // bytes in the session so far

 private:
  friend class BlobStore;
  struct Session;
  UploadAppender(std::shared_ptr<Session> s, UniqueFd fd, uint64_t offset, std::string path, bool direct_io);

  std::shared_ptr<Session> session_;
  std::unique_lock<std::mutex> lock_;
  UniqueFd fd_;
  uint64_t offset_;
  std::unique_ptr<PipelinedWriter> writer_;
  bool hashing_ = false;  // the session's running hash is in step with the file
  bool closed_ = false;
};

// Writes many small blobs, then makes them all durable with one filesystem
// sync before any becomes visible. Used for bundles of many small files.
// Staged under DATA/uploads (blob/staged_batch.h); Commit syncs, then
// renames every staged blob into place, and returns how many were new.
class LocalBlobBatch : public StagedBlobBatch {
 private:
  friend class BlobStore;
  explicit LocalBlobBatch(BlobStore* store);
  Result<size_t> Publish(std::vector<Staged>& blobs) override;
  BlobStore* store_;
};

class BlobStore {
 public:
  // Opens (creating) the store under `root` (the data dir).
  // `direct_io`: upload sessions write whole blocks with O_DIRECT, around
  // the page cache (core/pipelined_writer.h); serve --no-direct-io turns it off.
  static Result<std::unique_ptr<BlobStore>> Open(const std::string& root, bool direct_io = true);

  std::string BlobPath(const Digest& d) const;
  // Size of a committed blob, or nullopt if absent.
  std::optional<uint64_t> Stat(const Digest& d) const;
  // Opens a committed blob for reading; NotFound if absent.
  Result<UniqueFd> OpenBlob(const Digest& d, uint64_t* size) const;
  // Sets a committed blob's mtime to now (nothing if absent): the time
  // `admin gc` measures its grace period from.
  void Touch(const Digest& d) const;
  // Removes a committed blob (garbage collection: the caller has checked
  // that nothing references it). Returns its size; nullopt if absent.
  Result<std::optional<uint64_t>> Remove(const Digest& d);
  // Stores bytes already in memory (manifests); checks the digest first.
  // Bytes already stored are touched (Touch).
  Status PutBytes(const Digest& expected, std::string_view bytes);

  // Upload sessions.
  Status CreateUpload(const std::string& id);
  Result<uint64_t> UploadSize(const std::string& id) const;
  // Aborted if another appender is active; OutOfRange if `expected_offset`
  // is not the session's current size.
  Result<std::unique_ptr<UploadAppender>> Append(const std::string& id, uint64_t expected_offset);
  // Verifies digest and makes the blob visible. InvalidArgument on mismatch
  // (the session's bytes are discarded).
  Result<FileDigest> CommitUpload(const std::string& id, const Digest& expected);
  void RemoveUpload(const std::string& id);
  // Upload files that no session row knows about (crash leftovers).
  std::vector<std::string> ListUploadFiles() const;
  // Deletes every file under uploads/ except those of the sessions in
  // `known` (ids, any order): what a crash left behind. Returns how many.
  size_t RemoveUploadFilesExcept(std::vector<std::string> known);

  std::unique_ptr<LocalBlobBatch> NewBatch() { return std::unique_ptr<LocalBlobBatch>(new LocalBlobBatch(this)); }

  // Every committed blob digest (for fsck).
  std::vector<Digest> ListBlobs() const;
  // Moves a blob found corrupt out of the store, to
  // DATA/quarantine/sha256/<hex>[.N] (kept as evidence), so that the store
  // no longer claims it: the next upload of those bytes (a register of a
  // bundle holding them) puts a good copy back. `seen` is the stat of the
  // file that was found corrupt; a blob replaced since is left alone
  // (FailedPrecondition). Returns where it went.
  Result<std::string> Quarantine(const Digest& d, const struct stat& seen);

  const std::string& root() const { return root_; }

 private:
  friend class LocalBlobBatch;
  BlobStore(std::string root, bool direct_io) : root_(std::move(root)), direct_io_(direct_io) {}
  std::string UploadPath(const std::string& id) const { return root_ + "/uploads/" + id; }
  // Moves a verified temp file into place and fsyncs the shard directory.
  Status Publish(const std::string& tmp, const Digest& d, bool sync_dir);
  std::shared_ptr<UploadAppender::Session> SessionFor(const std::string& id);
  // An upload session taken for one request (Append, CommitUpload): its
  // lock held (another request on it gets Aborted), its file open with
  // `open_flags`, and the file's size.
  struct Claim {
    std::shared_ptr<UploadAppender::Session> session;
    std::unique_lock<std::mutex> lock;
    std::string path;
    UniqueFd fd;
    uint64_t size = 0;
  };
  Result<Claim> ClaimUpload(const std::string& id, int open_flags);

  std::string root_;
  bool direct_io_;  // uploads write whole blocks with O_DIRECT (core/pipelined_writer.h)
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<UploadAppender::Session>> sessions_;
};

// Upload ids are 32 lowercase hex characters; anything else is refused
// before it can reach a file name.
bool IsValidUploadId(std::string_view id);

}  // namespace modelreg
