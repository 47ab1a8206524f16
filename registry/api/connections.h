// The server's connections: which ones serve a request, which sit idle in
// keep-alive, and the worker pool they run on. Debian's cpp-httplib 0.11
// gives every connection a worker thread for its whole life and does not
// hand handlers their socket, so this finds sockets by address in
// /proc/self/fd and tracks requests from the pre-routing handler and the
// logger. Three uses:
// - StreamBody reads a large body straight from its connection
//   (api/socket_body.h);
// - ApiServer::Stop ends idle keep-alive connections at once (httplib waits
//   in keep-alive for up to its timeout, 30 s here, without looking at
//   stop()), and the rest after the drain;
// - WorkerPool: when every worker is taken and a connection waits, idle
//   keep-alive connections are closed so that their workers serve it (else
//   as many idle clients as workers, e.g. agents between polls, locked
//   everyone else out for the keep-alive timeout), and so are connections
//   that send no whole request for 5 s (ones that connect and wait, or
//   trickle their headers).
// Closing an idle keep-alive connection is allowed by HTTP/1.1; clients
// (ours, curl, browsers) open a new one. Internal to the api library.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>

namespace modelreg::api {

// The connected socket `req` arrived on (the one whose local and peer
// addresses are the request's), or -1.
int FindConnectionFd(const httplib::Request& req);

class ConnectionTracker {
 public:
  // The server's port: its connections are the sockets with this local port.
  void set_port(int port) { port_ = port; }
  // From the pre-routing handler and the logger: a request starts / ends.
  void Begin(const httplib::Request& req);
  void End(const httplib::Request& req);

  // Which connections ShutIdle takes.
  enum class Idle {
    kAll,  // every one not serving a request (the server is stopping)
    // Ones that answered a request and wait for the next, and ones that
    // have sent no whole request for kSilentGrace since a scan first saw
    // them (before that, a request may still be on its way).
    kReclaimable,
  };
  static constexpr std::chrono::seconds kSilentGrace{5};
  // Shuts the read side of connections that serve no request, which ends their keep-alive wait; a request that has arrived
  // is still read and answered. At most `max` of them, the longest idle
  // first.
  void ShutIdle(Idle which, size_t max = SIZE_MAX);
  // Requests in progress.
  size_t active();
  // Peers remembered as idle after a request or silent (for tests: bounded
  // by a prune of the closed ones once past a threshold).
  size_t remembered();
  // Shuts both sides of every connection: requests still running after the
  // drain end (uploads and downloads resume).
  void ShutAll();

 private:
  using Peer = std::pair<std::string, int>;  // ip, port
  // `idle`: the read side of those not serving (see Idle); none: both
  // sides of every one.
  void Shut(std::optional<Idle> idle, size_t max);
  // Forgets peers whose connection is gone (their ports may be reused).
  void PruneLocked(const std::set<Peer>& live);
  std::set<Peer> LivePeersLocked();
  int port_ = 0;
  std::mutex mu_;
  size_t prune_above_ = 4096;  // served_ size that triggers a prune; guarded by mu_
  std::multiset<Peer> active_;  // guarded by mu_
  // Idle after a request, since when; guarded by mu_.
  std::map<Peer, std::chrono::steady_clock::time_point> served_;
  // No request yet, seen since; guarded by mu_.
  std::map<Peer, std::chrono::steady_clock::time_point> silent_;
};

// httplib's ThreadPool of `n` workers, plus a thread that calls
// `reclaim(waiting)` while connections wait for a worker with all `n` taken
// (first after 20 ms, then every 250 ms while it lasts).
class WorkerPool : public httplib::TaskQueue {
 public:
  WorkerPool(size_t n, std::function<void(size_t waiting)> reclaim);
  ~WorkerPool() override;
  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

 private:
  bool Saturated() const;  // a connection waits and every worker is taken
  void WakeWatcher();
  void Watch();
  void StopWatcher();
  const size_t n_;
  std::function<void(size_t)> reclaim_;
  std::atomic<size_t> running_{0}, queued_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  httplib::ThreadPool pool_;
  std::thread watcher_;
};

}  // namespace modelreg::api
