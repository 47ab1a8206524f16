#include "net/address.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

namespace modelreg::net {
namespace {

// Decimal digits only (no sign, no spaces, no "80a"), at most 65535.
std::optional<int> ParsePort(const std::string& s) {
  if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  const int n = std::stoi(s);
  if (n > 65535) return std::nullopt;
  return n;
}

}  // namespace

Result<std::string> NormalizeRegistryUrl(std::string url) {
  const std::string quoted = "registry URL '" + url + "'";
  const size_t scheme = url.rfind("http://", 0) == 0 ? 7 : url.rfind("https://", 0) == 0 ? 8 : 0;
  if (scheme == 0) return Status::InvalidArgument(quoted + " must start with http:// or https://");
  while (url.size() > scheme && url.back() == '/') url.pop_back();
  const size_t end = std::min(url.find_first_of("/?#", scheme), url.size());
  if (end < url.size())
    return Status::InvalidArgument(quoted + " has a path ('" + url.substr(end) +
                                   "'): give http[s]://host[:port] only; modelreg does not run under a path prefix");
  const std::string authority = url.substr(scheme, end - scheme);
  if (const size_t at = authority.rfind('@'); at != std::string::npos)  // not echoed: it may be a secret
    return Status::InvalidArgument("registry URL '" + url.substr(0, scheme) + "***@" + authority.substr(at + 1) +
                                   "' holds credentials: give the token with --token or MODELREG_TOKEN");
  // host[:port] or [IPv6][:port]
  const size_t host_end = authority.rfind(']');
  const size_t colon = authority.find(':', host_end == std::string::npos ? 0 : host_end);
  std::string host = authority.substr(0, colon);
  if (!host.empty() && host[0] == '[') {
    if (host_end == std::string::npos) return Status::InvalidArgument(quoted + ": unclosed '[' in the host");
    if (host_end + 1 != host.size()) return Status::InvalidArgument(quoted + ": bad text after the host");
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) return Status::InvalidArgument(quoted + " has no host");
  if (colon != std::string::npos) {
    const auto port = ParsePort(authority.substr(colon + 1));
    if (!port || *port == 0) return Status::InvalidArgument(quoted + ": the port must be a number from 1 to 65535");
  }
  return url;
}

Result<ListenAddress> ParseListenAddress(const std::string& text, const std::string& flag) {
  const std::string quoted = flag + " '" + text + "'";
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos)
    return Status::InvalidArgument(quoted + " wants HOST:PORT (e.g. 127.0.0.1:8080; port 0 picks a free one)");
  ListenAddress a;
  a.host = text.substr(0, colon);
  if (!a.host.empty() && (a.host.front() == '[' || a.host.back() == ']')) {
    if (a.host.size() < 2 || a.host.front() != '[' || a.host.back() != ']')
      return Status::InvalidArgument(quoted + ": an IPv6 host goes in brackets, e.g. [::1]:8080");
    a.host = a.host.substr(1, a.host.size() - 2);
  }
  if (a.host.empty())
    return Status::InvalidArgument(quoted +
                                   " has no host (127.0.0.1 for this machine only, 0.0.0.0 for every "
                                   "interface)");
  const auto port = ParsePort(text.substr(colon + 1));
  if (!port)
    return Status::InvalidArgument(quoted + ": the port must be a number from 0 to 65535 (0 picks a free one)");
  a.port = *port;
  return a;
}

void SetListenSocketOptions(int fd) {
  int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

std::string BindFailureReason(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found); rc != 0)
    return std::string("cannot resolve the host: ") + ::gai_strerror(rc);
  std::string reason = "the address was not usable";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      reason = std::strerror(errno);
      continue;
    }
    SetListenSocketOptions(fd);
    const bool bound = ::bind(fd, a->ai_addr, a->ai_addrlen) == 0;
    const int err = errno;
    ::close(fd);
    if (bound) {
      reason = "it could be bound a moment later (a transient failure)";
      break;
    }
    reason = std::strerror(err);
  }
  ::freeaddrinfo(found);
  return reason;
}

}  // namespace modelreg::net
