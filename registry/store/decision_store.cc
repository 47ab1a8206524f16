#include "store/decision_store.h"

#include <algorithm>

#include "store/sql.h"

namespace modelreg::store {

// Rows per INSERT: one round trip per chunk on PostgreSQL (a statement per
// row would cost a round trip each), 9 parameters a row, well under both
// engines' parameter limits.
constexpr size_t kRowsPerInsert = 250;

size_t InsertDecisions(Tx& tx, const std::vector<DecisionRecord>& ds, int64_t now_ms) {
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
