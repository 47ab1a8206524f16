// auth/secret_box.h: webhook secrets sealed with AES-256-GCM open only with
// the same key and context, and a damaged or moved value is refused.
#include "auth/secret_box.h"

#include <catch2/catch.hpp>
#include <string>

using namespace modelreg;

TEST_CASE("SealSecret / OpenSecret: round trip, and nothing opens with another key, context or byte") {
  const std::string key(32, 'k'), other(32, 'o');
  auto sealed = SealSecret(key, "ci", "whsec_0123456789abcdef");
  REQUIRE(sealed.ok());
  CHECK(IsSealedSecret(*sealed));
  CHECK(sealed->find("whsec_") == std::string::npos);
  CHECK(OpenSecret(key, "ci", *sealed).value() == "whsec_0123456789abcdef");
  // A fresh nonce each time: the same secret seals differently.
  CHECK(SealSecret(key, "ci", "whsec_0123456789abcdef").value() != *sealed);

  CHECK(OpenSecret(other, "ci", *sealed).status().code() == StatusCode::kDataLoss);
  CHECK(OpenSecret(key, "cd", *sealed).status().code() == StatusCode::kDataLoss);  // moved to another row
  std::string flipped = *sealed;
  flipped[flipped.size() / 2] = flipped[flipped.size() / 2] == 'A' ? 'B' : 'A';
  CHECK_FALSE(OpenSecret(key, "ci", flipped).ok());
  CHECK_FALSE(OpenSecret(key, "ci", "mrs1:").ok());
  CHECK_FALSE(OpenSecret(key, "ci", "mrs1:!!!").ok());
  CHECK_FALSE(OpenSecret(key, "ci", "plain text").ok());
  CHECK_FALSE(SealSecret("short", "ci", "x").ok());
  CHECK(OpenSecret(key, "", SealSecret(key, "", "").value()).value().empty());
}
