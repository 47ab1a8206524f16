// register_floor: the least a register of one large file can do, as a
// yardstick for `modelreg register` (bench/register_pull_1g.sh, "register
// vs its floor").
//
//   register_floor FILE OUT
//
// As the register's two ends do, with nothing else (no HTTP, no upload
// session, no manifest, no database): this process maps FILE and, 1 MiB at
// a time, hashes a piece with SHA-256 and sends it over one loopback TCP
// connection; a child process receives each piece into a ring of 1 MiB
// blocks, hashes it on the receiving thread while it is in that core's
// cache, and a writing thread writes the blocks to OUT with O_DIRECT
// (fdatasync every 128 MiB, fsync at the end). Both ends' digests must
// agree; the sender's is printed (sha256 hex), for the bench to compare
// with the file's.
//
// Not part of modelreg: no project code is used, so that the yardstick
// stays what it says.
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "floor_common.h"

namespace {

using bench_floor::Die;
using bench_floor::kBlock;

// The receiving end: the first connection on `listener` into `out`.
// Writes its digest to `report` and exits.
[[noreturn]] void Receive(int listener, const char* out_path, int report) {
  const int c = ::accept(listener, nullptr, nullptr);
  if (c < 0) Die("accept");
  const int out = ::open(out_path, O_WRONLY | O_CREAT | O_EXCL | O_DIRECT | O_CLOEXEC, 0644);
  if (out < 0) Die(out_path);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, EVP_sha256(), nullptr);
  bench_floor::Ring ring(out, nullptr);  // hashed here, as the server does
  for (;;) {
    char* block = ring.Next();
    size_t have = 0;
    while (have < kBlock) {
      const ssize_t k = ::recv(c, block + have, kBlock - have, 0);
      if (k < 0) Die("recv");
      if (k == 0) break;
      EVP_DigestUpdate(md, block + have, static_cast<size_t>(k));  // just received: in this core's cache
      have += static_cast<size_t>(k);
    }
    ring.Hand(have);
    if (have < kBlock) break;
  }
  ring.Finish();
  const std::string hex = bench_floor::Hex(md);
  if (::write(report, hex.data(), hex.size()) != static_cast<ssize_t>(hex.size())) Die("report");
  ::_exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: register_floor FILE OUT\n");
    return 2;
  }
  const int in = ::open(argv[1], O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (in < 0 || ::fstat(in, &st) != 0 || st.st_size == 0) Die(argv[1]);
  const size_t size = static_cast<size_t>(st.st_size);
  sockaddr_in sa;
  const int listener = bench_floor::ListenLoopback(&sa);
  int report[2];
  if (::pipe(report) != 0) Die("pipe");
  const pid_t child = ::fork();
  if (child < 0) Die("fork");
  if (child == 0) {
    ::close(report[0]);
    Receive(listener, argv[2], report[1]);
  }
  ::close(report[1]);
  const int s = bench_floor::ConnectTo(sa);
  const char* map = static_cast<const char*>(::mmap(nullptr, size, PROT_READ, MAP_SHARED, in, 0));
  if (map == MAP_FAILED) Die("mmap");
  (void)::madvise(const_cast<char*>(map), size, MADV_SEQUENTIAL);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, EVP_sha256(), nullptr);
  for (size_t off = 0; off < size;) {
    const size_t n = std::min(kBlock, size - off);
    EVP_DigestUpdate(md, map + off, n);  // hashed, then sent while in this core's cache
    for (size_t sent = 0; sent < n;) {
      const ssize_t k = ::send(s, map + off + sent, n - sent, MSG_NOSIGNAL);
      if (k <= 0) Die("send");
      sent += static_cast<size_t>(k);
    }
    off += n;
  }
  ::shutdown(s, SHUT_WR);
  char theirs[128] = {};
  ssize_t got = 0;
  for (ssize_t k; (k = ::read(report[0], theirs + got, sizeof theirs - 1 - static_cast<size_t>(got))) > 0;) got += k;
  int status = 0;
  ::waitpid(child, &status, 0);
  const std::string mine = bench_floor::Hex(md);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || mine != std::string(theirs, static_cast<size_t>(got))) {
    std::fprintf(stderr, "register_floor: the receiving end failed or hashed other bytes\n");
    return 1;
  }
  std::printf("%s\n", mine.c_str());
  return 0;
}
