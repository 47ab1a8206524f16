#include "net/blob_download.h"

#include <fcntl.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <thread>

#include "core/file_util.h"
#include "core/pipelined_writer.h"
#include "net/blob_fetch.h"
#include "net/http_error.h"

namespace modelreg::net {

int BackoffDelay(int attempt) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  const int base = std::min(100 << std::clamp(attempt, 0, 6), 5000);
  std::uniform_int_distribution<int> jitter(0, base / 2);
  return base + jitter(rng);
}

Status DiskFullIsFinal(Status st) {
  if (st.code() == StatusCode::kUnavailable) return Status::ResourceExhausted(st.message());
  return st;
}

namespace {

bool Cancelled(const BlobTransfer& t) { return t.cancelled && t.cancelled(); }

// Waits BackoffDelay(attempt), in slices so that a cancel ends it early.
// False: cancelled.
bool Backoff(const BlobTransfer& t, int attempt) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(BackoffDelay(attempt));
  while (std::chrono::steady_clock::now() < until) {
    if (Cancelled(t)) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(20), until - std::chrono::steady_clock::now()));
  }
  return !Cancelled(t);
}

// A transport failure of cpp-httplib that a retry cannot mend.
bool FinalTransportError(int error) { return error == static_cast<int>(httplib::Error::SSLServerVerification); }

// One blob's download into one file: the file, the hash and the writer
// that fill it, and the attempts.
class Download {
 public:
  Download(const BlobTransfer& t, const std::string& url_path, const BlobFile& f, BlobDownloadInfo* info)
      : t_(t), url_(url_path), f_(f), info_(info) {}

  Status Run() {
    fd_ = UniqueFd(f_.resume ? ::open(f_.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644)
                             : ::open(f_.path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (!fd_.valid()) return Disk(Status::FromErrno("create " + f_.path, errno));
    if (f_.resume) {
      hash_ = std::make_unique<Sha256>();
      MR_RETURN_IF_ERROR(Disk(HashFd(fd_.get(), hash_.get(), f_.path)));
      kept_ = hash_->bytes();
    }
    if (kept_ > 0 && kept_ <= f_.size) {
      StartAt(kept_);
    } else {
      MR_RETURN_IF_ERROR(StartOver());
    }
    Status st = Attempts();
    if (st.ok()) st = Verify();
    if (st.code() == StatusCode::kDataLoss && kept_ > 0 && !Cancelled(t_)) {
      // The kept bytes were not the blob's (a machine that crashed while
      // writing them): once more from the start.
      st = StartOver();
      if (st.ok()) st = Attempts();
      if (st.ok()) st = Verify();
    }
    if (st.code() == StatusCode::kDataLoss) ::unlink(f_.path.c_str());
    if (st.ok() && info_) info_->reused = kept_;
    return st;
  }

 private:
  Status Disk(Status st) const { return st.ok() ? st : t_.disk_error(std::move(st)); }

  // A fresh writer from `offset`, after `hash_` took [0, offset).
  void StartAt(uint64_t offset) {
    writer_ =
        std::make_unique<PipelinedWriter>(fd_.get(), f_.path, hash_.get(), offset, f_.size - offset,
                                          PipelinedWriter::kSyncEvery, t_.direct_io, PipelinedWriter::HashOn::kThread);
    got_ = offset;
  }

  // An empty file, a fresh hash and writer; nothing kept.
  Status StartOver() {
    kept_ = 0;
    if (writer_) MR_RETURN_IF_ERROR(Disk(writer_->Finish()));
    if (::ftruncate(fd_.get(), 0) != 0) return Disk(Status::FromErrno("truncate " + f_.path, errno));
    hash_ = std::make_unique<Sha256>();
    StartAt(0);
    return Status::OK();
  }

  void Count(uint64_t n) {
    got_ += n;
    if (t_.moved) t_.moved(n);
  }

  Status TooLong() const { return Status::DataLoss("blob " + f_.digest.str() + " is longer than its manifest size"); }

  // The attempts of the policy (blob_download.h) until got_ == size.
  Status Attempts() {
    // An empty blob is asked for too: the registry says whether it has it.
    for (int attempt = 0; got_ < f_.size || (f_.size == 0 && attempt == 0); ++attempt) {
      if (Cancelled(t_))
        return Status::Unavailable("download of " + f_.digest.str() + " interrupted at " + std::to_string(got_) +
                                   " bytes");
      Status st = Attempt();
      if (st.ok() && got_ == f_.size) return st;
      if (st.ok()) st = Status::Unavailable("download of " + f_.digest.str() + " ended early");
      if (st.code() != StatusCode::kUnavailable || retry_final_ || attempt >= t_.retries) return st;
      if (!Backoff(t_, attempt))
        return Status::Unavailable("download of " + f_.digest.str() + " interrupted at " + std::to_string(got_) +
                                   " bytes");
    }
    return Status::OK();
  }

  // One GET. OK: the answer arrived whole (got_ may still be short).
  Status Attempt() {
    httplib::Headers h(t_.headers.begin(), t_.headers.end());
    if (got_ > 0) h.emplace("Range", "bytes=" + std::to_string(got_) + "-");
    int status = 0;
    bool direct_done = false;
    uint64_t resp_len = 0, resp_got = 0;  // this answer's Content-Length and bytes so far
    std::string error_body;               // an error answer's body (the registry's JSON error)
    Status io;                            // the transfer's error (a body too long; a broken direct read)
    Status local;                         // this machine's disk's: final
    retry_final_ = false;
    auto r = t_.http->Get(
        url_, h,
        [&](const httplib::Response& res) {
          status = res.status;
          if (info_) info_->http_status = status;
          const std::string cl = res.get_header_value("Content-Length");
          resp_len = cl.empty() ? 0 : std::strtoull(cl.c_str(), nullptr, 10);
          if (got_ > 0 && res.status == 200) {  // Range ignored: the whole blob follows
            local = StartOver();
            return local.ok();
          }
          return true;  // an error answer's body is read too: it says what went wrong
        },
        [&](const char* data, size_t n) {
          if (status != 200 && status != 206) {
            AppendErrorBody(&error_body, data, n);
            return true;
          }
          if (got_ + n > f_.size) {
            io = TooLong();
            return false;
          }
          local = Disk(writer_->Write(data, n));
          Count(n);
          resp_got += n;
          if (!local.ok()) return false;
          // A large body: after httplib's first piece (what it had buffered
          // with the headers) nothing of the body is left inside httplib;
          // read the rest from the connection straight into the writer's
          // buffers, then stop httplib (the connection is then closed,
          // which costs one connect).
          const uint64_t rest = resp_len > resp_got ? resp_len - resp_got : 0;
          const Connection conn = t_.connection ? t_.connection() : Connection{};
          if (rest < kDirectReadMin || conn.fd < 0) return true;
          if (got_ + rest > f_.size) {
            io = TooLong();
            return false;
          }
          Status st = ReadConnectionInto(
              conn, rest, t_.read_timeout_ms,
              [&]() -> Result<std::pair<char*, size_t>> {
                auto space = writer_->Space();
                if (!space.ok()) return local = Disk(space.status());
                return space;
              },
              [&](size_t k) {
                local = Disk(writer_->Commit(k));
                MR_RETURN_IF_ERROR(local);
                Count(k);
                return Status::OK();
              });
          if (local.ok() && !st.ok()) io = st;  // Unavailable: resumed with Range
          direct_done = st.ok();
          return false;
        });
    MR_RETURN_IF_ERROR(local);
    MR_RETURN_IF_ERROR(io);
    if (direct_done) return Status::OK();
    if (!r) {
      retry_final_ = FinalTransportError(static_cast<int>(r.error()));
      return TransportFailure(static_cast<int>(r.error()), t_.registry_url, "download " + f_.digest.str());
    }
    if (status != 200 && status != 206) return StatusFromHttpAnswer(status, error_body, "download " + f_.digest.str());
    return Status::OK();
  }

  // The whole blob arrived: durable if asked, and its digest checked.
  Status Verify() {
    MR_RETURN_IF_ERROR(Disk(writer_->Finish()));
    if (f_.fsync && ::fsync(fd_.get()) != 0) return Disk(Status::FromErrno("fsync " + f_.path, errno));
    const Digest d = hash_->Finish();
    if (d != f_.digest) return Status::DataLoss("blob " + f_.digest.str() + " from the registry hashes to " + d.str());
    return Status::OK();
  }

  const BlobTransfer& t_;
  const std::string& url_;
  const BlobFile& f_;
  BlobDownloadInfo* info_;
  UniqueFd fd_;
  std::unique_ptr<Sha256> hash_;
  std::unique_ptr<PipelinedWriter> writer_;
  uint64_t got_ = 0;
  uint64_t kept_ = 0;         // bytes of an earlier run the blob goes on from
  bool retry_final_ = false;  // the last attempt's failure is not worth a retry
};

}  // namespace

Status DownloadBlob(const BlobTransfer& t, const std::string& url_path, const BlobFile& f, BlobDownloadInfo* info) {
  return Download(t, url_path, f, info).Run();
}

Result<bool> FetchBlobBatch(const BlobTransfer& t, const std::string& fetch_path, const std::vector<SplitBlob>& items,
                            const BatchFiles& files, BatchInfo* info) {
  size_t done = 0;  // items[0, done) are complete and checked
  for (int attempt = 0; done < items.size(); ++attempt) {
    if (Cancelled(t)) return Status::Unavailable("fetch of " + std::to_string(items.size()) + " blobs interrupted");
    BlobSplitter split(items, done, files.open, files.done);
    uint64_t received = 0;
    FetchAnswer a = PostFetch(*t.http, fetch_path, t.headers, items, done, split, &received);
    if (info) info->http_status = a.status;
    if (t.moved && received > 0) t.moved(received);
    const size_t before = done;
    done = split.complete();
    // What was checked is settled, even if the answer broke off later.
    if (files.settle && done > before) MR_RETURN_IF_ERROR(files.settle(before, done));
    // The splitter's error: writing (this machine's disk) or a digest.
    if (!a.io.ok()) return a.io.code() == StatusCode::kDataLoss ? a.io : t.disk_error(a.io);
    if (a.transport_ok && a.status == 404) return false;
    Status answer;
    if (a.transport_ok && a.status != 200) answer = StatusFromHttpAnswer(a.status, a.error_body, "fetch blobs");
    else if (!a.transport_ok && a.status == 0) answer = TransportFailure(a.error, t.registry_url, "fetch blobs");
    if (answer.code() != StatusCode::kUnavailable) MR_RETURN_IF_ERROR(answer);
    if (done == items.size()) break;
    const bool final = !a.transport_ok && a.status == 0 && FinalTransportError(a.error);
    if (final || attempt >= t.retries || !Backoff(t, attempt))
      return !answer.ok() ? answer
                          : Status::Unavailable("fetch of " + std::to_string(items.size()) + " blobs broke off after " +
                                                std::to_string(done));
  }
  return true;
}

}  // namespace modelreg::net
