// net::HttpServer in-process: the last line of defence around a handler,
// and a body read only as far as its framing says.
#include "net/http_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/ports.h"

namespace modelreg::net {
namespace {

// A server on an ephemeral loopback port, run on its own thread.
struct Running {
  HttpServer server;
  std::thread thread;
  int port = 0;
  explicit Running(HttpHandler handler)
      : server(Options(), std::move(handler), [](const ServerRequest&, const HeadRefusal& why, ServerResponse& res) {
          res.set_content("refused: " + why.message, "text/plain");
        }) {
    auto p = server.Bind();
    REQUIRE(p.ok());
    port = *p;
    thread = std::thread([this] { (void)server.Run(); });
  }
  ~Running() {
    server.Stop(1);
    thread.join();
  }
  static HttpServerOptions Options() {
    HttpServerOptions o;
    o.port = 0;
    o.workers = 2;
    return o;
  }
  // Sends `bytes`, half-closes, returns all that comes back.
  std::string Exchange(const std::string& bytes) {
    const int fd = testing::ConnectLoopback(port);
    REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
    ::shutdown(fd, SHUT_WR);
    std::string out;
    char buf[4096];
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      REQUIRE(::poll(&p, 1, 30000) == 1);
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
  }
};

}  // namespace

TEST_CASE("HttpServer: a handler that throws gets a 500, the connection closed, the exception's text kept out") {
  Running r([](ServerRequest&, ServerResponse&, RequestBody&) { throw std::runtime_error("secret internals"); });
  const std::string wire = r.Exchange("GET /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(wire.rfind("HTTP/1.1 500 ", 0) == 0);
  CHECK(wire.find("Connection: close") != std::string::npos);
  CHECK(wire.find("secret") == std::string::npos);
  CHECK(wire.find("HTTP/1.1", 1) == std::string::npos);  // the pipelined second request is not served
  // The server goes on serving.
  CHECK(r.Exchange("GET /z HTTP/1.1\r\nHost: h\r\n\r\n").rfind("HTTP/1.1 500 ", 0) == 0);
}

TEST_CASE("HttpServer: a handler reads exactly the declared body, the next request follows") {
  Running r([](ServerRequest& req, ServerResponse& res, RequestBody& body) {
    std::string got;
    body.Read([&](const char* d, size_t n) {
      got.append(d, n);
      return true;
    });
    res.set_content(req.path + ":" + got, "text/plain");
  });
  const std::string wire = r.Exchange(
      "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcPOST /b HTTP/1.1\r\nHost: h\r\n"
      "Transfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n");
  CHECK(wire.find("/a:abc") != std::string::npos);
  CHECK(wire.find("/b:xy") != std::string::npos);
  CHECK(wire.find("/a:abc") < wire.find("/b:xy"));
}

}  // namespace modelreg::net
