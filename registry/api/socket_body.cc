#include "api/socket_body.h"

#include "api/connections.h"
#include "api/metrics.h"
#include "net/socket_read.h"
#include "net/tls_session.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace modelreg::api {

namespace {

// At most this much of a body the handler stopped reading is read and
// dropped so that the connection can carry its next request; past it the
// connection is closed after the answer.
constexpr uint64_t kMaxDrain = 256ull << 20;

// The rest of a body the handler stopped reading part way (an error, e.g.
// a disk that failed): left in the socket, it would be parsed as the next
// requests (each a 400, until it is used up). Read and dropped if it is
// small enough; otherwise the connection is closed after the answer, which
// the client may then see as a reset instead of the error.
void DropRest(Ctx& c, const Connection& conn, uint64_t left) {
  if (left <= kMaxDrain) {
    std::vector<char> scratch(1 << 20);
    Status st = ReadConnectionInto(
        conn, left, c.read_timeout_s * 1000,
        [&]() -> Result<std::pair<char*, size_t>> { return std::make_pair(scratch.data(), scratch.size()); },
        [](size_t) { return Status::OK(); });
    if (st.ok() && !TlsHoldsMore(conn)) return;
  }
  c.res.set_header("Connection", "close");
}

}  // namespace

bool StreamBody(Ctx& c, const std::function<bool(const char*, size_t)>& sink, const LendFn& space,
                const CommitFn& commit) {
  if (!c.reader) return true;
  const std::string cl = c.req.get_header_value("Content-Length");
  const uint64_t length = cl.empty() ? 0 : std::strtoull(cl.c_str(), nullptr, 10);
  const bool direct =
      !cl.empty() && length >= kMinDirectBody && c.req.get_header_value("Transfer-Encoding").empty();
  const Connection conn = net::ConnectionOn(direct ? FindConnectionFd(c.req) : -1, !c.plain_tcp);
  if (conn.fd < 0) {
    bool sink_ok = true;
    const bool whole = (*c.reader)([&](const char* data, size_t n) { return sink_ok = sink(data, n); });
    // httplib cannot go on reading a body it was told to stop: close.
    if (!sink_ok) c.res.set_header("Connection", "close");
    return whole;
  }

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
  if (!sink_ok) {
    DropRest(c, conn, length > received ? length - received : 0);
    return false;
  }
  if (received >= length) return true;
  bool stopped = false;  // by `space` or `commit`, not by the connection
  Status st = ReadConnectionInto(
      conn, length - received, c.read_timeout_s * 1000,
      [&] {
        auto s = space();
        stopped = !s.ok();
        return s;
      },
      [&](size_t n) {
        received += n;  // out of the socket, kept or not
        AddBodyBytesDirect(n);
        Status s = commit(n);
        stopped = !s.ok();
        return s;
      });
  if (stopped) DropRest(c, conn, length > received ? length - received : 0);
  // Bytes past the body inside OpenSSL (a client that pipelines) would not
  // be seen by cpp-httplib: close after the answer instead.
  if (TlsHoldsMore(conn)) c.res.set_header("Connection", "close");
  return st.ok();
}

}  // namespace modelreg::api
