// Proxy mode (--exec 'CMD {dir} {port}' --listen ADDR): the agent runs the
// model server itself and forwards requests to it. A new version starts
// beside the old one on a fresh loopback port; once it is healthy, new
// requests go to it, the old one finishes its in-flight requests (bounded
// drain) and is stopped (SIGTERM, then SIGKILL). Every response carries
// X-Model-Version, X-Model-Digest and X-Request-Id. A model server that dies
// is restarted with backoff; requests meanwhile get a clear 503. The data
// path is a thread per client connection over blocking sockets
// (net/http_wire.h), each with its own keep-alive connection to the model server.
// Thread-safe: the HTTP threads, the agent loop and the monitor share it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "local_store.h"
#include "net/http_wire.h"
#include "options.h"

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
  Status SwapTo(const CurrentVersion& v);
  void Stop();
  // Called with a description whenever a crashed model server was restarted.
  void set_on_event(std::function<void(const std::string&)> f) { on_event_ = std::move(f); }
  // Where each answered request's decision is recorded (may be null).
  void set_spool(class DecisionSpool* spool) { spool_ = spool; }

 private:
  struct Backend;
  Result<std::shared_ptr<Backend>> Launch(const CurrentVersion& v);
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
  class BackendLink;
  std::shared_ptr<Backend> AcquireBackend();  // null: none up; else counted in flight
  ProxyReply Forward(const net::HttpHead& req, const std::string& body, const std::string& rid, bool keep,
                     BackendLink& link);
  void Record(const std::string& rid, const CurrentVersion& v, const std::string& body, const std::string& resp_body);

  // Stop(): how long requests in progress may take before they are cut.
  static constexpr std::chrono::seconds kStopDrain{10};

  Options o_;
  int listen_fd_ = -1;
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
  std::shared_ptr<Backend> current_;  // guarded by mu_
  std::atomic<bool> stopping_{false};
  std::function<void(const std::string&)> on_event_;
  class DecisionSpool* spool_ = nullptr;
};

}  // namespace modelreg::agent
