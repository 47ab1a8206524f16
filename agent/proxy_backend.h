// A model server the proxy runs: one process per version, on its own
// loopback port. Internal to the proxy (proxy.cc starts and stops them,
// proxy_connection.cc forwards to them).
#pragma once

#include <sys/types.h>

#include <atomic>

#include "proxy.h"

namespace modelreg::agent {

struct Proxy::Backend {
  pid_t pid = -1;
  int port = 0;
  CurrentVersion version;
  std::atomic<int> inflight{0};
  std::atomic<bool> dead{false};
};

}  // namespace modelreg::agent
