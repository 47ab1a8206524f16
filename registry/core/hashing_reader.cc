#include "core/hashing_reader.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "core/mapped_file.h"

namespace modelreg {
namespace {
// Pieces of at most 1 MiB: hashed, then sent, while they are in this
// core's cache.
constexpr size_t kBlock = 1 << 20;
// The mapping is unmapped behind the reader this much at a time (each
// munmap costs a TLB shootdown on the other core; all at the end costs
// ~30 ms/GiB).
constexpr uint64_t kReleaseEvery = 64 << 20;
}  // namespace

struct HashingReader::State {
  int fd;
  std::string path;
  std::unique_ptr<MappedFile> map;  // null: read with pread
  std::vector<char> buf;            // the pread fallback's piece
  Sha256 hash;
  uint64_t released = 0;  // the mapping is unmapped below this offset
  Status status;          // the first error; it ends the stream
};

HashingReader::HashingReader(int fd, std::string path, uint64_t size) : size_(size), state_(std::make_unique<State>()) {
  State* s = state_.get();
  s->fd = fd;
  // Hashing straight from the page cache through a mapping spares a copy
  // per byte; pread is the fallback (empty files, files mmap refuses).
  if (auto m = MappedFile::Map(fd, size, path); m.ok()) s->map = std::move(*m);
  s->path = std::move(path);
}

HashingReader::~HashingReader() = default;

Result<std::string_view> HashingReader::Next(size_t max) {
  State* s = state_.get();
  if (!s->status.ok()) return s->status;
  if (pos_ >= size_ || max == 0) return std::string_view();
  const size_t want = static_cast<size_t>(std::min<uint64_t>({max, size_ - pos_, kBlock}));
  std::string_view piece;
  if (s->map) {
    if (pos_ - s->released >= kReleaseEvery) {
      s->map->Release(s->released, pos_ - s->released);
      s->released = pos_;
    }
    // Through the guarded read: a file that shrank is an error here, not a
    // SIGBUS in whoever reads the piece next.
    s->status = s->map->Read(pos_, want, [&](const char* p, size_t n) { s->hash.Update(p, n); });
    piece = std::string_view(s->map->data() + pos_, want);
  } else {
    if (s->buf.size() < want) s->buf.resize(kBlock);
    size_t got = 0;
    while (got < want && s->status.ok()) {
      ssize_t n = ::pread(s->fd, s->buf.data() + got, want - got, static_cast<off_t>(pos_ + got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) s->status = Status::FromErrno("read " + s->path, errno);
      else if (n == 0) s->status = Status::FailedPrecondition(s->path + " shrank while it was being read");
      else got += static_cast<size_t>(n);
    }
    if (s->status.ok()) s->hash.Update(s->buf.data(), want);
    piece = std::string_view(s->buf.data(), want);
  }
  if (!s->status.ok()) return s->status;
  pos_ += want;
  return piece;
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
  return state_->hash.Finish();
}

}  // namespace modelreg
