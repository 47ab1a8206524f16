// Unit tests for registry/store/migrations.h and database.h against real
// SQLite files: migrating with data in place, refusing newer schemas, WAL,
// and the commit/rollback contract of Transact.
#include "store/migrations.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/digest.h"
#include "store/database.h"
#include "store/sql.h"
#include "support/temp_dir.h"

namespace modelreg {
namespace {

using testing::TempDir;

int LatestVersion() { return EmbeddedMigrations().back().version; }

std::unique_ptr<SQLite::Database> Raw(const std::string& path) {
  return std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
}

int64_t Count(SQLite::Database& db, const std::string& table) {
  return db.execAndGet("SELECT COUNT(*) FROM " + table).getInt64();
}

int64_t Count(Tx& tx, const std::string& table) { return QueryInt64(tx, "SELECT COUNT(*) FROM " + table); }

std::string QueryText(Tx& tx, const std::string& sql) {
  Statement q(tx, sql);
  REQUIRE(q.executeStep());
  return q.getColumn(0).getString();
}

bool TableExists(Tx& tx, const std::string& table) {
  return QueryInt64(tx, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '" + table + "'") > 0;
}

// A Database on `path` that applies no migration by itself.
std::unique_ptr<Database> Unmigrated(const std::string& path) {
  Database::Options o;
  o.migrate = false;
  auto db = Database::Open(path, o);
  REQUIRE(db.ok());
  return std::move(db).value();
}

int64_t CountVia(Database& db, const std::string& table) {
  int64_t n = -1;
  Status st = db.Transact(TxMode::kRead, [&](Tx& tx) {
    n = Count(tx, table);
    return Status::OK();
  });
  REQUIRE(st.ok());
  return n;
}

void InsertModel(SQLite::Database& db, const std::string& name) {
  SQLite::Statement q(db, "INSERT INTO models (name, created_at_ms, created_by) VALUES (?, 1000, 'test')");
  q.bind(1, name);
  q.exec();
}

void InsertModel(Tx& tx, const std::string& name) {
  Statement q(tx, "INSERT INTO models (name, created_at_ms, created_by) VALUES (?, 1000, 'test')");
  q.bind(1, name);
  q.exec();
}

// Versions 1 and 2 of model 1 in stages `first` and `second`.
void InsertTwoVersions(SQLite::Database& db, const std::string& first, const std::string& second) {
  SQLite::Statement q(db,
                      "INSERT INTO versions (model_id, number, digest, manifest_size, config_digest, file_count,"
                      " total_bytes, stage, created_at_ms, created_by) VALUES"
                      " (1, 1, 'sha256:a', 1, 'sha256:c', 1, 1, ?, 1000, 'trainer'),"
                      " (1, 2, 'sha256:b', 1, 'sha256:c', 1, 1, ?, 1000, 'trainer')");
  q.bind(1, first);
  q.bind(2, second);
  q.exec();
}

TEST_CASE("Embedded migrations are numbered 1..N in order", "[store][migrations]") {
  const auto& ms = EmbeddedMigrations();
  REQUIRE(ms.size() >= 2);
  for (size_t i = 0; i < ms.size(); ++i) {
    INFO(ms[i].name);
    CHECK(ms[i].version == static_cast<int>(i + 1));
    CHECK(std::string(ms[i].sql).size() > 0);
    char prefix[8];
    std::snprintf(prefix, sizeof prefix, "%04d_", ms[i].version);
    CHECK(std::string(ms[i].name).rfind(prefix, 0) == 0);
  }
}

TEST_CASE("A fresh database migrates to the latest version", "[store][migrations]") {
  TempDir t;
  const std::string path = t / "registry.db";
  {
    auto raw = Raw(t / "fresh.db");
    auto v = SchemaVersion(*Unmigrated(t / "fresh.db"));
    REQUIRE(v.ok());
    CHECK(*v == 0);
  }
  auto db = Database::Open(path);
  REQUIRE(db.ok());
  auto raw = Raw(path);
  auto v = SchemaVersion(*Unmigrated(path));
  REQUIRE(v.ok());
  CHECK(*v == LatestVersion());
  CHECK(Count(*raw, "schema_version") == 1);
  for (const char* table :
       {"models", "versions", "version_blobs", "version_datasets", "version_metrics", "tokens", "uploads"}) {
    INFO(table);
    CHECK(raw->tableExists(table));
  }
}

TEST_CASE("Migrating a database that holds data keeps the data", "[store][migrations]") {
  TempDir t;
  const std::string path = t / "registry.db";
  const std::string digest = Digest::Of("manifest").str();
  {
    auto raw = Raw(path);
    REQUIRE(Migrate(*Unmigrated(path), EmbeddedMigrations(), 1).ok());
    auto v = SchemaVersion(*Unmigrated(path));
    REQUIRE(v.ok());
    REQUIRE(*v == 1);
    REQUIRE_FALSE(raw->tableExists("uploads"));
    InsertModel(*raw, "churn");
    SQLite::Statement ver(*raw,
                          "INSERT INTO versions (model_id, number, digest, manifest_size, "
                          "config_digest, file_count, total_bytes, stage, created_at_ms, created_by) "
                          "VALUES (1, 1, ?, 123, ?, 2, 456, 'production', 2000, 'trainer')");
    ver.bind(1, digest);
    ver.bind(2, Digest::Of("config").str());
    ver.exec();
    SQLite::Statement tok(*raw,
                          "INSERT INTO tokens (name, hash, role, model_globs, created_at_ms, "
                          "created_by) VALUES ('ci', ?, 'trainer', 'churn-*', 3000, 'admin')");
    const std::string hash(32, '\x5a');
    tok.bind(1, hash.data(), static_cast<int>(hash.size()));
    tok.exec();
  }

  auto db = Database::Open(path);
  REQUIRE(db.ok());
  Status st = (*db)->Transact(TxMode::kRead, [&](Tx& tx) {
    CHECK(QueryInt64(tx, "SELECT MAX(version) FROM schema_version") == LatestVersion());
    CHECK(TableExists(tx, "uploads"));
    Statement m(tx, "SELECT id, name, created_by FROM models");
    REQUIRE(m.executeStep());
    CHECK(m.getColumn(0).getInt64() == 1);
    CHECK(m.getColumn(1).getString() == "churn");
    CHECK(m.getColumn(2).getString() == "test");
    CHECK_FALSE(m.executeStep());
    Statement v(tx, "SELECT number, digest, stage, total_bytes FROM versions");
    REQUIRE(v.executeStep());
    CHECK(v.getColumn(0).getInt() == 1);
    CHECK(v.getColumn(1).getString() == digest);
    CHECK(v.getColumn(2).getString() == "production");
    CHECK(v.getColumn(3).getInt64() == 456);
    Statement k(tx, "SELECT name, hash, role, model_globs FROM tokens");
    REQUIRE(k.executeStep());
    CHECK(k.getColumn(0).getString() == "ci");
    CHECK(k.getColumn(1).getString() == std::string(32, '\x5a'));
    CHECK(k.getColumn(2).getString() == "trainer");
    CHECK(k.getColumn(3).getString() == "churn-*");
    // The new table is usable.
    tx.exec(
        "INSERT INTO uploads (id, created_by, created_at_ms, updated_at_ms) "
        "VALUES ('0123456789abcdef0123456789abcdef', 'ci', 1, 1)");
    return Status::OK();
  });
  CHECK(st.ok());
  CHECK(CountVia(**db, "uploads") == 1);
}

// Agent a1 as an older schema stored it: last report at 9000, version 2
// since 5000.
void InsertAgentA1(SQLite::Database& raw) {
  raw.exec(
      "INSERT INTO agents (id, host, model, stage, version, digest, state, token_name, first_seen_ms,"
      " last_seen_ms, last_change_ms) VALUES ('a1', 'h', 'churn', 'production', 2, 'sha256:x', 'serving',"
      " 'fleet', 1000, 9000, 5000)");
}

TEST_CASE("Migration 6 carries agents' state history into confirmed intervals", "[store][migrations]") {
  TempDir t;
  const std::string path = t / "registry.db";
  {
    auto raw = Raw(path);
    REQUIRE(Migrate(*Unmigrated(path), EmbeddedMigrations(), 5).ok());
    InsertAgentA1(*raw);
    raw->exec(
        "INSERT INTO agent_events (agent_id, at_ms, model, version, digest, state) VALUES"
        " ('a1', 1000, 'churn', 1, 'sha256:w', 'serving'), ('a1', 5000, 'churn', 2, 'sha256:x', 'serving')");
  }
  auto db = Database::Open(path);
  REQUIRE(db.ok());
  Status st = (*db)->Transact(TxMode::kRead, [&](Tx& tx) {
    CHECK(QueryInt64(tx, "SELECT last_event_id FROM agents WHERE id = 'a1'") == 2);
    // The newest state was confirmed until the agent's last report; older
    // ones only at their start (their heartbeats were not recorded).
    CHECK(QueryInt64(tx, "SELECT seen_until_ms FROM agent_events WHERE id = 2") == 9000);
    CHECK(QueryInt64(tx, "SELECT seen_until_ms IS NULL FROM agent_events WHERE id = 1") == 1);
    CHECK(QueryInt64(tx, "SELECT heartbeat_ms FROM agents WHERE id = 'a1'") == 0);
    return Status::OK();
  });
  CHECK(st.ok());
}

TEST_CASE("Migration 7 gives existing agents an empty spool record", "[store][migrations]") {
  TempDir t;
  const std::string path = t / "registry.db";
  {
    auto raw = Raw(path);
    REQUIRE(Migrate(*Unmigrated(path), EmbeddedMigrations(), 6).ok());
    InsertAgentA1(*raw);
  }
  auto db = Database::Open(path);
  REQUIRE(db.ok());
  Status st = (*db)->Transact(TxMode::kRead, [&](Tx& tx) {
    CHECK(QueryText(tx, "SELECT state FROM agents WHERE id = 'a1'") == "serving");
    CHECK(QueryInt64(tx, "SELECT spool_pending_bytes + spool_max_bytes + decisions_dropped FROM agents") == 0);
    return Status::OK();
  });
  CHECK(st.ok());
}

TEST_CASE("Migration 11 marks past overrides in the stage history, and only them", "[store][migrations]") {
  TempDir t;
  const std::string path = t / "registry.db";
  {
    auto raw = Raw(path);
    REQUIRE(Migrate(*Unmigrated(path), EmbeddedMigrations(), 10).ok());
    InsertModel(*raw, "churn");
    InsertTwoVersions(*raw, "archived", "production");
    // Version 1 promoted normally at 2000; version 2 forced past a gate at 3000.
    raw->exec(
        "INSERT INTO stage_changes (model_id, version_id, from_stage, to_stage, kind, actor, reason, at_ms) VALUES"
        " (1, 1, 'staging', 'production', 'stage', 'bob', '', 2000),"
        " (1, 1, 'production', 'archived', 'stage', 'admin', 'replaced by version 2', 3000),"
        " (1, 2, 'staging', 'production', 'stage', 'admin', 'incident 42', 3000)");
    raw->exec(
        "INSERT INTO audit_events (at_ms, actor, action, model, version, details, prev_hash, hash) VALUES"
        " (2000, 'bob', 'promote', 'churn', 1, '{\"from\":\"staging\",\"to\":\"production\"}', 'x', 'y'),"
        " (3000, 'admin', 'promote', 'churn', 2, '{\"from\":\"staging\",\"to\":\"production\",\"replaced\":1,"
        "\"override\":{\"reason\":\"incident 42\",\"failed_gates\":[\"auc\"]}}', 'y', 'z')");
  }
  auto db = Database::Open(path);
  REQUIRE(db.ok());
  Status st = (*db)->Transact(TxMode::kRead, [&](Tx& tx) {
    Statement q(tx, "SELECT version_id, to_stage, kind FROM stage_changes ORDER BY id");
    std::vector<std::string> rows;
    while (q.executeStep())
      rows.push_back(std::to_string(q.getColumn(0).getInt()) + " " + q.getColumn(1).getString() + " " +
                     q.getColumn(2).getString());
    CHECK(rows == std::vector<std::string>{"1 production stage", "1 archived stage", "2 production override"});
    return Status::OK();
  });
  CHECK(st.ok());
}

TEST_CASE("Migration 17 keeps rollouts started before it on the always-valid judge", "[store][migrations]") {
  TempDir t;
  const std::string path = t / "registry.db";
  {
    auto raw = Raw(path);
    REQUIRE(Migrate(*Unmigrated(path), EmbeddedMigrations(), 16).ok());
    InsertModel(*raw, "churn");
    InsertTwoVersions(*raw, "production", "staging");
    raw->exec(
        "INSERT INTO rollouts (model_id, mode, baseline_id, candidate_id, steps, step, step_started_ms,"
        " step_every_ms, auto_advance, key_header, salt, state, revision, override_reason, started_at_ms,"
        " started_by, ended_at_ms, ended_by, reason, verdict) VALUES"
        " (1, 'canary', 1, 2, '500,2500', 1, 2000, 0, 0, '', 'salt', 'active', 2, '', 1000, 'bob', NULL, '', '', '')");
  }
  auto db = Database::Open(path);
  REQUIRE(db.ok());
  Status st = (*db)->Transact(TxMode::kRead, [&](Tx& tx) {
    CHECK(QueryText(tx,
                    "SELECT steps || ' ' || step || ' ' || state || ' ' || horizon_requests || ' ' ||"
                    " judged_requests || ' [' || last_look || ']' FROM rollouts") == "500,2500 1 active 0 0 []");
    return Status::OK();
  });
  CHECK(st.ok());
}

TEST_CASE("Migration 18 leaves every version not deleted and no retention rule", "[store][migrations]") {
  TempDir t;
  const std::string path = t / "registry.db";
  {
    auto raw = Raw(path);
    REQUIRE(Migrate(*Unmigrated(path), EmbeddedMigrations(), 17).ok());
    InsertModel(*raw, "churn");
    InsertTwoVersions(*raw, "archived", "production");
  }
  auto db = Database::Open(path);
  REQUIRE(db.ok());
  Status st = (*db)->Transact(TxMode::kRead, [&](Tx& tx) {
    CHECK(QueryText(tx,
                    "SELECT COUNT(*) || ' ' || COUNT(deleted_at_ms) || ' ' || COUNT(deleted_by) || ' ' ||"
                    " COUNT(delete_reason) FROM versions") == "2 0 0 0");
    CHECK(QueryText(tx, "SELECT COUNT(*) FROM retention") == "0");
    return Status::OK();
  });
  CHECK(st.ok());
}

TEST_CASE("Migration 19 drops the unused decision time index and keeps every decision", "[store][migrations]") {
  TempDir t;
  const std::string path = t / "registry.db";
  {
    auto raw = Raw(path);
    REQUIRE(Migrate(*Unmigrated(path), EmbeddedMigrations(), 18).ok());
    CHECK(raw->execAndGet("SELECT COUNT(*) FROM sqlite_master WHERE name = 'decisions_by_model_time'").getInt() == 1);
    raw->exec(
        "INSERT INTO decisions (request_id, model, version, digest, agent_id, at_ms, input_sha256, received_at_ms)"
        " VALUES ('r1', 'churn', 1, 'sha256:" +
        std::string(64, 'a') + "', 'a1', 5, '" + std::string(64, 'b') + "', 6)");
  }
  auto db = Database::Open(path);
  REQUIRE(db.ok());
  Status st = (*db)->Transact(TxMode::kRead, [&](Tx& tx) {
    CHECK(QueryText(tx, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'decisions_by_model_time'") == "0");
    CHECK(QueryText(tx, "SELECT model || ' ' || at_ms FROM decisions WHERE request_id = 'r1'") == "churn 5");
    return Status::OK();
  });
  CHECK(st.ok());
}

TEST_CASE("A database newer than the binary is refused", "[store][migrations]") {
  TempDir t;
  const std::string path = t / "registry.db";
  const int newer = LatestVersion() + 1;
  {
    auto raw = Raw(path);
    REQUIRE(Migrate(*Unmigrated(path), EmbeddedMigrations()).ok());
    raw->exec("DELETE FROM schema_version");
    raw->exec("INSERT INTO schema_version (version) VALUES (" + std::to_string(newer) + ")");
  }
  auto db = Database::Open(path);
  REQUIRE_FALSE(db.ok());
  CHECK(db.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(db.status().message(), Catch::Contains("newer"));
  CHECK_THAT(db.status().message(), Catch::Contains(std::to_string(newer)));

  Database::Options no_migrate;
  no_migrate.migrate = false;
  auto db2 = Database::Open(path, no_migrate);
  REQUIRE_FALSE(db2.ok());
  CHECK(db2.status().code() == StatusCode::kFailedPrecondition);
  CHECK_THAT(db2.status().message(), Catch::Contains("newer"));

  // Refusing does not touch the schema version.
  auto raw = Raw(path);
  CHECK(raw->execAndGet("SELECT MAX(version) FROM schema_version").getInt() == newer);
}

TEST_CASE("Migrations are idempotent", "[store][migrations]") {
  TempDir t;
  const std::string path = t / "registry.db";
  {
    auto db = Database::Open(path);
    REQUIRE(db.ok());
    REQUIRE((*db)
                ->Transact(TxMode::kWrite,
                           [](Tx& tx) {
                             InsertModel(tx, "m1");
                             return Status::OK();
                           })
                .ok());
  }
  for (int i = 0; i < 2; ++i) {
    auto db = Database::Open(path);
    REQUIRE(db.ok());
    CHECK(CountVia(**db, "models") == 1);
    CHECK(CountVia(**db, "schema_version") == 1);
  }
  auto raw = Raw(path);
  CHECK(Migrate(*Unmigrated(path), EmbeddedMigrations()).ok());
  CHECK(Migrate(*Unmigrated(path), EmbeddedMigrations(), 1).ok());  // a lower target is a no-op
  auto v = SchemaVersion(*Unmigrated(path));
  REQUIRE(v.ok());
  CHECK(*v == LatestVersion());
}

TEST_CASE("A failing migration leaves no partial schema", "[store][migrations]") {
  TempDir t;
  auto raw = Raw(t / "x.db");
  const std::vector<Migration> ms = {
      {1, "0001_ok.sql", "CREATE TABLE a (x INTEGER);"},
      {2, "0002_bad.sql", "CREATE TABLE b (x INTEGER); INSERT INTO no_such_table VALUES (1);"},
      {3, "0003_later.sql", "CREATE TABLE c (x INTEGER);"},
  };
  Status st = Migrate(*Unmigrated(t / "x.db"), ms);
  CHECK(st.code() == StatusCode::kInternal);
  CHECK_THAT(st.message(), Catch::Contains("0002_bad.sql"));
  auto v = SchemaVersion(*Unmigrated(t / "x.db"));
  REQUIRE(v.ok());
  CHECK(*v == 1);
  CHECK(raw->tableExists("a"));
  CHECK_FALSE(raw->tableExists("b"));
  CHECK_FALSE(raw->tableExists("c"));
}

TEST_CASE("Concurrent opens of a fresh database migrate it exactly once", "[store][migrations]") {
  TempDir t;
  const std::string path = t / "registry.db";
  constexpr int kOpeners = 4;
  std::vector<Status> results(kOpeners);
  std::vector<std::thread> threads;
  for (int i = 0; i < kOpeners; ++i) threads.emplace_back([&, i] { results[i] = Database::Open(path).status(); });
  for (auto& th : threads) th.join();
  for (const auto& st : results) {
    INFO(st.ToString());
    CHECK(st.ok());
  }
  auto raw = Raw(path);
  CHECK(Count(*raw, "schema_version") == 1);
  CHECK(SchemaVersion(*Unmigrated(path)).value() == LatestVersion());
}

TEST_CASE("A file that is not a database is refused, not overwritten", "[store][database]") {
  TempDir t;
  const std::string path = t / "registry.db";
  const std::string garbage(8192, '\x42');
  testing::WriteFile(path, garbage);
  auto db = Database::Open(path);
  REQUIRE_FALSE(db.ok());
  CHECK(db.status().code() == StatusCode::kDataLoss);
  CHECK_THAT(db.status().message(), Catch::Contains(path));
  CHECK(testing::ReadFile(path) == garbage);
}

TEST_CASE("Writers queue on the busy timeout instead of failing", "[store][database]") {
  TempDir t;
  const std::string path = t / "registry.db";
  auto a = Database::Open(path);
  REQUIRE(a.ok());
  Database::Options quick;
  quick.busy_timeout_ms = 50;
  auto impatient = Database::Open(path, quick);
  REQUIRE(impatient.ok());
  auto patient = Database::Open(path);  // default 10 s
  REQUIRE(patient.ok());

  // Assertions stay on the main thread: Catch2 is not thread-safe.
  std::promise<void> locked, release;
  Status holder_st, waiter_st;
  std::thread holder([&] {
    holder_st = (*a)->Transact(TxMode::kWrite, [&](Tx& tx) {
      InsertModel(tx, "first");
      locked.set_value();
      release.get_future().wait();
      return Status::OK();
    });
  });
  locked.get_future().wait();
  // A writer whose timeout runs out gets Unavailable (retry later), and
  // nothing of its body is applied.
  Status busy = (*impatient)->Transact(TxMode::kWrite, [](Tx& tx) {
    InsertModel(tx, "never");
    return Status::OK();
  });
  CHECK(busy.code() == StatusCode::kUnavailable);
  // Readers are not blocked by a writer in WAL mode.
  CHECK(CountVia(**patient, "models") == 0);
  // A writer with time to wait succeeds once the lock is released.
  std::thread waiter([&] {
    waiter_st = (*patient)->Transact(TxMode::kWrite, [](Tx& tx) {
      InsertModel(tx, "second");
      return Status::OK();
    });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  release.set_value();
  holder.join();
  waiter.join();
  CHECK(holder_st.ok());
  CHECK(waiter_st.ok());
  CHECK(CountVia(**patient, "models") == 2);
}

TEST_CASE("The database runs in WAL mode", "[store][database]") {
  TempDir t;
  const std::string path = t / "registry.db";
  auto db = Database::Open(path);
  REQUIRE(db.ok());
  std::string mode;
  REQUIRE((*db)
              ->Transact(TxMode::kRead,
                         [&](Tx& tx) {
                           mode = QueryText(tx, "PRAGMA journal_mode");
                           return Status::OK();
                         })
              .ok());
  CHECK(mode == "wal");
  // WAL is a property of the file: a new plain connection sees it too.
  auto raw = Raw(path);
  CHECK(raw->execAndGet("PRAGMA journal_mode").getString() == "wal");
}

TEST_CASE("Transact commits on OK and rolls back otherwise", "[store][database]") {
  TempDir t;
  auto opened = Database::Open(t / "registry.db");
  REQUIRE(opened.ok());
  Database& db = **opened;

  SECTION("OK commits") {
    Status st = db.Transact(TxMode::kWrite, [](Tx& tx) {
      InsertModel(tx, "kept");
      return Status::OK();
    });
    CHECK(st.ok());
    CHECK(CountVia(db, "models") == 1);
  }
  SECTION("an error status rolls back and is returned as is") {
    Status st = db.Transact(TxMode::kWrite, [](Tx& tx) {
      InsertModel(tx, "a");
      InsertModel(tx, "b");
      return Status::FailedPrecondition("gate failed");
    });
    CHECK(st.code() == StatusCode::kFailedPrecondition);
    CHECK(st.message() == "gate failed");
    CHECK(CountVia(db, "models") == 0);
  }
  SECTION("a SQLite exception rolls back and becomes a status") {
    Status st = db.Transact(TxMode::kWrite, [](Tx& tx) {
      InsertModel(tx, "dup");
      InsertModel(tx, "dup");  // UNIQUE constraint
      return Status::OK();
    });
    CHECK(st.code() == StatusCode::kAlreadyExists);
    CHECK(CountVia(db, "models") == 0);
    // The connection is still usable afterwards.
    CHECK(db.Transact(TxMode::kWrite, [](Tx& tx) {
              InsertModel(tx, "dup");
              return Status::OK();
            }).ok());
    CHECK(CountVia(db, "models") == 1);
  }
  SECTION("a committed write is visible to a separate connection") {
    REQUIRE(db.Transact(TxMode::kWrite, [](Tx& tx) {
                InsertModel(tx, "visible");
                return Status::OK();
              }).ok());
    auto raw = Raw(db.path());
    CHECK(Count(*raw, "models") == 1);
  }
  SECTION("foreign keys are enforced") {
    Status st = db.Transact(TxMode::kWrite, [](Tx& tx) {
      tx.exec("INSERT INTO version_metrics (version_id, name, value) VALUES (999, 'auc', 0.9)");
      return Status::OK();
    });
    CHECK_FALSE(st.ok());
    CHECK(CountVia(db, "version_metrics") == 0);
  }
}

}  // namespace
}  // namespace modelreg
