// IP address ranges in CIDR notation (192.168.0.0/16, ::1/128, 127.0.0.1 as
// a single address), for settings such as `serve --metrics-allow`. Operator
// input, parsed strictly: a bad list is refused naming the bad entry.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace modelreg::net {

struct Cidr {
  bool v6 = false;
  std::array<uint8_t, 16> addr{};  // network address (v4: first 4 bytes)
  int prefix = 0;                  // bits
};

// A comma-separated list; spaces around entries are ignored. Empty -> empty list.
Result<std::vector<Cidr>> ParseCidrList(const std::string& text);

// Whether the textual address `ip` (as accept() reports it: "127.0.0.1",
// "::1", "::ffff:127.0.0.1") is inside one of `ranges`. An IPv4-mapped IPv6
// address matches IPv4 ranges. An unparsable address matches nothing.
bool CidrMatch(const std::vector<Cidr>& ranges, const std::string& ip);

}  // namespace modelreg::net
