// Pins of cpp-httplib's CLIENT behaviour that our code relies on (the
// list, and where each is used: docs/http.md "cpp-httplib as the client").
// Each test fails loudly, naming the reliance, if an httplib upgrade
// changes it; then the code named in docs/http.md must change with it.
#include <httplib.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <string>

#include "support/scripted_server.h"

namespace modelreg {
namespace {

using testing::Request;
using testing::ScriptedServer;

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4093) % 26);
  return s;
}

std::string Ok(const std::string& body, bool close = true) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         (close ? "Connection: close\r\n" : "") + "\r\n" + body;
}

TEST_CASE("httplib pin: the version is the one docs/http.md describes") {
  INFO("cpp-httplib changed: re-check every reliance listed in docs/http.md, then update this pin");
  CHECK(std::string(CPPHTTPLIB_VERSION).rfind("0.11.", 0) == 0);
}

TEST_CASE("httplib pin: set_socket_options hands over each new connection's socket") {
  // Relied on by client/client_impl.h (Impl::socket_fd) and
  // agent/registry_link.cc (socket_fd_): the socket that direct reads use.
  ScriptedServer server([](const Request&, size_t) { return Ok("hi"); });
  httplib::Client c("127.0.0.1", server.port());
  std::vector<int> fds;
  c.set_socket_options([&](int fd) { fds.push_back(fd); });
  int peer_port = 0;
  for (int i = 0; i < 2; ++i) {
    auto r = c.Get(
        "/x",
        [&](const httplib::Response&) {
          sockaddr_in a{};
          socklen_t len = sizeof a;
          if (!fds.empty() && ::getpeername(fds.back(), reinterpret_cast<sockaddr*>(&a), &len) == 0)
            peer_port = ntohs(a.sin_port);
          return true;
        },
        [](const char*, size_t) { return true; });
    REQUIRE(r);
  }
  INFO("set_socket_options no longer called once per connection with its socket: direct reads break");
  CHECK(fds.size() == 2);
  CHECK(peer_port == server.port());
}

TEST_CASE("httplib pin: after the first content-receiver call nothing of the body is buffered in httplib") {
  // Relied on by net/blob_download.cc: after the first piece of a large
  // body it reads the rest from the socket itself, then stops httplib.
  for (size_t size : {size_t{5000}, size_t{1u << 20}, size_t{(5u << 20) + 1}}) {
    INFO("body of " << size << " bytes");
    const std::string body = Pattern(size);
    ScriptedServer server([&](const Request&, size_t) { return Ok(body); });
    httplib::Client c("127.0.0.1", server.port());
    int fd = -1;
    c.set_socket_options([&](int s) { fd = s; });
    std::string got;
    int calls = 0;
    uint64_t content_length = 0;
    bool response_before_body = false;
    auto r = c.Get(
        "/x",
        [&](const httplib::Response& res) {
          response_before_body = calls == 0;
          content_length = std::stoull(res.get_header_value("Content-Length"));
          return true;
        },
        [&](const char* data, size_t n) {
          ++calls;
          got.append(data, n);
          // The rest straight from the socket, as blob_download does.
          char buf[64 << 10];
          while (got.size() < content_length) {
            const ssize_t k = ::recv(fd, buf, sizeof buf, 0);
            if (k <= 0) break;
            got.append(buf, static_cast<size_t>(k));
          }
          return false;  // stop httplib
        });
    CHECK(response_before_body);
    CHECK(calls == 1);
    INFO("the first piece plus the socket's bytes are no longer the body: httplib buffers more than it hands over");
    CHECK(got == body);
    INFO("a content receiver that returns false no longer ends the request with Error::Canceled");
    CHECK_FALSE(r);
    CHECK(r.error() == httplib::Error::Canceled);
  }
}

TEST_CASE("httplib pin: a response handler that returns false ends the request before the body") {
  // Relied on by net/blob_download.cc (a start-over after a 200 to a
  // Range that fails on this machine's disk stops the answer at its head).
  ScriptedServer server([](const Request&, size_t) { return Ok(Pattern(10000)); });
  httplib::Client c("127.0.0.1", server.port());
  int status = 0;
  bool body_seen = false;
  auto r = c.Get(
      "/x",
      [&](const httplib::Response& res) {
        status = res.status;
        return false;
      },
      [&](const char*, size_t) {
        body_seen = true;
        return true;
      });
  CHECK(status == 200);
  CHECK_FALSE(body_seen);
  CHECK_FALSE(r);
  CHECK(r.error() == httplib::Error::Canceled);
}

TEST_CASE("httplib pin: a kept-alive connection the server closed: the next request is not lost for good") {
  // Relied on by RegistryClient::Impl::Once and RegistryLink::SendFresh:
  // such a request either goes through (httplib saw the close and
  // reconnected) or fails without an answer and a second send succeeds.
  ScriptedServer server([](const Request&, size_t) { return Ok("hi", /*close=*/false); });  // then closes anyway
  httplib::Client c("127.0.0.1", server.port());
  c.set_keep_alive(true);
  REQUIRE(c.Get("/1"));
  auto r = c.Get("/2");
  if (!r) r = c.Get("/2");  // what Once/SendFresh do
  INFO("a request on a connection the server closed fails even when sent again: Once/SendFresh no longer enough");
  REQUIRE(r);
  CHECK(r->body == "hi");
}

TEST_CASE("httplib pin: Error values keep their meaning through an int") {
  // net::TransportFailure takes the error as an int (its header needs no
  // httplib): the round trip must hold, and the names it tests exist.
  for (auto e : {httplib::Error::Connection, httplib::Error::Read, httplib::Error::Canceled,
                 httplib::Error::SSLConnection, httplib::Error::SSLServerVerification}) {
    CHECK(static_cast<httplib::Error>(static_cast<int>(e)) == e);
    CHECK_FALSE(httplib::to_string(e).empty());
  }
}

}  // namespace
}  // namespace modelreg
