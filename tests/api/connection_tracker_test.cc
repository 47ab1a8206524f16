// ConnectionTracker's memory of idle peers: nothing tells it of a close, so
// it forgets closed connections by scanning the process's sockets once it
// remembers more than a threshold of them; live ones must survive that.
#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/connections.h"

namespace modelreg::api {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

int LocalPort(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  return ntohs(a.sin_port);
}

httplib::Request From(int peer_port, int local_port) {
  httplib::Request req;
  req.remote_addr = "127.0.0.1";
  req.remote_port = peer_port;
  req.local_addr = "127.0.0.1";
  req.local_port = local_port;
  return req;
}

}  // namespace

TEST_CASE("connection tracker: closed peers are forgotten past 4096, live ones kept") {
  // A real listening socket and one live connection to it.
  Fd listener, client, served;
  listener.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(listener.fd, 4) == 0);
  const int port = LocalPort(listener.fd);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  client.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(::connect(client.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  served.fd = ::accept(listener.fd, nullptr, nullptr);
  REQUIRE(served.fd >= 0);
  const int live_peer = LocalPort(client.fd);

  ConnectionTracker tracker;
  tracker.set_port(port);
  auto live = From(live_peer, port);
  tracker.Begin(live);
  tracker.End(live);
  // 4096 more peers that answered a request and are gone (no socket has
  // their port): remembered until the threshold is passed.
  int fake = 0;
  auto served_one_gone = [&] {
    if (++fake == live_peer) ++fake;
    auto r = From(fake, port);
    tracker.Begin(r);
    tracker.End(r);
  };
  for (int i = 0; i < 4095; ++i) served_one_gone();
  CHECK(tracker.remembered() == 4096);
  CHECK(tracker.active() == 0);
  served_one_gone();
  // The scan found one live connection of this port: only it is kept.
  CHECK(tracker.remembered() == 1);
  // The live peer is still known as idle: ShutIdle ends its keep-alive
  // wait (the read side), which its client sees as an orderly close.
  tracker.ShutIdle(ConnectionTracker::Idle::kReclaimable);
  char byte;
  CHECK(::recv(served.fd, &byte, 1, MSG_DONTWAIT) == 0);
}

}  // namespace modelreg::api
