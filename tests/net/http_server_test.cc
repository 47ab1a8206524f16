// net::HttpServer in-process: the last line of defence around a handler,
// and a body read only as far as its framing says.
#include "net/http_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/ports.h"
#include "support/wait.h"

namespace modelreg::net {
namespace {

// A server on an ephemeral loopback port, run on its own thread.
struct Running {
  HttpServer server;
  std::thread thread;
  int port = 0;
  explicit Running(HttpHandler handler, HttpServerOptions options = Options())
      : server(options, std::move(handler), [](const ServerRequest&, const HeadRefusal& why, ServerResponse& res) {
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

using testing::WaitFor;

// Reads from `fd` until `count` occurrences of `marker` arrived, or the
// peer closed; returns what came.
std::string ReadUntil(int fd, const std::string& marker, int count = 1) {
  std::string out;
  char buf[4096];
  auto seen = [&] {
    int n = 0;
    for (size_t at = out.find(marker); at != std::string::npos; at = out.find(marker, at + 1)) ++n;
    return n;
  };
  while (seen() < count) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 30000) != 1) break;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

void SendAll(int fd, const std::string& bytes) {
  REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
}

// A handler that parks GET /wait (for `wait_ms`) and answers every other
// path at once; it records the parks and what it saw.
struct Parker {
  std::mutex mu;
  std::vector<std::shared_ptr<ParkedRequest>> parks;
  std::vector<std::string> seen;  // paths, in the order the handler saw them
  std::atomic<int> answered{0}, gone{0};
  int wait_ms = 60000;

  HttpHandler Handler() {
    return [this](ServerRequest& req, ServerResponse& res, RequestBody& body) {
      {
        std::lock_guard<std::mutex> l(mu);
        seen.push_back(req.path);
      }
      if (req.path != "/wait") {
        res.set_content("now " + req.path, "text/plain");
        return;
      }
      res.set_header("X-Before", "kept");
      auto p = body.Park(
          std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms),
          [this](const ServerRequest& r, ServerResponse& out) {
            ++answered;
            out.set_content("late " + r.path, "text/plain");
          },
          [this] { ++gone; });
      REQUIRE(p);
      std::lock_guard<std::mutex> l(mu);
      parks.push_back(p);
    };
  }
  size_t Seen() {
    std::lock_guard<std::mutex> l(mu);
    return seen.size();
  }
  std::shared_ptr<ParkedRequest> Park(size_t i) {
    std::lock_guard<std::mutex> l(mu);
    return parks.at(i);
  }
};

}  // namespace

TEST_CASE("HttpServer: a parked request is answered when woken, with the handler's headers, and holds no worker") {
  Parker parker;
  Running r(parker.Handler());
  // More parked requests than workers (2): none holds one.
  std::vector<int> fds;
  for (int i = 0; i < 20; ++i) {
    fds.push_back(testing::ConnectLoopback(r.port));
    SendAll(fds.back(), "GET /wait HTTP/1.1\r\nHost: h\r\n\r\n");
  }
  REQUIRE(WaitFor([&] { return r.server.parked() == 20; }));
  // Other requests are served meanwhile.
  const int other = testing::ConnectLoopback(r.port);
  SendAll(other, "GET /other HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(ReadUntil(other, "now /other").find("HTTP/1.1 200 ") == 0);
  ::close(other);
  CHECK(parker.answered == 0);
  for (int i = 0; i < 20; ++i) CHECK(parker.Park(static_cast<size_t>(i))->Wake());
  CHECK_FALSE(parker.Park(0)->Wake());  // once only
  for (int fd : fds) {
    const std::string wire = ReadUntil(fd, "late /wait");
    CHECK(wire.rfind("HTTP/1.1 200 ", 0) == 0);
    CHECK(wire.find("X-Before: kept") != std::string::npos);
    CHECK(wire.find("Connection: close") == std::string::npos);
    // The connection is kept: a next request on it is served.
    SendAll(fd, "GET /again HTTP/1.1\r\nHost: h\r\n\r\n");
    CHECK(ReadUntil(fd, "now /again").find("now /again") != std::string::npos);
    ::close(fd);
  }
  CHECK(parker.answered == 20);
  CHECK(parker.gone == 0);
  CHECK(r.server.parked() == 0);
}

TEST_CASE("HttpServer: a parked request is answered at its deadline") {
  Parker parker;
  parker.wait_ms = 200;
  Running r(parker.Handler());
  const int fd = testing::ConnectLoopback(r.port);
  SendAll(fd, "GET /wait HTTP/1.1\r\nHost: h\r\n\r\n");
  const auto start = std::chrono::steady_clock::now();
  CHECK(ReadUntil(fd, "late /wait").find("late /wait") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(150));
  // Nothing more comes unasked (the park's deadline is no head timeout: a
  // 408 would follow at once), and the next request on the connection is
  // served.
  pollfd p{fd, POLLIN, 0};
  CHECK(::poll(&p, 1, 200) == 0);
  SendAll(fd, "GET /again HTTP/1.1\r\nHost: h\r\n\r\n");
  const std::string next = ReadUntil(fd, "now /again");
  CHECK(next.rfind("HTTP/1.1 200 ", 0) == 0);
  CHECK(next.find("408") == std::string::npos);
  ::close(fd);
  CHECK(parker.answered == 1);
  CHECK(WaitFor([&] { return r.server.parked() == 0; }));
}

TEST_CASE("HttpServer: a client that closes while parked drops its park: gone is called, nothing stays") {
  Parker parker;
  Running r(parker.Handler());
  for (int i = 0; i < 5; ++i) {
    const int fd = testing::ConnectLoopback(r.port);
    SendAll(fd, "GET /wait HTTP/1.1\r\nHost: h\r\n\r\n");
    REQUIRE(WaitFor([&] { return r.server.parked() == 1; }));
    if (i % 2) ::shutdown(fd, SHUT_WR);  // a half-close counts as gone too
    ::close(fd);
    REQUIRE(WaitFor([&] { return r.server.parked() == 0 && r.server.connections() == 0; }));
  }
  CHECK(parker.gone == 5);
  CHECK(parker.answered == 0);
  CHECK_FALSE(parker.Park(0)->Wake());
}

TEST_CASE("HttpServer: a request pipelined behind a parked one is neither read early nor answered first") {
  Parker parker;
  Running r(parker.Handler());
  const int fd = testing::ConnectLoopback(r.port);
  SendAll(fd, "GET /wait HTTP/1.1\r\nHost: h\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n");
  REQUIRE(WaitFor([&] { return r.server.parked() == 1; }));
  // More bytes of the next request arrive while it is parked: not read either.
  SendAll(fd, "GET /third HTTP/1.1\r\nHost: h\r\n\r\n");
  pollfd p{fd, POLLIN, 0};
  CHECK(::poll(&p, 1, 100) == 0);  // nothing answered yet
  CHECK(parker.Seen() == 1);       // the handler saw /wait only
  parker.Park(0)->Wake();
  const std::string wire = ReadUntil(fd, "HTTP/1.1 200", 3);
  ::close(fd);
  const size_t a = wire.find("late /wait"), b = wire.find("now /next"), c = wire.find("now /third");
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  REQUIRE(c != std::string::npos);
  CHECK(a < b);
  CHECK(b < c);
}

TEST_CASE("HttpServer: stopping answers parked requests (Connection: close) and Run returns") {
  Parker parker;
  auto r = std::make_unique<Running>(parker.Handler());
  std::vector<int> fds;
  for (int i = 0; i < 3; ++i) {
    fds.push_back(testing::ConnectLoopback(r->port));
    SendAll(fds.back(), "GET /wait HTTP/1.1\r\nHost: h\r\n\r\n");
  }
  REQUIRE(WaitFor([&] { return r->server.parked() == 3; }));
  CHECK(r->server.Stop(30) == 0);
  r->thread.join();
  for (int fd : fds) {
    const std::string wire = ReadUntil(fd, "late /wait");
    CHECK(wire.rfind("HTTP/1.1 200 ", 0) == 0);
    CHECK(wire.find("Connection: close") != std::string::npos);
    ::close(fd);
  }
  CHECK(parker.answered == 3);
  CHECK(r->server.parked() == 0);
  r->thread = std::thread([] {});  // ~Running joins it
}

TEST_CASE("HttpServer: past max_parked, Park refuses and the handler answers at once") {
  HttpServerOptions o = Running::Options();
  o.max_parked = 1;
  std::atomic<int> refused{0};
  Running r(
      [&](ServerRequest&, ServerResponse& res, RequestBody& body) {
        auto p = body.Park(
            std::chrono::steady_clock::now() + std::chrono::seconds(60),
            [](const ServerRequest&, ServerResponse& out) { out.set_content("late", "text/plain"); }, [] {});
        if (!p) {
          ++refused;
          res.set_content("at once", "text/plain");
        }
      },
      o);
  const int first = testing::ConnectLoopback(r.port);
  SendAll(first, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
  REQUIRE(WaitFor([&] { return r.server.parked() == 1; }));
  const int second = testing::ConnectLoopback(r.port);
  SendAll(second, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(ReadUntil(second, "at once").find("at once") != std::string::npos);
  CHECK(refused == 1);
  ::close(second);
  ::close(first);
  CHECK(WaitFor([&] { return r.server.parked() == 0; }));
}

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
