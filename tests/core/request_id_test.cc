// core/request_id.h: ids kept from callers, and UUIDv7 ids made for the rest.
#include "core/request_id.h"

#include <catch2/catch.hpp>
#include <regex>
#include <set>
#include <string>

namespace modelreg {
namespace {

TEST_CASE("RequestIdV7 lays out time version and variant as RFC 9562 says", "[core][request_id]") {
  // RFC 9562 appendix A.6: 2022-02-22 19:22:22 UTC = 0x017F22E279B0 ms.
  const unsigned char r[10] = {0x0c, 0xc3, 0x18, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f};
  CHECK(RequestIdV7(0x017F22E279B0ull, r) == "017f22e2-79b0-7cc3-98c4-dc0c0c07398f");
  const unsigned char ones[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  // The version nibble is 7 and the variant bits 10 whatever the random bytes.
  CHECK(RequestIdV7(0, ones) == "00000000-0000-7fff-bfff-ffffffffffff");
}

TEST_CASE("NewRequestId makes distinct valid ids that sort by time", "[core][request_id]") {
  const std::regex v7("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewRequestId();
    REQUIRE(std::regex_match(id, v7));
    CHECK(IsValidRequestId(id));
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
  // Later milliseconds sort later, whatever the random part: what keeps the
  // registry's inserts at the end of its request-id index.
  const unsigned char lo[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  const unsigned char hi[10] = {};
  CHECK(RequestIdV7(1790000000000ull, lo) < RequestIdV7(1790000000001ull, hi));
}

TEST_CASE("RequestIdOrNew keeps a valid caller id and replaces a bad one", "[core][request_id]") {
  CHECK(RequestIdOrNew("trace-abc_1.2") == "trace-abc_1.2");
  CHECK(RequestIdOrNew(std::string(128, 'a')) == std::string(128, 'a'));
  for (const std::string bad :
       {std::string(), std::string(129, 'a'), std::string("a b"), std::string("x\xff"), std::string("a/b")}) {
    const std::string id = RequestIdOrNew(bad);
    CHECK(id != bad);
    CHECK(id.size() == 36);
    CHECK(IsValidRequestId(id));
  }
}

}  // namespace
}  // namespace modelreg
