#include "core/blob_splitter.h"

#include <algorithm>

namespace modelreg {

BlobSplitter::BlobSplitter(const std::vector<SplitBlob>& blobs, size_t first, OpenFn open, DoneFn done)
    : blobs_(blobs), next_(first), open_(std::move(open)), done_(std::move(done)) {}

Status BlobSplitter::Write(const char* data, size_t n) {
  const SplitBlob& b = blobs_[next_];
  if (!out_.valid()) {
    MR_ASSIGN_OR_RETURN(out_, open_(next_));
    hash_.emplace();
    in_blob_ = 0;
  }
  MR_RETURN_IF_ERROR(WriteAll(out_.get(), data, n, b.name));
  hash_->Update(data, n);
  in_blob_ += n;
  if (in_blob_ < b.size) return Status::OK();
  if (Digest d = hash_->Finish(); d != b.digest)
    return Status::DataLoss(b.name + " hashes to " + d.str() + " as downloaded; the manifest says " + b.digest.str());
  MR_RETURN_IF_ERROR(done_(next_, out_.get()));
  out_ = UniqueFd();
  in_blob_ = 0;
  ++next_;
  return Status::OK();
}

Status BlobSplitter::Feed(const char* data, size_t n) {
  while (failed_.ok()) {
    // Empty blobs at this point take no bytes of the stream.
    while (failed_.ok() && next_ < blobs_.size() && blobs_[next_].size == 0) failed_ = Write(nullptr, 0);
    if (!failed_.ok() || n == 0) break;
    if (next_ == blobs_.size()) {
      failed_ = Status::DataLoss("the answer holds more bytes than the blobs asked for");
      break;
    }
    const size_t take = static_cast<size_t>(std::min<uint64_t>(n, blobs_[next_].size - in_blob_));
    failed_ = Write(data, take);
    data += take;
    n -= take;
  }
  return failed_;
}

Status BlobSplitter::End() { return Feed(nullptr, 0); }

}  // namespace modelreg
