#include "support/tcp_relay.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace modelreg::testing {
namespace {

bool SendAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

TcpRelay::TcpRelay(int upstream_port, Fault fault, uint64_t reset_after)
    : upstream_port_(upstream_port), fault_(fault), reset_after_(reset_after) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listen_fd_, 64) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("relay: cannot listen on 127.0.0.1");
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { Accept(); });
}

TcpRelay::~TcpRelay() {
  stop_ = true;
  acceptor_.join();
  ::close(listen_fd_);
  std::lock_guard<std::mutex> l(mu_);
  for (auto& t : relays_) t.join();
}

void TcpRelay::Accept() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    std::lock_guard<std::mutex> l(mu_);
    relays_.emplace_back([this, client] { Relay(client); });
  }
}

void TcpRelay::Relay(int client) {
  const int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(upstream_port_));
  if (upstream >= 0 && ::connect(upstream, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    // The first request is what the client sends before the server's
    // first byte; client bytes after the server has answered are the next.
    bool answered = false;
    uint64_t relayed = 0;  // answer bytes sent to the client
    char buf[64 << 10];
    while (!stop_) {
      pollfd p[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
      if (::poll(p, 2, 50) <= 0) continue;
      if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t n = ::recv(client, buf, sizeof buf, 0);
        if (n <= 0) break;
        if (answered && fault_ == Fault::kOneRequest) {
          ++faults_;
          break;
        }
        if (fault_ == Fault::kIgnoreRange) {  // requests are small: a header is not split across reads
          const char* end = buf + n;
          for (char* at = buf; (at = static_cast<char*>(::memmem(at, static_cast<size_t>(end - at), "\r\nRange:", 8)));
               at += 8) {
            std::memcpy(at + 2, "X-Rng", 5);
            ++faults_;
          }
        }
        if (!SendAll(upstream, buf, static_cast<size_t>(n))) break;
      }
      if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t n = ::recv(upstream, buf, sizeof buf, 0);
        if (n <= 0) break;
        answered = true;
        size_t pass = static_cast<size_t>(n);
        const bool cut =
            fault_ == Fault::kResetOnce && !reset_done_ && relayed + pass > reset_after_ && !reset_done_.exchange(true);
        if (cut) pass = static_cast<size_t>(reset_after_ - relayed);
        if (!SendAll(client, buf, pass)) break;
        relayed += pass;
        if (cut) {
          // Closing with SO_LINGER 0 sends RST instead of FIN.
          linger l{1, 0};
          ::setsockopt(client, SOL_SOCKET, SO_LINGER, &l, sizeof l);
          ++faults_;
          break;
        }
      }
    }
  }
  if (upstream >= 0) ::close(upstream);
  ::close(client);
}

}  // namespace modelreg::testing
