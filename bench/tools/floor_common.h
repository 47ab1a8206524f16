// The part the two transfer floors (pull_floor.cc, register_floor.cc)
// share: a loopback listener and connection, the digest in hex, and a ring
// of 1 MiB blocks that a writing thread writes to a file with
// O_DIRECT (fdatasync every 128 MiB, fsync at the end), and optionally a
// hashing thread hashes (SHA-256), as PipelinedWriter does in modelreg,
// with nothing else. Header-only: each floor is one small program.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace bench_floor {

constexpr size_t kBlock = 1 << 20;
constexpr int kRing = 6;
constexpr uint64_t kSyncEvery = 128ull << 20;

[[noreturn]] inline void Die(const char* what) {
  std::perror(what);
  std::exit(1);
}

// A socket listening on 127.0.0.1 at a port the kernel picks; `where` is
// its address.
inline int ListenLoopback(sockaddr_in* where) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  *where = sockaddr_in{};
  where->sin_family = AF_INET;
  where->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof *where;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(where), sizeof *where) != 0 || ::listen(fd, 1) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(where), &len) != 0)
    Die("listen");
  return fd;
}

inline int ConnectTo(const sockaddr_in& where) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&where), sizeof where) != 0) Die("connect");
  return fd;
}

// Ends `md` and returns its digest in lowercase hex.
inline std::string Hex(EVP_MD_CTX* md) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(md, d, &n);
  std::string out;
  char b[3];
  for (unsigned int i = 0; i < n; ++i) {
    std::snprintf(b, sizeof b, "%02x", d[i]);
    out += b;
  }
  return out;
}

class Ring {
 public:
  // Writes every block handed over to `out` (opened with O_DIRECT) in
  // order; with `hash`, a thread of its own hashes them too.
  Ring(int out, EVP_MD_CTX* hash) : out_(out), hash_(hash) {
    data_ = static_cast<char*>(std::aligned_alloc(4096, kBlock * kRing));
    if (!data_) Die("alloc");
    writer_ = std::thread([this] { WriteLoop(); });
    if (hash_) hasher_ = std::thread([this] { HashLoop(); });
  }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  ~Ring() { std::free(data_); }

  // The next block to fill, once the threads are done with its last use.
  char* Next() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return filled_ - std::min(hashed(), written_) < kRing; });
    return data_ + (filled_ % kRing) * kBlock;
  }
  // The block Next() gave holds `n` bytes; fewer than kBlock end the stream.
  void Hand(size_t n) {
    std::lock_guard<std::mutex> l(mu_);
    if (n > 0) len_[filled_++ % kRing] = n;
    if (n < kBlock) done_ = true;
    cv_.notify_all();
  }
  // Waits for the threads, then fsyncs the file.
  void Finish() {
    writer_.join();
    if (hasher_.joinable()) hasher_.join();
    if (::fsync(out_) != 0) Die("fsync");
  }

 private:
  uint64_t hashed() const { return hash_ ? hashed_ : filled_; }

  void HashLoop() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return hashed_ < filled_ || done_; });
      if (hashed_ == filled_) return;
      const uint64_t i = hashed_;
      l.unlock();
      EVP_DigestUpdate(hash_, data_ + (i % kRing) * kBlock, len_[i % kRing]);
      l.lock();
      ++hashed_;
      cv_.notify_all();
    }
  }

  void WriteLoop() {
    uint64_t offset = 0, synced = 0;
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [&] { return written_ < filled_ || done_; });
      if (written_ == filled_) return;
      const uint64_t i = written_;
      const size_t n = len_[i % kRing];
      l.unlock();
      if (n % 4096 != 0) {  // the tail: through the page cache
        const int fl = ::fcntl(out_, F_GETFL);
        if (::fcntl(out_, F_SETFL, fl & ~O_DIRECT) != 0) Die("fcntl");
      }
      if (::pwrite(out_, data_ + (i % kRing) * kBlock, n, static_cast<off_t>(offset)) != static_cast<ssize_t>(n))
        Die("pwrite");
      offset += n;
      if (offset - synced >= kSyncEvery) {
        if (::fdatasync(out_) != 0) Die("fdatasync");
        synced = offset;
      }
      l.lock();
      ++written_;
      cv_.notify_all();
    }
  }

  const int out_;
  EVP_MD_CTX* const hash_;
  char* data_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t len_[kRing] = {};
  uint64_t filled_ = 0, hashed_ = 0, written_ = 0;  // blocks
  bool done_ = false;
  std::thread writer_, hasher_;
};

}  // namespace bench_floor
