// The server's connected sockets, found by address in /proc/self/fd
// (Debian's cpp-httplib 0.11 does not hand them to handlers), and the
// requests in progress on them.
//
// Used for two things: StreamBody reads a large body straight from its
// connection (api/socket_body.h), and ApiServer::Stop ends idle keep-alive
// connections at once, and the rest after the drain. httplib 0.11 waits in keep-alive for up to its
// timeout (30 s here) without looking at stop(), so without this a SIGTERM
// took 30 s whenever a client held an idle connection. Internal to the api
// library.
#pragma once

#include <httplib.h>

#include <mutex>
#include <set>
#include <string>
#include <utility>

namespace modelreg::api {

// The connected socket `req` arrived on (the one whose local and peer
// addresses are the request's), or -1.
int FindConnectionFd(const httplib::Request& req);

class ConnectionTracker {
 public:
  // From the pre-routing handler and the logger: a request starts / ends.
  void Begin(const httplib::Request& req);
  void End(const httplib::Request& req);

  // After httplib's stop(): shuts the read side of every connection to
  // local port `port` that is not serving a request, which ends its
  // keep-alive wait (a request in progress is answered, then its
  // connection closes since the server is stopping). Returns how many.
  int ShutIdle(int port);
  // Requests in progress.
  size_t active();
  // Shuts both sides of every connection to local port `port`: requests
  // still running after the drain end (uploads and downloads resume).
  int ShutAll(int port);

 private:
  int Shut(int port, bool idle_only, int how);
  std::mutex mu_;
  std::multiset<std::pair<std::string, int>> active_;  // peer ip, port; guarded by mu_
};

}  // namespace modelreg::api
