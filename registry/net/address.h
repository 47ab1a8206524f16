// Addresses as the command line gives them, checked with a message that
// says what to give instead.
//
// A registry's base URL as the CLI (--registry, MODELREG_URL) and the agent
// take it: http[s]://host[:port], nothing more. cpp-httplib would drop a
// path or fail on credentials in the URL with only "Connection" to say why.
//
// Where to listen (`serve --listen`, the agent's `--listen`): HOST:PORT.
#pragma once

#include <string>

#include "core/status.h"

namespace modelreg::net {

// The URL without trailing slashes, or InvalidArgument naming what is wrong.
Result<std::string> NormalizeRegistryUrl(std::string url);

struct ListenAddress {
  std::string host;  // an IPv4 address, a name, or an IPv6 address given as [addr] (brackets dropped)
  int port = 0;      // 0: the system picks a free port
};
// HOST:PORT, or InvalidArgument naming `flag` and what is wrong.
Result<ListenAddress> ParseListenAddress(const std::string& text, const std::string& flag = "--listen");

}  // namespace modelreg::net
