// StagedBlobBatch: the one implementation of BlobBatch's staging, shared by
// the local store (LocalBlobBatch, blob/blob_store.h) and the OCI backend
// (blob/oci_batch.cc). Each blob of the batch is written to a file of its
// own in a staging directory while its sha256 is computed; End() checks its
// size and digest and drops it if either is wrong. Commit() hands the
// checked files to the backend's Publish (rename into the store, push to
// the registry), so nothing is visible before the whole batch arrived and
// was checked. Staged files that were not published are removed when the
// batch is destroyed.
//
// Not thread-safe: one batch belongs to one request.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "blob/blob_backend.h"
#include "core/digest.h"
#include "core/file_util.h"
#include "core/status.h"

namespace modelreg {

class StagedBlobBatch : public BlobBatch {
 public:
  ~StagedBlobBatch() override;
  // FailedPrecondition if a blob is begun and not ended.
  Status Begin(const Digest& digest, uint64_t size) final;
  // InvalidArgument past the stated size.
  Status Write(const char* data, size_t len) final;
  // InvalidArgument if the blob is shorter than stated or not its digest.
  Status End() final;
  // FailedPrecondition if a blob is begun and not ended; else Publish.
  Result<size_t> Commit() final;
  // Every blob of the last successful Commit, new or already stored (its
  // bytes were checked against its digest either way).
  const std::vector<Digest>& committed() const final { return committed_; }

 protected:
  // Staged files are created in `dir` with permissions `mode`.
  StagedBlobBatch(std::string dir, mode_t mode) : dir_(std::move(dir)), mode_(mode) {}

  struct Staged {
    Digest digest;
    uint64_t size;
    std::string path;  // cleared by Publish when it moved the file away
  };
  // Makes every staged blob visible (in the order ended), new or already
  // stored; returns how many were new. A path left set is removed after.
  virtual Result<size_t> Publish(std::vector<Staged>& blobs) = 0;

 private:
  const std::string dir_;
  const mode_t mode_;
  std::optional<Digest> cur_digest_;
  uint64_t cur_size_ = 0;
  uint64_t cur_written_ = 0;
  std::string cur_path_;
  UniqueFd cur_fd_;
  std::unique_ptr<Sha256> cur_hash_;
  std::vector<Staged> done_;
  std::vector<Digest> committed_;
};

}  // namespace modelreg
