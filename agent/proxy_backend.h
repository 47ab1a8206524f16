// A model server the proxy runs: one process per version, on its own
// loopback port; and a rollout as the proxy routes it. Internal to the
// proxy (proxy.cc starts and stops them, proxy_connection.cc forwards to
// them).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>

#include "core/window_accumulator.h"
#include "proxy.h"

namespace modelreg::agent {

struct Proxy::Backend {
  pid_t pid = -1;
  int port = 0;
  CurrentVersion version;
  std::shared_ptr<WindowAccumulator> monitor;  // null: monitoring is off
  std::atomic<int> inflight{0};
  std::atomic<bool> dead{false};
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
