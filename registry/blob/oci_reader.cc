// OciBackend::Open: checked readers (blob/oci_backend.h).
#include <future>

#include "blob/oci_backend_internal.h"

namespace modelreg {

// ---- readers ----

namespace {

// Reads a blob with ranged GETs of kOciReadWindow bytes, hashing every byte in
// order; the window holding the blob's last byte is checked before any of
// it is returned. Reading backwards starts the hash over. Read in order,
// the next window is fetched (and hashed) on a thread of its own while the
// caller sends the current one: the registry and the client overlap.
class OciReader : public BlobReader {
 public:
  OciReader(const OciBackend* b, Digest d, uint64_t size)
      : b_(b), d_(d), size_(size), path_("/v2/" + b->cfg().prefix + "/blobs/" + d.str()), cli_(b) {}
  ~OciReader() override { Drain(); }

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
  void Drain() {
    if (next_.valid()) (void)next_.get();
  }

  void Restart() {
    Drain();
    hash_ = Sha256();
    pos_ = win_start_ = 0;
    window_.clear();
  }

  // Makes the window after the current one current (fetching it now unless
  // it is on its way), then starts fetching the one after.
  Status Advance() {
    if (!next_.valid()) Start();
    Status st = next_.get();
    if (!st.ok()) {
      window_.clear();
      return failed_ = st;
    }
    win_start_ = pos_;
    pos_ = std::min<uint64_t>(pos_ + kOciReadWindow, size_);
    window_.swap(next_body_);
    if (pos_ < size_) Start();
    return Status::OK();
  }

  void Start() {
    const uint64_t from = pos_, end = std::min<uint64_t>(pos_ + kOciReadWindow, size_);
    next_ = std::async(std::launch::async, [this, from, end] { return Fetch(from, end); });
  }

  // On the fetching thread: only it touches next_body_, hash_ and cli_ meanwhile.
  Status Fetch(uint64_t from, uint64_t end) {
    httplib::Headers range = {{"Range", "bytes=" + std::to_string(from) + "-" + std::to_string(end - 1)}};
    std::string& body = next_body_;
    body.clear();
    body.reserve(static_cast<size_t>(end - from));
    bool too_long = false;
    auto r = b_->Call(*cli_, "GET " + d_.str(), [&](httplib::Client& c, const httplib::Headers& h) {
      body.clear();
      httplib::Headers all = h;
      all.insert(range.begin(), range.end());
      return c.Get(path_, all, [&](const char* data, size_t len) {
        if (body.size() + len > end - from) {
          too_long = true;
          return false;
        }
        body.append(data, len);
        return true;
      });
    });
    if (too_long)
      return Status::DataLoss("blob backend " + b_->Describe() + " answered more bytes of " + d_.str() + " than asked");
    if (!r.ok()) return r.status();
    if ((r->status != 206 && !(r->status == 200 && from == 0 && end == size_)))
      return Status::DataLoss("blob backend " + b_->Describe() + " answered " + d_.str() + " bytes " +
                              std::to_string(from) + "-" + std::to_string(end - 1) + " with status " +
                              std::to_string(r->status));
    if (body.size() != end - from)
      return Status::DataLoss("blob backend " + b_->Describe() + " sent " + std::to_string(body.size()) + " bytes of " +
                              d_.str() + " where " + std::to_string(end - from) +
                              " were asked (the blob is shorter than recorded)");
    hash_.Update(body.data(), body.size());
    if (end == size_) {
      Digest got = hash_.Finish();
      if (got != d_) {
        body.clear();
        return Status::DataLoss("blob " + d_.str() + " in " + b_->Describe() + " is corrupt: its bytes hash to " +
                                got.str() + "; not served");
      }
    }
    return Status::OK();
  }

  const OciBackend* b_;
  Digest d_;
  uint64_t size_;
  std::string path_;
  OciBackend::Lease cli_;  // kept alive across windows, back to the pool after
  Sha256 hash_;
  uint64_t pos_ = 0;        // end of the current window: bytes fetched, hashed and handed over
  uint64_t win_start_ = 0;  // window_ holds [win_start_, pos_)
  std::string window_;
  std::string next_body_;     // filled by next_
  std::future<Status> next_;  // the window [pos_, pos_ + kOciReadWindow) on its way
  Status failed_;
};

}  // namespace

Result<std::unique_ptr<BlobReader>> OciBackend::Open(const Digest& d) const {
  MR_ASSIGN_OR_RETURN(auto size, Stat(d));
  if (!size) return Status::NotFound("blob " + d.str() + " not found");
  return std::unique_ptr<BlobReader>(new OciReader(this, d, *size));
}

}  // namespace modelreg
