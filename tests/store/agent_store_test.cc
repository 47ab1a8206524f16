// store::UpsertAgent (registry/store/agent_store.h) on a real SQLite
// database: it hands back the row as it was, so that ReportAgent needs no
// read of its own, and says whether a state row was appended.
#include "store/agent_store.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "store/database.h"
#include "support/temp_dir.h"

namespace modelreg {
namespace {

TEST_CASE("UpsertAgent returns the agent's previous row and whether its state changed", "[store]") {
  testing::TempDir t;
  auto opened = Database::Open(t / "registry.db");
  REQUIRE(opened.ok());
  Database& db = **opened;
  AgentInfo a;
  a.id = "a1";
  a.model = "churn";
  a.stage = "production";
  a.version = 1;
  a.state = "serving";
  a.heartbeat_ms = 1000;
  auto upsert = [&](const AgentInfo& row, int64_t now_ms) {
    store::AgentUpsert out;
    REQUIRE(db.Transact(TxMode::kWrite, [&](Tx& tx) {
                out = store::UpsertAgent(tx, row, now_ms);
                return Status::OK();
              }).ok());
    return out;
  };

  auto first = upsert(a, 1000);
  CHECK_FALSE(first.before);
  CHECK(first.appended);

  auto same = upsert(a, 2000);  // the same state, within the silence limit
  REQUIRE(same.before);
  CHECK(same.before->state == "serving");
  CHECK(same.before->last_seen_ms == 1000);
  CHECK_FALSE(same.appended);

  AgentInfo failed = a;
  failed.state = "failed";
  failed.last_error = "boom";
  auto change = upsert(failed, 3000);
  REQUIRE(change.before);
  CHECK(change.before->state == "serving");
  CHECK(change.before->first_seen_ms == 1000);
  CHECK(change.appended);

  auto again = upsert(failed, 4000);
  REQUIRE(again.before);
  CHECK(again.before->state == "failed");
  CHECK(again.before->last_error == "boom");
  CHECK_FALSE(again.appended);
}

}  // namespace
}  // namespace modelreg
