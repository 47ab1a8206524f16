#include "core/pipelined_writer.h"

#include <fcntl.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "core/file_util.h"

namespace modelreg {
namespace {
constexpr size_t kBuffer = 1 << 20;
constexpr size_t kQueued = 3;
constexpr uint64_t kWritebackEvery = 64ull << 20;
}  // namespace

struct PipelinedWriter::Pipe {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::vector<char>> queue;   // full buffers, in order
  std::vector<std::vector<char>> spare;  // emptied buffers for reuse
  bool closing = false;
  Status status;  // first write error; later buffers are dropped
  std::thread worker;
};

PipelinedWriter::PipelinedWriter(int fd, std::string path, Sha256* hash, uint64_t start_offset,
                                 uint64_t size_hint)
    : fd_(fd), path_(std::move(path)), hash_(hash), written_(start_offset), synced_(start_offset) {
  // A 1 MiB allocation per small file is an mmap/munmap pair each time.
  buf_.reserve(static_cast<size_t>(std::min<uint64_t>(size_hint, kBuffer)));
}

PipelinedWriter::~PipelinedWriter() { (void)Finish(); }

Status PipelinedWriter::WriteBuffer(const std::vector<char>& b) {
  if (b.empty()) return Status::OK();
  if (hash_) hash_->Update(b.data(), b.size());
  MR_RETURN_IF_ERROR(WriteAll(fd_, b.data(), b.size(), path_));
  written_ += b.size();
  if (written_ - synced_ >= kWritebackEvery) {
    ::sync_file_range(fd_, static_cast<off_t>(synced_), static_cast<off_t>(written_ - synced_),
                      SYNC_FILE_RANGE_WRITE);
    synced_ = written_;
  }
  return Status::OK();
}

Status PipelinedWriter::Submit() {
  if (!pipe_) {
    pipe_ = std::make_unique<Pipe>();
    Pipe* p = pipe_.get();
    p->worker = std::thread([this, p] {
      std::unique_lock<std::mutex> l(p->mu);
      for (;;) {
        p->cv.wait(l, [&] { return !p->queue.empty() || p->closing; });
        if (p->queue.empty()) return;
        std::vector<char> b = std::move(p->queue.front());
        p->queue.pop_front();
        const bool ok = p->status.ok();
        l.unlock();
        Status st = ok ? WriteBuffer(b) : Status::OK();
        b.clear();
        l.lock();
        if (!st.ok() && p->status.ok()) p->status = st;
        p->spare.push_back(std::move(b));
        p->cv.notify_all();
      }
    });
  }
  std::unique_lock<std::mutex> l(pipe_->mu);
  pipe_->cv.wait(l, [&] { return pipe_->queue.size() < kQueued; });
  if (!pipe_->status.ok()) return pipe_->status;
  pipe_->queue.push_back(std::move(buf_));
  if (!pipe_->spare.empty()) {
    buf_ = std::move(pipe_->spare.back());
    pipe_->spare.pop_back();
  } else {
    buf_ = std::vector<char>();
  }
  buf_.reserve(kBuffer);
  pipe_->cv.notify_all();
  return Status::OK();
}

Status PipelinedWriter::Write(const char* data, size_t len) {
  if (finished_) return Status::FailedPrecondition("writer finished");
  while (len > 0) {
    size_t n = std::min(len, kBuffer - buf_.size());
    buf_.insert(buf_.end(), data, data + n);
    data += n;
    len -= n;
    if (buf_.size() == kBuffer) MR_RETURN_IF_ERROR(Submit());
  }
  return Status::OK();
}

Status PipelinedWriter::Finish() {
  if (finished_) return pipe_ ? pipe_->status : Status::OK();
  finished_ = true;
  if (!pipe_) {
    Status st = WriteBuffer(buf_);
    buf_.clear();
    return st;
  }
  {
    std::lock_guard<std::mutex> l(pipe_->mu);
    if (!buf_.empty() && pipe_->status.ok()) pipe_->queue.push_back(std::move(buf_));
    pipe_->closing = true;
  }
  pipe_->cv.notify_all();
  pipe_->worker.join();
  buf_.clear();
  return pipe_->status;
}

}  // namespace modelreg
