#include "blob/staged_batch.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace modelreg {

StagedBlobBatch::~StagedBlobBatch() {
  if (!cur_path_.empty()) ::unlink(cur_path_.c_str());
  for (const auto& s : done_)
    if (!s.path.empty()) ::unlink(s.path.c_str());
}

Status StagedBlobBatch::Begin(const Digest& digest, uint64_t size) {
  if (cur_digest_) return Status::FailedPrecondition("previous blob not ended");
  cur_path_ = dir_ + "/batch-" + RandomHex(16);
  cur_fd_ = UniqueFd(::open(cur_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_));
  if (!cur_fd_.valid()) {
    Status st = Status::FromErrno("create " + cur_path_, errno);
    cur_path_.clear();
    return st;
  }
  cur_digest_ = digest;
  cur_size_ = size;
  cur_written_ = 0;
  cur_hash_ = std::make_unique<Sha256>();
  return Status::OK();
}

Status StagedBlobBatch::Write(const char* data, size_t len) {
  if (!cur_digest_) return Status::FailedPrecondition("no blob begun");
  if (cur_written_ + len > cur_size_)
    return Status::InvalidArgument("blob " + cur_digest_->str() + " is longer than its stated size " +
                                   std::to_string(cur_size_));
  cur_hash_->Update(data, len);
  cur_written_ += len;
  return WriteAll(cur_fd_.get(), data, len, cur_path_);
}

Status StagedBlobBatch::End() {
  if (!cur_digest_) return Status::FailedPrecondition("no blob begun");
  cur_fd_ = UniqueFd();
  Digest got = cur_hash_->Finish();
  Status st;
  if (cur_written_ != cur_size_)
    st = Status::InvalidArgument("blob " + cur_digest_->str() + " truncated: " + std::to_string(cur_written_) + " of " +
                                 std::to_string(cur_size_) + " bytes");
  else if (got != *cur_digest_)
    st = Status::InvalidArgument("digest mismatch: expected " + cur_digest_->str() + ", got " + got.str());
  if (st.ok()) {
    done_.push_back({*cur_digest_, cur_size_, cur_path_});
  } else {
    ::unlink(cur_path_.c_str());
  }
  cur_path_.clear();
  cur_digest_.reset();
  return st;
}

Result<size_t> StagedBlobBatch::Commit() {
  if (cur_digest_) return Status::FailedPrecondition("blob not ended");
  committed_.clear();
  MR_ASSIGN_OR_RETURN(size_t n, Publish(done_));
  std::vector<Digest> published;
  published.reserve(done_.size());
  for (const auto& s : done_) {
    if (!s.path.empty()) ::unlink(s.path.c_str());
    published.push_back(s.digest);
  }
  done_.clear();
  committed_ = std::move(published);
  return n;
}

}  // namespace modelreg
