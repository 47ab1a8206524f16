// BlobSplitter: cuts a byte stream that is several blobs concatenated (the
// answer of POST /api/v1/models/{m}/blobs/fetch) at their known sizes,
// writes each into a file of its own and checks each one's sha256 as its
// last byte arrives. Used by `pull` and by the agent.
//
// Feed() takes the stream in pieces of any size; a blob of 0 bytes is
// completed when the stream reaches it. An error (a digest mismatch, more
// bytes than the blobs add up to, a write error) is final: Feed() returns
// it and nothing more is accepted. complete() says how many blobs were
// checked, so that a caller whose stream broke off can ask again for the
// rest.
//
// Not thread-safe: one stream, one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/digest.h"
#include "core/file_util.h"
#include "core/status.h"

namespace modelreg {

// How downloaders batch POST .../blobs/fetch: blobs of up to kFetchBlobMax
// bytes (larger ones are one GET each, resumable with Range), at most
// kFetchMaxBlobs (the server's limit) and kFetchMaxBytes per request.
inline constexpr uint64_t kFetchBlobMax = 4 << 20;
inline constexpr size_t kFetchMaxBlobs = 10000;
inline constexpr uint64_t kFetchMaxBytes = 64 << 20;

// The end of the batch of `items` (anything with a `size`) that starts at
// `begin`: as many as the limits above allow, at least one.
template <class T>
size_t FetchBatchEnd(const std::vector<T>& items, size_t begin) {
  size_t end = begin;
  uint64_t bytes = 0;
  while (end < items.size() && end - begin < kFetchMaxBlobs &&
         (end == begin || bytes + items[end].size <= kFetchMaxBytes))
    bytes += items[end++].size;
  return end;
}

// Downloads `items` in the batches FetchBatchEnd cuts: `fetch(batch)`
// (-> Result<bool>) takes a batch in one request and answers false if the
// registry has no such endpoint; from then on, and when there is only one
// item, `one(item)` (-> Status) takes each alone.
template <class T, class Fetch, class One>
Status FetchInBatches(const std::vector<T>& items, Fetch fetch, One one) {
  bool can_fetch = items.size() > 1;
  for (size_t b = 0; b < items.size();) {
    const size_t e = FetchBatchEnd(items, b);
    const std::vector<T> batch(items.begin() + static_cast<std::ptrdiff_t>(b),
                               items.begin() + static_cast<std::ptrdiff_t>(e));
    if (can_fetch) { MR_ASSIGN_OR_RETURN(can_fetch, fetch(batch)); }
    if (!can_fetch)  // one item, or an older registry: one request each
      for (const auto& x : batch) MR_RETURN_IF_ERROR(one(x));
    b = e;
  }
  return Status::OK();
}

struct SplitBlob {
  Digest digest;
  uint64_t size = 0;
  std::string name;  // names it in errors
};

class BlobSplitter {
 public:
  // Creates (fresh) the file that blob i is written to.
  using OpenFn = std::function<Result<UniqueFd>(size_t i)>;
  // Blob i is written and its digest checked; `fd` is still open (the
  // caller may fsync it) and closed after.
  using DoneFn = std::function<Status(size_t i, int fd)>;

  // Splits a stream holding blobs[first], blobs[first + 1], ... in order.
  BlobSplitter(const std::vector<SplitBlob>& blobs, size_t first, OpenFn open, DoneFn done);

  Status Feed(const char* data, size_t n);
  // The stream ended where it should: completes trailing empty blobs.
  // (A stream that broke off early is not an error here: see complete().)
  Status End();
  // Blobs [0, complete()) are checked.
  size_t complete() const { return next_; }
  bool all_complete() const { return next_ == blobs_.size(); }

 private:
  Status Write(const char* data, size_t n);  // into blob next_

  const std::vector<SplitBlob>& blobs_;
  size_t next_;
  OpenFn open_;
  DoneFn done_;
  Status failed_;
  UniqueFd out_;
  std::optional<Sha256> hash_;
  uint64_t in_blob_ = 0;
};

}  // namespace modelreg
