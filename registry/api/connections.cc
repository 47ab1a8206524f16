#include "api/connections.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <functional>

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
  active_.emplace(req.remote_addr, req.remote_port);
}

void ConnectionTracker::End(const httplib::Request& req) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = active_.find({req.remote_addr, req.remote_port});
  if (it != active_.end()) active_.erase(it);  // a request refused before routing never began
}

int ConnectionTracker::ShutIdle(int port) { return Shut(port, true, SHUT_RD); }

int ConnectionTracker::ShutAll(int port) { return Shut(port, false, SHUT_RDWR); }

size_t ConnectionTracker::active() {
  std::lock_guard<std::mutex> l(mu_);
  return active_.size();
}

int ConnectionTracker::Shut(int port, bool idle_only, int how) {
  int shut = 0;
  std::lock_guard<std::mutex> l(mu_);
  FindSocket([&](int fd, const Endpoints& ep) {
    if (ep.local_port == port && (!idle_only || active_.count({ep.peer_ip, ep.peer_port}) == 0) &&
        ::shutdown(fd, how) == 0)
      ++shut;
    return false;  // every one
  });
  return shut;
}

}  // namespace modelreg::api
