// Unit tests for registry/net/cidr.h: parsing address lists strictly and
// matching the peer addresses accept() reports (IPv4, IPv6, IPv4-mapped).
#include "net/cidr.h"

#include <catch2/catch.hpp>

namespace modelreg::net {
namespace {

TEST_CASE("cidr: lists parse and single addresses are full-length prefixes and bad entries are named") {
  auto l = ParseCidrList(" 10.0.0.0/8, 127.0.0.1 ,::1,fd00::/8");
  REQUIRE(l.ok());
  REQUIRE(l->size() == 4);
  CHECK((*l)[1].prefix == 32);
  CHECK((*l)[2].prefix == 128);
  CHECK((*l)[2].v6);
  CHECK(ParseCidrList("")->empty());
  for (const char* bad :
       {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "host.example", "10.0.0.0/8,,::1", "1.2.3.4/-1", "1.2.3"}) {
    auto r = ParseCidrList(bad);
    INFO(bad);
    CHECK(!r.ok());
  }
  CHECK(ParseCidrList("10.0.0.0/8, nope").status().message().find("'nope'") != std::string::npos);
}

TEST_CASE("cidr: matching v4 and v6 and v4-mapped peers and nothing matches an empty list or garbage") {
  auto l = *ParseCidrList("10.0.0.0/8,192.168.1.128/25,::1,fd00::/8");
  CHECK(CidrMatch(l, "10.255.0.1"));
  CHECK_FALSE(CidrMatch(l, "11.0.0.1"));
  CHECK(CidrMatch(l, "192.168.1.200"));
  CHECK_FALSE(CidrMatch(l, "192.168.1.127"));
  CHECK(CidrMatch(l, "::1"));
  CHECK_FALSE(CidrMatch(l, "::2"));
  CHECK(CidrMatch(l, "fd12:3456::1"));
  CHECK(CidrMatch(l, "::ffff:10.1.2.3"));  // IPv4-mapped: an IPv4 peer on a v6 socket
  CHECK_FALSE(CidrMatch(l, "127.0.0.1"));
  CHECK_FALSE(CidrMatch(l, "not an address"));
  CHECK_FALSE(CidrMatch({}, "10.0.0.1"));
  CHECK(CidrMatch(*ParseCidrList("0.0.0.0/0"), "203.0.113.9"));
}

}  // namespace
}  // namespace modelreg::net
