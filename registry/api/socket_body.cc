#include "api/socket_body.h"

#include "net/socket_read.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace modelreg::api {
namespace {

// "ip:port" of a socket address, in the form httplib puts in a Request.
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

bool Matches(int fd, const httplib::Request& req) {
  sockaddr_storage peer{}, local{};
  socklen_t pl = sizeof peer, ll = sizeof local;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &pl) != 0) return false;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &ll) != 0) return false;
  std::string pip, lip;
  int pport = 0, lport = 0;
  return AddressOf(peer, &pip, &pport) && AddressOf(local, &lip, &lport) && pport == req.remote_port &&
         lport == req.local_port && pip == req.remote_addr && lip == req.local_addr;
}

// The connected socket this request arrived on: the one whose peer and local
// addresses are the request's (a TCP 4-tuple names one live connection).
int FindConnectionFd(const httplib::Request& req) {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return -1;
  int found = -1;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long fd = std::strtol(e->d_name, &end, 10);
    if (*end || end == e->d_name || fd == dirfd(d)) continue;
    struct stat st;
    if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    if (Matches(static_cast<int>(fd), req)) {
      found = static_cast<int>(fd);
      break;
    }
  }
  closedir(d);
  return found;
}

}  // namespace

bool StreamBody(Ctx& c, const std::function<bool(const char*, size_t)>& sink, const LendFn& space,
                const CommitFn& commit) {
  if (!c.reader) return true;
  const std::string cl = c.req.get_header_value("Content-Length");
  const uint64_t length = cl.empty() ? 0 : std::strtoull(cl.c_str(), nullptr, 10);
  const bool direct = c.plain_tcp && !cl.empty() && length >= kMinDirectBody &&
                      c.req.get_header_value("Transfer-Encoding").empty();
  const int fd = direct ? FindConnectionFd(c.req) : -1;
  if (fd < 0) return (*c.reader)(sink);

  // httplib's first read returns what it buffered with the headers (its
  // buffer is then empty) or reads the socket straight into the caller's
  // buffer; either way, after one chunk nothing of the body is left inside
  // httplib. Stop it there and read the rest ourselves.
  uint64_t received = 0;
  bool sink_ok = true;
  (*c.reader)([&](const char* data, size_t n) {
    sink_ok = sink(data, n);
    received += n;
    return false;
  });
  if (!sink_ok) return false;
  if (received >= length) return true;
  return ReadSocketInto(fd, length - received, c.read_timeout_s * 1000, space, commit).ok();
}

}  // namespace modelreg::api
