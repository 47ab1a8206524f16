#include "core/hashing_reader.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/mapped_file.h"

namespace modelreg {
namespace {
// 1 MiB blocks: with pread (no mapping) a block stays in L2 between the
// read and the hash, as in core/pipelined_writer.cc.
constexpr size_t kBlock = 1 << 20;
constexpr size_t kRing = 4;
constexpr uint64_t kReleaseEvery = 64 << 20;
}  // namespace

struct HashingReader::Ring {
  struct Block {
    std::vector<char> data;   // read into, when the file is not mapped
    const char* ptr = nullptr;  // the block's bytes (in data or in the mapping)
    size_t len = 0;
  };
  std::unique_ptr<MappedFile> map;  // null: read with pread
  std::mutex mu;
  std::condition_variable filled, freed;
  Block blocks[kRing];
  uint64_t produced = 0;  // blocks read and hashed
  uint64_t consumed = 0;  // blocks the caller gave back
  uint64_t released = 0;  // the mapping is unmapped below this offset
  size_t offset_in_block = 0;  // caller's position inside blocks[consumed]
  bool done = false;           // the thread has read everything (or failed)
  bool stop = false;
  Status status;
  std::optional<Digest> digest;
  std::thread thread;
};

HashingReader::HashingReader(int fd, std::string path, uint64_t size) : size_(size), ring_(std::make_unique<Ring>()) {
  Ring* r = ring_.get();
  // Hashing straight from the page cache through a mapping spares a copy
  // per byte; pread is the fallback (empty files, files mmap refuses).
  if (auto m = MappedFile::Map(fd, size, path); m.ok()) r->map = std::move(*m);
  r->thread = std::thread([r, fd, path = std::move(path), size] {
    Sha256 hash;
    Status st;
    for (uint64_t pos = 0; pos < size && st.ok();) {
      Ring::Block* b;
      {
        std::unique_lock<std::mutex> l(r->mu);
        r->freed.wait(l, [&] { return r->produced - r->consumed < kRing || r->stop; });
        if (r->stop) return;
        b = &r->blocks[r->produced % kRing];
      }
      const size_t want = static_cast<size_t>(std::min<uint64_t>(size - pos, kBlock));
      size_t got = 0;
      if (r->map) {
        st = r->map->Read(pos, want, [&](const char* p, size_t n) { hash.Update(p, n); });
        if (!st.ok()) break;
        b->ptr = r->map->data() + pos;
        got = want;
      } else {
        if (b->data.empty()) b->data.resize(kBlock);
        b->ptr = b->data.data();
      }
      while (got < want) {
        ssize_t n = ::pread(fd, b->data.data() + got, want - got, static_cast<off_t>(pos + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
          st = Status::FromErrno("read " + path, errno);
          break;
        }
        if (n == 0) {
          st = Status::FailedPrecondition(path + " shrank while it was being read");
          break;
        }
        got += static_cast<size_t>(n);
      }
      if (!st.ok()) break;
      if (!r->map) hash.Update(b->ptr, got);
      b->len = got;
      pos += got;
      std::lock_guard<std::mutex> l(r->mu);
      ++r->produced;
      r->filled.notify_one();
    }
    std::lock_guard<std::mutex> l(r->mu);
    r->status = st;
    if (st.ok()) r->digest = hash.Finish();
    r->done = true;
    r->filled.notify_one();
  });
}

HashingReader::~HashingReader() {
  {
    std::lock_guard<std::mutex> l(ring_->mu);
    ring_->stop = true;
  }
  ring_->freed.notify_one();
  if (ring_->thread.joinable()) ring_->thread.join();
}

Result<std::string_view> HashingReader::Next(size_t max) {
  Ring* r = ring_.get();
  std::unique_lock<std::mutex> l(r->mu);
  // The block the previous call returned the last of is given back now
  // (the caller was using it until this call).
  if (r->offset_in_block > 0 && r->offset_in_block == r->blocks[r->consumed % kRing].len) {
    ++r->consumed;
    r->offset_in_block = 0;
    r->freed.notify_one();
    // Unmap what was handed out, kReleaseEvery at a time (each munmap costs
    // a TLB shootdown on the other core; all at the end costs ~30 ms/GiB).
    if (r->map && pos_ - r->released >= kReleaseEvery) {
      l.unlock();
      r->map->Release(r->released, pos_ - r->released);
      l.lock();
      r->released = pos_;
    }
  }
  if (pos_ >= size_) return std::string_view();
  r->filled.wait(l, [&] { return r->consumed < r->produced || r->done; });
  if (r->consumed == r->produced) return r->status.ok() ? Status::Internal("reader ended early") : r->status;
  const Ring::Block& b = r->blocks[r->consumed % kRing];
  const size_t n = std::min(max, b.len - r->offset_in_block);
  std::string_view out(b.ptr + r->offset_in_block, n);
  r->offset_in_block += n;
  pos_ += n;
  return out;
}

Status HashingReader::Skip(uint64_t to) {
  while (pos_ < to) {
    MR_ASSIGN_OR_RETURN(auto piece, Next(static_cast<size_t>(std::min<uint64_t>(to - pos_, kBlock))));
    if (piece.empty()) break;
  }
  return Status::OK();
}

Result<Digest> HashingReader::Finish() {
  MR_RETURN_IF_ERROR(Skip(size_));
  Ring* r = ring_.get();
  std::unique_lock<std::mutex> l(r->mu);
  r->filled.wait(l, [&] { return r->done; });
  if (!r->status.ok()) return r->status;
  return *r->digest;
}

}  // namespace modelreg
