// Fuzz target: HTTP/1.1 messages as the agent's proxy reads them from a
// client (requests) or from the model server (responses): net/http_wire.
// The first input byte picks request or response; the rest is written to
// one end of a socket pair that a Wire reads head and body from.
// Invariants: no crash, no hang (the writer closes, so every read ends);
// a body is never larger than the limit.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "net/http_wire.h"

using namespace modelreg;
using namespace modelreg::net;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 100000) return 0;  // fits the socket buffers: written whole before reading
  const bool is_request = data[0] & 1;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  HttpHead parsed;
  (void)ParseHead(in, is_request, &parsed);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) abort();
  int buf = 1 << 20;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  for (size_t off = 0; off < in.size();) {
    ssize_t n = write(sv[0], in.data() + off, in.size() - off);
    if (n <= 0) abort();
    off += static_cast<size_t>(n);
  }
  shutdown(sv[0], SHUT_WR);
  Wire wire(sv[1]);
  for (int i = 0; i < 4; ++i) {  // a few pipelined messages
    HttpHead head;
    if (!wire.ReadHead(is_request, &head).ok()) break;
    std::string body;
    bool until_close = false;
    Status st = wire.ReadBody(head, is_request, is_request ? "" : "GET", &body, &until_close);
    if (body.size() > kMaxBody) abort();
    if (!st.ok() || until_close) break;
  }
  close(sv[0]);
  close(sv[1]);
  return 0;
}
