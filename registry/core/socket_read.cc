#include "core/socket_read.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace modelreg {

namespace {

// Receives exactly `n` bytes: `next()` gives the buffer for each read,
// `take(bytes)` is told what arrived (false stops with Aborted).
template <typename Next, typename Take>
Status Receive(int fd, uint64_t n, int timeout_ms, Next next, Take take) {
  uint64_t received = 0;
  while (received < n) {
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return Status::Unavailable("no data for " + std::to_string(timeout_ms / 1000) + " s");
    if (r < 0) return Status::FromErrno("poll", errno);
    MR_ASSIGN_OR_RETURN(auto buf, next());
    size_t want = static_cast<size_t>(std::min<uint64_t>(n - received, buf.second));
    ssize_t got = recv(fd, buf.first, want, 0);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got == 0) return Status::Unavailable("connection closed after " + std::to_string(received) + " of " +
                                             std::to_string(n) + " bytes");
    if (got < 0) return Status::FromErrno("recv", errno);
    received += static_cast<uint64_t>(got);
    MR_RETURN_IF_ERROR(take(buf.first, static_cast<size_t>(got)));
  }
  return Status::OK();
}

}  // namespace

Status ReadSocketInto(int fd, uint64_t n, int timeout_ms, const std::function<bool(const char*, size_t)>& sink) {
  std::vector<char> buf(static_cast<size_t>(std::min<uint64_t>(n, 1 << 20)));
  return Receive(
      fd, n, timeout_ms, [&]() -> Result<std::pair<char*, size_t>> { return std::make_pair(buf.data(), buf.size()); },
      [&](const char* data, size_t got) {
        return sink(data, got) ? Status::OK() : Status::Aborted("stopped by the receiver");
      });
}

Status ReadSocketInto(int fd, uint64_t n, int timeout_ms, const LendFn& space, const CommitFn& commit) {
  return Receive(fd, n, timeout_ms, space, [&](const char*, size_t got) { return commit(got); });
}

}  // namespace modelreg
