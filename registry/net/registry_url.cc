#include "net/registry_url.h"

#include <algorithm>

namespace modelreg::net {

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
    const std::string port = authority.substr(colon + 1);
    const bool digits = !port.empty() && port.size() <= 5 &&
                        std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
    const int number = digits ? std::stoi(port) : 0;
    if (number < 1 || number > 65535)
      return Status::InvalidArgument(quoted + ": the port must be a number from 1 to 65535");
  }
  return url;
}

}  // namespace modelreg::net
