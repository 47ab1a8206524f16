// OciBackend::Open: checked readers (blob/oci_backend.h).
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "blob/oci_backend_internal.h"

namespace modelreg {

// ---- readers ----

namespace {

// Reads a blob with one streamed GET (a Range from the first byte wanted to
// the end), cut into windows of kOciReadWindow bytes on a thread of its own,
// each hashed in order before the caller gets it; the window holding the
// blob's last byte is checked against the digest before any of it is
// returned. Up to kOciReadAhead windows wait ready, so the registry, the
// hashing and the caller's sending overlap while memory stays bounded.
// Reading backwards starts over (a new GET, the hash from the start).
class OciReader : public BlobReader {
 public:
  OciReader(const OciBackend* b, Digest d, uint64_t size)
      : b_(b), d_(d), size_(size), path_("/v2/" + b->cfg().prefix + "/blobs/" + d.str()), cli_(b) {}
  ~OciReader() override { Stop(); }

  uint64_t size() const override { return size_; }

  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    MR_RETURN_IF_ERROR(failed_);
    if (offset >= size_ || n == 0) return size_t{0};
    if (offset < win_start_) Restart();
    while (offset >= pos_) MR_RETURN_IF_ERROR(Advance());
    const size_t take = static_cast<size_t>(std::min<uint64_t>(n, pos_ - offset));
    std::memcpy(buf, window_.data() + (offset - win_start_), take);
    return take;
  }

  Status VerifyWhole() override {
    while (pos_ < size_ && failed_.ok()) MR_RETURN_IF_ERROR(Advance());
    return failed_;
  }

 private:
  struct Window {
    uint64_t start = 0;
    std::string bytes;
  };

  void Stop() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (producer_.joinable()) producer_.join();
    std::lock_guard<std::mutex> l(mu_);
    ready_.clear();
    stop_ = done_ = false;
    produced_ = Status::OK();
  }

  void Restart() {
    Stop();
    hash_ = Sha256();
    pos_ = win_start_ = 0;
    window_.clear();
  }

  // Makes the next window current, starting the GET if none runs.
  Status Advance() {
    if (!producer_.joinable()) producer_ = std::thread([this, from = pos_] { Produce(from); });
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return !ready_.empty() || done_; });
    if (ready_.empty()) {
      window_.clear();
      return failed_ = produced_.ok()
                           ? Status::DataLoss("blob backend " + b_->Describe() + " ended " + d_.str() + " at byte " +
                                              std::to_string(pos_) + " of " + std::to_string(size_))
                           : produced_;
    }
    Window w = std::move(ready_.front());
    ready_.pop_front();
    l.unlock();
    cv_.notify_all();
    win_start_ = w.start;
    pos_ = w.start + w.bytes.size();
    window_ = std::move(w.bytes);
    return Status::OK();
  }

  // Hashes a full window (checking the digest on the last one) and queues
  // it; false if the reader is stopping or the bytes are wrong.
  bool Deliver(Window w, Status* err) {
    hash_.Update(w.bytes.data(), w.bytes.size());
    if (w.start + w.bytes.size() == size_) {
      Digest got = hash_.Finish();
      if (got != d_) {
        *err = Status::DataLoss("blob " + d_.str() + " in " + b_->Describe() + " is corrupt: its bytes hash to " +
                                got.str() + "; not served");
        return false;
      }
    }
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return ready_.size() < kOciReadAhead || stop_; });
    if (stop_) return false;
    ready_.push_back(std::move(w));
    l.unlock();
    cv_.notify_all();
    return true;
  }

  // The producing thread: one GET of [from, size), windows to ready_.
  void Produce(uint64_t from) {
    Status err;
    int status = 0;
    Window cur;
    uint64_t got = 0;
    const std::string range = "bytes=" + std::to_string(from) + "-" + std::to_string(size_ - 1);
    auto r = b_->Call(*cli_, "GET " + d_.str(), [&](httplib::Client& c, const httplib::Headers& h) {
      status = 0;
      got = 0;
      cur = Window{from, {}};
      httplib::Headers all = h;
      all.emplace("Range", range);
      return c.Get(
          path_, all,
          [&](const httplib::Response& res) {
            status = res.status;
            if (status == 200 && from > 0) {  // the Range was ignored: these bytes start elsewhere
              err = Status::DataLoss("blob backend " + b_->Describe() + " ignored the Range of a read of " + d_.str());
              return false;
            }
            return true;
          },
          [&](const char* data, size_t len) {
            if (status != 206 && status != 200) return true;  // an error's body; Call looks at the status
            if (got + len > size_ - from) {
              err = Status::DataLoss("blob backend " + b_->Describe() + " answered more bytes of " + d_.str() +
                                     " than recorded");
              return false;
            }
            got += len;
            while (len > 0) {
              if (cur.bytes.empty()) cur.bytes.reserve(kOciReadWindow);
              const size_t room = kOciReadWindow - cur.bytes.size();
              const size_t n = std::min(room, len);
              cur.bytes.append(data, n);
              data += n;
              len -= n;
              if (cur.bytes.size() == kOciReadWindow || cur.start + cur.bytes.size() == size_) {
                const uint64_t next = cur.start + cur.bytes.size();
                if (!Deliver(std::move(cur), &err)) return false;
                cur = Window{next, {}};
              }
            }
            return true;
          });
    });
    if (err.ok()) {
      if (!r.ok()) err = r.status();
      else if (r->status != 206 && r->status != 200)
        err = Status::DataLoss("blob backend " + b_->Describe() + " answered " + d_.str() + " from byte " +
                               std::to_string(from) + " with status " + std::to_string(r->status));
      else if (got != size_ - from)
        err = Status::DataLoss("blob backend " + b_->Describe() + " sent " + std::to_string(got) + " bytes of " +
                               d_.str() + " from byte " + std::to_string(from) + " where " +
                               std::to_string(size_ - from) + " were recorded (the blob is shorter than recorded)");
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      if (!stop_) produced_ = err;
      done_ = true;
    }
    cv_.notify_all();
  }

  const OciBackend* b_;
  Digest d_;
  uint64_t size_;
  std::string path_;
  OciBackend::Lease cli_;   // the producer's; back to the pool after
  Sha256 hash_;             // the producer's while it runs
  uint64_t pos_ = 0;        // end of the current window: bytes handed over
  uint64_t win_start_ = 0;  // window_ holds [win_start_, pos_)
  std::string window_;
  Status failed_;

  std::thread producer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Window> ready_;  // guarded by mu_: hashed windows, in order
  bool stop_ = false;         // guarded by mu_
  bool done_ = false;         // guarded by mu_: the producer has ended
  Status produced_;           // guarded by mu_: why it ended, if not by stop_
};

}  // namespace

Result<std::unique_ptr<BlobReader>> OciBackend::Open(const Digest& d) const {
  MR_ASSIGN_OR_RETURN(auto size, Stat(d));
  if (!size) return Status::NotFound("blob " + d.str() + " not found");
  return std::unique_ptr<BlobReader>(new OciReader(this, d, *size));
}

}  // namespace modelreg
