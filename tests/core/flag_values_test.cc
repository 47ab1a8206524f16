// Unit tests for core/flag_values: flag values parsed whole.
#include "core/flag_values.h"

#include <catch2/catch.hpp>
#include <string>

namespace modelreg {
namespace {

std::string Refusal(const Status& st) {
  CHECK(st.code() == StatusCode::kInvalidArgument);
  return st.message();
}

}  // namespace

TEST_CASE("finite decimals: what people write, not hex, inf or padding", "[core][flags]") {
  CHECK(*ParseFiniteDecimal("0.91") == 0.91);
  CHECK(*ParseFiniteDecimal("-3") == -3);
  CHECK(*ParseFiniteDecimal("1e-4") == 1e-4);
  CHECK(*ParseFiniteDecimal("1e+20") == 1e20);
  for (const char* bad : {"", "0x10", "+1", " 1", "1 ", "inf", "nan", "1e999", "1,5", "--1"}) {
    INFO(bad);
    CHECK_FALSE(ParseFiniteDecimal(bad).has_value());
  }
}

TEST_CASE("count flags: whole numbers within bounds", "[core][flags]") {
  CHECK(*ParseCountFlag("64", "--threads", 2, 4096) == 64);
  CHECK(*ParseCountFlag("2", "--threads", 2, 4096) == 2);
  for (const char* bad : {"8x", "", "-3", "+3", " 8", "8 ", "1", "4097", "3.0", "99999999999999999999999"}) {
    INFO(bad);
    auto r = ParseCountFlag(bad, "--threads", 2, 4096);
    REQUIRE_FALSE(r.ok());
    CHECK(Refusal(r.status()) == "--threads wants a whole number from 2 to 4096, not '" + std::string(bad) + "'");
  }
}

TEST_CASE("seconds flags: bare seconds, fractions and units", "[core][flags]") {
  CHECK(*ParseSecondsFlag("30", "--interval") == 30);
  CHECK(*ParseSecondsFlag("0.5", "--interval") == 0.5);
  CHECK(*ParseSecondsFlag("45s", "--interval") == 45);
  CHECK(*ParseSecondsFlag("30m", "--interval") == 1800);
  CHECK(*ParseSecondsFlag("24h", "--upload-ttl") == 86400);  // was 24 seconds through atof
  CHECK(*ParseSecondsFlag("7d", "--upload-ttl") == 7 * 86400);
  CHECK(*ParseSecondsFlag("0", "--drain", /*zero_ok=*/true) == 0);
  for (const char* bad : {"0", "0s", "-1", "+1", "", "h", "1x", "1hour", "1.5h", "1e3", "nan", "inf", " 1", "1 "}) {
    INFO(bad);
    auto r = ParseSecondsFlag(bad, "--interval");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(Refusal(r.status()), Catch::StartsWith("--interval wants seconds > 0"));
  }
  CHECK_THAT(Refusal(ParseSecondsFlag("-1", "--drain", true).status()),
             Catch::StartsWith("--drain wants seconds >= 0"));
}

TEST_CASE("byte flags: bare bytes and binary units", "[core][flags]") {
  CHECK(*ParseBytesFlag("1048576", "--spool-max") == 1048576);
  CHECK(*ParseBytesFlag("64K", "--spool-max") == 64u << 10);
  CHECK(*ParseBytesFlag("64k", "--spool-max") == 64u << 10);
  CHECK(*ParseBytesFlag("64M", "--spool-max") == 64u << 20);  // was 64 bytes through strtoull
  CHECK(*ParseBytesFlag("64MiB", "--spool-max") == 64u << 20);
  CHECK(*ParseBytesFlag("2GB", "--spool-max") == 2ull << 30);
  CHECK(*ParseBytesFlag("1T", "--spool-max") == 1ull << 40);
  for (const char* bad : {"0", "0M", "", "M", "-1", "64X", "64MM", "64Mb", "1.5G", "99999999999T", " 64M"}) {
    INFO(bad);
    auto r = ParseBytesFlag(bad, "--spool-max");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(Refusal(r.status()), Catch::StartsWith("--spool-max wants a size in bytes > 0"));
  }
}

}  // namespace modelreg
