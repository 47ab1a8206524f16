#include "core/digest.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace modelreg {

std::string HexEncode(const unsigned char* data, size_t len) {
  static const char kHex[] = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (size_t i = 0; i < len; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 0xf];
  }
  return out;
}

Result<Digest> Digest::Parse(std::string_view text) {
  constexpr std::string_view kPrefix = "sha256:";
  if (text.size() != kPrefix.size() + 64 || text.substr(0, 7) != kPrefix)
    return Status::InvalidArgument("invalid digest '" + std::string(text.substr(0, 80)) +
                                   "': want sha256:<64 lowercase hex>");
  for (char c : text.substr(7)) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (!ok)
      return Status::InvalidArgument("invalid digest '" + std::string(text) + "': want sha256:<64 lowercase hex>");
  }
  return Digest(std::string(text));
}

Digest Digest::FromBytes(const unsigned char bytes[32]) { return Digest("sha256:" + HexEncode(bytes, 32)); }

Digest Digest::Of(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

struct Sha256::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr);
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::Update(const void* data, size_t len) {
  EVP_DigestUpdate(ctx_->md, data, len);
  bytes_ += len;
}

Digest Sha256::Finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_->md, out, &n);
  return Digest::FromBytes(out);
}

Status HashFd(int fd, Sha256* h, const std::string& path, std::atomic<uint64_t>* counted) {
  std::vector<char> buf(1 << 20);
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buf.data(), buf.size(), at);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("read " + path, errno);
    }
    if (n == 0) return Status::OK();
    h->Update(buf.data(), static_cast<size_t>(n));
    if (counted) counted->fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    at += n;
  }
}

Result<FileDigest> HashFile(const std::string& path, std::atomic<uint64_t>* counted) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open " + path, errno);
  posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  Sha256 h;
  Status st = HashFd(fd, &h, path, counted);
  ::close(fd);
  MR_RETURN_IF_ERROR(st);
  const uint64_t size = h.bytes();
  return FileDigest{h.Finish(), size};
}

Result<Digest> SampleFd(int fd, uint64_t size, const std::string& path) {
  constexpr uint64_t kBlock = 4096, kBlocks = 16;
  Sha256 h;
  const std::string head = "modelreg-sample-v1 " + std::to_string(size) + "\n";
  h.Update(head.data(), head.size());
  std::vector<char> buf(kBlock);
  for (uint64_t i = 0; i < kBlocks; ++i) {
    // The first block starts the file and the last one ends it.
    const uint64_t start = size <= kBlock * kBlocks ? i * kBlock : i * (size - kBlock) / (kBlocks - 1);
    if (start >= size) break;
    const size_t want = static_cast<size_t>(std::min(kBlock, size - start));
    size_t got = 0;
    while (got < want) {
      const ssize_t n = ::pread(fd, buf.data() + got, want - got, static_cast<off_t>(start + got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Status::FromErrno("read " + path, errno);
      if (n == 0) return Status::FailedPrecondition(path + " is shorter than " + std::to_string(size) + " bytes");
      got += static_cast<size_t>(n);
    }
    h.Update(buf.data(), want);
  }
  return h.Finish();
}

}  // namespace modelreg
