// pull_floor: the least a verified pull can do, as a yardstick for
// `modelreg pull` (bench/register_pull_1g.sh, "pull vs its floor").
//
//   pull_floor FILE OUT
//
// A child process sends FILE over one loopback TCP connection with
// sendfile (as `modelreg serve` does); this process receives it into a
// ring of 1 MiB blocks, hashes every block with SHA-256 on one thread
// (OpenSSL, the CPU's SHA extensions) and writes it to OUT with O_DIRECT on
// another, fdatasync every 128 MiB and fsync at the end: the same
// pipeline as the pull, with no HTTP, no manifest, no resume, no checks
// beyond the hash. Prints the sha256 hex digest of what was received, for
// the bench to compare with the file's.
//
// Not part of modelreg: no project code is used, so that the yardstick
// stays what it says.
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

namespace {

constexpr size_t kBlock = 1 << 20;
constexpr int kRing = 6;
constexpr uint64_t kSyncEvery = 128ull << 20;

[[noreturn]] void Die(const char* what) {
  std::perror(what);
  std::exit(1);
}

// Sends `path` to the first connection on `listener`, then exits.
[[noreturn]] void Serve(int listener, const char* path) {
  const int c = ::accept(listener, nullptr, nullptr);
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (c < 0 || fd < 0 || ::fstat(fd, &st) != 0) Die("serve");
  off_t off = 0;
  while (off < st.st_size)
    if (::sendfile(c, fd, &off, static_cast<size_t>(st.st_size - off)) <= 0) Die("sendfile");
  ::_exit(0);
}

struct Ring {
  std::mutex mu;
  std::condition_variable cv;
  char* data = nullptr;
  size_t len[kRing] = {};
  uint64_t received = 0, hashed = 0, written = 0;  // blocks
  bool done = false;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: pull_floor FILE OUT\n");
    return 2;
  }
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof sa;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::listen(listener, 1) != 0 || ::getsockname(listener, reinterpret_cast<sockaddr*>(&sa), &sl) != 0)
    Die("listen");
  const pid_t child = ::fork();
  if (child < 0) Die("fork");
  if (child == 0) Serve(listener, argv[1]);
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || ::connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) Die("connect");
  const int out = ::open(argv[2], O_WRONLY | O_CREAT | O_EXCL | O_DIRECT | O_CLOEXEC, 0644);
  if (out < 0) Die(argv[2]);

  Ring r;
  r.data = static_cast<char*>(std::aligned_alloc(4096, kBlock * kRing));
  if (!r.data) Die("alloc");
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, EVP_sha256(), nullptr);
  std::thread hasher([&] {
    std::unique_lock<std::mutex> l(r.mu);
    for (;;) {
      r.cv.wait(l, [&] { return r.hashed < r.received || r.done; });
      if (r.hashed == r.received) return;
      const uint64_t i = r.hashed;
      l.unlock();
      EVP_DigestUpdate(md, r.data + (i % kRing) * kBlock, r.len[i % kRing]);
      l.lock();
      ++r.hashed;
      r.cv.notify_all();
    }
  });
  std::thread writer([&] {
    uint64_t offset = 0, synced = 0;
    std::unique_lock<std::mutex> l(r.mu);
    for (;;) {
      r.cv.wait(l, [&] { return r.written < r.received || r.done; });
      if (r.written == r.received) return;
      const uint64_t i = r.written;
      const size_t n = r.len[i % kRing];
      l.unlock();
      if (n % 4096 != 0) {  // the tail: through the page cache
        const int fl = ::fcntl(out, F_GETFL);
        if (::fcntl(out, F_SETFL, fl & ~O_DIRECT) != 0) Die("fcntl");
      }
      if (::pwrite(out, r.data + (i % kRing) * kBlock, n, static_cast<off_t>(offset)) != static_cast<ssize_t>(n))
        Die("pwrite");
      offset += n;
      if (offset - synced >= kSyncEvery) {
        if (::fdatasync(out) != 0) Die("fdatasync");
        synced = offset;
      }
      l.lock();
      ++r.written;
      r.cv.notify_all();
    }
  });
  for (uint64_t i = 0;; ++i) {
    char* block = r.data + (i % kRing) * kBlock;
    {
      std::unique_lock<std::mutex> l(r.mu);
      r.cv.wait(l, [&] { return i - std::min(r.hashed, r.written) < kRing; });
    }
    size_t have = 0;
    while (have < kBlock) {
      const ssize_t k = ::recv(s, block + have, kBlock - have, 0);
      if (k < 0) Die("recv");
      if (k == 0) break;
      have += static_cast<size_t>(k);
    }
    std::lock_guard<std::mutex> l(r.mu);
    if (have > 0) {
      r.len[i % kRing] = have;
      ++r.received;
    }
    if (have < kBlock) r.done = true;
    r.cv.notify_all();
    if (r.done) break;
  }
  hasher.join();
  writer.join();
  if (::fsync(out) != 0) Die("fsync");
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "pull_floor: the sender failed\n");
    return 1;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0;
  EVP_DigestFinal_ex(md, digest, &dlen);
  for (unsigned int i = 0; i < dlen; ++i) std::printf("%02x", digest[i]);
  std::printf("\n");
  return 0;
}
