// HashingReader: reads a file from start to end on a thread of its own,
// hashing each block as it reads it, and hands the blocks to the caller
// (who sends them) in order. The file is mapped (core/mapped_file.h), so
// that neither the hash nor the caller's send needs a copy out of the page
// cache; where it cannot be mapped it is read with pread.
//
// This is the upload side of core/pipelined_writer.h. On the 2-core
// machines this project is measured on, a 1 GiB register is CPU-bound: the
// client's read + SHA-256 + send on one thread was the critical path. Here
// each block is hashed by the thread that just read it (while it is hot in
// that core's cache) and sent by the caller's thread, so hashing and the
// TCP send run at the same time.
//
// The whole file is hashed, in order, whatever the caller takes: a caller
// that resends from an earlier offset (after a lost connection) reads those
// bytes itself, and Skip() drops blocks it does not need.
//
// Not thread-safe: one consumer thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/digest.h"
#include "core/status.h"

namespace modelreg {

class HashingReader {
 public:
  // Starts reading `size` bytes of `fd` (not owned; must stay open until
  // Finish or destruction) from offset 0. `path` names it in errors.
  HashingReader(int fd, std::string path, uint64_t size);
  ~HashingReader();  // stops the thread
  HashingReader(const HashingReader&) = delete;
  HashingReader& operator=(const HashingReader&) = delete;

  // The stream offset of the next byte Next() returns.
  uint64_t position() const { return pos_; }
  // Up to `max` bytes at position(), valid until the next call; empty at
  // the end. An error of the reading thread (a read error, a file that
  // shrank) is returned here.
  Result<std::string_view> Next(size_t max);
  // Drops bytes up to stream offset `to` (>= position()).
  Status Skip(uint64_t to);
  // Reads to the end and returns the digest of all `size` bytes.
  Result<Digest> Finish();

 private:
  struct Ring;

  uint64_t size_;
  uint64_t pos_ = 0;
  std::unique_ptr<Ring> ring_;
};

}  // namespace modelreg
