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

// Why a listening socket on host:port cannot be bound right now, as the
// system says it ("Address already in use", "Cannot assign requested
// address", "Permission denied"), found by binding a probe socket with the
// options servers here use (SO_REUSEADDR, never SO_REUSEPORT). For the
// message after a server library failed to bind without saying why.
std::string BindFailureReason(const std::string& host, int port);

// The options every listening socket here gets: SO_REUSEADDR, so a restart
// can bind the port while old connections sit in TIME_WAIT. Not SO_REUSEPORT
// (cpp-httplib's default), with which a second server started on a port in
// use would bind it too and silently take half of the connections.
void SetListenSocketOptions(int fd);

}  // namespace modelreg::net
