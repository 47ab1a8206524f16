#include "support/ports.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <stdexcept>

namespace modelreg::testing {
namespace {

bool CanBind(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

int FixedLoopbackPort(PortBand band) {
  constexpr int kBandSize = 5000;
  const int base = 10000 + kBandSize * static_cast<int>(band);
  // Spread by the pid: processes whose pids differ by one (two suites
  // started together) must not start their search at neighbouring ports.
  const int start = static_cast<int>((static_cast<unsigned>(getpid()) * 613u) % kBandSize);
  for (int i = 0; i < kBandSize; ++i) {
    int port = base + (start + i) % kBandSize;
    if (CanBind(port)) return port;
  }
  throw std::runtime_error("no free loopback port in the test band");
}

int PortOf(const std::string& url) { return std::stoi(url.substr(url.rfind(':') + 1)); }

int ConnectLoopback(int port) {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  return s;
}

}  // namespace modelreg::testing
