// Unit tests for net/http_wire: HTTP/1.1 framing on real sockets
// (socketpair): heads, keep-alive and pipelining, chunked bodies, bodies
// that end with the connection, responses without bodies, limits.
#include "net/http_wire.h"

#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <thread>

namespace modelreg::net {
namespace {

struct Pair {
  int a = -1, b = -1;
  Pair() { REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, &a) == 0); }
  ~Pair() {
    if (a >= 0) close(a);
    if (b >= 0) close(b);
  }
  void Send(const std::string& s) { REQUIRE(write(a, s.data(), s.size()) == static_cast<ssize_t>(s.size())); }
  void CloseWriter() {
    close(a);
    a = -1;
  }
};

TEST_CASE("ParseHead: requests, responses and malformed heads", "[net][http]") {
  HttpHead h;
  REQUIRE(
      ParseHead("POST /predict?x=1 HTTP/1.1\r\nHost: a\r\nX-Request-Id:  r-1 \r\ncontent-length: 3", true, &h).ok());
  CHECK(h.method == "POST");
  CHECK(h.target == "/predict?x=1");
  CHECK(h.Get("x-request-id") == "r-1");
  CHECK(h.Get("Content-Length") == "3");
  CHECK(h.KeepAlive());
  REQUIRE(ParseHead("HTTP/1.1 503 Service Unavailable\r\nConnection: close", false, &h).ok());
  CHECK(h.status == 503);
  CHECK(h.reason == "Service Unavailable");
  CHECK(!h.KeepAlive());
  REQUIRE(ParseHead("GET / HTTP/1.0", true, &h).ok());
  CHECK(!h.KeepAlive());
  REQUIRE(ParseHead("GET / HTTP/1.0\r\nConnection: Keep-Alive", true, &h).ok());
  CHECK(h.KeepAlive());
  for (const char* bad : {"GET /", "GET / HTTP/2.0", "GET  HTTP/1.1", "GET / HTTP/1.1\r\nNoColon",
                          "GET / HTTP/1.1\r\n folded: x", "GET / HTTP/1.1\r\nBad Name: x"})
    CHECK(ParseHead(bad, true, &h).code() == StatusCode::kInvalidArgument);
  CHECK(ParseHead("HTTP/1.1 2x0 OK", false, &h).code() == StatusCode::kInvalidArgument);
  CHECK(IsHopByHop("connection"));
  CHECK(IsHopByHop("Transfer-Encoding"));
  CHECK(!IsHopByHop("Content-Type"));
}

TEST_CASE("Wire: pipelined keep-alive requests split across reads", "[net][http]") {
  Pair p;
  Wire w(p.b);
  std::thread t([&] {
    p.Send("POST /a HTTP/1.1\r\nContent-Le");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    p.Send("ngth: 5\r\n\r\nhelloGET /b HTTP/1.1\r\n\r\n");
    p.CloseWriter();
  });
  HttpHead h;
  std::string body;
  bool until_close = true;
  REQUIRE(w.ReadHead(true, &h).ok());
  CHECK(h.target == "/a");
  REQUIRE(w.ReadBody(h, true, "", &body, &until_close).ok());
  CHECK(body == "hello");
  CHECK(!until_close);
  REQUIRE(w.ReadHead(true, &h).ok());
  CHECK(h.method == "GET");
  CHECK(h.target == "/b");
  REQUIRE(w.ReadBody(h, true, "", &body, &until_close).ok());
  CHECK(body.empty());
  CHECK(w.ReadHead(true, &h).code() == StatusCode::kNotFound);  // the peer closed: the normal end
  t.join();
}

TEST_CASE("Wire: chunked bodies are decoded, trailers skipped", "[net][http]") {
  Pair p;
  Wire w(p.b);
  p.Send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n");
  HttpHead h;
  std::string body;
  bool until_close = false;
  REQUIRE(w.ReadHead(false, &h).ok());
  REQUIRE(w.ReadBody(h, false, "GET", &body, &until_close).ok());
  CHECK(body == "hello world");
  CHECK(!w.HasBuffered());

  Pair bad;
  Wire wb(bad.b);
  bad.Send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
  REQUIRE(wb.ReadHead(false, &h).ok());
  CHECK(wb.ReadBody(h, false, "GET", &body, &until_close).code() == StatusCode::kInvalidArgument);
}

TEST_CASE("Wire: a body without a length ends with the connection, and HEAD, 204 and 304 have none", "[net][http]") {
  Pair p;
  Wire w(p.b);
  p.Send("HTTP/1.0 200 OK\r\n\r\nall of it");
  p.CloseWriter();
  HttpHead h;
  std::string body;
  bool until_close = false;
  REQUIRE(w.ReadHead(false, &h).ok());
  REQUIRE(w.ReadBody(h, false, "GET", &body, &until_close).ok());
  CHECK(body == "all of it");
  CHECK(until_close);

  Pair q;
  Wire wq(q.b);
  q.Send("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n");
  REQUIRE(wq.ReadHead(false, &h).ok());
  REQUIRE(wq.ReadBody(h, false, "HEAD", &body, &until_close).ok());
  CHECK(body.empty());
  REQUIRE(wq.ReadHead(false, &h).ok());
  CHECK(h.status == 204);
  REQUIRE(wq.ReadBody(h, false, "GET", &body, &until_close).ok());
  CHECK(body.empty());
}

TEST_CASE("Wire: cut-off bodies, oversized heads and bodies are refused", "[net][http]") {
  Pair p;
  Wire w(p.b);
  p.Send("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
  p.CloseWriter();
  HttpHead h;
  std::string body;
  bool until_close = false;
  REQUIRE(w.ReadHead(true, &h).ok());
  CHECK(w.ReadBody(h, true, "", &body, &until_close).code() == StatusCode::kInvalidArgument);

  Pair big;
  Wire wb(big.b);
  std::thread t([&] {
    std::string huge = "GET / HTTP/1.1\r\nX: " + std::string(kMaxHead + 10, 'x');
    (void)!write(big.a, huge.data(), huge.size());
  });
  CHECK(wb.ReadHead(true, &h).code() == StatusCode::kResourceExhausted);
  t.join();

  Pair len;
  Wire wl(len.b);
  len.Send("POST / HTTP/1.1\r\nContent-Length: " + std::to_string(kMaxBody + 1) + "\r\n\r\n");
  REQUIRE(wl.ReadHead(true, &h).ok());
  CHECK(wl.ReadBody(h, true, "", &body, &until_close).code() == StatusCode::kResourceExhausted);

  Pair mid;
  Wire wm(mid.b);
  mid.Send("GET / HT");
  mid.CloseWriter();
  CHECK(wm.ReadHead(true, &h).code() == StatusCode::kInvalidArgument);  // closed mid-head: not a clean end
}

TEST_CASE("Wire: a request's framing must be unambiguous (RFC 9112 6.1, 6.3)", "[net][http]") {
  auto body_of = [](const std::string& bytes, std::string* body) {
    Pair p;
    p.Send(bytes);
    p.CloseWriter();
    Wire w(p.b);
    HttpHead h;
    Status st = w.ReadHead(true, &h);
    bool until_close = false;
    if (st.ok()) st = w.ReadBody(h, true, "", body, &until_close);
    return st;
  };
  std::string body;
  REQUIRE(body_of("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", &body).ok());
  CHECK(body == "hello");  // the same length twice is one length
  REQUIRE(body_of("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello", &body).ok());
  CHECK(body == "hello");
  REQUIRE(body_of("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\n\r\n", &body).ok());
  CHECK(body == "hello");
  struct Case {
    const char* message;
    const char* why;
  };
  for (const Case& k : {
           Case{"POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nhello", "different values"},
           Case{"POST / HTTP/1.1\r\nContent-Length: 4, 5\r\n\r\nhello", "different values"},
           Case{"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"},
           Case{"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello", "bad Content-Length"},
           Case{"POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                "both Transfer-Encoding and Content-Length"},
           Case{"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                "Transfer-Encoding other than chunked"},
           Case{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nhello\r\n0\r\n\r\n", "bad chunk size"},
           Case{"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n", "bad chunk size"},
           Case{"GET / HTTP/1.1\nHost: x\n\n", "bare LF"},
       }) {
    INFO(k.message);
    Status st = body_of(k.message, &body);
    CHECK(st.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(st.message(), Catch::Contains(k.why));
  }
  // A chunk size near 2^64 is refused by size, not wrapped around.
  Status huge = body_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n", &body);
  CHECK(huge.code() == StatusCode::kResourceExhausted);
}

TEST_CASE("Wire: Write sends head and a large body whole", "[net][http]") {
  Pair p;
  Wire w(p.a);
  const std::string body(3 << 20, 'b');
  std::string got;
  std::thread reader([&] {
    char buf[65536];
    for (ssize_t n; (n = read(p.b, buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
  });
  REQUIRE(w.Write("HEAD\r\n", body).ok());
  p.CloseWriter();
  reader.join();
  CHECK(got.size() == body.size() + 6);
  CHECK(got.substr(0, 6) == "HEAD\r\n");
}

}  // namespace
}  // namespace modelreg::net
