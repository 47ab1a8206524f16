// OciBackend::Open: checked readers (blob/oci_backend.h).
#include "blob/oci_backend_internal.h"

namespace modelreg {

// ---- readers ----

namespace {

// Reads a blob with ranged GETs of kOciReadWindow bytes, hashing every byte in
// order; the window holding the blob's last byte is checked before any of
// it is returned. Reading backwards starts the hash over.
class OciReader : public BlobReader {
 public:
  OciReader(const OciBackend* b, Digest d, uint64_t size)
      : b_(b), d_(d), size_(size), path_("/v2/" + b->cfg().prefix + "/blobs/" + d.str()), cli_(b) {}

  uint64_t size() const override { return size_; }

  Result<size_t> ReadAt(uint64_t offset, char* buf, size_t n) override {
    MR_RETURN_IF_ERROR(failed_);
    if (offset >= size_ || n == 0) return size_t{0};
    if (offset < win_start_) Restart();
    while (offset >= pos_) MR_RETURN_IF_ERROR(Fetch());
    const size_t take = static_cast<size_t>(std::min<uint64_t>(n, pos_ - offset));
    std::memcpy(buf, window_.data() + (offset - win_start_), take);
    return take;
  }

  Status VerifyWhole() override {
    while (pos_ < size_ && failed_.ok()) MR_RETURN_IF_ERROR(Fetch());
    return failed_;
  }

 private:
  void Restart() {
    hash_ = Sha256();
    pos_ = win_start_ = 0;
    window_.clear();
  }

  Status Fetch() {
    const uint64_t end = std::min<uint64_t>(pos_ + kOciReadWindow, size_);
    httplib::Headers range = {{"Range", "bytes=" + std::to_string(pos_) + "-" + std::to_string(end - 1)}};
    std::string body;
    body.reserve(static_cast<size_t>(end - pos_));
    bool too_long = false;
    auto r = b_->Call(*cli_, "GET " + d_.str(), [&](httplib::Client& c, const httplib::Headers& h) {
      body.clear();
      httplib::Headers all = h;
      all.insert(range.begin(), range.end());
      return c.Get(path_, all, [&](const char* data, size_t len) {
        if (body.size() + len > end - pos_) {
          too_long = true;
          return false;
        }
        body.append(data, len);
        return true;
      });
    });
    if (too_long)
      return failed_ = Status::DataLoss("blob backend " + b_->Describe() + " answered more bytes of " + d_.str() +
                                        " than asked");
    if (!r.ok()) return failed_ = r.status();
    if ((r->status != 206 && !(r->status == 200 && pos_ == 0 && end == size_)))
      return failed_ = Status::DataLoss("blob backend " + b_->Describe() + " answered " + d_.str() + " bytes " +
                                        std::to_string(pos_) + "-" + std::to_string(end - 1) + " with status " +
                                        std::to_string(r->status));
    if (body.size() != end - pos_)
      return failed_ = Status::DataLoss("blob backend " + b_->Describe() + " sent " + std::to_string(body.size()) +
                                        " bytes of " + d_.str() + " where " + std::to_string(end - pos_) +
                                        " were asked (the blob is shorter than recorded)");
    hash_.Update(body.data(), body.size());
    win_start_ = pos_;
    pos_ = end;
    window_ = std::move(body);
    if (pos_ == size_) {
      Digest got = hash_.Finish();
      if (got != d_) {
        window_.clear();
        return failed_ = Status::DataLoss("blob " + d_.str() + " in " + b_->Describe() +
                                          " is corrupt: its bytes hash to " + got.str() + "; not served");
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
  uint64_t pos_ = 0;        // bytes fetched and hashed
  uint64_t win_start_ = 0;  // window_ holds [win_start_, pos_)
  std::string window_;
  Status failed_;
};

}  // namespace

Result<std::unique_ptr<BlobReader>> OciBackend::Open(const Digest& d) const {
  MR_ASSIGN_OR_RETURN(auto size, Stat(d));
  if (!size) return Status::NotFound("blob " + d.str() + " not found");
  return std::unique_ptr<BlobReader>(new OciReader(this, d, *size));
}

}  // namespace modelreg
