#include "net/address_class.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace modelreg::net {
namespace {

// A prefix of `bits` bits: `v4` within base/bits.
bool In4(uint32_t v4, uint32_t base, int bits) {
  const uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  return (v4 & mask) == (base & mask);
}

constexpr uint32_t Ip4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) { return a << 24 | b << 16 | c << 8 | d; }

// `v6` starts with the `bits` first bits of `prefix`.
bool In6(const uint8_t v6[16], std::initializer_list<uint8_t> prefix, int bits) {
  const uint8_t* p = prefix.begin();
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    const uint8_t want = i < static_cast<int>(prefix.size()) ? p[i] : 0;
    if ((v6[i] & mask) != (want & mask)) return false;
  }
  return true;
}

uint32_t V4At(const uint8_t* b) { return uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3]; }

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

const char* AddressClassName(AddressClass c) {
  switch (c) {
    case AddressClass::kPublic:
      return "public";
    case AddressClass::kLoopback:
      return "loopback";
    case AddressClass::kUnspecified:
      return "unspecified";
    case AddressClass::kLinkLocal:
      return "link-local";
    case AddressClass::kPrivate:
      return "private";
    case AddressClass::kMulticast:
      return "multicast";
    case AddressClass::kBroadcast:
      return "broadcast";
    case AddressClass::kReserved:
      return "reserved";
  }
  return "reserved";
}

AddressClass ClassifyIPv4(uint32_t v4) {
  if (v4 == 0) return AddressClass::kUnspecified;
  if (v4 == 0xffffffff) return AddressClass::kBroadcast;
  if (In4(v4, Ip4(127, 0, 0, 0), 8)) return AddressClass::kLoopback;
  if (In4(v4, Ip4(169, 254, 0, 0), 16)) return AddressClass::kLinkLocal;
  if (In4(v4, Ip4(10, 0, 0, 0), 8) || In4(v4, Ip4(172, 16, 0, 0), 12) || In4(v4, Ip4(192, 168, 0, 0), 16) ||
      In4(v4, Ip4(100, 64, 0, 0), 10))
    return AddressClass::kPrivate;
  if (In4(v4, Ip4(224, 0, 0, 0), 4)) return AddressClass::kMulticast;
  if (In4(v4, Ip4(0, 0, 0, 0), 8) || In4(v4, Ip4(192, 0, 0, 0), 24) || In4(v4, Ip4(192, 0, 2, 0), 24) ||
      In4(v4, Ip4(192, 88, 99, 0), 24) || In4(v4, Ip4(198, 18, 0, 0), 15) || In4(v4, Ip4(198, 51, 100, 0), 24) ||
      In4(v4, Ip4(203, 0, 113, 0), 24) || In4(v4, Ip4(240, 0, 0, 0), 4))
    return AddressClass::kReserved;
  return AddressClass::kPublic;
}

AddressClass ClassifyIPv6(const uint8_t v6[16]) {
  static const uint8_t kZero[16] = {};
  if (std::memcmp(v6, kZero, 15) == 0 && v6[15] <= 1)
    return v6[15] == 0 ? AddressClass::kUnspecified : AddressClass::kLoopback;
  // IPv4 inside IPv6: mapped, well-known NAT64, 6to4.
  if (In6(v6, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96)) return ClassifyIPv4(V4At(v6 + 12));
  if (In6(v6, {0x00, 0x64, 0xff, 0x9b}, 96)) return ClassifyIPv4(V4At(v6 + 12));
  if (In6(v6, {0x20, 0x02}, 16)) return ClassifyIPv4(V4At(v6 + 2));
  if (In6(v6, {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48)) return AddressClass::kPrivate;
  if (In6(v6, {0xfe, 0x80}, 10)) return AddressClass::kLinkLocal;
  if (In6(v6, {0xfc}, 7) || In6(v6, {0xfe, 0xc0}, 10)) return AddressClass::kPrivate;
  if (In6(v6, {0xff}, 8)) return AddressClass::kMulticast;
  // Global unicast is 2000::/3; what IANA has not allocated there, or set
  // aside for documentation and benchmarks, is reserved.
  if (!In6(v6, {0x20}, 3) || In6(v6, {0x20, 0x01, 0x0d, 0xb8}, 32) || In6(v6, {0x20, 0x01, 0x00, 0x02, 0, 0}, 48))
    return AddressClass::kReserved;
  return AddressClass::kPublic;
}

Result<AddressClass> ClassifyAddress(std::string_view ip) {
  const std::string text(ip);
  in_addr a4{};
  if (inet_pton(AF_INET, text.c_str(), &a4) == 1) return ClassifyIPv4(ntohl(a4.s_addr));
  in6_addr a6{};
  if (inet_pton(AF_INET6, text.c_str(), &a6) == 1) return ClassifyIPv6(a6.s6_addr);
  return Status::InvalidArgument(Quote(text) + " is not a numeric IPv4 or IPv6 address");
}

bool WebhookMayUse(AddressClass c, bool allow_private) {
  switch (c) {
    case AddressClass::kPublic:
      return true;
    case AddressClass::kLoopback:
    case AddressClass::kLinkLocal:
    case AddressClass::kPrivate:
    case AddressClass::kReserved:
      return allow_private;
    case AddressClass::kUnspecified:
    case AddressClass::kMulticast:
    case AddressClass::kBroadcast:
      return false;
  }
  return false;
}

Result<std::vector<ResolvedAddress>> ResolveWebhookHost(const std::string& host, int port, bool allow_private) {
  if (host.empty()) return Status::InvalidArgument("webhook URL has no host");
  if (port < 1 || port > 65535)
    return Status::InvalidArgument("webhook port " + std::to_string(port) + " is not 1..65535");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0) return Status::Unavailable("cannot resolve webhook host " + Quote(host) + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(res, ::freeaddrinfo);

  std::vector<ResolvedAddress> out;
  for (const addrinfo* ai = res; ai; ai = ai->ai_next) {
    ResolvedAddress r;
    r.family = ai->ai_family;
    char text[INET6_ADDRSTRLEN] = {};
    if (ai->ai_family == AF_INET) {
      const auto* sa = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      r.address_class = ClassifyIPv4(ntohl(sa->sin_addr.s_addr));
      ::inet_ntop(AF_INET, &sa->sin_addr, text, sizeof text);
    } else if (ai->ai_family == AF_INET6) {
      const auto* sa = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      r.address_class = ClassifyIPv6(sa->sin6_addr.s6_addr);
      ::inet_ntop(AF_INET6, &sa->sin6_addr, text, sizeof text);
    } else {
      continue;
    }
    r.ip = text;
    // One bad address refuses the host: whichever one the connection
    // would have used, a name must not be a way to reach it.
    if (!WebhookMayUse(r.address_class, allow_private)) {
      std::string m = "webhook host " + Quote(host) + " resolves to " + r.ip + ", a " +
                      AddressClassName(r.address_class) + " address: ";
      if (WebhookMayUse(r.address_class, true))
        m += "refused, so that webhooks cannot reach into the server's own network (start the server with " +
             std::string(kAllowPrivateOption) + " to allow it)";
      else m += "not an address a delivery can be made to";
      return Status::PermissionDenied(m);
    }
    if (std::none_of(out.begin(), out.end(), [&](const ResolvedAddress& o) { return o.ip == r.ip; }))
      out.push_back(std::move(r));
  }
  if (out.empty()) return Status::Unavailable("webhook host " + Quote(host) + " resolves to no IP address");
  return out;
}

}  // namespace modelreg::net
