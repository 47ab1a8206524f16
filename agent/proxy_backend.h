// A model server the proxy runs (one process per version, on its own
// loopback port) with its pool of connections; and a rollout as the proxy routes it. Internal to the
// proxy (proxy.cc starts and stops them, proxy_connection.cc forwards to
// them).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/window_accumulator.h"
#include "proxy.h"

namespace modelreg::agent {

// The keep-alive connections to one model server, shared by every client
// connection's thread (docs/agent.md "Connections to the model server"):
// at most `max` at once; a request that finds all of them busy waits for
// one, first come first served. A model server runs on this host, so more
// requests at once than it has cores to run them only interleave there
// (a thread-per-connection server such as Python's ThreadingHTTPServer
// then answers some of them hundreds of milliseconds late); queued here,
// in order, each waits its turn and no longer. Thread-safe.
class ConnectionPool {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ConnectionPool(size_t max) : max_(max < 1 ? 1 : max) {}
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  // A slot for one exchange: *fd a kept-alive connection, or -1 (the
  // caller connects). False if none was free by `deadline`.
  bool Lease(Clock::time_point deadline, int* fd);
  // Ends a lease: `fd` still good for the next request, or -1 (closed).
  void Return(int fd);
  size_t max() const { return max_; }

 private:
  struct Waiter {
    std::condition_variable cv;
    bool granted = false;
    int fd = -1;
  };
  const size_t max_;
  std::mutex mu_;
  size_t leased_ = 0;            // guarded by mu_
  std::vector<int> idle_;        // open, not leased; guarded by mu_
  std::deque<Waiter*> waiters_;  // in arrival order; guarded by mu_
};

struct Proxy::Backend {
  explicit Backend(size_t connections) : pool(connections) {}
  pid_t pid = -1;
  int port = 0;
  CurrentVersion version;
  std::shared_ptr<WindowAccumulator> monitor;  // null: monitoring is off
  std::atomic<int> inflight{0};
  std::atomic<bool> dead{false};
  ConnectionPool pool;
};

// The rollout served: what the release says and the counts of this (id,
// step). Replaced whole (under Proxy::mu_) at every change.
struct Proxy::Route {
  RolloutSpec spec;
  std::shared_ptr<RolloutCounts> counts;
};

// A copy of a request for the shadow candidate, and the primary's answer
// to compare with; holds the candidate in flight (counted by the caller)
// until it goes.
struct Proxy::ShadowJob {
  explicit ShadowJob(std::shared_ptr<Backend> b) : backend(std::move(b)) {}
  ~ShadowJob() { --backend->inflight; }
  ShadowJob(const ShadowJob&) = delete;
  ShadowJob& operator=(const ShadowJob&) = delete;
  std::shared_ptr<Backend> backend;
  std::shared_ptr<Route> route;
  std::string out, body, method;
  int status = 0;
  std::string resp_body;
};

}  // namespace modelreg::agent
