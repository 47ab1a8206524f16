#include "store/decision_store.h"

#include <algorithm>

#include "store/sql.h"

namespace modelreg::store {

namespace {

// Rows per INSERT on SQLite: 9 parameters a row, well under its limit.
constexpr size_t kRowsPerInsert = 250;

size_t InsertDecisionsSqlite(Tx& tx, const std::vector<DecisionRecord>& ds, int64_t now_ms) {
  size_t added = 0;
  for (size_t first = 0; first < ds.size(); first += kRowsPerInsert) {
    const size_t n = std::min(kRowsPerInsert, ds.size() - first);
    std::string sql =
        "INSERT INTO decisions (request_id, model, version, digest, agent_id, at_ms, input_sha256, output,"
        " received_at_ms) VALUES ";
    for (size_t i = 0; i < n; ++i) sql += i ? ", (?, ?, ?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?, ?, ?)";
    sql += " ON CONFLICT DO NOTHING";
    Statement q(tx, sql);
    int k = 1;
    for (size_t i = first; i < first + n; ++i) {
      const DecisionRecord& d = ds[i];
      q.bind(k++, d.request_id);
      q.bind(k++, d.model);
      if (d.version) q.bind(k++, *d.version);
      else q.bind(k++);
      q.bind(k++, d.digest);
      q.bind(k++, d.agent_id);
      q.bind(k++, d.at_ms);
      q.bind(k++, d.input_sha256);
      if (d.output) q.bind(k++, *d.output);
      else q.bind(k++);
      q.bind(k++, now_ms);
    }
    added += static_cast<size_t>(q.exec());
  }
  return added;
}

// PostgreSQL: the whole batch as one statement of nine arrays (unnest), so
// one round trip and one small statement to plan, whatever the batch size.
size_t InsertDecisionsPostgres(Tx& tx, const std::vector<DecisionRecord>& ds, int64_t now_ms) {
  PgArrayBuilder request_id, model, version, digest, agent_id, at_ms, input_sha256, output;
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
  }
  Statement q(tx,
              "INSERT INTO decisions (request_id, model, version, digest, agent_id, at_ms, input_sha256, output,"
              " received_at_ms) SELECT r, m, v, d, a, t, i, o, ?::bigint FROM unnest(?::text[], ?::text[],"
              " ?::bigint[], ?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[]) AS u(r, m, v, d, a, t, i, o)"
              " ON CONFLICT DO NOTHING");
  q.bind(1, now_ms);
  int k = 2;
  for (PgArrayBuilder* a : {&request_id, &model, &version, &digest, &agent_id, &at_ms, &input_sha256, &output})
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
              " received_at_ms FROM decisions WHERE request_id = ?");
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
  return d;
}

}  // namespace modelreg::store
