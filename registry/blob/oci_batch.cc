// OciBackend batches, staged in DATA/oci-staging (blob/oci_backend.h).
#include "blob/oci_backend_internal.h"

namespace modelreg {

// ---- batches ----

namespace {

// Each blob goes to a temporary file under DATA/oci-staging (this replica's
// own), is checked at End, and is pushed to the backend at Commit: none is
// in the backend before the whole batch arrived and checked.
class OciBatch : public BlobBatch {
 public:
  explicit OciBatch(OciBackend* b) : b_(b) {}
  ~OciBatch() override {
    if (!cur_tmp_.empty()) ::unlink(cur_tmp_.c_str());
    for (const auto& it : done_) ::unlink(it.tmp.c_str());
  }
  Status Begin(const Digest& digest, uint64_t size) override {
    if (cur_digest_) return Status::FailedPrecondition("previous blob not ended");
    cur_tmp_ = b_->staging() + "/batch-" + RandomHex(16);
    cur_fd_ = UniqueFd(::open(cur_tmp_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!cur_fd_.valid()) {
      Status st = Status::FromErrno("create " + cur_tmp_, errno);
      cur_tmp_.clear();
      return st;
    }
    cur_digest_ = digest;
    cur_size_ = size;
    cur_written_ = 0;
    cur_hash_ = std::make_unique<Sha256>();
    return Status::OK();
  }
  Status Write(const char* data, size_t len) override {
    if (!cur_digest_) return Status::FailedPrecondition("no blob begun");
    if (cur_written_ + len > cur_size_)
      return Status::InvalidArgument("blob " + cur_digest_->str() + " is longer than its stated size " +
                                     std::to_string(cur_size_));
    cur_hash_->Update(data, len);
    cur_written_ += len;
    return WriteAll(cur_fd_.get(), data, len, cur_tmp_);
  }
  Status End() override {
    if (!cur_digest_) return Status::FailedPrecondition("no blob begun");
    cur_fd_ = UniqueFd();
    Digest got = cur_hash_->Finish();
    Status st;
    if (cur_written_ != cur_size_)
      st = Status::InvalidArgument("blob " + cur_digest_->str() + " truncated: " + std::to_string(cur_written_) +
                                   " of " + std::to_string(cur_size_) + " bytes");
    else if (got != *cur_digest_)
      st = Status::InvalidArgument("digest mismatch: expected " + cur_digest_->str() + ", got " + got.str());
    if (st.ok()) done_.push_back({*cur_digest_, cur_size_, cur_tmp_});
    else ::unlink(cur_tmp_.c_str());
    cur_tmp_.clear();
    cur_digest_.reset();
    return st;
  }
  Result<size_t> Commit() override {
    if (cur_digest_) return Status::FailedPrecondition("blob not ended");
    committed_.clear();
    size_t n = 0;
    std::vector<Digest> pushed;
    auto cli = b_->NewClient();
    for (auto& it : done_) {
      MR_ASSIGN_OR_RETURN(auto stored, b_->Stat(it.digest));
      if (!stored) {
        UniqueFd fd(::open(it.tmp.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd.valid()) return Status::FromErrno("open " + it.tmp, errno);
        MR_RETURN_IF_ERROR(
            b_->PushBlob(*cli, b_->cfg().prefix, it.digest, it.size, [&](uint64_t off, char* buf, size_t len) {
              ssize_t got = ::pread(fd.get(), buf, len, static_cast<off_t>(off));
              return got == static_cast<ssize_t>(len);
            }));
        ++n;
      }
      pushed.push_back(it.digest);
    }
    for (const auto& it : done_) ::unlink(it.tmp.c_str());
    done_.clear();
    committed_ = std::move(pushed);
    return n;
  }
  const std::vector<Digest>& committed() const override { return committed_; }

 private:
  struct Item {
    Digest digest;
    uint64_t size;
    std::string tmp;
  };
  OciBackend* b_;
  std::optional<Digest> cur_digest_;
  uint64_t cur_size_ = 0, cur_written_ = 0;
  std::string cur_tmp_;
  UniqueFd cur_fd_;
  std::unique_ptr<Sha256> cur_hash_;
  std::vector<Item> done_;
  std::vector<Digest> committed_;
};

}  // namespace

std::unique_ptr<BlobBatch> OciBackend::NewBatch() { return std::make_unique<OciBatch>(this); }

}  // namespace modelreg
