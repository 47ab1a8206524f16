#include "net/socket_read.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
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

Status Closed(uint64_t received, uint64_t n) {
  return Status::Unavailable("connection closed after " + std::to_string(received) + " of " + std::to_string(n) +
                             " bytes");
}

// Waits until `fd` is ready for `events`.
Status Wait(int fd, short events, int timeout_ms, uint64_t received, uint64_t n) {
  for (;;) {
    pollfd p{fd, events, 0};
    int r = poll(&p, 1, timeout_ms);
    if (r > 0) return Status::OK();
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return Status::Unavailable("no data for " + std::to_string(timeout_ms / 1000) + " s");
    return SocketError("poll", errno, received, n);
  }
}

Status ReadPlain(int fd, uint64_t n, int timeout_ms, const LendFn& space, const CommitFn& commit) {
  uint64_t received = 0;
  while (received < n) {
    MR_RETURN_IF_ERROR(Wait(fd, POLLIN, timeout_ms, received, n));
    MR_ASSIGN_OR_RETURN(auto buf, space());
    size_t want = static_cast<size_t>(std::min<uint64_t>(n - received, buf.second));
    ssize_t got = recv(fd, buf.first, want, 0);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got == 0) return Closed(received, n);
    if (got < 0) return SocketError("recv", errno, received, n);
    received += static_cast<uint64_t>(got);
    MR_RETURN_IF_ERROR(commit(static_cast<size_t>(got)));
  }
  return Status::OK();
}

Status ReadTls(SSL* ssl, int fd, uint64_t n, int timeout_ms, const LendFn& space, const CommitFn& commit) {
  uint64_t received = 0;
  while (received < n) {
    MR_ASSIGN_OR_RETURN(auto buf, space());
    const size_t want = static_cast<size_t>(std::min<uint64_t>(n - received, buf.second));
    size_t got = 0;
    ERR_clear_error();
    if (SSL_read_ex(ssl, buf.first, want, &got) == 1) {
      received += got;
      MR_RETURN_IF_ERROR(commit(got));
      continue;
    }
    const int saved_errno = errno;
    switch (SSL_get_error(ssl, 0)) {
      case SSL_ERROR_WANT_READ:
        MR_RETURN_IF_ERROR(Wait(fd, POLLIN, timeout_ms, received, n));
        break;
      case SSL_ERROR_WANT_WRITE:  // a TLS 1.3 key update answered
        MR_RETURN_IF_ERROR(Wait(fd, POLLOUT, timeout_ms, received, n));
        break;
      case SSL_ERROR_ZERO_RETURN:
        return Closed(received, n);
      case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0 && saved_errno != 0) return SocketError("recv", saved_errno, received, n);
        return Closed(received, n);  // EOF without close_notify
      default: {
        char msg[256] = "unknown";
        if (unsigned long e = ERR_get_error()) ERR_error_string_n(e, msg, sizeof msg);
        ERR_clear_error();
        return Status::Unavailable("TLS error after " + std::to_string(received) + " of " + std::to_string(n) +
                                   " bytes (" + msg + ")");
      }
    }
  }
  return Status::OK();
}

}  // namespace

Status ReadConnectionInto(const Connection& conn, uint64_t n, int timeout_ms, const LendFn& space,
                          const CommitFn& commit) {
  if (!conn.tls) return ReadPlain(conn.fd, n, timeout_ms, space, commit);
  const int flags = fcntl(conn.fd, F_GETFL);
  if (flags < 0) return Status::FromErrno("fcntl", errno);
  if (!(flags & O_NONBLOCK) && fcntl(conn.fd, F_SETFL, flags | O_NONBLOCK) != 0)
    return Status::FromErrno("fcntl", errno);
  SSL_set_read_ahead(conn.tls, 1);
  Status st = ReadTls(conn.tls, conn.fd, n, timeout_ms, space, commit);
  SSL_set_read_ahead(conn.tls, 0);
  if (!(flags & O_NONBLOCK)) fcntl(conn.fd, F_SETFL, flags);
  return st;
}

bool TlsHoldsMore(const Connection& conn) { return conn.tls && SSL_has_pending(conn.tls) == 1; }

}  // namespace modelreg
