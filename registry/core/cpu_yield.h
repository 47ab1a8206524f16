// Bulk loops that share a small machine with latency-sensitive threads give
// their CPU away in short turns. The registry's decision ingest (parse,
// check, insert) and the agent's spool shipper run in bursts of several
// milliseconds; on a 2-core VM a request's thread woken meanwhile was queued
// behind such a burst on a busy core, even with the other core idle, for up
// to a scheduler slice (3 ms): the proxy's one-at-a-time p99 (bench/README.md
// "Agent proxy"). A loop that calls Tick() once per item yields the CPU
// (sched_yield) whenever it has run `quantum` since its last yield, so a
// woken thread waits at most about that long. When nothing else wants the
// CPU, sched_yield returns at once (about a microsecond per quantum).
//
// Why not a lower scheduling class: SCHED_IDLE for the ingest (tried: the
// same tail gain) can starve a thread holding the database's write lock
// when the machine is busy, and promotions would wait behind it. A yield
// keeps the thread's fair share.
#pragma once

#include <chrono>
#include <cstdint>

namespace modelreg {

class CpuYield {
 public:
  static constexpr std::chrono::microseconds kDefaultQuantum{100};
  explicit CpuYield(std::chrono::microseconds quantum = kDefaultQuantum);
  // Once per item of a bulk loop: reads the clock every 8th call.
  void Tick() {
    if ((++calls_ & 7) == 0) Check();
  }
  uint64_t yields() const { return yields_; }

 private:
  void Check();
  int64_t quantum_ns_;
  int64_t since_ns_;
  uint32_t calls_ = 0;
  uint64_t yields_ = 0;
};

}  // namespace modelreg
