#include "core/pipelined_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "core/file_util.h"

namespace modelreg {
namespace {
// 1 MiB blocks: 4 MiB blocks measured slower for uploads on the 2-core
// machine.
constexpr size_t kBlock = 1 << 20;
constexpr size_t kRing = 6;
// Buffered mode's write-behind (pipelined_writer.h): writeback of every
// kWritebackEvery bytes is started as soon as they are written; the range
// before it is then waited for and its pages dropped.
constexpr uint64_t kWritebackEvery = 8ull << 20;
// O_DIRECT needs buffer, offset and length aligned to the device's logical
// block size; a page satisfies every block device in practice.
constexpr size_t kDirectAlign = 4096;
}  // namespace

struct PipelinedWriter::Ring {
  struct Block {
    struct Free {
      void operator()(char* p) const { std::free(p); }
    };
    std::unique_ptr<char, Free> data;
    size_t len = 0;
    uint64_t offset = 0;
  };
  std::mutex mu;
  // One condition per waiter, so that a wake-up goes only to the thread
  // that has something to do.
  std::condition_variable to_hash, to_write, to_sync, space;
  Block blocks[kRing];
  uint64_t submitted = 0;   // blocks handed over by the producer
  uint64_t hashed = 0;      // blocks the hashing thread is done with (== submitted without one)
  uint64_t written = 0;     // blocks the writing thread is done with
  uint64_t end = 0;         // file offset after the last block written without error
  uint64_t sync_asked = 0;  // the syncing thread is to make [.., sync_asked) durable
  uint64_t synced = 0;      // durable up to here
  bool closing = false;
  Status status;  // first error; later blocks are not written
  std::thread hasher, writer, syncer;

  uint64_t done() const { return std::min(hashed, written); }
  void Fail(const Status& st) {
    if (!st.ok() && status.ok()) status = st;
  }
};

PipelinedWriter::PipelinedWriter(int fd, std::string path, Sha256* hash, uint64_t start_offset, uint64_t size_hint,
                                 uint64_t sync_every, bool direct_io, HashOn hash_on)
    : fd_(fd),
      path_(std::move(path)),
      hash_(hash),
      next_offset_(start_offset),
      written_(start_offset),
      kicked_(start_offset),
      dropped_(start_offset),
      sync_every_(sync_every),
      direct_io_(direct_io),
      hash_thread_(hash != nullptr && hash_on == HashOn::kThread),
      direct_ok_(direct_io) {
  // A 1 MiB allocation per small file is an mmap/munmap pair each time.
  small_.reserve(static_cast<size_t>(std::min<uint64_t>(size_hint, kBlock)));
}

PipelinedWriter::~PipelinedWriter() { (void)Finish(); }

size_t PipelinedWriter::BlockCap() const {
  // With direct I/O a stream that starts at an unaligned offset (a resumed
  // upload) gets a shorter first block, so that every later block starts
  // aligned.
  return kBlock - (direct_io_ ? static_cast<size_t>(next_offset_ % kDirectAlign) : 0);
}

bool PipelinedWriter::SetDirect(bool on) {
  int fl = ::fcntl(fd_, F_GETFL);
  if (fl < 0 || ::fcntl(fd_, F_SETFL, on ? (fl | O_DIRECT) : (fl & ~O_DIRECT)) != 0) return false;
  fd_direct_ = on;
  return true;
}

Status PipelinedWriter::WriteBlock(const char* data, size_t len, uint64_t offset) {
  size_t done = 0;
  while (done < len) {
    const bool aligned = (offset + done) % kDirectAlign == 0 && (len - done) % kDirectAlign == 0 &&
                         reinterpret_cast<uintptr_t>(data + done) % kDirectAlign == 0;
    const bool want_direct = direct_ok_ && aligned;
    if (want_direct != fd_direct_ && !SetDirect(want_direct)) {
      if (want_direct) direct_ok_ = false;
      else return Status::FromErrno("fcntl " + path_, errno);
    }
    ssize_t n = ::pwrite(fd_, data + done, len - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EINVAL && fd_direct_) {  // the filesystem refuses O_DIRECT after all
      direct_ok_ = false;
      continue;
    }
    if (n < 0) return Status::FromErrno("write " + path_, errno);
    if (n == 0) return Status::Internal("write " + path_ + " wrote nothing");
    if (fd_direct_) direct_bytes_ += static_cast<uint64_t>(n);
    done += static_cast<size_t>(n);
  }
  if (!fd_direct_ && offset + len - kicked_ >= kWritebackEvery) return WriteBehind(offset + len);
  return Status::OK();
}

// sync_file_range's errors that only say it does not apply here (a pipe,
// a character device such as /dev/full, a filesystem without it).
static bool NotApplicable(int err) { return err == EINVAL || err == ESPIPE || err == ENOSYS || err == EROFS; }

Status PipelinedWriter::WriteBehind(uint64_t end) {
  // Start writeback of what page cache holds of [kicked_, end), without
  // waiting for it.
  if (::sync_file_range(fd_, static_cast<off_t>(kicked_), static_cast<off_t>(end - kicked_), SYNC_FILE_RANGE_WRITE) !=
          0 &&
      !NotApplicable(errno))
    return Status::FromErrno("sync_file_range " + path_, errno);
  // The range kicked before it has had a range's time to reach the disk:
  // wait for it and drop its pages (clean now). Its write error is
  // reported here: the wait consumes it, a later fsync would not see it.
  if (dropped_ < kicked_) {
    if (::sync_file_range(fd_, static_cast<off_t>(dropped_), static_cast<off_t>(kicked_ - dropped_),
                          SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0 &&
        !NotApplicable(errno))
      return Status::FromErrno("write " + path_, errno);
    if (drop_behind_)
      (void)::posix_fadvise(fd_, static_cast<off_t>(dropped_), static_cast<off_t>(kicked_ - dropped_),
                            POSIX_FADV_DONTNEED);
    dropped_ = kicked_;
  }
  kicked_ = end;
  return Status::OK();
}

Status PipelinedWriter::Acquire() {
  if (!ring_) {
    ring_ = std::make_unique<Ring>();
    Ring* r = ring_.get();
    r->synced = r->sync_asked = next_offset_;
    if (hash_thread_) {
      r->hasher = std::thread([this, r] {
        std::unique_lock<std::mutex> l(r->mu);
        for (;;) {
          r->to_hash.wait(l, [&] { return r->hashed < r->submitted || r->closing; });
          if (r->hashed == r->submitted) return;
          const Ring::Block& b = r->blocks[r->hashed % kRing];
          l.unlock();
          hash_->Update(b.data.get(), b.len);
          l.lock();
          ++r->hashed;
          r->space.notify_one();
        }
      });
    }
    r->writer = std::thread([this, r] {
      std::unique_lock<std::mutex> l(r->mu);
      for (;;) {
        r->to_write.wait(l, [&] { return r->written < r->submitted || r->closing; });
        if (r->written == r->submitted) return;
        const Ring::Block& b = r->blocks[r->written % kRing];
        const bool ok = r->status.ok();
        l.unlock();
        Status st = ok ? WriteBlock(b.data.get(), b.len, b.offset) : Status::OK();
        l.lock();
        r->Fail(st);
        if (ok && st.ok()) {
          r->end = b.offset + b.len;
          if (sync_every_ && r->end - r->sync_asked >= sync_every_) {
            r->sync_asked = r->end;
            r->to_sync.notify_one();
          }
        }
        ++r->written;
        r->space.notify_one();
      }
    });
    r->syncer = std::thread([this, r] {
      std::unique_lock<std::mutex> l(r->mu);
      for (;;) {
        r->to_sync.wait(l, [&] { return r->synced < r->sync_asked || r->closing; });
        if (r->closing) return;  // the caller syncs the rest
        const uint64_t target = r->sync_asked;
        l.unlock();
        Status st;
        if (::fdatasync(fd_) != 0 && errno != EINVAL && errno != EROFS)
          st = Status::FromErrno("fdatasync " + path_, errno);
        l.lock();
        r->Fail(st);
        r->synced = target;
        ++background_syncs_;
      }
    });
  }
  Ring* r = ring_.get();
  std::unique_lock<std::mutex> l(r->mu);
  r->space.wait(l, [&] { return r->submitted - r->done() < kRing; });
  if (!r->status.ok()) return r->status;
  Ring::Block& b = r->blocks[r->submitted % kRing];
  if (!b.data) b.data.reset(static_cast<char*>(std::aligned_alloc(kDirectAlign, kBlock)));
  if (!b.data) return Status::ResourceExhausted("out of memory for a write buffer");
  cur_ = b.data.get();
  cur_len_ = 0;
  return Status::OK();
}

Status PipelinedWriter::Submit() {
  Ring* r = ring_.get();
  {
    std::lock_guard<std::mutex> l(r->mu);
    Ring::Block& b = r->blocks[r->submitted % kRing];
    b.len = cur_len_;
    b.offset = next_offset_;
    ++r->submitted;
    if (!hash_thread_) r->hashed = r->submitted;
  }
  if (hash_thread_) r->to_hash.notify_one();
  r->to_write.notify_one();
  next_offset_ += cur_len_;
  cur_ = nullptr;
  cur_len_ = 0;
  return Status::OK();
}

Status PipelinedWriter::Write(const char* data, size_t len) {
  if (finished_) return Status::FailedPrecondition("writer finished");
  if (hash_ && !hash_thread_) hash_->Update(data, len);
  while (len > 0) {
    if (!ring_) {
      // Until the stream outgrows its first block it stays in small_, and
      // no thread is started.
      size_t n = std::min(len, BlockCap() - small_.size());
      small_.insert(small_.end(), data, data + n);
      data += n;
      len -= n;
      if (len == 0) break;
      MR_RETURN_IF_ERROR(Acquire());
      std::memcpy(cur_, small_.data(), small_.size());
      cur_len_ = small_.size();
      std::vector<char>().swap(small_);
      MR_RETURN_IF_ERROR(Submit());
      continue;
    }
    if (!cur_) MR_RETURN_IF_ERROR(Acquire());
    size_t n = std::min(len, BlockCap() - cur_len_);
    std::memcpy(cur_ + cur_len_, data, n);
    cur_len_ += n;
    data += n;
    len -= n;
    if (cur_len_ == BlockCap()) MR_RETURN_IF_ERROR(Submit());
  }
  return Status::OK();
}

Result<std::pair<char*, size_t>> PipelinedWriter::Space() {
  if (finished_) return Status::FailedPrecondition("writer finished");
  if (!ring_ || !cur_) {
    // Lending ring memory needs the ring: what small_ holds moves into it.
    const bool from_small = !ring_;
    MR_RETURN_IF_ERROR(Acquire());
    if (from_small && !small_.empty()) {
      std::memcpy(cur_, small_.data(), small_.size());
      cur_len_ = small_.size();
      std::vector<char>().swap(small_);
      if (cur_len_ == BlockCap()) {
        MR_RETURN_IF_ERROR(Submit());
        MR_RETURN_IF_ERROR(Acquire());
      }
    }
  }
  return std::make_pair(cur_ + cur_len_, BlockCap() - cur_len_);
}

Status PipelinedWriter::Commit(size_t n) {
  if (!cur_ || n > BlockCap() - cur_len_) return Status::FailedPrecondition("Commit without Space");
  if (hash_ && !hash_thread_) hash_->Update(cur_ + cur_len_, n);  // just received: still in this core's cache
  cur_len_ += n;
  if (cur_len_ == BlockCap()) return Submit();
  return Status::OK();
}

Status PipelinedWriter::Finish() {
  if (finished_) return ring_ ? ring_->status : finish_status_;
  finished_ = true;
  if (!ring_) {
    // One block or less: an ordinary write (direct I/O is for long streams).
    direct_ok_ = false;
    if (hash_thread_) hash_->Update(small_.data(), small_.size());
    finish_status_ = WriteBlock(small_.data(), small_.size(), next_offset_);
    if (finish_status_.ok()) next_offset_ += small_.size();
    written_ = next_offset_;
    std::vector<char>().swap(small_);
    return finish_status_;
  }
  Ring* r = ring_.get();
  if (cur_ && cur_len_ > 0) (void)Submit();
  {
    std::lock_guard<std::mutex> l(r->mu);
    r->closing = true;
  }
  r->to_hash.notify_one();
  r->to_write.notify_one();
  r->to_sync.notify_one();
  if (r->hasher.joinable()) r->hasher.join();
  r->writer.join();
  r->syncer.join();
  if (fd_direct_) (void)SetDirect(false);
  written_ = r->status.ok() ? next_offset_ : r->end;
  return r->status;
}

namespace {
double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
}  // namespace

Result<WriteProbe> ProbeWriteModes(const std::string& dir, uint64_t bytes, int samples) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  WriteProbe p;
  p.bytes = bytes;
  p.samples = samples;
  // Bytes that no filesystem compresses or dedups.
  std::vector<char> block(kBlock);
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i + 8 <= block.size(); i += 8) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    std::memcpy(block.data() + i, &x, 8);
  }
  // One run: seconds to write `bytes` and fsync them, or a negative value
  // where O_DIRECT is refused.
  auto run = [&](bool direct) -> Result<double> {
    const std::string path = dir + "/.write-probe-" + std::to_string(::getpid()) + (direct ? "-d" : "-b");
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.valid()) return Status::FromErrno("create " + path, errno);
    // As in a register on two cores: the caller hashes what it hands over
    // (the server's hash) while another thread hashes as much (the
    // client's), so that a mode's CPU cost (buffered: the copy into the
    // page cache) counts as it does there.
    std::atomic<bool> stop{false};
    std::thread other([&] {
      Sha256 h;
      while (!stop.load(std::memory_order_relaxed)) h.Update(block.data(), block.size());
    });
    const auto start = Clock::now();
    Sha256 hash;
    PipelinedWriter w(fd.get(), path, &hash, 0, bytes, PipelinedWriter::kSyncEvery, direct);
    Status st;
    for (uint64_t done = 0; st.ok() && done < bytes; done += kBlock)
      st = w.Write(block.data(), static_cast<size_t>(std::min<uint64_t>(kBlock, bytes - done)));
    if (st.ok()) st = w.Finish();
    if (st.ok() && ::fsync(fd.get()) != 0) st = Status::FromErrno("fsync " + path, errno);
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    stop = true;
    other.join();
    ::unlink(path.c_str());
    MR_RETURN_IF_ERROR(st);
    if (direct && w.direct_bytes() == 0) return -1.0;
    return s;
  };
  std::vector<double> d, b;
  p.direct_supported = true;
  for (int i = 0; i < samples; ++i) {
    if (p.direct_supported) {
      MR_ASSIGN_OR_RETURN(double s, run(true));
      if (s < 0) p.direct_supported = false;
      else d.push_back(static_cast<double>(bytes) / s / 1e9);
    }
    MR_ASSIGN_OR_RETURN(double s, run(false));
    b.push_back(static_cast<double>(bytes) / s / 1e9);
  }
  p.direct_gbps = p.direct_supported ? Median(d) : 0;
  p.buffered_gbps = Median(b);
  p.choose_direct = p.direct_supported && !(p.buffered_gbps > p.direct_gbps * WriteProbe::kBufferedMargin);
  p.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  return p;
}

}  // namespace modelreg
