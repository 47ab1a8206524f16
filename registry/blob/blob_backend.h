// BlobBackend: where the registry keeps blob bytes (docs/architecture.md,
// docs/operations.md "Blobs in an OCI registry"). Two implementations: the
// local content-addressed store under DATA/ (blob/blob_store.h) and an OCI
// distribution registry (blob/oci_backend.h). The service layer holds a
// BlobBackend and does not know which one it has.
//
// Contract, for every implementation:
// - A blob is visible (Stat, Open) only when the backend holds it whole,
//   its size and sha256 checked by this process.
// - Every byte served is checked: a reader whose bytes do not hash to the
//   blob's digest fails (DataLoss) before its last byte is handed out, so a
//   download of wrong bytes is cut short, never completed.
// - A backend that cannot be reached answers Unavailable (503 with
//   Retry-After at the API), never "absent".
// - Upload sessions are keyed by the service's upload id (32 lowercase hex)
//   and hold their state where every replica on the same backend finds it.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/digest.h"
#include "core/file_util.h"
#include "core/status.h"

namespace modelreg {

class BlobStore;

// One blob opened for reading.
class BlobReader {
 public:
  virtual ~BlobReader() = default;
  virtual uint64_t size() const = 0;
  // Up to `n` bytes at `offset` (< size()); 0 only at the end. A reader may
  // be cheap only when read in order (a stream); any offset works.
  // DataLoss if the blob's bytes turn out not to be its digest: the bytes
  // completing the blob are then not returned.
  virtual Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) = 0;
  // Before the last byte of a partial read goes out: checks the whole
  // blob's digest (reading what is left). OK at once where the bytes are
  // trusted (the local store: `admin fsck` checks them).
  virtual Status VerifyWhole() = 0;
  // A file whose bytes [0, size()) are the blob's, trusted as they are
  // (VerifyWhole is OK at once), that a response may send straight from
  // (sendfile(2)); owned by the reader. -1: none (read with ReadAt).
  virtual int trusted_fd() const { return -1; }
};

// Streams one chunk into an upload session (RegistryService::AppendUpload).
// Close() (or destruction) keeps what was received: a truncated chunk
// still advances the session's offset by the bytes that arrived.
class BlobAppender {
 public:
  virtual ~BlobAppender() = default;
  virtual Status Write(const char* data, size_t len) = 0;
  // Zero-copy writing: a buffer to fill, then Commit(bytes filled).
  virtual Result<std::pair<char*, size_t>> Space() = 0;
  virtual Status Commit(size_t n) = 0;
  virtual Status Close() = 0;
  virtual uint64_t offset() const = 0;  // bytes in the session so far
};

// Many small blobs in one request (POST /api/v1/blobs/batch). Each blob's
// size and digest are checked at End(); none is visible before Commit().
class BlobBatch {
 public:
  virtual ~BlobBatch() = default;
  virtual Status Begin(const Digest& digest, uint64_t size) = 0;
  virtual Status Write(const char* data, size_t len) = 0;
  virtual Status End() = 0;
  // Makes every finished blob visible. Returns how many were new.
  virtual Result<size_t> Commit() = 0;
  // Every blob of the last successful Commit, new or already stored.
  virtual const std::vector<Digest>& committed() const = 0;
};

class BlobBackend {
 public:
  virtual ~BlobBackend() = default;
  // "local DIR" or "oci://HOST:PORT/PREFIX", for logs and errors.
  virtual std::string Describe() const = 0;
  // The local store, for what only it can do (hard-link backups, quarantine
  // of corrupt files); nullptr for a remote backend.
  virtual BlobStore* local() { return nullptr; }
  // Whether the backend answers now (readiness); Unavailable if not.
  virtual Status Ping() const { return Status::OK(); }

  // Size of a stored blob; nullopt if absent.
  virtual Result<std::optional<uint64_t>> Stat(const Digest& d) const = 0;
  // NotFound if absent.
  virtual Result<std::unique_ptr<BlobReader>> Open(const Digest& d) const = 0;
  // A small blob whole (manifests, lineage records), its digest checked
  // (unless `verify` is false: the caller checks and words the error);
  // FailedPrecondition if it exceeds `limit` bytes.
  Result<std::string> ReadSmall(const Digest& d, size_t limit, bool verify = true) const;
  // Marks a stored blob as just used (the local store: its mtime to now),
  // so that `admin gc`, which spares blobs younger than its grace period,
  // leaves alone a blob a client was just told it need not upload. Nothing
  // where the backend keeps no such time.
  virtual void Touch(const Digest& d) {}
  // Stores bytes already in memory (manifests); checks the digest first.
  virtual Status PutBytes(const Digest& expected, std::string_view bytes) = 0;
  // A registered bundle manifest (already stored with PutBytes), for
  // backends that present bundles as artifacts of their own (OCI: the
  // manifest pushed to PREFIX/<model>, by digest when `tag` is empty, else
  // under that tag). The local store has nothing to do.
  virtual Status PublishBundle(const std::string& model, std::string_view manifest, const std::string& tag) {
    return Status::OK();
  }

  // Upload sessions.
  virtual Status CreateUpload(const std::string& id) = 0;
  virtual Result<uint64_t> UploadSize(const std::string& id) const = 0;
  // Aborted if another appender is active; OutOfRange if `expected_offset`
  // is not the session's current size.
  virtual Result<std::unique_ptr<BlobAppender>> Append(const std::string& id, uint64_t expected_offset) = 0;
  // Verifies size and digest and makes the blob visible. InvalidArgument on
  // mismatch (the session's bytes are discarded).
  virtual Result<FileDigest> CommitUpload(const std::string& id, const Digest& expected) = 0;
  virtual void RemoveUpload(const std::string& id) = 0;
  // Deletes the state of sessions other than `known` (crash leftovers) where
  // the backend can list them. Returns how many.
  virtual size_t RemoveUploadFilesExcept(std::vector<std::string> known) = 0;

  virtual std::unique_ptr<BlobBatch> NewBatch() = 0;
};

}  // namespace modelreg
