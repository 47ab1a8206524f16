#include "store/decision_store.h"

#include <algorithm>
#include <optional>
#include <string>

#include "core/cpu_yield.h"
#include "store/sql.h"

namespace modelreg::store {

namespace {

// Rows per INSERT on SQLite: 12 parameters a row, 600 a statement, well
// under its limit (32 766 bound parameters). Each statement runs in one
// go (~0.15 ms), between the yields of the loop around it (core/cpu_yield.h):
// at 250 rows a run took ~1 ms and held a core that long while a proxied
// request waited for it; ingest throughput was the same within the noise
// (bench/README.md "Agent proxy").
constexpr size_t kRowsPerInsert = 50;
constexpr size_t kParamsPerRow = 12;
static_assert(kRowsPerInsert * kParamsPerRow <= 32766);

// The optional text columns (arm, fallback): "" is stored as NULL, as rows
// from before migration 0015 have it.
// Bound without a copy: the records outlive the statement's exec().
void BindText(Statement& q, int k, const std::string& v) {
  if (v.empty()) q.bind(k);
  else q.bind_no_copy(k, v);
}

std::string InsertSqlite(size_t rows) {
  std::string sql =
      "INSERT INTO decisions (request_id, model, version, digest, agent_id, at_ms, input_sha256, output,"
      " received_at_ms, arm, rollout_id, fallback) VALUES ";
  sql.reserve(sql.size() + rows * 40 + 32);
  for (size_t i = 0; i < rows; ++i)
    sql += i ? ", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  sql += " ON CONFLICT DO NOTHING";
  return sql;
}

// One statement of kRowsPerInsert rows, prepared once per batch and run for
// each full chunk (a prepare per 50 rows would cost about as much as
// inserting them), and one for the rest.
size_t InsertDecisionsSqlite(Tx& tx, const std::vector<DecisionRecord>& ds, int64_t now_ms) {
  size_t added = 0;
  std::optional<Statement> full;
  CpuYield yield;  // share the core with request threads (core/cpu_yield.h)
  for (size_t first = 0; first < ds.size(); first += kRowsPerInsert) {
    const size_t n = std::min(kRowsPerInsert, ds.size() - first);
    std::optional<Statement> rest;
    Statement* q;
    if (n == kRowsPerInsert) {
      if (full) full->reset();
      else full.emplace(tx, InsertSqlite(n));
      q = &*full;
    } else {
      q = &rest.emplace(tx, InsertSqlite(n));
    }
    int k = 1;
    for (size_t i = first; i < first + n; ++i) {
      yield.Tick();
      const DecisionRecord& d = ds[i];
      q->bind_no_copy(k++, d.request_id);
      q->bind_no_copy(k++, d.model);
      if (d.version) q->bind(k++, *d.version);
      else q->bind(k++);
      q->bind_no_copy(k++, d.digest);
      q->bind_no_copy(k++, d.agent_id);
      q->bind(k++, d.at_ms);
      q->bind_no_copy(k++, d.input_sha256);
      if (d.output) q->bind_no_copy(k++, *d.output);
      else q->bind(k++);
      q->bind(k++, now_ms);
      BindText(*q, k++, d.arm);
      if (d.rollout_id) q->bind(k++, *d.rollout_id);
      else q->bind(k++);
      BindText(*q, k++, d.fallback);
    }
    added += static_cast<size_t>(q->exec());
  }
  return added;
}

// PostgreSQL: the whole batch as one statement of eleven arrays (unnest), so
// one round trip and one small statement to plan, whatever the batch size.
size_t InsertDecisionsPostgres(Tx& tx, const std::vector<DecisionRecord>& ds, int64_t now_ms) {
  PgArrayBuilder request_id, model, version, digest, agent_id, at_ms, input_sha256, output, arm, rollout_id, fallback;
  for (const DecisionRecord& d : ds) {
    request_id.Add(d.request_id);
    model.Add(d.model);
    if (d.version) version.Add(std::to_string(*d.version));
    else version.AddNull();
    digest.Add(d.digest);
    agent_id.Add(d.agent_id);
    at_ms.Add(std::to_string(d.at_ms));
    input_sha256.Add(d.input_sha256);
    if (d.output) output.Add(*d.output);
    else output.AddNull();
    if (!d.arm.empty()) arm.Add(d.arm);
    else arm.AddNull();
    if (d.rollout_id) rollout_id.Add(std::to_string(*d.rollout_id));
    else rollout_id.AddNull();
    if (!d.fallback.empty()) fallback.Add(d.fallback);
    else fallback.AddNull();
  }
  Statement q(tx,
              "INSERT INTO decisions (request_id, model, version, digest, agent_id, at_ms, input_sha256, output,"
              " received_at_ms, arm, rollout_id, fallback) SELECT r, m, v, d, a, t, i, o, ?::bigint, ar, ro, fb"
              " FROM unnest(?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::bigint[], ?::text[],"
              " ?::text[], ?::text[], ?::bigint[], ?::text[]) AS u(r, m, v, d, a, t, i, o, ar, ro, fb)"
              " ON CONFLICT DO NOTHING");
  q.bind(1, now_ms);
  int k = 2;
  for (PgArrayBuilder* a : {&request_id, &model, &version, &digest, &agent_id, &at_ms, &input_sha256, &output, &arm,
                            &rollout_id, &fallback})
    q.bind(k++, a->Finish());
  return static_cast<size_t>(q.exec());
}

}  // namespace

size_t InsertDecisions(Tx& tx, const std::vector<DecisionRecord>& ds, int64_t now_ms) {
  if (ds.empty()) return 0;
  return tx.dialect() == SqlDialect::kPostgres ? InsertDecisionsPostgres(tx, ds, now_ms)
                                               : InsertDecisionsSqlite(tx, ds, now_ms);
}

std::optional<DecisionRecord> FindDecision(Tx& tx, const std::string& request_id) {
  Statement q(tx,
              "SELECT request_id, model, version, digest, agent_id, at_ms, input_sha256, output,"
              " received_at_ms, arm, rollout_id, fallback FROM decisions WHERE request_id = ?");
  q.bind(1, request_id);
  if (!q.executeStep()) return std::nullopt;
  DecisionRecord d;
  d.request_id = q.getColumn(0).getString();
  d.model = q.getColumn(1).getString();
  if (!q.getColumn(2).isNull()) d.version = q.getColumn(2).getInt64();
  d.digest = q.getColumn(3).getString();
  d.agent_id = q.getColumn(4).getString();
  d.at_ms = q.getColumn(5).getInt64();
  d.input_sha256 = q.getColumn(6).getString();
  if (!q.getColumn(7).isNull()) d.output = q.getColumn(7).getString();
  d.received_at_ms = q.getColumn(8).getInt64();
  if (!q.getColumn(9).isNull()) d.arm = q.getColumn(9).getString();
  if (!q.getColumn(10).isNull()) d.rollout_id = q.getColumn(10).getInt64();
  if (!q.getColumn(11).isNull()) d.fallback = q.getColumn(11).getString();
  return d;
}

}  // namespace modelreg::store
