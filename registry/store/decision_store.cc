#include "store/decision_store.h"

#include "store/sql.h"

namespace modelreg::store {

size_t InsertDecisions(Tx& tx, const std::vector<DecisionRecord>& ds, int64_t now_ms) {
  Statement q(tx,
              "INSERT INTO decisions (request_id, model, version, digest, agent_id, at_ms,"
              " input_sha256, output, received_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
              " ON CONFLICT DO NOTHING");
  size_t added = 0;
  for (const auto& d : ds) {
    q.bind(1, d.request_id);
    q.bind(2, d.model);
    if (d.version) q.bind(3, *d.version);
    else q.bind(3);
    q.bind(4, d.digest);
    q.bind(5, d.agent_id);
    q.bind(6, d.at_ms);
    q.bind(7, d.input_sha256);
    if (d.output) q.bind(8, *d.output);
    else q.bind(8);
    q.bind(9, now_ms);
    added += static_cast<size_t>(q.exec());
    q.reset();
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
