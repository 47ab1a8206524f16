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
    if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage peer{}, local{};
    socklen_t pl = sizeof peer, ll = sizeof local;
    Endpoints ep;
    if (getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &pl) != 0 ||
        getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local), &ll) != 0 ||
        !AddressOf(peer, &ep.peer_ip, &ep.peer_port) || !AddressOf(local, &ep.local_ip, &ep.local_port))
      continue;  // not connected (a listening socket), or not IP
    if (fn(static_cast<int>(fd), ep)) {
      found = static_cast<int>(fd);
      break;
    }
  }
  closedir(d);
  return found;
}

// Whether `fd` is still the connection from `peer` to local port `port`.
bool SameConnection(int fd, int port, const std::pair<std::string, int>& peer) {
  sockaddr_storage p{}, l{};
  socklen_t pl = sizeof p, ll = sizeof l;
  Endpoints ep;
  return getpeername(fd, reinterpret_cast<sockaddr*>(&p), &pl) == 0 &&
         getsockname(fd, reinterpret_cast<sockaddr*>(&l), &ll) == 0 && AddressOf(p, &ep.peer_ip, &ep.peer_port) &&
         AddressOf(l, &ep.local_ip, &ep.local_port) && ep.local_port == port && ep.peer_ip == peer.first &&
         ep.peer_port == peer.second;
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
}

int ConnectionTracker::ShutIdle(int port, Idle which, size_t max) { return Shut(port, true, which, SHUT_RD, max); }

int ConnectionTracker::ShutAll(int port) { return Shut(port, false, Idle::kAll, SHUT_RDWR, SIZE_MAX); }

size_t ConnectionTracker::active() {
  std::lock_guard<std::mutex> l(mu_);
  return active_.size();
}

int ConnectionTracker::Shut(int port, bool idle_only, Idle which, int how, size_t max) {
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
    if (ep.local_port != port) return false;
    const Peer peer{ep.peer_ip, ep.peer_port};
    live.insert(peer);
    if (idle_only && active_.count(peer) > 0) return false;
    auto served = served_.find(peer);
    if (served != served_.end()) {
      chosen.push_back({served->second, fd, peer});
      return false;
    }
    if (!idle_only) {
      chosen.push_back({now, fd, peer});
      return false;
    }
    // Not serving and never served: just accepted, or silent.
    auto silent = silent_.emplace(peer, now).first;
    if (which == Idle::kAll || now - silent->second >= kSilentGrace) chosen.push_back({silent->second, fd, peer});
    return false;  // every one (all are needed in `live`)
  });
  // Connections closed since (their peers' ports may be reused).
  for (auto* seen : {&served_, &silent_})
    for (auto it = seen->begin(); it != seen->end();) it = live.count(it->first) ? std::next(it) : seen->erase(it);
  std::sort(chosen.begin(), chosen.end(),
            [](const Candidate& a, const Candidate& b) { return a.idle_since < b.idle_since; });
  size_t shut = 0;
  for (const Candidate& c : chosen) {
    if (shut == max) break;
    // The fd may have been closed and reused since the scan (another
    // thread's connection ended): look again, just before.
    if (!SameConnection(c.fd, port, c.peer)) continue;
    if (::shutdown(c.fd, how) == 0) {
      ++shut;
      served_.erase(c.peer);  // not chosen again while its worker closes it
      silent_.erase(c.peer);
    }
  }
  return static_cast<int>(shut);
}

WorkerPool::WorkerPool(size_t n, std::function<void(size_t)> reclaim)
    : n_(n), reclaim_(std::move(reclaim)), pool_(n), watcher_([this] { Watch(); }) {}

WorkerPool::~WorkerPool() {
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
    fn();
    --running_;
  });
  if (running_ + queued_ > n_) {
    { std::lock_guard<std::mutex> l(mu_); }  // the watcher is waiting, or will see the counts
    cv_.notify_one();
  }
}

void WorkerPool::shutdown() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  pool_.shutdown();
}

void WorkerPool::Watch() {
  auto saturated = [this] { return queued_ > 0 && running_ >= n_; };
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    cv_.wait(l, [&] { return stop_ || saturated(); });
    // A worker that is just finishing picks the connection up by itself.
    cv_.wait_for(l, std::chrono::milliseconds(20), [&] { return stop_; });
    while (!stop_ && saturated()) {
      l.unlock();
      reclaim_(queued_);
      l.lock();
      cv_.wait_for(l, std::chrono::milliseconds(250), [&] { return stop_; });
    }
  }
}

}  // namespace modelreg::api
