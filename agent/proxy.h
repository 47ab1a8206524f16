// Proxy mode (--exec 'CMD {dir} {port}' --listen ADDR): the agent runs the
// model server itself and forwards requests to it. A new version starts
// beside the old one on a fresh loopback port; once it is healthy, new
// requests go to it, the old one finishes its in-flight requests (bounded
// drain) and is stopped (SIGTERM, then SIGKILL). Every response carries
// X-Model-Version, X-Model-Digest and X-Request-Id. A model server that dies
// is restarted with backoff; requests meanwhile get a clear 503. The data
// path is a thread per client connection over blocking sockets
// (net/http_wire.h); requests go to a model server on its pool of keep-alive
// connections (ConnectionPool, proxy_backend.h: at most --model-connections
// at once, the rest wait in arrival order).
//
// Rollouts (issue #26; docs/agent.md "Rollouts"): SetRollout starts the
// candidate's model server beside the baseline's (health-checked before it
// gets traffic) and splits requests by core/traffic_split.h ArmFor(salt,
// key, weight) — key: the rollout's key header if the request has it, else
// the request id. Canary/A-B: the arm answers. Shadow: the baseline answers;
// a copy goes to the candidate off the client's path (a bounded queue and
// worker threads; when full the copy is dropped and counted) and the
// answers are compared. A new step swaps the split at once (no restart);
// per-arm counts (RolloutCounts) restart per (rollout id, step). EndRollout
// and SwapTo go back to one arm; in-flight requests finish first.
// Fallbacks (--fallback, --fallback-response): a request the answering
// model server fails is answered by the other running arm, else by the
// static response, tagged X-Model-Fallback.
// Monitoring (issue #27; docs/agent.md "Monitoring"; agent/monitoring.h):
// a request body is read, checked against the serving version's input
// schema and binned (never changing what is forwarded); under
// --validate reject a request that breaks the schema is answered 400 and
// never reaches the model server; the answer's outputs are binned too.
// Thread-safe: the HTTP threads, the agent loop and the monitor share it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"
#include "local_store.h"
#include "net/http_wire.h"
#include "options.h"
#include "rollout.h"

namespace modelreg::agent {

struct ProxyReply;  // an answer to a client (proxy_connection.cc)

class Proxy {
 public:
  explicit Proxy(Options o);
  ~Proxy();
  // Binds --listen and starts serving (503 until a version is up).
  Status Start();
  // Starts `v` beside the current backend, waits for its health, moves
  // traffic, drains and stops the old one. On failure the old one keeps
  // serving and the error is returned.
  // With a rollout running: `v` the candidate's version makes it the only
  // arm without a restart (finish), `v` the baseline's drops the candidate
  // (abort); either way the rollout ends.
  Status SwapTo(const CurrentVersion& v);
  // Serves `spec` with `candidate` beside the current (baseline) version,
  // which must be spec.baseline_digest. The candidate's model server is
  // started and health-checked unless it already runs (a new step: only the
  // split changes). On failure only the baseline serves and the error is
  // returned.
  Status SetRollout(const CurrentVersion& candidate, const RolloutSpec& spec);
  // Back to the baseline alone (an abort); a no-op without a rollout.
  void EndRollout();
  bool rollout_active();
  // The port --listen is bound to (the kernel's pick for port 0); after Start().
  int port() const { return port_; }
  // The report's "rollout" object for the rollout served now ("" if none).
  std::string RolloutReportJson();
  void Stop();
  // Called with a description whenever a crashed model server was restarted.
  void set_on_event(std::function<void(const std::string&)> f) { on_event_ = std::move(f); }
  // Where each answered request's decision is recorded (may be null).
  void set_spool(class DecisionSpool* spool) { spool_ = spool; }
  // Where request and answer bodies are monitored (may be null: not read);
  // set before Start.
  void set_monitoring(class Monitoring* m) { monitoring_ = m; }

 private:
  struct Backend;
  struct Route;
  struct ShadowJob;
  Result<std::shared_ptr<Backend>> Launch(const CurrentVersion& v);
  // Launch + WaitHealthy; retires it on failure.
  Result<std::shared_ptr<Backend>> StartHealthy(const CurrentVersion& v);
  Status WaitHealthy(Backend& b);
  void Retire(std::shared_ptr<Backend> b);
  void Monitor();
  void AcceptLoop();
  // Serves one client connection until it closes (thread per connection:
  // blocking reads, no poll per read; see net/http_wire.h).
  void ServeConnection(int fd);
  // Its steps (proxy_connection.cc): forwarding one request to the current
  // backend, counted in flight meanwhile, and recording its decision.
  class InflightGuard;
  struct Pick;
  // One request and its answer on a connection of `b`'s pool.
  static bool Exchange(Backend& b, double timeout_s, const std::string& out, const std::string& body,
                       const std::string& method, net::HttpHead* resp, std::string* resp_body);
  // The arm for this request and its backend (counted in flight).
  Pick Acquire(const net::HttpHead& req, const std::string& rid);
  // The backend of `arm`, if it is up (counted in flight).
  std::shared_ptr<Backend> AcquireArm(Arm arm);
  ProxyReply Forward(const net::HttpHead& req, const std::string& body, const std::string& rid, bool keep);
  // Monitoring of one request on the backend that serves it: its body read,
  // checked and counted; a 400 answer when --validate reject refuses it.
  std::optional<ProxyReply> MonitorRequest(const std::string& body, const std::string& rid, bool keep, const Backend& b,
                                           std::string_view arm);
  void MonitorAnswer(const Backend& b, std::string_view arm, int status, const std::string& resp_body);
  void Record(const std::string& rid, const CurrentVersion& v, const std::string& body, const std::string& resp_body,
              const Route* route, Arm arm, const char* fallback);
  void QueueShadow(std::shared_ptr<Backend> candidate, std::shared_ptr<Route> route, const std::string& out,
                   const std::string& body, const std::string& method, int status, const std::string& resp_body);
  void ShadowLoop();
  // Restarts the model server in `slot` if it died (Monitor).
  void RestartIfDead(std::shared_ptr<Backend> Proxy::*slot, double* backoff);

  // Stop(): how long requests in progress may take before they are cut.
  static constexpr std::chrono::seconds kStopDrain{10};

  Options o_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread serve_thread_, monitor_thread_;
  std::mutex conns_mu_;
  std::condition_variable conns_cv_;
  // Open client sockets: serving a request, or waiting for the next one
  // since when; `shut` once closed to make room; guarded by conns_mu_.
  struct Conn {
    bool serving = false;
    bool shut = false;
    std::chrono::steady_clock::time_point idle_since = std::chrono::steady_clock::now();
  };
  std::map<int, Conn> conns_;
  void SetServing(int fd, bool serving);
  std::mutex mu_;
  std::shared_ptr<Backend> current_;    // the baseline; guarded by mu_
  std::shared_ptr<Backend> candidate_;  // a rollout's candidate; guarded by mu_
  std::shared_ptr<Route> route_;        // the rollout served (null: one arm); guarded by mu_
  // Shadow copies waiting for a worker (bounded: kShadowQueue).
  static constexpr size_t kShadowQueue = 256;
  static constexpr int kShadowWorkers = 2;
  std::mutex shadow_mu_;
  std::condition_variable shadow_cv_;
  std::deque<std::unique_ptr<ShadowJob>> shadow_queue_;  // guarded by shadow_mu_
  std::vector<std::thread> shadow_workers_;
  std::atomic<bool> stopping_{false};
  std::function<void(const std::string&)> on_event_;
  class DecisionSpool* spool_ = nullptr;
  class Monitoring* monitoring_ = nullptr;
};

}  // namespace modelreg::agent
