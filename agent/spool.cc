#include "spool.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "core/cpu_yield.h"

namespace modelreg::agent {
namespace {
constexpr size_t kBatch = 1000;
constexpr int kShipIntervalMs = 200;
// The shipper's nice value: its bursts (a batch read, framed and posted)
// yield the CPU to the request threads that wake meanwhile, instead of
// holding it for a time slice while a proxied request waits (the tail of
// the one-at-a-time latency, bench/README.md "Agent proxy"); its loop
// also yields every 100 us of running (core/cpu_yield.h).
constexpr int kShipperNice = 5;
}  // namespace

DecisionSpool::DecisionSpool(std::string dir, uint64_t max_bytes, Sender send)
    : dir_(std::move(dir)), max_bytes_(max_bytes), send_(std::move(send)) {}

DecisionSpool::~DecisionSpool() { Stop(); }

Status DecisionSpool::Open() {
  MR_RETURN_IF_ERROR(MakeDirs(dir_));
  log_ = UniqueFd(::open((dir_ + "/decisions.log").c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log_.valid()) return Status::FromErrno("open spool", errno);
  struct stat sb;
  ::fstat(log_.get(), &sb);
  size_ = static_cast<uint64_t>(sb.st_size);
  auto off = ReadSmallFile(dir_ + "/offset", 64);
  committed_ = off.ok() ? std::strtoull(off->c_str(), nullptr, 10) : 0;
  if (committed_ > size_) committed_ = 0;
  if (committed_ == size_ && size_ > 0) {
    // Everything was shipped: start the log over (nothing appends yet).
    if (::ftruncate(log_.get(), 0) == 0) {
      MR_RETURN_IF_ERROR(WriteFileAtomic(dir_ + "/offset", "0\n", 0600));
      size_ = committed_ = 0;
    }
  }
  punched_ = committed_ & ~uint64_t{4095};
  // A torn last line (killed mid-write) is ended here, so that it stays a
  // line of its own (skipped when shipped) instead of swallowing the next
  // decision appended after it.
  if (size_ > committed_) {
    char last = '\n';
    if (::pread(log_.get(), &last, 1, static_cast<off_t>(size_ - 1)) == 1 && last != '\n') {
      MR_RETURN_IF_ERROR(WriteAll(log_.get(), "\n", 1, "spool"));
      ++size_;
    }
  }
  checked_to_ = size_;
  shipper_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "mr-spool-ship");
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kShipperNice);
    ShipLoop();
  });
  return Status::OK();
}

void DecisionSpool::Append(const std::string& line) {
  std::lock_guard<std::mutex> l(mu_);
  if (size_ - committed_ + line.size() + 1 > max_bytes_) {
    ++dropped_;
    return;
  }
  std::string rec = line + "\n";
  if (WriteAll(log_.get(), rec.data(), rec.size(), "spool").ok()) {
    size_ += rec.size();
  } else {
    // A part written (a full disk) is cut off again: every line this
    // process appends is whole, which lets the shipper skip parsing them.
    ++dropped_;
    (void)::ftruncate(log_.get(), static_cast<off_t>(size_));
  }
  if (size_ - committed_ >= kBatch * 200) cv_.notify_one();
}

uint64_t DecisionSpool::pending_bytes() {
  std::lock_guard<std::mutex> l(mu_);
  return size_ - committed_;
}

Status DecisionSpool::ShipOnce(bool* shipped_any, bool* full) {
  *shipped_any = false;
  *full = false;
  uint64_t start, end;
  {
    std::lock_guard<std::mutex> l(mu_);
    start = committed_;
    end = size_;
  }
  if (start >= end) return Status::OK();
  // Read up to kBatch complete lines after the committed offset.
  std::string buf;
  buf.resize(static_cast<size_t>(std::min<uint64_t>(end - start, 4u << 20)));
  ssize_t n = ::pread(log_.get(), buf.data(), buf.size(), static_cast<off_t>(start));
  if (n <= 0) return Status::FromErrno("read spool", errno);
  buf.resize(static_cast<size_t>(n));
  std::string body = "[";
  body.reserve(buf.size() + 2);
  size_t pos = 0, lines = 0, consumed = 0;
  CpuYield yield;  // share the core with the proxy's threads (core/cpu_yield.h)
  while (lines < kBatch) {
    yield.Tick();
    size_t nl = buf.find('\n', pos);
    if (nl == std::string::npos) break;
    const std::string_view line(buf.data() + pos, nl - pos);
    // A line torn by a crash mid-write is skipped, not sent. Only lines
    // from before this start can be torn (Append writes whole lines, see
    // there): they are parsed; the rest only checked to be an object.
    const bool whole = start + pos >= checked_to_ ? line.size() >= 2 && line.front() == '{' && line.back() == '}'
                                                  : !line.empty() && nlohmann::json::accept(line);
    if (whole) {
      if (lines) body += ',';
      body.append(line);
      ++lines;
    }
    pos = nl + 1;
    consumed = pos;
  }
  body += "]";
  if (consumed == 0) return Status::OK();
  if (lines > 0) {
    Status st = send_(body);
    // The registry refused the batch as malformed: retrying cannot help;
    // skip it (and say so) rather than block every later decision.
    if (!st.ok() && st.code() != StatusCode::kInvalidArgument) return st;
    if (!st.ok())
      fprintf(stderr, "{\"level\":\"error\",\"msg\":\"decision batch refused, skipped\",\"error\":\"%s\"}\n",
              st.message().c_str());
  }
  uint64_t committed;
  {
    std::lock_guard<std::mutex> l(mu_);
    committed_ = start + consumed;
    committed = committed_;
  }
  // Outside the lock, so appends never wait on disk: persist the offset (a
  // crash before this only means resending a batch, which the registry
  // deduplicates), then free the disk blocks of shipped lines. Offsets never
  // move: the file's logical size grows, its disk use does not.
  (void)WriteFileAtomic(dir_ + "/offset", std::to_string(committed) + "\n", 0600);
  const uint64_t punch_to = committed & ~uint64_t{4095};
  if (punch_to >= punched_ + (1u << 20)) {
    if (::fallocate(log_.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(punched_),
                    static_cast<off_t>(punch_to - punched_)) == 0)
      punched_ = punch_to;
  }
  *shipped_any = true;
  *full = lines >= kBatch;
  return Status::OK();
}

void DecisionSpool::ShipLoop() {
  double backoff = 0.2;
  while (!stop_) {
    bool any = false, full = false;
    Status st = ShipOnce(&any, &full);
    if (!st.ok()) {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, std::chrono::duration<double>(backoff), [&] { return stop_.load(); });
      backoff = std::min(backoff * 2, 5.0);
      continue;
    }
    backoff = 0.2;
    // Ship again at once only while a backlog remains; otherwise let a
    // batch gather (at most kShipIntervalMs): shipping every few decisions
    // costs a registry commit and an offset fsync each time, and under load
    // that CPU comes out of the proxied requests.
    if (!full) {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait_for(l, std::chrono::milliseconds(kShipIntervalMs),
                   [&] { return stop_.load() || size_ - committed_ >= kBatch * 200; });
    }
  }
  // Final attempt to ship what is left (bounded).
  for (int i = 0; i < 20; ++i) {
    bool any = false, full = false;
    if (!ShipOnce(&any, &full).ok() || !any) break;
  }
}

void DecisionSpool::Stop() {
  if (stop_.exchange(true)) return;
  cv_.notify_all();
  if (shipper_.joinable()) shipper_.join();
}

}  // namespace modelreg::agent
