// Unit tests for net/address: what --registry / MODELREG_URL and --listen accept.
#include "net/address.h"

#include <catch2/catch.hpp>
#include <string>

namespace modelreg::net {
namespace {

// The message of a refusal, which must be InvalidArgument.
template <typename T>
std::string Refusal(const Result<T>& r) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  return r.status().message();
}

}  // namespace

TEST_CASE("registry url: host and port, trailing slashes dropped") {
  CHECK(*NormalizeRegistryUrl("http://127.0.0.1:8080") == "http://127.0.0.1:8080");
  CHECK(*NormalizeRegistryUrl("http://127.0.0.1:8080//") == "http://127.0.0.1:8080");
  CHECK(*NormalizeRegistryUrl("https://registry.example.com/") == "https://registry.example.com");
  CHECK(*NormalizeRegistryUrl("http://[::1]:9000") == "http://[::1]:9000");
  CHECK(*NormalizeRegistryUrl("http://[::1]") == "http://[::1]");
}

TEST_CASE("registry url: what cannot work is refused with what to give instead") {
  auto message = [](const std::string& url) { return Refusal(NormalizeRegistryUrl(url)); };
  CHECK_THAT(message("127.0.0.1:8080"), Catch::Contains("must start with http:// or https://"));
  CHECK_THAT(message("ftp://host"), Catch::Contains("must start with http:// or https://"));
  CHECK_THAT(message("http://host:8080/modelreg"), Catch::Contains("has a path ('/modelreg')"));
  CHECK_THAT(message("http://host:8080/modelreg"), Catch::Contains("host[:port] only"));
  CHECK_THAT(message("http://host?x=1"), Catch::Contains("has a path ('?x=1')"));
  CHECK_THAT(message("http://user:secret@host"), Catch::Contains("'http://***@host' holds credentials"));
  CHECK_THAT(message("http://user:secret@host"), !Catch::Contains("secret"));
  CHECK_THAT(message("http://"), Catch::Contains("has no host"));
  CHECK_THAT(message("http://:8080"), Catch::Contains("has no host"));
  CHECK_THAT(message("http://[]:80"), Catch::Contains("has no host"));
  CHECK_THAT(message("http://[::1"), Catch::Contains("unclosed '['"));
  CHECK_THAT(message("http://[::1]x"), Catch::Contains("bad text after the host"));
  for (const char* bad :
       {"http://host:", "http://host:0", "http://host:65536", "http://host:80a", "http://host:123456"})
    CHECK_THAT(message(bad), Catch::Contains("port must be a number from 1 to 65535"));
}

TEST_CASE("listen address: host and port with an IPv6 host in brackets and port 0 for a free one") {
  auto a = ParseListenAddress("127.0.0.1:8080");
  REQUIRE(a.ok());
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 8080);
  a = ParseListenAddress("0.0.0.0:0");
  REQUIRE(a.ok());
  CHECK(a->host == "0.0.0.0");
  CHECK(a->port == 0);
  a = ParseListenAddress("[::1]:9000");
  REQUIRE(a.ok());
  CHECK(a->host == "::1");
  CHECK(a->port == 9000);
  a = ParseListenAddress("localhost:65535");
  REQUIRE(a.ok());
  CHECK(a->host == "localhost");
}

TEST_CASE("listen address: what cannot work is refused naming the flag") {
  auto message = [](const std::string& text) {
    std::string m = Refusal(ParseListenAddress(text, "--listen"));
    CHECK_THAT(m, Catch::Contains("--listen '" + text + "'"));
    return m;
  };
  CHECK_THAT(message("127.0.0.1"), Catch::Contains("wants HOST:PORT"));
  CHECK_THAT(message(":8080"), Catch::Contains("has no host"));
  CHECK_THAT(message("[]:8080"), Catch::Contains("has no host"));
  CHECK_THAT(message("[::1:8080"), Catch::Contains("IPv6 host goes in brackets"));
  CHECK_THAT(message("::1]:8080"), Catch::Contains("IPv6 host goes in brackets"));
  for (const char* bad :
       {"127.0.0.1:", "127.0.0.1:80a", "127.0.0.1:-1", "127.0.0.1:65536", "127.0.0.1: 80", "127.0.0.1:123456"})
    CHECK_THAT(message(bad), Catch::Contains("the port must be a number from 0 to 65535"));
}

}  // namespace modelreg::net
