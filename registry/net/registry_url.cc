#include "net/registry_url.h"

#include <algorithm>
#include <optional>

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
  std::string host = authority;
  std::optional<std::string> port;
  if (!authority.empty() && authority[0] == '[') {  // [IPv6]
    const size_t close = authority.find(']');
    if (close == std::string::npos) return Status::InvalidArgument(quoted + ": unclosed '[' in the host");
    host = authority.substr(1, close - 1);
    const std::string after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') return Status::InvalidArgument(quoted + ": bad text after the host");
    if (!after.empty()) port = after.substr(1);
  } else if (const size_t colon = authority.find(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return Status::InvalidArgument(quoted + " has no host");
  if (port) {
    const bool digits = !port->empty() && port->size() <= 5 &&
                        std::all_of(port->begin(), port->end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoi(*port) < 1 || std::stoi(*port) > 65535)
      return Status::InvalidArgument(quoted + ": the port must be a number from 1 to 65535");
  }
  return url;
}

}  // namespace modelreg::net
