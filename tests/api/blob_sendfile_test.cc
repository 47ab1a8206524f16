// Blob responses over plain HTTP go out with sendfile(2) (api/blob_response.h):
// byte-exact whole and in parts across its 8 MiB chunks, HEAD without a body,
// the byte counter of /metrics, and a client that stops reading mid-body.
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "api/api_util.h"
#include "support/ports.h"

using namespace modelreg;
using namespace modelreg::testing;

TEST_CASE("blobs sent with sendfile: whole, Range parts across chunks, HEAD, and the sent-bytes counter") {
  ServerProcess server;
  Http h(server.url(), server.admin_token());
  const size_t mib = 1 << 20;
  const std::string data = RandomBytes(20 * mib + 13, 7);  // three sendfile chunks, the last one short
  const Digest d = UploadWhole(h, data);
  const std::string blob = "/api/v1/blobs/" + d.str();
  const uint64_t sent_before = MetricValue(h, "modelreg_blob_bytes_sent_total");

  auto whole = h.Get(blob);
  REQUIRE(whole);
  CHECK(whole->status == 200);
  CHECK(whole->get_header_value("Content-Length") == std::to_string(data.size()));
  CHECK(whole->body == data);

  struct Case {
    uint64_t start, end;  // inclusive
  };
  uint64_t parts = 0;
  for (const Case& k : {Case{0, 0}, Case{8 * mib - 1, 8 * mib}, Case{3, 16 * mib + 5}, Case{16 * mib, data.size() - 1},
                        Case{data.size() - 1, data.size() - 1}}) {
    const std::string range = "bytes=" + std::to_string(k.start) + "-" + std::to_string(k.end);
    auto r = h.Get(blob, {{"Range", range}});
    REQUIRE(r);
    INFO(range);
    CHECK(r->status == 206);
    CHECK(r->get_header_value("Content-Range") ==
          "bytes " + std::to_string(k.start) + "-" + std::to_string(k.end) + "/" + std::to_string(data.size()));
    CHECK(r->body == data.substr(k.start, k.end - k.start + 1));
    parts += k.end - k.start + 1;
  }

  auto head = h.Head(blob);
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->get_header_value("Content-Length") == std::to_string(data.size()));
  CHECK(head->body.empty());
  // The connection is still in step after HEAD: the next answer is whole.
  auto again = h.Get(blob, {{"Range", "bytes=-10"}});
  REQUIRE(again);
  CHECK(again->body == data.substr(data.size() - 10));

  CHECK(MetricValue(h, "modelreg_blob_bytes_sent_total") - sent_before == data.size() + parts + 10);
}

TEST_CASE("a client that stops reading a blob sent with sendfile does not stop the server") {
  ServerProcess server;
  Http h(server.url(), server.admin_token());
  const std::string data = RandomBytes(48 << 20, 9);  // more than the socket buffers hold
  const Digest d = UploadWhole(h, data);
  const int port = PortOf(server.url());
  for (int i = 0; i < 3; ++i) {
    int fd = ConnectLoopback(port);
    REQUIRE(fd >= 0);
    const std::string req = "GET /api/v1/blobs/" + d.str() + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                            server.admin_token() + "\r\n\r\n";
    REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
    // Read the head and a little of the body, then walk away.
    std::string got;
    char buf[64 << 10];
    while (got.size() < (256u << 10)) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      REQUIRE(n > 0);
      got.append(buf, static_cast<size_t>(n));
    }
    CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
    ::close(fd);
  }
  // Other requests are answered, whole, meanwhile and after.
  auto whole = h.Get("/api/v1/blobs/" + d.str());
  REQUIRE(whole);
  CHECK(whole->body == data);
  auto health = h.Get("/readyz");
  REQUIRE(health);
  CHECK(health->status == 200);
}
