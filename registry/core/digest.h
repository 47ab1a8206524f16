// Content digests ("sha256:<64 lowercase hex>") and streaming SHA-256.
//
// Digest is a validated value type: a Digest object always holds a
// well-formed sha256 digest. Sha256 wraps OpenSSL's EVP interface (which
// uses the CPU's SHA extensions) for incremental hashing; one instance is
// not thread-safe, separate instances are independent.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace modelreg {

class Digest {
 public:
  // Parses "sha256:<64 lowercase hex>". Anything else is InvalidArgument.
  static Result<Digest> Parse(std::string_view text);
  // From 32 raw bytes.
  static Digest FromBytes(const unsigned char bytes[32]);
  // sha256 of a string already in memory (manifests, configs, test data).
  static Digest Of(std::string_view data);

  const std::string& str() const { return text_; }  // "sha256:..."
  std::string hex() const { return text_.substr(7); }
  // Two-character shard used by the blob store layout: blobs/sha256/ab/...
  std::string shard() const { return text_.substr(7, 2); }

  bool operator==(const Digest& o) const { return text_ == o.text_; }
  bool operator!=(const Digest& o) const { return text_ != o.text_; }
  bool operator<(const Digest& o) const { return text_ < o.text_; }

 private:
  explicit Digest(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

// Incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Update(const void* data, size_t len);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  uint64_t bytes() const { return bytes_; }
  // Finishes the hash; the object must not be updated afterwards.
  Digest Finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
  uint64_t bytes_ = 0;
};

struct FileDigest {
  Digest digest;
  uint64_t size;
};

// Hashes a regular file by streaming it through 1 MiB reads; adds the bytes
// read to *counted as it goes (a progress display), if given.
Result<FileDigest> HashFile(const std::string& path, std::atomic<uint64_t>* counted = nullptr);
// Feeds all of `fd` (from offset 0, to its end) into `h`, which may then go
// on with more bytes (a download resumed after what a file already holds).
// `path` names it in errors.
Status HashFd(int fd, Sha256* h, const std::string& path, std::atomic<uint64_t>* counted = nullptr);

// A cheap fingerprint of a file `size` bytes long: the sha256 of its size
// and of 16 blocks of 4 KiB spread evenly over it (the whole file if
// smaller). Equal files have equal samples; a different sample proves the
// files differ, which lets a client skip hashing a large file before
// uploading it when no blob of the registry can be that file.
Result<Digest> SampleFd(int fd, uint64_t size, const std::string& path);

// Lowercase hex of raw bytes.
std::string HexEncode(const unsigned char* data, size_t len);

}  // namespace modelreg
