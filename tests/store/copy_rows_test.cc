// store::CopyAllRows (registry/store/copy_rows.h) on real databases, with
// pages far smaller than the tables: every row must arrive exactly once
// whatever its key, also where keys sort in ways a careless page bound gets
// wrong (composite keys whose second column goes back down, text that is
// not in numeric or case order). SQLite to SQLite always; in the
// PostgreSQL run ([service], tests/CMakeLists.txt) also SQLite into
// PostgreSQL and PostgreSQL back into SQLite.
#include "store/copy_rows.h"

#include <catch2/catch.hpp>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "store/database.h"
#include "store/monitor_store.h"
#include "store/sql.h"
#include "store/workflow_store.h"
#include "support/pg_test_db.h"
#include "support/temp_dir.h"

namespace modelreg {
namespace {

using testing::TempDir;

std::unique_ptr<Database> Open(const std::string& target) {
  auto db = Database::Open(target);
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  return std::move(db).value();
}

// Text keys in an order that differs by engine, collation, case and length.
const std::vector<std::string> kTextKeys = {"",   "0",   "1",  "10", "9",        "A", "a", "B",  "b", "a ",   "a-1",
                                            "a1", "a_1", "ab", "Z",  "\xC3\xA9", "e", "E", "zz", "~", "a\x7f"};
// Version ids out of numeric-as-text order (9 < 10 < 100).
const std::vector<int64_t> kVersionIds = {1, 2, 9, 10, 11, 100};

void Fill(Database& db) {
  Status st = db.Transact(TxMode::kWrite, [&](Tx& tx) {
    tx.exec("INSERT INTO models (id, name, created_at_ms, created_by) VALUES (7, 'churn', 1, 'test')");
    Statement v(tx,
                "INSERT INTO versions (id, model_id, number, digest, manifest_size, config_digest, file_count,"
                " total_bytes, created_at_ms, created_by) VALUES (?, 7, ?, ?, 1, 'c', 1, 1, 1, 'test')");
    Statement m(tx, "INSERT INTO version_metrics (version_id, name, value) VALUES (?, ?, ?)");
    int64_t number = 0;
    for (int64_t id : kVersionIds) {
      v.bind(1, id);
      v.bind(2, ++number);
      v.bind(3, "sha256:" + std::to_string(id));
      v.exec();
      v.reset();
      // Version 1 has every name (its last key sorts after the first
      // names of version 2), version 2 one name, the rest a few.
      const size_t names = id == 1 ? kTextKeys.size() : id == 2 ? 1 : static_cast<size_t>(id % 5 + 1);
      for (size_t k = 0; k < names; ++k) {
        m.bind(1, id);
        m.bind(2, kTextKeys[k]);
        m.bind(3, static_cast<double>(k) + 0.5);
        m.exec();
        m.reset();
      }
    }
    Statement d(tx,
                "INSERT INTO decisions (request_id, model, version, digest, agent_id, at_ms, input_sha256, output,"
                " received_at_ms) VALUES (?, 'churn', 2, 'sha256:2', 'web-1', ?, 'in', ?, 5)");
    int64_t at = 0;
    for (const std::string& key : kTextKeys) {
      d.bind(1, key);
      d.bind(2, ++at);
      if (at % 3 == 0) {
        d.bind(3);
      } else {
        d.bind(3, "out " + key);
      }
      d.exec();
      d.reset();
    }
    return Status::OK();
  });
  INFO(st.ToString());
  REQUIRE(st.ok());
}

// Every row of `table` as one string, as a set: engines order differently.
std::multiset<std::string> Rows(Database& db, const std::string& table, const std::string& columns) {
  std::multiset<std::string> out;
  Status st = db.Transact(TxMode::kRead, [&](Tx& tx) {
    Statement q(tx, "SELECT " + columns + " FROM " + table);
    while (q.executeStep()) {
      std::string row;
      for (int c = 0; c < q.getColumnCount(); ++c)
        row += (q.getColumn(c).isNull() ? std::string("NULL") : "'" + q.getColumn(c).getString() + "'") + "|";
      out.insert(row);
    }
    return Status::OK();
  });
  REQUIRE(st.ok());
  return out;
}

int64_t Added(const store::CopyReport& r, const std::string& table) {
  for (const auto& [name, n] : r.rows)
    if (name == table) return n;
  FAIL("no " << table << " in the report");
  return -1;
}

void CheckCopied(Database& from, Database& to, int64_t page_rows) {
  store::CopyReport first;
  Status st = store::CopyAllRows(from, to, &first, page_rows);
  INFO(st.ToString());
  REQUIRE(st.ok());
  const int64_t metrics = static_cast<int64_t>(Rows(from, "version_metrics", "version_id").size());
  const int64_t total = 1 + static_cast<int64_t>(kVersionIds.size()) + metrics + kTextKeys.size();
  // Read once each: no page repeats or skips a row.
  CHECK(first.rows_read == total);
  CHECK(Added(first, "models") == 1);
  CHECK(Added(first, "versions") == static_cast<int64_t>(kVersionIds.size()));
  CHECK(Added(first, "version_metrics") == metrics);
  CHECK(Added(first, "decisions") == static_cast<int64_t>(kTextKeys.size()));
  CHECK(Rows(to, "versions", "id, number, digest") == Rows(from, "versions", "id, number, digest"));
  CHECK(Rows(to, "version_metrics", "version_id, name, value") ==
        Rows(from, "version_metrics", "version_id, name, value"));
  const std::string decision = "request_id, at_ms, output";
  CHECK(Rows(to, "decisions", decision) == Rows(from, "decisions", decision));
  CHECK(Rows(to, "decisions", decision).size() == kTextKeys.size());
  // Run again: every row read again, none added.
  store::CopyReport second;
  REQUIRE(store::CopyAllRows(from, to, &second, page_rows).ok());
  CHECK(second.rows_read == total);
  for (const auto& [table, n] : second.rows) {
    INFO(table);
    CHECK(n == 0);
  }
}

TEST_CASE("CopyAllRows: pages by key, every row once, whatever the page size", "[store][copy][service]") {
  const int64_t page_rows = GENERATE(1, 2, 3, 7, store::kCopyPageRows);
  INFO("page_rows " << page_rows);
  TempDir t;
  auto source = Open(t / "source.db");
  Fill(*source);
  SECTION("into SQLite") {
    auto target = Open(t / "target.db");
    CheckCopied(*source, *target, page_rows);
  }
  if (testing::TestPostgresCluster()) {
    SECTION("into PostgreSQL") {
      auto target = Open(testing::NewTestDatabase());
      CheckCopied(*source, *target, page_rows);
    }
    SECTION("from PostgreSQL") {
      auto pg = Open(testing::NewTestDatabase());
      Fill(*pg);
      auto target = Open(t / "target.db");
      CheckCopied(*pg, *target, page_rows);
    }
  }
}

// Migration 16: the policy's monitoring settings, monitoring windows and
// drift statistics (NULL statistics without a reference) arrive as they were.
TEST_CASE("CopyAllRows: copies monitoring windows, drift stats and the policy's drift settings",
          "[store][copy][service]") {
  TempDir t;
  auto source = Open(t / "source.db");
  Fill(*source);
  Status st = source->Transact(TxMode::kWrite, [&](Tx& tx) {
    Policy p;
    p.drift_alpha = 0.01;
    p.drift_min_psi = 0.05;
    p.max_violation_rate = 0.2;
    store::SetPolicy(tx, 7, p, "admin", 9);
    for (int64_t minute : {1, 2, 3}) {
      store::MonitorWindowRow w;
      w.model_id = 7;
      w.version_id = 2;
      w.agent_id = "a1";
      w.run = "0123456789abcdef";
      w.start_ms = minute * 60000;
      w.end_ms = w.start_ms + 60000;
      w.reference = minute != 3;
      w.rows = 100 * minute;
      const int64_t id = store::InsertMonitorWindow(tx, w);
      REQUIRE(id > 0);
      REQUIRE(store::InsertMonitorWindow(tx, w) == 0);  // a resent window is kept once
      for (const char* feature : {"age", "plan"}) {
        store::DriftStatRow s;
        s.feature = feature;
        s.n = 100 * minute;
        s.counts = "[1,2,3]";
        if (w.reference) {
          s.psi = 0.1 * static_cast<double>(minute);
          s.js = 0.05;
          s.threshold = 0.08;
          s.alarm = minute == 2;
        }
        store::InsertDriftStat(tx, id, s);
      }
    }
    return Status::OK();
  });
  REQUIRE(st.ok());
  auto check = [&](Database& from, Database& to) {
    store::CopyReport report;
    Status copied = store::CopyAllRows(from, to, &report, 2);
    INFO(copied.ToString());
    REQUIRE(copied.ok());
    CHECK(Added(report, "monitor_windows") == 3);
    CHECK(Added(report, "drift_stats") == 6);
    const std::string windows = "id, model_id, version_id, agent_id, run, start_ms, has_reference, row_count";
    CHECK(Rows(to, "monitor_windows", windows) == Rows(from, "monitor_windows", windows));
    const std::string stats = "window_id, feature, n, counts, alarm";
    CHECK(Rows(to, "drift_stats", stats) == Rows(from, "drift_stats", stats));
    Status read = to.Transact(TxMode::kRead, [&](Tx& tx) {
      Policy p = store::GetPolicy(tx, 7);
      CHECK(p.drift_alpha == 0.01);
      CHECK(p.drift_min_psi == 0.05);
      CHECK(p.max_violation_rate == 0.2);
      auto points = store::ListDrift(tx, {7, std::nullopt, 0, "", 100});
      REQUIRE(points.size() == 6);
      CHECK(points[0].stat.psi == Approx(0.1));
      CHECK_FALSE(points[5].stat.psi.has_value());
      CHECK(points[2].stat.alarm);
      return Status::OK();
    });
    CHECK(read.ok());
  };
  SECTION("into SQLite") {
    auto target = Open(t / "target.db");
    check(*source, *target);
  }
  if (testing::TestPostgresCluster()) {
    SECTION("into PostgreSQL") {
      auto target = Open(testing::NewTestDatabase());
      check(*source, *target);
    }
  }
}

TEST_CASE("CopyAllRows: a page size below one is refused", "[store][copy]") {
  TempDir t;
  auto source = Open(t / "source.db");
  auto target = Open(t / "target.db");
  store::CopyReport report;
  Status st = store::CopyAllRows(*source, *target, &report, 0);
  CHECK(st.code() == StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace modelreg
