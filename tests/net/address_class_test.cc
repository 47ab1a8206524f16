// Unit tests for registry/net/address_class.h: a table of addresses and
// their classes, which classes a webhook may use, and the resolution check.
#include "net/address_class.h"

#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <string>

namespace modelreg::net {
namespace {

using C = AddressClass;

TEST_CASE("address class: a table of IPv4 and IPv6 addresses") {
  const std::pair<const char*, AddressClass> table[] = {
      {"8.8.8.8", C::kPublic},
      {"1.1.1.1", C::kPublic},
      {"203.0.114.1", C::kPublic},
      {"172.15.255.255", C::kPublic},
      {"172.32.0.0", C::kPublic},
      {"100.63.255.255", C::kPublic},
      {"100.128.0.0", C::kPublic},
      {"127.0.0.1", C::kLoopback},
      {"127.255.255.254", C::kLoopback},
      {"0.0.0.0", C::kUnspecified},
      {"169.254.169.254", C::kLinkLocal},
      {"10.0.0.5", C::kPrivate},
      {"172.16.0.1", C::kPrivate},
      {"172.31.255.255", C::kPrivate},
      {"192.168.1.1", C::kPrivate},
      {"100.64.0.1", C::kPrivate},
      {"100.127.255.255", C::kPrivate},
      {"224.0.0.1", C::kMulticast},
      {"239.255.255.250", C::kMulticast},
      {"255.255.255.255", C::kBroadcast},
      {"0.1.2.3", C::kReserved},
      {"192.0.0.8", C::kReserved},
      {"192.0.2.1", C::kReserved},
      {"192.88.99.1", C::kReserved},
      {"198.18.0.1", C::kReserved},
      {"198.19.255.255", C::kReserved},
      {"198.20.0.0", C::kPublic},
      {"198.51.100.7", C::kReserved},
      {"203.0.113.9", C::kReserved},
      {"240.0.0.1", C::kReserved},
      {"255.255.255.254", C::kReserved},
      {"::1", C::kLoopback},
      {"::", C::kUnspecified},
      {"fe80::1", C::kLinkLocal},
      {"febf::1", C::kLinkLocal},
      {"fc00::1", C::kPrivate},
      {"fd12:3456::1", C::kPrivate},
      {"fec0::1", C::kPrivate},
      {"ff02::1", C::kMulticast},
      {"2606:4700:4700::1111", C::kPublic},
      {"2001:4860:4860::8888", C::kPublic},
      {"2001:db8::1", C::kReserved},
      {"2001:2::1", C::kReserved},
      {"100::1", C::kReserved},
      {"4000::1", C::kReserved},
      {"::2", C::kReserved},
      {"::10.0.0.1", C::kReserved},  // IPv4-compatible, deprecated
      {"::ffff:127.0.0.1", C::kLoopback},
      {"::ffff:10.1.2.3", C::kPrivate},
      {"::ffff:169.254.169.254", C::kLinkLocal},
      {"::ffff:8.8.8.8", C::kPublic},
      {"::ffff:0.0.0.0", C::kUnspecified},
      {"64:ff9b::8.8.8.8", C::kPublic},
      {"64:ff9b::127.0.0.1", C::kLoopback},
      {"64:ff9b:1::1", C::kPrivate},
      {"2002:c0a8:0101::1", C::kPrivate},  // 6to4 of 192.168.1.1
      {"2002:0808:0808::1", C::kPublic},
  };
  for (const auto& [ip, want] : table) {
    INFO(ip);
    auto got = ClassifyAddress(ip);
    REQUIRE(got.ok());
    CHECK(std::string(AddressClassName(*got)) == AddressClassName(want));
  }
  for (const char* bad : {"", "localhost", "[::1]", "1.2.3", "1.2.3.4.5", "fe80::1%lo", "256.0.0.1", " 1.2.3.4"}) {
    INFO(bad);
    auto got = ClassifyAddress(bad);
    CHECK(got.status().code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("address class: which classes a webhook may use") {
  CHECK(WebhookMayUse(C::kPublic, false));
  for (C c : {C::kLoopback, C::kLinkLocal, C::kPrivate, C::kReserved}) {
    CHECK_FALSE(WebhookMayUse(c, false));
    CHECK(WebhookMayUse(c, true));
  }
  for (C c : {C::kUnspecified, C::kMulticast, C::kBroadcast}) CHECK_FALSE(WebhookMayUse(c, true));
}

TEST_CASE("address class: resolving refuses a loopback host unless private addresses are allowed") {
  auto refused = ResolveWebhookHost("127.0.0.1", 8080, false);
  REQUIRE(refused.status().code() == StatusCode::kPermissionDenied);
  const std::string m = refused.status().message();
  CHECK(m.find("\"127.0.0.1\"") != std::string::npos);
  CHECK(m.find("loopback") != std::string::npos);
  CHECK(m.find("serve --webhooks-allow-private") != std::string::npos);

  auto allowed = ResolveWebhookHost("127.0.0.1", 8080, true);
  REQUIRE(allowed.ok());
  REQUIRE(allowed->size() == 1);
  CHECK((*allowed)[0].ip == "127.0.0.1");
  CHECK((*allowed)[0].family == AF_INET);
  CHECK((*allowed)[0].address_class == C::kLoopback);

  auto v6 = ResolveWebhookHost("::ffff:10.0.0.1", 443, false);
  CHECK(v6.status().message().find("private") != std::string::npos);
  // Other spellings of 127.0.0.1 that the resolver takes (inet_aton's
  // forms) are caught too: the check is on the address they resolve to.
  for (const char* spelling : {"2130706433", "0x7f.1", "017700000001", "127.1"}) {
    INFO(spelling);
    auto r = ResolveWebhookHost(spelling, 80, false);
    CHECK(r.status().code() == StatusCode::kPermissionDenied);
    CHECK(r.status().message().find("127.0.0.1, a loopback address") != std::string::npos);
  }
  // localhost is a name: what it resolves to is checked, not the name.
  auto name = ResolveWebhookHost("localhost", 80, false);
  CHECK(name.status().code() == StatusCode::kPermissionDenied);
  CHECK(name.status().message().find("\"localhost\" resolves to") != std::string::npos);
}

TEST_CASE("address class: never-usable addresses and bad input are refused without naming the option") {
  for (const char* host : {"0.0.0.0", "224.0.0.1", "255.255.255.255", "::"}) {
    INFO(host);
    auto r = ResolveWebhookHost(host, 80, true);
    CHECK(r.status().code() == StatusCode::kPermissionDenied);
    CHECK(r.status().message().find("--webhooks-allow-private") == std::string::npos);
  }
  CHECK(ResolveWebhookHost("", 80, true).status().code() == StatusCode::kInvalidArgument);
  CHECK(ResolveWebhookHost("127.0.0.1", 0, true).status().code() == StatusCode::kInvalidArgument);
  CHECK(ResolveWebhookHost("127.0.0.1", 65536, true).status().code() == StatusCode::kInvalidArgument);
  auto nx = ResolveWebhookHost("no-such-host.invalid", 80, true);
  CHECK(nx.status().code() == StatusCode::kUnavailable);
  CHECK(nx.status().message().find("no-such-host.invalid") != std::string::npos);
}

}  // namespace
}  // namespace modelreg::net
