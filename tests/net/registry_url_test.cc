// Unit tests for net/registry_url: what --registry / MODELREG_URL accept.
#include "net/registry_url.h"

#include <catch2/catch.hpp>
#include <string>

namespace modelreg::net {

TEST_CASE("registry url: host and port, trailing slashes dropped") {
  CHECK(*NormalizeRegistryUrl("http://127.0.0.1:8080") == "http://127.0.0.1:8080");
  CHECK(*NormalizeRegistryUrl("http://127.0.0.1:8080//") == "http://127.0.0.1:8080");
  CHECK(*NormalizeRegistryUrl("https://registry.example.com/") == "https://registry.example.com");
  CHECK(*NormalizeRegistryUrl("http://[::1]:9000") == "http://[::1]:9000");
  CHECK(*NormalizeRegistryUrl("http://[::1]") == "http://[::1]");
}

TEST_CASE("registry url: what cannot work is refused with what to give instead") {
  auto message = [](const std::string& url) {
    auto r = NormalizeRegistryUrl(url);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    return r.status().message();
  };
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
  for (const char* bad : {"http://host:", "http://host:0", "http://host:65536", "http://host:80a", "http://host:123456"})
    CHECK_THAT(message(bad), Catch::Contains("port must be a number from 1 to 65535"));
}

}  // namespace modelreg::net
