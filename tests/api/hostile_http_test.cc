// The server's HTTP layer against a hostile client (issue #21, items 1-3
// and 7): bytes that are not UTF-8, answers before the body was read,
// framing that lies, pipelining, slow clients. Raw sockets, the real
// server: every case checks exactly what went back on the wire.
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "api/api_util.h"
#include "support/ports.h"

namespace modelreg::testing {
namespace {

using Clock = std::chrono::steady_clock;

struct Raw {
  int fd;
  explicit Raw(int port) : fd(ConnectLoopback(port)) {}
  ~Raw() {
    if (fd >= 0) ::close(fd);
  }
  void Send(const std::string& bytes) {
    for (size_t off = 0; off < bytes.size();) {
      ssize_t n = ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;  // the server may close early: what it answered is checked
      off += static_cast<size_t>(n);
    }
  }
  // Everything the server sends until it closes, or nothing comes for `quiet_ms`.
  std::string ReadAll(int quiet_ms = 1500) {
    std::string out;
    char buf[65536];
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, quiet_ms) <= 0) return out;
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  // True if the server closed the connection (within `ms`).
  bool ClosedWithin(int ms) {
    char b;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) return false;
    return ::recv(fd, &b, 1, MSG_PEEK) <= 0;
  }
};

// The status codes of the responses in `wire`, in order (bodies skipped by
// their Content-Length).
std::vector<int> Statuses(const std::string& wire) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos < wire.size()) {
    if (wire.compare(pos, 9, "HTTP/1.1 ") != 0) {
      out.push_back(-1);  // garbage where a response should start
      break;
    }
    out.push_back(std::stoi(wire.substr(pos + 9, 3)));
    const size_t end = wire.find("\r\n\r\n", pos);
    if (end == std::string::npos) break;
    const std::string head = wire.substr(pos, end - pos);
    size_t len = 0;
    const size_t cl = head.find("Content-Length: ");
    if (cl != std::string::npos) len = std::stoul(head.substr(cl + 16));
    pos = end + 4 + len;
  }
  return out;
}

std::string BodyOf(const std::string& wire) {
  const size_t end = wire.find("\r\n\r\n");
  return end == std::string::npos ? "" : wire.substr(end + 4);
}

std::string Get(const std::string& path, const std::string& token = "", const std::string& extra = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: t\r\n" + (token.empty() ? "" : "Authorization: Bearer " + token + "\r\n") +
         extra + "\r\n";
}

bool Healthy(const ServerProcess& s) {
  Http h(s.url(), "");
  auto r = h.Get("/healthz");
  return r && r->status == 200;
}

}  // namespace

TEST_CASE("bytes that are not UTF-8 in a path, a query or a header get a clear error, never a crash") {
  ServerProcess server;
  const int port = PortOf(server.url());
  const std::string tok = server.admin_token();
  struct Case {
    std::string request;
    int status;
  };
  const std::vector<Case> cases = {
      {Get("/nope%FF"), 404},  // no token needed: the 404 echoes the path
      {Get("/api/v1/models/a%FFb", tok), 404},
      {Get("/api/v1/models/a%FFb/versions/%FF", tok), 499},
      {Get("/api/v1/decisions/%FF", tok), 404},
      {Get("/api/v1/audit/events?since=%FF", tok), 499},  // any 4xx
      {Get("/api/v1/models/m/live?at=%FF", tok), 499},
      {"DELETE /api/v1/tokens/%FF HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + tok + "\r\n\r\n", 404},
      {"PATCH /api/v1/blobs/uploads/%FF HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + tok +
           "\r\nContent-Length: 1\r\n\r\nx",
       404},
      {Get("/raw\xff"), 400},  // a raw byte outside ASCII in the request line
  };
  for (const auto& k : cases) {
    INFO(k.request.substr(0, 60));
    Raw c(port);
    c.Send(k.request);
    const std::string wire = c.ReadAll();
    REQUIRE(!Statuses(wire).empty());
    if (k.status == 400 || k.status == 404) CHECK(Statuses(wire).front() == k.status);
    else CHECK((Statuses(wire).front() >= 400 && Statuses(wire).front() < 500));
    CHECK(wire.find("EXCEPTION_WHAT") == std::string::npos);
    // The error body is valid JSON (the bad byte replaced, not echoed raw).
    auto j = nlohmann::json::parse(BodyOf(wire), nullptr, false);
    CHECK_FALSE(j.is_discarded());
    CHECK(j.contains("error"));
    REQUIRE(Healthy(server));
  }
  // A Content-Range with a byte that is not UTF-8.
  Http h(server.url(), tok);
  auto start = h.Post("/api/v1/blobs/uploads", "");
  REQUIRE(start);
  const std::string loc = start->get_header_value("Location");
  Raw c(port);
  c.Send("PATCH " + loc + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + tok +
         "\r\nContent-Range: 0-\xff\r\nContent-Length: 1\r\n\r\nx");
  const std::string wire = c.ReadAll();
  REQUIRE(!Statuses(wire).empty());
  CHECK(Statuses(wire).front() == 416);
  CHECK_FALSE(nlohmann::json::parse(BodyOf(wire), nullptr, false).is_discarded());
  CHECK(Healthy(server));
}

TEST_CASE("an answer sent before the body was read never lets the body be parsed as requests") {
  ServerProcess server;
  const int port = PortOf(server.url());
  const std::string trainer = server.CreateToken("trainer-1", "trainer");
  SECTION("a 401 whose body smuggles a request with another token") {
    const std::string inner = Get("/api/v1/whoami", trainer);
    Raw c(port);
    c.Send("POST /api/v1/blobs/missing HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(inner.size()) + "\r\n\r\n" + inner);
    const std::string wire = c.ReadAll();
    CHECK(Statuses(wire) == std::vector<int>{401});
    CHECK(wire.find("trainer-1") == std::string::npos);
    // The connection is still in step: a real request after it is answered as itself.
    c.Send(Get("/healthz"));
    const std::string next = c.ReadAll();
    if (!next.empty()) CHECK(Statuses(next) == std::vector<int>{200});
  }
  SECTION("a 4 MiB PATCH refused with 416 gets one answer, and the next request its own") {
    Http h(server.url(), trainer);
    auto start = h.Post("/api/v1/blobs/uploads", "");
    REQUIRE(start);
    const std::string loc = start->get_header_value("Location");
    std::string body(4 << 20, 'G');
    // Request-like lines inside the body: parsed as requests they would answer 400s.
    for (size_t i = 0; i + 40 < body.size(); i += 4096) body.replace(i, 18, "GET / HTTP/1.1\r\n\r\n");
    Raw c(port);
    c.Send("PATCH " + loc + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + trainer + "\r\nContent-Range: 100-" +
           std::to_string(100 + body.size() - 1) + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           body + Get("/healthz"));
    const std::string wire = c.ReadAll();
    CHECK(Statuses(wire) == std::vector<int>{416, 200});
  }
  SECTION("a body over the JSON limit: one 413, then the next request") {
    Raw c(port);
    const std::string big(6 << 20, ' ');
    c.Send("POST /api/v1/blobs/missing HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + trainer +
           "\r\nContent-Length: " + std::to_string(big.size()) + "\r\n\r\n" + big + Get("/healthz"));
    const std::string wire = c.ReadAll();
    CHECK(Statuses(wire) == std::vector<int>{413, 200});
  }
  CHECK(Healthy(server));
}

TEST_CASE("framing that lies or is ambiguous is refused and the connection closed (RFC 9112)") {
  ServerProcess server;
  const int port = PortOf(server.url());
  const std::string tok = server.admin_token();
  const std::string post = "POST /api/v1/blobs/missing HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + tok + "\r\n";
  struct Case {
    const char* what;
    std::string request;
    int status;
  };
  std::string many_headers = "GET /healthz HTTP/1.1\r\nHost: t\r\n";
  for (int i = 0; i < 200; ++i) many_headers += "X-H" + std::to_string(i) + ": v\r\n";
  many_headers += "\r\n";
  const std::vector<Case> cases = {
      {"Content-Length with Transfer-Encoding",
       post + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"two different Content-Lengths", post + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}x", 400},
      {"Content-Length -1", post + "Content-Length: -1\r\n\r\n{}", 400},
      {"Content-Length past 2^64", post + "Content-Length: 99999999999999999999\r\n\r\n{}", 400},
      {"an obs-fold header line", "GET /healthz HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n  folded\r\n\r\n", 400},
      {"200 header fields", many_headers, 431},
      {"a 100 KiB header", "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(100 << 10, 'a') + "\r\n\r\n",
       431},
      {"a POST with no length", post + "\r\n{}", 411},
      {"a chunk size of -3", post + "Transfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n", 400},
      {"a chunk without its CRLF", post + "Transfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n", 400},
      {"a transfer coding other than chunked", post + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
      {"no Host in HTTP/1.1", "GET /healthz HTTP/1.1\r\n\r\n", 400},
      {"HTTP/2.0 in the request line", "GET /healthz HTTP/2.0\r\nHost: t\r\n\r\n", 505},
      {"a control character in a header", "GET /healthz HTTP/1.1\r\nHost: t\r\nX-A: a\x01z\r\n\r\n", 400},
      {"bare LF line ends", "GET /healthz HTTP/1.1\nHost: t\n\n", 400},
  };
  for (const auto& k : cases) {
    INFO(k.what);
    Raw c(port);
    c.Send(k.request + Get("/healthz"));  // a request after it must not be answered
    const std::string wire = c.ReadAll();
    CHECK(Statuses(wire) == std::vector<int>{k.status});
    CHECK(wire.find("Connection: close") != std::string::npos);
    CHECK_FALSE(nlohmann::json::parse(BodyOf(wire), nullptr, false).is_discarded());
  }
  SECTION("Transfer-Encoding: Chunked in capitals is chunked") {
    Raw c(port);
    const std::string json = R"({"digests":["sha256:)" + std::string(64, 'a') + R"("]})";
    char size[16];
    snprintf(size, sizeof size, "%zx", json.size());
    c.Send(post + "Transfer-Encoding: Chunked\r\nContent-Type: application/json\r\n\r\n" + size + "\r\n" + json +
           "\r\n0\r\n\r\n" + Get("/healthz"));
    const std::string wire = c.ReadAll();
    CHECK(Statuses(wire) == std::vector<int>{200, 200});
    CHECK(wire.find("\"missing\":[\"sha256:aaaa") != std::string::npos);
  }
  SECTION("a Content-Range past its own total is 416") {
    Http h(server.url(), tok);
    auto start = h.Post("/api/v1/blobs/uploads", "");
    REQUIRE(start);
    auto r = h.Patch(start->get_header_value("Location"), "0123456789", {{"Content-Range", "bytes 10-19/5"}});
    REQUIRE(r);
    CHECK(r->status == 416);
  }
  CHECK(Healthy(server));
}

TEST_CASE("pipelined requests in one write are answered in order, at once") {
  ServerProcess server;
  Raw c(PortOf(server.url()));
  const auto t0 = Clock::now();
  c.Send(Get("/healthz") + Get("/nope") + Get("/healthz"));
  std::string wire;
  while (Statuses(wire).size() < 3 && Clock::now() - t0 < std::chrono::seconds(20)) {
    const std::string more = c.ReadAll(200);
    wire += more;
  }
  CHECK(Statuses(wire) == std::vector<int>{200, 404, 200});
  CHECK(Clock::now() - t0 < std::chrono::seconds(10));  // before: one answer, then a 30 s stall
}

TEST_CASE("1000 slow clients holding half a request line do not delay a healthy request") {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  REQUIRE(rl.rlim_cur >= 1200);
  ServerProcess server("", {"--threads", "8"});
  const int port = PortOf(server.url());
  std::vector<int> slow;
  const auto t0 = Clock::now();
  for (int i = 0; i < 1000; ++i) {
    int fd = ConnectLoopback(port);
    ::send(fd, "GET /heal", 9, MSG_NOSIGNAL);
    slow.push_back(fd);
  }
  const double connect_s = std::chrono::duration<double>(Clock::now() - t0).count();
  CHECK(connect_s < 5);  // before: SYN retries of 1 s with a tiny backlog
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::vector<double> ms;
  for (int i = 0; i < 10; ++i) {
    Raw c(port);
    const auto s = Clock::now();
    c.Send(Get("/healthz", "", "Connection: close\r\n"));
    const std::string wire = c.ReadAll(5000);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    CHECK(Statuses(wire) == std::vector<int>{200});
  }
  std::sort(ms.begin(), ms.end());
  INFO("healthz with 1000 slow connections held: median " << ms[5] << " ms, max " << ms.back() << " ms");
  CHECK(ms[5] < 100);       // the issue's bound; measured ~1 ms here when idle
  CHECK(ms.back() < 2000);  // before: 4.4 s
  // The slow ones are answered 408 and closed when their head time is up.
  Raw probe(port);
  probe.Send("GET /heal");
  const std::string late = probe.ReadAll(20000);
  CHECK(Statuses(late) == std::vector<int>{408});
  for (int fd : slow) ::close(fd);
}

}  // namespace modelreg::testing

namespace modelreg::testing {

TEST_CASE("a TLS handshake or binary bytes on the plain-HTTP port are refused at once, not after a timeout") {
  ServerProcess server;
  const int port = PortOf(server.url());
  // The start of a TLS 1.2 ClientHello: a client told to try https first
  // (skopeo --tls-verify=false) learns now that this port is plain HTTP.
  const std::string hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  for (const std::string& bytes : {hello, std::string("\x01\x02\x03 junk", 9)}) {
    Raw c(port);
    c.Send(bytes);
    // Nothing more is sent: without the check the server would wait for the
    // rest of a head until its head timeout and answer 408.
    const std::string wire = c.ReadAll(30000);
    REQUIRE(Statuses(wire) == std::vector<int>{400});
    CHECK(BodyOf(wire).find(bytes == hello ? "not TLS" : "not an HTTP request") != std::string::npos);
    CHECK(c.ClosedWithin(5000));
  }
  // The same under /v2/ would be an OCI client's: still one clear refusal.
  CHECK(Healthy(server));
}

}  // namespace modelreg::testing
