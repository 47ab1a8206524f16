// OciBackend batches, staged in DATA/oci-staging (blob/oci_backend.h).
#include "blob/oci_backend_internal.h"
#include "blob/staged_batch.h"

namespace modelreg {

// ---- batches ----

namespace {

// Each blob is staged in DATA/oci-staging (this replica's own) and checked
// at End (blob/staged_batch.h), and pushed to the backend at Commit: none is
// in the backend before the whole batch arrived and was checked.
class OciBatch : public StagedBlobBatch {
 public:
  explicit OciBatch(OciBackend* b) : StagedBlobBatch(b->staging(), 0600), b_(b) {}

 private:
  Result<size_t> Publish(std::vector<Staged>& blobs) override {
    size_t n = 0;
    auto cli = b_->NewClient();
    for (const auto& it : blobs) {
      MR_ASSIGN_OR_RETURN(auto stored, b_->Stat(it.digest));
      if (stored) continue;
      UniqueFd fd(::open(it.path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!fd.valid()) return Status::FromErrno("open " + it.path, errno);
      MR_RETURN_IF_ERROR(
          b_->PushBlob(*cli, b_->cfg().prefix, it.digest, it.size, [&](uint64_t off, char* buf, size_t len) {
            ssize_t got = ::pread(fd.get(), buf, len, static_cast<off_t>(off));
            return got == static_cast<ssize_t>(len);
          }));
      ++n;
    }
    return n;
  }

  OciBackend* b_;
};

}  // namespace

std::unique_ptr<BlobBatch> OciBackend::NewBatch() { return std::make_unique<OciBatch>(this); }

}  // namespace modelreg
