#include "core/cpu_yield.h"

#include <sched.h>
#include <time.h>

namespace modelreg {
namespace {
int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}
}  // namespace

CpuYield::CpuYield(std::chrono::microseconds quantum) : quantum_ns_(quantum.count() * 1000), since_ns_(NowNs()) {}

void CpuYield::Check() {
  const int64_t now = NowNs();
  if (now - since_ns_ < quantum_ns_) return;
  sched_yield();
  ++yields_;
  since_ns_ = NowNs();
}

}  // namespace modelreg
