// Whole-number query parameters (api/handler.h IntParam): every handler
// that takes one refuses a bad value with INVALID_ARGUMENT naming the
// parameter and its range, and takes the default when it is absent.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "api/api_util.h"

using namespace modelreg;
using namespace modelreg::testing;

TEST_CASE("query parameters: bad whole numbers are refused, naming the parameter and its range", "[sqlite]") {
  ServerProcess s;
  Http admin(s.url(), s.admin_token());
  const std::string dataset = "sha256:" + std::string(64, 'a');
  struct Case {
    std::string path, message;
  };
  const Case cases[] = {
      {"/api/v1/events?limit=0", "limit must be a whole number from 1 to 1000"},
      {"/api/v1/events?after=-1", "after must be a whole number >= 0"},
      {"/api/v1/events?after=1%FF", "after must be a whole number >= 0"},
      {"/api/v1/events?wait=301", "wait must be a whole number from 0 to 300"},
      {"/api/v1/webhooks/none/deliveries?limit=10001", "limit must be a whole number from 1 to 10000"},
      {"/api/v1/lineage?dataset=" + dataset + "&offset=-1", "offset must be a whole number >= 0"},
      {"/api/v1/lineage?dataset=" + dataset + "&limit=1001", "limit must be a whole number from 1 to 1000"},
      {"/api/v1/lineage?dataset=" + dataset + "&limit=+5", "limit must be a whole number from 1 to 1000"},
      {"/api/v1/models/churn/live?at=0&limit=0", "limit must be a whole number from 1 to 10000"},
      {"/api/v1/models/churn/live?at=0&offset=x", "offset must be a whole number >= 0"},
      {"/api/v1/models/churn/release?wait=-1", "wait must be a whole number >= 0"},
      {"/api/v1/models/churn/release?wait=", "wait must be a whole number >= 0"},
      {"/api/v1/models/churn/release?wait=5s", "wait must be a whole number >= 0"},
  };
  for (const Case& c : cases) {
    INFO(c.path);
    auto r = admin.Get(c.path);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(ErrorCode(r) == "INVALID_ARGUMENT");
    CHECK(ErrorMessage(r) == c.message);
  }
  // In range or absent, the same requests get past the parameters.
  CHECK(admin.Get("/api/v1/events?limit=1000&after=0&wait=0")->status == 200);
  CHECK(admin.Get("/api/v1/lineage?dataset=" + dataset + "&offset=0&limit=1000")->status == 200);
  // A release wait over 300 s is cut to 300, not refused (docs/api.md):
  // without If-None-Match it is answered at once (churn has no release).
  auto release = admin.Get("/api/v1/models/churn/release?wait=100000");
  REQUIRE(release);
  CHECK(release->status == 404);
}

TEST_CASE("query parameters: a live-at offset near 2^63 is an empty last page, not an overflow", "[sqlite]") {
  ServerProcess s;
  TempDir t;
  WriteFile(t / "b/m.bin", "model");
  REQUIRE(Client(s, s.admin_token())->Register("churn", t / "b", Lineage("churn")).ok());
  Http admin(s.url(), s.admin_token());
  auto r = admin.Get("/api/v1/models/churn/live?at=0&offset=9223372036854775807&limit=10000");
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  auto j = nlohmann::json::parse(r->body);
  CHECK(j["agents"].empty());
  CHECK_FALSE(j.contains("next_offset"));
}
