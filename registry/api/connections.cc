#include "api/connections.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <vector>

namespace modelreg::api {
namespace {

// "ip" and port of a socket address, in the form httplib puts in a Request.
bool AddressOf(const sockaddr_storage& a, std::string* ip, int* port) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) {
    auto* v4 = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof buf);
    *port = ntohs(v4->sin_port);
  } else if (a.ss_family == AF_INET6) {
    auto* v6 = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
    *port = ntohs(v6->sin6_port);
  } else {
    return false;
  }
  *ip = buf;
  return true;
}

struct Endpoints {
  std::string local_ip, peer_ip;
  int local_port = 0, peer_port = 0;
};

// The local and peer addresses of a connected IP socket; false for a
// listening socket, a socket of another family, or a closed fd.
bool EndpointsOf(int fd, Endpoints* ep) {
  sockaddr_storage peer{}, local{};
  socklen_t pl = sizeof peer, ll = sizeof local;
  return getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &pl) == 0 &&
         getsockname(fd, reinterpret_cast<sockaddr*>(&local), &ll) == 0 && AddressOf(peer, &ep->peer_ip, &ep->peer_port) &&
         AddressOf(local, &ep->local_ip, &ep->local_port);
}

// Calls `fn` for each connected IP socket of this process until it returns
// true; returns that socket, or -1.
int FindSocket(const std::function<bool(int fd, const Endpoints&)>& fn) {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return -1;
  int found = -1;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (*end || end == e->d_name || fd == dirfd(d)) continue;
    struct stat st;
    Endpoints ep;
    if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode) || !EndpointsOf(static_cast<int>(fd), &ep))
      continue;
    if (fn(static_cast<int>(fd), ep)) {
      found = static_cast<int>(fd);
      break;
    }
  }
  closedir(d);
  return found;
}

}  // namespace

int FindConnectionFd(const httplib::Request& req) {
  // A TCP 4-tuple names one live connection.
  return FindSocket([&](int, const Endpoints& ep) {
    return ep.peer_port == req.remote_port && ep.local_port == req.local_port && ep.peer_ip == req.remote_addr &&
           ep.local_ip == req.local_addr;
  });
}

void ConnectionTracker::Begin(const httplib::Request& req) {
  std::lock_guard<std::mutex> l(mu_);
  const Peer peer{req.remote_addr, req.remote_port};
  active_.insert(peer);
  served_.erase(peer);
  silent_.erase(peer);
}

void ConnectionTracker::End(const httplib::Request& req) {
  std::lock_guard<std::mutex> l(mu_);
  const Peer peer{req.remote_addr, req.remote_port};
  auto it = active_.find(peer);
  if (it != active_.end()) active_.erase(it);  // a request refused before routing never began
  served_[peer] = std::chrono::steady_clock::now();
  // Closed connections leave entries behind (nothing tells of a close):
  // bound them with a scan, rarely.
  if (served_.size() > prune_above_) {
    PruneLocked(LivePeersLocked());
    prune_above_ = std::max<size_t>(4096, 2 * served_.size());
  }
}

std::set<ConnectionTracker::Peer> ConnectionTracker::LivePeersLocked() {
  std::set<Peer> live;
  FindSocket([&](int, const Endpoints& ep) {
    if (ep.local_port == port_) live.emplace(ep.peer_ip, ep.peer_port);
    return false;
  });
  return live;
}

void ConnectionTracker::PruneLocked(const std::set<Peer>& live) {
  for (auto* seen : {&served_, &silent_})
    for (auto it = seen->begin(); it != seen->end();) it = live.count(it->first) ? std::next(it) : seen->erase(it);
}

void ConnectionTracker::ShutIdle(Idle which, size_t max) { Shut(which, max); }

void ConnectionTracker::ShutAll() { Shut(std::nullopt, SIZE_MAX); }

size_t ConnectionTracker::active() {
  std::lock_guard<std::mutex> l(mu_);
  return active_.size();
}

size_t ConnectionTracker::remembered() {
  std::lock_guard<std::mutex> l(mu_);
  return served_.size() + silent_.size();
}

void ConnectionTracker::Shut(std::optional<Idle> idle, size_t max) {
  std::lock_guard<std::mutex> l(mu_);
  const auto now = std::chrono::steady_clock::now();
  std::set<Peer> live;
  struct Candidate {
    std::chrono::steady_clock::time_point idle_since;
    int fd;
    Peer peer;
  };
  std::vector<Candidate> chosen;
  FindSocket([&](int fd, const Endpoints& ep) {
    if (ep.local_port != port_) return false;
    const Peer peer{ep.peer_ip, ep.peer_port};
    live.insert(peer);
    if (idle && active_.count(peer) > 0) return false;
    auto served = served_.find(peer);
    if (served != served_.end()) {
      chosen.push_back({served->second, fd, peer});
      return false;
    }
    // Serving (only when every one is shut), or never served: just accepted, or silent.
    auto silent = silent_.emplace(peer, now).first;
    if (idle != Idle::kReclaimable || now - silent->second >= kSilentGrace) chosen.push_back({silent->second, fd, peer});
    return false;  // every one (all are needed in `live`)
  });
  PruneLocked(live);
  std::sort(chosen.begin(), chosen.end(),
            [](const Candidate& a, const Candidate& b) { return a.idle_since < b.idle_since; });
  size_t shut = 0;
  for (const Candidate& c : chosen) {
    if (shut == max) break;
    // The fd may have been closed and reused since the scan (another
    // thread's connection ended): look again, just before.
    Endpoints ep;
    if (!EndpointsOf(c.fd, &ep) || ep.local_port != port_ || Peer{ep.peer_ip, ep.peer_port} != c.peer) continue;
    if (::shutdown(c.fd, idle ? SHUT_RD : SHUT_RDWR) == 0) {
      ++shut;
      served_.erase(c.peer);  // not chosen again while its worker closes it
      silent_.erase(c.peer);
    }
  }
}

WorkerPool::WorkerPool(size_t n, std::function<void(size_t)> reclaim)
    : n_(n), reclaim_(std::move(reclaim)), pool_(n), watcher_([this] { Watch(); }) {}

WorkerPool::~WorkerPool() { StopWatcher(); }

void WorkerPool::StopWatcher() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

void WorkerPool::enqueue(std::function<void()> fn) {
  ++queued_;
  pool_.enqueue([this, fn = std::move(fn)] {
    --queued_;
    ++running_;
    // The pool fills up here too: a worker that was between two
    // connections when this one arrived has just taken an older one.
    if (Saturated()) WakeWatcher();
    fn();
    --running_;
  });
  if (Saturated()) WakeWatcher();
}

bool WorkerPool::Saturated() const { return queued_ > 0 && running_ >= n_; }

void WorkerPool::WakeWatcher() {
  { std::lock_guard<std::mutex> l(mu_); }  // the watcher is waiting, or will see the counts
  cv_.notify_one();
}

void WorkerPool::shutdown() {
  StopWatcher();
  pool_.shutdown();
}

void WorkerPool::Watch() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    // Woken when the pool fills up; the timeout is a backstop only.
    cv_.wait_for(l, std::chrono::seconds(1), [&] { return stop_ || Saturated(); });
    if (stop_ || !Saturated()) continue;
    // A worker that is just finishing picks the connection up by itself.
    cv_.wait_for(l, std::chrono::milliseconds(20), [&] { return stop_; });
    while (!stop_ && Saturated()) {
      l.unlock();
      reclaim_(queued_);
      l.lock();
      cv_.wait_for(l, std::chrono::milliseconds(250), [&] { return stop_; });
    }
  }
}

}  // namespace modelreg::api
