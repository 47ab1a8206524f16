// LocalBlobBackend: the BlobBackend over the local store under DATA/
// (blob/blob_store.h). Readers hand out the blob's file (pread); its bytes
// are trusted as written, checked by `admin fsck`. On a mount shared by
// several replicas the store needs what docs/operations.md "Blobs in an OCI
// registry" lists (atomic rename, fsync durability, one path everywhere).
#pragma once

#include <memory>
#include <string>

#include "blob/blob_backend.h"
#include "blob/blob_store.h"

namespace modelreg {

class LocalBlobBackend : public BlobBackend {
 public:
  explicit LocalBlobBackend(std::unique_ptr<BlobStore> store) : store_(std::move(store)) {}

  std::string Describe() const override { return "local " + store_->root(); }
  BlobStore* local() override { return store_.get(); }

  Result<std::optional<uint64_t>> Stat(const Digest& d) const override { return store_->Stat(d); }
  Result<std::unique_ptr<BlobReader>> Open(const Digest& d) const override;
  Status PutBytes(const Digest& expected, std::string_view bytes) override { return store_->PutBytes(expected, bytes); }
  void Touch(const Digest& d) override { store_->Touch(d); }

  Status CreateUpload(const std::string& id) override { return store_->CreateUpload(id); }
  Result<uint64_t> UploadSize(const std::string& id) const override { return store_->UploadSize(id); }
  Result<std::unique_ptr<BlobAppender>> Append(const std::string& id, uint64_t expected_offset) override;
  Result<FileDigest> CommitUpload(const std::string& id, const Digest& expected) override {
    return store_->CommitUpload(id, expected);
  }
  void RemoveUpload(const std::string& id) override { store_->RemoveUpload(id); }
  size_t RemoveUploadFilesExcept(std::vector<std::string> known) override {
    return store_->RemoveUploadFilesExcept(std::move(known));
  }
  std::unique_ptr<BlobBatch> NewBatch() override { return store_->NewBatch(); }

 private:
  std::unique_ptr<BlobStore> store_;
};

}  // namespace modelreg
