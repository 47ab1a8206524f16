// This process's resource use, read from /proc (Linux), for the Prometheus
// process_* metrics of /metrics (docs/operations.md "Metrics").
#pragma once

#include <cstdint>

#include "core/status.h"

namespace modelreg {

struct ProcessStats {
  double cpu_seconds = 0;         // user + system
  int64_t resident_bytes = 0;     // RSS
  int64_t virtual_bytes = 0;      // address space
  int64_t open_fds = 0;           // entries of /proc/self/fd
  int64_t max_fds = 0;            // RLIMIT_NOFILE (soft)
  double start_time_seconds = 0;  // Unix time the process started
};

// Unavailable when /proc cannot be read (not Linux, or no /proc mounted).
Result<ProcessStats> ReadProcessStats();

}  // namespace modelreg
