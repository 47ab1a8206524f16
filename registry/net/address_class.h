// What kind of IP address a webhook would be delivered to, and resolving a
// webhook's host so that every address it names is checked (docs/events.md).
//
// Webhook URLs are given by users, and the server then makes requests to
// them from inside the operator's network: without a check, a webhook on
// http://169.254.169.254/ or http://10.0.0.5:8080/admin would make the
// registry a way into places its users cannot reach (server-side request
// forgery). So deliveries go only to public addresses, unless the server
// was started with `serve --webhooks-allow-private` (a lab, a receiver on
// the same machine). The check is on the resolved addresses, not on the
// name, and the caller connects to an address checked here, never resolves
// again (a name can resolve to a public address once and to 127.0.0.1 the
// next time: DNS rebinding).
//
// The classes (IANA's special-purpose registries, RFC 6890 and successors):
//   loopback     127.0.0.0/8, ::1
//   unspecified  0.0.0.0, ::                      (reaches this host on Linux)
//   link-local   169.254.0.0/16, fe80::/10        (cloud metadata services)
//   private      10/8, 172.16/12, 192.168/16, 100.64/10 (carrier-grade NAT),
//                fc00::/7 (unique local), fec0::/10 (old site-local),
//                64:ff9b:1::/48 (local NAT64)
//   multicast    224.0.0.0/4, ff00::/8
//   broadcast    255.255.255.255
//   reserved     0/8, 192.0.0/24, 192.0.2/24, 192.88.99/24, 198.18/15,
//                198.51.100/24, 203.0.113/24, 240/4, and in IPv6 everything
//                outside 2000::/3, 100::/64, 2001:db8::/32, 2001:2::/48, and
//                the IPv4-compatible ::/96
//   public       everything else
// An IPv4 address inside IPv6 is classified as that IPv4 address: mapped
// (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:AABB:CCDD::).
//
// Which classes a webhook may use: public always; loopback, link-local,
// private and reserved with allow_private; unspecified, multicast and
// broadcast never (no receiver is there to deliver to).
// Thread-safe (getaddrinfo is).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace modelreg::net {

enum class AddressClass { kPublic, kLoopback, kUnspecified, kLinkLocal, kPrivate, kMulticast, kBroadcast, kReserved };

// "public", "loopback", "unspecified", "link-local", "private", "multicast",
// "broadcast", "reserved".
const char* AddressClassName(AddressClass c);

// `v4` in host byte order (127.0.0.1 is 0x7f000001).
AddressClass ClassifyIPv4(uint32_t v4);
// The 16 bytes of an IPv6 address, network order.
AddressClass ClassifyIPv6(const uint8_t v6[16]);
// A numeric address ("10.1.2.3", "::1", "::ffff:10.1.2.3"; no brackets, no
// zone), or InvalidArgument.
Result<AddressClass> ClassifyAddress(std::string_view ip);

// Whether a webhook may be delivered to an address of class `c`.
bool WebhookMayUse(AddressClass c, bool allow_private);

// The server option that lets webhooks use private addresses.
inline constexpr char kAllowPrivateOption[] = "serve --webhooks-allow-private";

struct ResolvedAddress {
  std::string ip;  // numeric, without brackets ("203.0.113.7", "2001:db8::1")
  int family = 0;  // AF_INET or AF_INET6
  AddressClass address_class = AddressClass::kPublic;
};

// The addresses `host` (a name, or a numeric address without brackets)
// resolves to for TCP port `port`, in getaddrinfo's order, none repeated.
// Every one must be one a webhook may use: otherwise PermissionDenied naming
// the host, the address and its class (and kAllowPrivateOption where it
// would help). Unavailable if the name does not resolve (may be temporary:
// DNS), InvalidArgument for an empty host or a port outside 1..65535.
Result<std::vector<ResolvedAddress>> ResolveWebhookHost(const std::string& host, int port, bool allow_private);

}  // namespace modelreg::net
