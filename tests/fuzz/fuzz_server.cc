// Fuzz target: the registry's own HTTP/1.1 server (net/http_server) as a
// client reaches it. One server runs for the whole process with a handler
// that reads the body and answers its length; each input is written to a
// fresh connection whose write side is then closed, and everything the
// server sends back is read until it closes. The parsers are also called
// directly on the input: the request head checks (net/http_request), the
// chunked decoder (net/chunked_decoder) and the Range header (net/byte_range).
// Invariants: no crash or hang; every byte the server sends is a sequence
// of whole responses ("HTTP/1.1 NNN …" with a Content-Length it keeps); a
// handler never reads more body than the request's framing declares.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>

#include "net/byte_range.h"
#include "net/chunked_decoder.h"
#include "net/http_request.h"
#include "net/http_server.h"
#include "net/http_wire.h"

using namespace modelreg;
using namespace modelreg::net;

namespace {

int Port() {
  static int port = [] {
    HttpServerOptions o;
    o.port = 0;
    o.workers = 2;
    o.io_timeout_s = 2;
    o.head_timeout_s = 2;
    o.max_drain = 1 << 20;
    // Never destroyed: it serves until the process ends.
    static HttpServer& server = *new HttpServer(
        o,
        [](ServerRequest& req, ServerResponse& res, RequestBody& body) {
          uint64_t n = 0;
          const bool whole = body.Read([&](const char*, size_t k) {
            n += k;
            return true;
          });
          if (body.framing().kind == RequestFraming::kLength && n > body.framing().length) abort();
          res.set_content(std::to_string(n) + (whole ? " whole" : " cut") + " " + req.path, "text/plain");
        },
        [](const ServerRequest&, const HeadRefusal& why, ServerResponse& res) {
          res.set_content(why.message, "text/plain");
        });
    auto p = server.Bind();
    if (!p.ok()) abort();
    std::thread([] { (void)server.Run(); }).detach();
    return *p;
  }();
  return port;
}

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // A connect cut by a signal goes on in the background: wait until the
  // socket is writable, then it is connected (or failed, and the send fails).
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (errno != EINTR) abort();
    pollfd p{fd, POLLOUT, 0};
    while (::poll(&p, 1, 10000) < 0 && errno == EINTR) {}
  }
  return fd;
}

// Checks that `wire` is whole responses, one after another. An answer to a
// HEAD has a Content-Length and no body: where the input holds a HEAD, a
// response may end at its head when the next one (or the end) follows.
void CheckResponses(const std::string& wire, bool maybe_head) {
  size_t pos = 0;
  while (pos < wire.size()) {
    if (wire.compare(pos, 9, "HTTP/1.1 ") != 0) abort();
    const size_t end = wire.find("\r\n\r\n", pos);
    if (end == std::string::npos) abort();
    const std::string head = wire.substr(pos, end - pos);
    const int status = std::atoi(head.c_str() + 9);
    size_t len = 0;
    const size_t cl = head.find("\r\nContent-Length: ");
    if (cl != std::string::npos) len = std::strtoul(head.c_str() + cl + 18, nullptr, 10);
    else if (status >= 200 && status != 204 && status != 304) abort();
    if (maybe_head && (end + 4 == wire.size() || wire.compare(end + 4, 9, "HTTP/1.1 ") == 0)) {
      pos = end + 4;
      continue;
    }
    if (end + 4 + len > wire.size()) abort();  // a response cut short
    pos = end + 4 + len;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 200000) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  HttpHead head;
  if (ParseHead(in.substr(0, in.find("\r\n\r\n")), true, &head).ok()) {
    ServerRequest req;
    RequestFraming framing;
    (void)CheckRequestHead(head, &req, &framing);
  }
  ChunkedDecoder chunks;
  size_t used = 0;
  uint64_t decoded = 0;
  (void)chunks.Feed(in, &used, [&](const char*, size_t n) {
    decoded += n;
    return true;
  });
  if (used > in.size() || decoded > in.size()) abort();
  std::vector<std::pair<ssize_t, ssize_t>> ranges;
  if (ParseRange(in.substr(0, 200), &ranges)) (void)ChooseRange(ranges, 1000);

  const int fd = Connect(Port());
  for (size_t off = 0; off < in.size();) {
    ssize_t n = ::send(fd, in.data() + off, in.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server closed: what it said is still read
    off += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string wire;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, 10000);
    if (ready < 0 && errno == EINTR) continue;  // libFuzzer's timer signals
    if (ready <= 0) abort();                    // the server must end the connection
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    wire.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  CheckResponses(wire, in.find("HEAD") != std::string_view::npos);
  return 0;
}
