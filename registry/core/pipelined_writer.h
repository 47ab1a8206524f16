// PipelinedWriter: appends a byte stream to a file through 1 MiB buffers
// that a helper thread hashes (optionally) and writes, so that the caller's
// thread — usually reading a socket — overlaps with hashing and writing.
// At most kQueued buffers are in flight (bounded memory, backpressure).
// Writeback of written data starts every 64 MiB (sync_file_range), so a
// final fsync waits only for the tail.
//
// Not thread-safe: one producer thread. The helper thread is started on the
// first full buffer; small streams are written by the caller in Finish().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/digest.h"
#include "core/status.h"

namespace modelreg {

class PipelinedWriter {
 public:
  // Appends at the current end of `fd` (not owned), which is at
  // `start_offset`. `hash` (may be null, not owned) is updated with every
  // byte written, in order. `size_hint` (bytes expected) keeps the buffer
  // small for small files.
  PipelinedWriter(int fd, std::string path, Sha256* hash, uint64_t start_offset,
                  uint64_t size_hint = UINT64_MAX);
  ~PipelinedWriter();
  PipelinedWriter(const PipelinedWriter&) = delete;
  PipelinedWriter& operator=(const PipelinedWriter&) = delete;

  // Fails with the first write error of the helper thread.
  Status Write(const char* data, size_t len);
  // Writes what is buffered, stops the helper; returns the first error.
  Status Finish();
  // File offset after the bytes written so far (exact after Finish).
  uint64_t end_offset() const { return written_; }

 private:
  struct Pipe;
  Status WriteBuffer(const std::vector<char>& b);
  Status Submit();

  int fd_;
  std::string path_;
  Sha256* hash_;
  uint64_t written_;
  uint64_t synced_;
  std::vector<char> buf_;
  std::unique_ptr<Pipe> pipe_;
  bool finished_ = false;
};

}  // namespace modelreg
