// Webhooks with several replicas on one PostgreSQL database (docs/
// events.md): an event written on one replica goes to a webhook created on
// another one a moment before, and never to one deleted there. Emit reads
// the webhooks in the event's own transaction (service/event_ops.cc); a
// list cached per replica and refreshed by notification would fail this.
// Runs in the PostgreSQL run only ([postgres]).
#include <catch2/catch.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/api_util.h"
#include "support/pg_test_db.h"

namespace modelreg::testing {
namespace {

using json = nlohmann::json;

TEST_CASE("webhooks on replicas: a webhook created on one replica gets the next event written on another",
          "[postgres]") {
  REQUIRE(TestPostgresCluster());
  TempDir t;
  const std::string db = NewTestDatabase();
  const std::string key = t / "release.key";
  REQUIRE(Run({"openssl", "genpkey", "-algorithm", "ed25519", "-out", key}).exit_code == 0);
  const std::vector<std::string> flags = {"--db", db, "--release-key", key, "--webhooks-allow-private"};
  ServerProcess a(t / "a", flags), b(t / "b", flags);
  Http on_a(a.url(), a.admin_token()), on_b(b.url(), a.admin_token());
  // Nothing listens on port 9: deliveries stay pending, which is all this
  // test looks at (they are written with the event).
  const std::string url = "http://127.0.0.1:9/hook";
  for (int i = 0; i < 5; ++i) {
    const std::string hook = "w" + std::to_string(i), token = "t" + std::to_string(i);
    auto created =
        on_a.Post("/api/v1/webhooks", json{{"name", hook}, {"url", url}, {"events", "token.created"}}.dump());
    REQUIRE(created);
    INFO(created->body);
    REQUIRE(created->status == 201);
    // At once, on the other replica: a token.created event.
    auto tok = on_b.Post("/api/v1/tokens", json{{"name", token}, {"role", "auditor"}}.dump());
    REQUIRE(tok);
    REQUIRE(tok->status == 201);
    auto d = on_b.Get("/api/v1/webhooks/" + hook + "/deliveries");
    REQUIRE(d);
    REQUIRE(d->status == 200);
    const json deliveries = json::parse(d->body)["deliveries"];
    INFO(d->body);
    REQUIRE(deliveries.size() == 1);
    CHECK(deliveries[0]["event_type"] == "token.created");
    // Deleted on the first replica, it gets nothing more, and the second
    // replica's next event is written without it.
    auto del = on_a.Delete("/api/v1/webhooks/" + hook);
    REQUIRE(del);
    REQUIRE(del->status == 204);
    auto after = on_b.Post("/api/v1/tokens", json{{"name", token + "-after"}, {"role", "auditor"}}.dump());
    REQUIRE(after);
    CHECK(after->status == 201);
    CHECK(on_b.Get("/api/v1/webhooks/" + hook + "/deliveries")->status == 404);
  }
}

}  // namespace
}  // namespace modelreg::testing
