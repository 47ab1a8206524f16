// Small POSIX file helpers with crash-safe semantics. Thread-safe (no shared
// state). Every function returns a Status naming the path and errno text.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace modelreg {

// mkdir -p with mode 0755 (or `mode`).
Status MakeDirs(const std::string& path, int mode = 0755);
// fsync of a directory, making renames inside it durable.
Status FsyncDir(const std::string& path);
// Writes `data` to a temp file beside `path`, fsyncs, renames, fsyncs the dir.
Status WriteFileAtomic(const std::string& path, std::string_view data, int mode = 0644);
// Reads a whole small file; ResourceExhausted above `limit` bytes.
Result<std::string> ReadSmallFile(const std::string& path, size_t limit = 16 << 20);
// Writes all of `len` bytes, retrying on EINTR and short writes.
Status WriteAll(int fd, const char* data, size_t len, const std::string& what);
// Recursively removes a path; missing is fine.
void RemoveAll(const std::string& path);
// Random lowercase hex of `bytes` random bytes (OpenSSL RAND_bytes).
std::string RandomHex(size_t bytes);

// An open file descriptor closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  bool valid() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Creates `path` empty for writing (0644), removing a file left there
// first (e.g. by an interrupted download); never writes through a symlink
// (one there is removed like any file).
Result<UniqueFd> CreateFresh(const std::string& path);

}  // namespace modelreg
