// Unit tests for registry/core/webhook_signature.h: a vector computed
// independently with openssl, the strict header parsing, tampering and
// replays.
#include "core/webhook_signature.h"

#include <catch2/catch.hpp>
#include <string>

namespace modelreg {
namespace {

// printf '%s' '42.1796558400.{"id":42,"type":"stage.changed"}' |
//   openssl dgst -sha256 -hmac 'whsec-test-secret' -binary | base64
constexpr char kSecret[] = "whsec-test-secret";
constexpr char kBody[] = R"({"id":42,"type":"stage.changed"})";
constexpr int64_t kTime = 1796558400;  // 2026-12-06T12:00:00Z
constexpr char kKnown[] = "v1,+UIoDcR0uxIrQFLNI9VLEiIKL6EXTKKgEkVE6Bgp9go=";

bool Mentions(const Status& st, const std::string& what) { return st.message().find(what) != std::string::npos; }

TEST_CASE("webhook signature: matches a vector computed with openssl") {
  CHECK(SignWebhook(kSecret, "42", kTime, kBody) == kKnown);
  CHECK(VerifyWebhook(kSecret, "42", "1796558400", kKnown, kBody, kTime).ok());
}

TEST_CASE("webhook signature: the headers of a delivery carry the id, the timestamp and the signature") {
  const auto h = WebhookHeaders(kSecret, 42, kTime, kBody);
  REQUIRE(h.size() == 3);
  CHECK(h[0] == std::pair<std::string, std::string>("X-Modelreg-Delivery-Id", "42"));
  CHECK(h[1] == std::pair<std::string, std::string>("X-Modelreg-Timestamp", "1796558400"));
  CHECK(h[2] == std::pair<std::string, std::string>("X-Modelreg-Signature", kKnown));
}

TEST_CASE("webhook signature: an altered body, id, timestamp or secret is refused") {
  const Status body = VerifyWebhook(kSecret, "42", "1796558400", kKnown, R"({"id":42,"type":"stage.changeD"})", kTime);
  CHECK(body.code() == StatusCode::kUnauthenticated);
  CHECK(Mentions(body, "no signature"));
  CHECK_FALSE(VerifyWebhook(kSecret, "43", "1796558400", kKnown, kBody, kTime).ok());
  CHECK_FALSE(VerifyWebhook(kSecret, "42", "1796558401", kKnown, kBody, kTime).ok());
  CHECK_FALSE(VerifyWebhook("whsec-other", "42", "1796558400", kKnown, kBody, kTime).ok());
  std::string flipped = kKnown;
  flipped[5] = flipped[5] == 'A' ? 'B' : 'A';
  CHECK_FALSE(VerifyWebhook(kSecret, "42", "1796558400", flipped, kBody, kTime).ok());
  // An empty body and secret still sign and verify (nothing special-cased).
  CHECK(VerifyWebhook("", "1", "5", SignWebhook("", "1", 5, ""), "", 5).ok());
}

TEST_CASE("webhook signature: a timestamp outside the tolerance is a replay") {
  const std::string sig = SignWebhook(kSecret, "42", kTime, kBody);
  CHECK(VerifyWebhook(kSecret, "42", "1796558400", sig, kBody, kTime + 300).ok());
  CHECK(VerifyWebhook(kSecret, "42", "1796558400", sig, kBody, kTime - 300).ok());
  const Status old = VerifyWebhook(kSecret, "42", "1796558400", sig, kBody, kTime + 301);
  CHECK(old.code() == StatusCode::kUnauthenticated);
  CHECK(Mentions(old, "301 s old"));
  CHECK(Mentions(old, "replayed"));
  const Status ahead = VerifyWebhook(kSecret, "42", "1796558400", sig, kBody, kTime - 301);
  CHECK(Mentions(ahead, "in the future"));
  CHECK(VerifyWebhook(kSecret, "42", "1796558400", sig, kBody, kTime + 50, 60).ok());
  CHECK_FALSE(VerifyWebhook(kSecret, "42", "1796558400", sig, kBody, kTime + 61, 60).ok());
}

TEST_CASE("webhook signature: several signatures, one of them right, verify (other versions are ignored)") {
  const std::string good = SignWebhook(kSecret, "42", kTime, kBody);
  const std::string old = SignWebhook("whsec-rotated-out", "42", kTime, kBody);
  CHECK(VerifyWebhook(kSecret, "42", "1796558400", old + " " + good, kBody, kTime).ok());
  CHECK(VerifyWebhook(kSecret, "42", "1796558400", good + " " + old, kBody, kTime).ok());
  CHECK(VerifyWebhook(kSecret, "42", "1796558400", "v1a,whatever " + good, kBody, kTime).ok());
  CHECK_FALSE(VerifyWebhook(kSecret, "42", "1796558400", old + " " + old, kBody, kTime).ok());
  const Status none = VerifyWebhook(kSecret, "42", "1796558400", "v2," + good.substr(3), kBody, kTime);
  CHECK(Mentions(none, "no v1 signature"));
}

TEST_CASE("webhook signature: malformed headers are refused, saying which") {
  const std::string good = SignWebhook(kSecret, "42", kTime, kBody);
  for (const char* id : {"", "4a", "-42", " 42", "42 ", "+42", "1.2", "123456789012345678901"}) {
    INFO(id);
    const Status st = VerifyWebhook(kSecret, id, "1796558400", good, kBody, kTime);
    CHECK(st.code() == StatusCode::kUnauthenticated);
    CHECK(Mentions(st, "X-Modelreg-Delivery-Id"));
  }
  for (const char* ts : {"", "17965584OO", "-1", "1796558400.5", " 1796558400", "0x10", "1234567890123456789"}) {
    INFO(ts);
    CHECK(Mentions(VerifyWebhook(kSecret, "42", ts, good, kBody, kTime), "X-Modelreg-Timestamp"));
  }
  for (const std::string& sig :
       {std::string(""), std::string(" "), good + " ", " " + good, good + "  " + good, std::string("v1"),
        std::string("v1,"), std::string(",abc"), "v1=" + good.substr(3), good.substr(0, 40),
        "v1," + good.substr(3, 43) + "!", good + "A", "v1,t=" + good.substr(5), std::string(5000, 'v')}) {
    INFO(sig);
    const Status st = VerifyWebhook(kSecret, "42", "1796558400", sig, kBody, kTime);
    CHECK(st.code() == StatusCode::kUnauthenticated);
    CHECK(Mentions(st, "X-Modelreg-Signature"));
  }
}

}  // namespace
}  // namespace modelreg
