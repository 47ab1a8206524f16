#include "api/socket_body.h"

#include "api/connections.h"
#include "net/socket_read.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace modelreg::api {

bool StreamBody(Ctx& c, const std::function<bool(const char*, size_t)>& sink, const LendFn& space,
                const CommitFn& commit) {
  if (!c.reader) return true;
  const std::string cl = c.req.get_header_value("Content-Length");
  const uint64_t length = cl.empty() ? 0 : std::strtoull(cl.c_str(), nullptr, 10);
  const bool direct = c.plain_tcp && !cl.empty() && length >= kMinDirectBody &&
                      c.req.get_header_value("Transfer-Encoding").empty();
  const int fd = direct ? FindConnectionFd(c.req) : -1;
  if (fd < 0) return (*c.reader)(sink);

  // httplib's first read returns what it buffered with the headers (its
  // buffer is then empty) or reads the socket straight into the caller's
  // buffer; either way, after one chunk nothing of the body is left inside
  // httplib. Stop it there and read the rest ourselves.
  uint64_t received = 0;
  bool sink_ok = true;
  (*c.reader)([&](const char* data, size_t n) {
    sink_ok = sink(data, n);
    received += n;
    return false;
  });
  if (!sink_ok) return false;
  if (received >= length) return true;
  return ReadSocketInto(fd, length - received, c.read_timeout_s * 1000, space, commit).ok();
}

}  // namespace modelreg::api
