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

#include <cstdio>

#include "floor_common.h"

namespace {

using bench_floor::Die;
using bench_floor::kBlock;

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

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: pull_floor FILE OUT\n");
    return 2;
  }
  sockaddr_in sa;
  const int listener = bench_floor::ListenLoopback(&sa);
  const pid_t child = ::fork();
  if (child < 0) Die("fork");
  if (child == 0) Serve(listener, argv[1]);
  const int s = bench_floor::ConnectTo(sa);
  const int out = ::open(argv[2], O_WRONLY | O_CREAT | O_EXCL | O_DIRECT | O_CLOEXEC, 0644);
  if (out < 0) Die(argv[2]);

  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_DigestInit_ex(md, EVP_sha256(), nullptr);
  bench_floor::Ring ring(out, md);  // hashes on a thread of its own, as the pull does
  for (;;) {
    char* block = ring.Next();
    size_t have = 0;
    while (have < kBlock) {
      const ssize_t k = ::recv(s, block + have, kBlock - have, 0);
      if (k < 0) Die("recv");
      if (k == 0) break;
      have += static_cast<size_t>(k);
    }
    ring.Hand(have);
    if (have < kBlock) break;
  }
  ring.Finish();
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "pull_floor: the sender failed\n");
    return 1;
  }
  std::printf("%s\n", bench_floor::Hex(md).c_str());
  return 0;
}
