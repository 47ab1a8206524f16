#include "net/socket_read.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace modelreg {
namespace {

// The connection is gone (the peer crashed or reset it, the network is
// down): the transfer may be retried, like a close. Other errors are ours.
Status SocketError(const char* what, int err, uint64_t received, uint64_t n) {
  switch (err) {
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE:
    case ETIMEDOUT:
    case ENETDOWN:
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENOTCONN:
      return Status::Unavailable(std::string("connection lost after ") + std::to_string(received) + " of " +
                                 std::to_string(n) + " bytes (" + what + ": " + std::strerror(err) + ")");
    default:
      return Status::FromErrno(what, err);
  }
}

}  // namespace

Status ReadSocketInto(int fd, uint64_t n, int timeout_ms, const LendFn& space, const CommitFn& commit) {
  uint64_t received = 0;
  while (received < n) {
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return Status::Unavailable("no data for " + std::to_string(timeout_ms / 1000) + " s");
    if (r < 0) return SocketError("poll", errno, received, n);
    MR_ASSIGN_OR_RETURN(auto buf, space());
    size_t want = static_cast<size_t>(std::min<uint64_t>(n - received, buf.second));
    ssize_t got = recv(fd, buf.first, want, 0);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got == 0) return Status::Unavailable("connection closed after " + std::to_string(received) + " of " +
                                             std::to_string(n) + " bytes");
    if (got < 0) return SocketError("recv", errno, received, n);
    received += static_cast<uint64_t>(got);
    MR_RETURN_IF_ERROR(commit(static_cast<size_t>(got)));
  }
  return Status::OK();
}

}  // namespace modelreg
