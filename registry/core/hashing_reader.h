// HashingReader: reads a file from start to end, hashing each piece just
// before handing it to the caller (who sends it), so that the hash and the
// send read the same bytes while they are in this core's cache. The file
// is mapped (core/mapped_file.h), so that neither the hash nor the
// caller's send needs a copy out of the page cache; where it cannot be
// mapped it is read with pread.
//
// On the 2-core machines this project is measured on, a 1 GiB register is
// CPU-bound. A reading-and-hashing thread of its own, as before, left the
// send reading every byte from the other core's cache and competed with
// the server's threads for the two cores: interleaved registers took
// 1.165 s median against 1.105 s with this one thread (10 pairs; 1.17
// against 1.115 s in 6 more).
//
// The whole file is hashed, in order, whatever the caller takes: a caller
// that resends from an earlier offset (after a lost connection) reads those
// bytes itself, and Skip() hashes bytes it does not need.
//
// Not thread-safe.
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
  // Reads `size` bytes of `fd` (not owned; must stay open until Finish or
  // destruction) from offset 0. `path` names it in errors.
  HashingReader(int fd, std::string path, uint64_t size);
  ~HashingReader();
  HashingReader(const HashingReader&) = delete;
  HashingReader& operator=(const HashingReader&) = delete;

  // The stream offset of the next byte Next() returns.
  uint64_t position() const { return pos_; }
  // Up to `max` bytes (at most 1 MiB) at position(), hashed, valid until
  // the next call; empty at the end. A read error or a file that shrank is
  // returned here, and again by every later call.
  Result<std::string_view> Next(size_t max);
  // Drops bytes up to stream offset `to` (>= position()).
  Status Skip(uint64_t to);
  // Reads to the end and returns the digest of all `size` bytes.
  Result<Digest> Finish();

 private:
  struct State;

  uint64_t size_;
  uint64_t pos_ = 0;
  std::unique_ptr<State> state_;
};

}  // namespace modelreg
