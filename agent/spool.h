// DecisionSpool: every decision the proxy records is appended to
// ROOT/spool/decisions.log (one JSON object per line) before its response
// leaves, so a registry that is down or an agent killed with -9 loses
// nothing. A shipper thread sends the lines after the committed offset
// (ROOT/spool/offset) in batches to POST /api/v1/decisions, which is
// idempotent by request id: a batch resent after a crash is not stored twice.
// Shipped ranges are hole-punched (disk use stays bounded, offsets stay
// valid); the log starts over at the next start-up once all is shipped. The spool is bounded
// (--spool-max bytes): beyond it decisions are counted as dropped and
// reported, and the model keeps serving. The shipper thread runs at a
// lower priority (nice 5, named mr-spool-ship) so that its bursts do not
// delay the proxied requests. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "core/file_util.h"
#include "core/status.h"

namespace modelreg::agent {

class DecisionSpool {
 public:
  // `send` posts a JSON array body of decisions; Unavailable means retry.
  using Sender = std::function<Status(const std::string& json_array)>;
  DecisionSpool(std::string dir, uint64_t max_bytes, Sender send);
  ~DecisionSpool();
  Status Open();
  // Appends one decision line (no newline inside).
  void Append(const std::string& json_line);
  void Stop();
  uint64_t dropped() const { return dropped_; }
  uint64_t pending_bytes();
  uint64_t max_bytes() const { return max_bytes_; }

 private:
  void ShipLoop();
  // Ships up to one batch; `full` says it was a whole batch (more may wait).
  Status ShipOnce(bool* shipped_any, bool* full);

  std::string dir_;
  uint64_t max_bytes_;
  Sender send_;
  std::mutex mu_;  // guards the log file's appends and truncation
  UniqueFd log_;
  uint64_t size_ = 0;
  uint64_t committed_ = 0;
  uint64_t punched_ = 0;  // shipper thread only: disk blocks freed below this
  // The log's size at Open: lines before it may be torn by a crash (they
  // are parsed before shipping); Append writes whole lines after it.
  uint64_t checked_to_ = 0;
  std::atomic<uint64_t> dropped_{0};
  std::atomic<bool> stop_{false};
  std::condition_variable cv_;
  std::thread shipper_;
};

}  // namespace modelreg::agent
