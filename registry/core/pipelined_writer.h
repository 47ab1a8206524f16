// PipelinedWriter: appends a byte stream to a file so that the caller's
// thread (usually reading a socket) and hashing, writing and flushing to
// disk run at the same time.
//
// The stream is cut into 1 MiB blocks held in a ring of kRing buffers
// (bounded memory, backpressure on the caller), which a writing thread
// writes. Where the hash runs is the caller's choice (HashOn):
//  - kCaller: the caller's thread hashes each piece as it hands it over
//    (Write, Commit), while the bytes are still in its core's cache. For
//    the server's uploads: during a register the client hashes the same
//    bytes on the other core, so no core is spare, and a hashing thread
//    that read each block from the other core's cache made a 1 GiB
//    register slower (1.17 s median against 1.04 s, interleaved runs).
//  - kThread: a hashing thread of the writer's hashes each block while the
//    caller reads the next. For pulls and the agent's downloads, where the
//    sender does not hash and a core is spare: a 1 GiB pull 1.02 s ->
//    0.95 s median (8 interleaved pairs, faster in each).
// Small streams (one block) are written (and hashed) in Finish(), with no
// thread started.
//
// Every kSyncEvery bytes a syncing thread makes what is written so far
// durable (fdatasync), so that the caller's final fsync waits only for the
// tail instead of for the whole file (on this project's test machines the
// device flush alone costs about 0.6 s per GiB). A failed background sync
// fails the writer: its error would otherwise be consumed here and the
// final fsync could report success.
//
// With direct_io (server uploads, pull, agent downloads) whole blocks are
// written with O_DIRECT: the device reads them from the ring, nothing is
// copied into the page cache, and no fresh page-cache pages are needed (on
// the microVMs this project is measured on, each fresh page costs a host
// fault: writing 1 GiB into page cache runs at 0.8-5 GB/s depending on it).
// A blob just written is then not in the page cache; the final fsync is
// still needed for the file's size and the device's cache.
//
// Without direct_io (buffered) the blocks go through the page cache with
// write-behind: writeback of every 8 MiB is started as soon as they are
// written (sync_file_range WRITE), and the 8 MiB before them are waited
// for and dropped (posix_fadvise DONTNEED). The device always has one or
// two ranges in flight (O_DIRECT here has one 1 MiB block), the page cache
// holds at most ~16 MiB of the stream, and the pages dropped are the ones
// the next writes reuse (fresh pages are what costs on a microVM, see
// above). A write error seen by that wait fails the writer.
//
// Which mode is faster depends on the disk (docs/operations.md, write
// modes): ProbeWriteModes below measures both; `serve --write-mode auto`
// picks with it.
//
// Not thread-safe: one producer thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/digest.h"
#include "core/status.h"

namespace modelreg {

class PipelinedWriter {
 public:
  static constexpr uint64_t kSyncEvery = 128ull << 20;

  // Where the hash runs (see above).
  enum class HashOn { kCaller, kThread };

  // Appends at offset `start_offset` of `fd` (not owned). `hash` (may be
  // null, not owned) is updated with every byte, in order, on the thread
  // `hash_on` names; read it only after Finish. `size_hint` (bytes
  // expected) keeps the first buffer small for small files. `sync_every`:
  // bytes between background syncs (0: none). `direct_io`: whole aligned
  // blocks are written with O_DIRECT, bypassing the page cache (the tail
  // and unaligned pieces, and everything on a filesystem that refuses
  // O_DIRECT, go through it).
  PipelinedWriter(int fd, std::string path, Sha256* hash, uint64_t start_offset, uint64_t size_hint = UINT64_MAX,
                  uint64_t sync_every = kSyncEvery, bool direct_io = false, HashOn hash_on = HashOn::kCaller);
  ~PipelinedWriter();
  PipelinedWriter(const PipelinedWriter&) = delete;
  PipelinedWriter& operator=(const PipelinedWriter&) = delete;

  // Fails with the first error of the writing or syncing thread.
  Status Write(const char* data, size_t len);
  // Zero-copy alternative to Write, for a producer that reads from a
  // socket: Space() lends the free part of the current block (at least one
  // byte, valid until Commit); Commit(n) takes the first n bytes of it.
  Result<std::pair<char*, size_t>> Space();
  Status Commit(size_t n);
  // Writes what is buffered, stops the threads; returns the first error.
  Status Finish();
  // File offset after the bytes written so far (exact after Finish).
  uint64_t end_offset() const { return written_; }
  // Background syncs done, bytes written with O_DIRECT (for tests; read
  // after Finish).
  int background_syncs() const { return background_syncs_; }
  uint64_t direct_bytes() const { return direct_bytes_; }

 private:
  struct Ring;
  Status Acquire();
  Status Submit();
  Status WriteBlock(const char* data, size_t len, uint64_t offset);
  Status WriteBehind(uint64_t end);
  bool SetDirect(bool on);
  size_t BlockCap() const;  // capacity of the block being filled

  int fd_;
  std::string path_;
  Sha256* hash_;
  uint64_t next_offset_;  // file offset of the block being filled
  uint64_t written_;      // file offset after the bytes written
  uint64_t kicked_;       // writeback started up to here (writing thread)
  uint64_t dropped_;      // written back and dropped from the page cache up to here
  bool drop_behind_ = true;
  uint64_t sync_every_;
  const bool direct_io_;
  const bool hash_thread_;  // a thread of its own hashes the blocks
  bool direct_ok_;          // O_DIRECT may be tried (turned off by the first refusal)
  bool fd_direct_ = false;  // O_DIRECT is set on fd_ now (writing thread)
  uint64_t direct_bytes_ = 0;
  int background_syncs_ = 0;
  std::vector<char> small_;  // the first block, until the stream outgrows it
  std::unique_ptr<Ring> ring_;
  char* cur_ = nullptr;  // ring block being filled
  size_t cur_len_ = 0;
  bool finished_ = false;
  Status finish_status_;
};

// What ProbeWriteModes measured: GB/s (1e9 bytes per second) of writing
// `bytes` into a fresh file and fsyncing it, the median of `samples` runs
// of each mode taken in turn (direct, buffered, direct, ...).
struct WriteProbe {
  bool direct_supported = false;  // the filesystem takes O_DIRECT
  double direct_gbps = 0;         // 0 where not supported
  double buffered_gbps = 0;
  uint64_t bytes = 0;  // per run
  int samples = 0;     // runs of each mode
  double ms = 0;       // the whole probe
  // The mode to use: direct unless buffered was faster by more than
  // kBufferedMargin. Within the margin the probe cannot tell them apart
  // (it swung either way on one machine where registers were 10-25 %
  // faster direct, bench/README.md), and direct costs less CPU (no copy
  // into the page cache); buffered keeps no more pages (write-behind drops
  // them) but wins clearly where O_DIRECT is slow (37 % on issue #28's disk).
  bool choose_direct = false;
  static constexpr double kBufferedMargin = 1.10;
};

// Measures both write modes with PipelinedWriter in `dir` (temporary files
// made and removed there), each run as a register loads the machine: the
// caller hashes the bytes it writes and a second thread hashes beside it.
// Errors: the directory's (not writable, full).
Result<WriteProbe> ProbeWriteModes(const std::string& dir, uint64_t bytes = 32ull << 20, int samples = 2);

}  // namespace modelreg
