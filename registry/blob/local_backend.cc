#include "blob/local_backend.h"

#include <unistd.h>

#include <cerrno>

namespace modelreg {
namespace {

class FileReader : public BlobReader {
 public:
  FileReader(UniqueFd fd, uint64_t size, std::string what) : fd_(std::move(fd)), size_(size), what_(std::move(what)) {}
  uint64_t size() const override { return size_; }
  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    for (;;) {
      ssize_t got = ::pread(fd_.get(), buf, n, static_cast<off_t>(offset));
      if (got >= 0) return static_cast<size_t>(got);
      if (errno != EINTR) return Status::FromErrno("read " + what_, errno);
    }
  }
  Status VerifyWhole() override { return Status::OK(); }
  int trusted_fd() const override { return fd_.get(); }  // admin fsck checks the local store

 private:
  UniqueFd fd_;
  uint64_t size_;
  std::string what_;
};

}  // namespace

Result<std::unique_ptr<BlobReader>> LocalBlobBackend::Open(const Digest& d) const {
  uint64_t size = 0;
  MR_ASSIGN_OR_RETURN(UniqueFd fd, store_->OpenBlob(d, &size));
  return std::unique_ptr<BlobReader>(new FileReader(std::move(fd), size, "blob " + d.str()));
}

Result<std::unique_ptr<BlobAppender>> LocalBlobBackend::Append(const std::string& id, uint64_t expected_offset) {
  MR_ASSIGN_OR_RETURN(auto a, store_->Append(id, expected_offset));
  return std::unique_ptr<BlobAppender>(std::move(a));
}

}  // namespace modelreg
