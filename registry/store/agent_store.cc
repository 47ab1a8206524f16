#include "store/agent_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include "store/model_store.h"

namespace modelreg::store {
namespace {

constexpr char kSelect[] =
    "SELECT id, host, model, stage, version, digest, state, last_error, token_name, first_seen_ms,"
    " last_seen_ms, last_change_ms FROM agents";

AgentRow Read(SQLite::Statement& q) {
  AgentRow a;
  a.id = q.getColumn(0).getString();
  a.host = q.getColumn(1).getString();
  a.model = q.getColumn(2).getString();
  a.stage = q.getColumn(3).getString();
  if (!q.getColumn(4).isNull()) a.version = q.getColumn(4).getInt64();
  a.digest = q.getColumn(5).getString();
  a.state = q.getColumn(6).getString();
  a.last_error = q.getColumn(7).getString();
  a.token_name = q.getColumn(8).getString();
  a.first_seen_ms = q.getColumn(9).getInt64();
  a.last_seen_ms = q.getColumn(10).getInt64();
  a.last_change_ms = q.getColumn(11).getInt64();
  return a;
}

}  // namespace

std::optional<AgentRow> FindAgent(Tx& tx, const std::string& id) {
  SQLite::Statement q(tx, std::string(kSelect) + " WHERE id = ?");
  q.bind(1, id);
  if (q.executeStep()) return Read(q);
  return std::nullopt;
}

bool UpsertAgent(Tx& tx, const AgentRow& a, int64_t now_ms) {
  auto old = FindAgent(tx, a.id);
  bool changed = !old || old->state != a.state || old->digest != a.digest || old->version != a.version ||
                 old->last_error != a.last_error || old->model != a.model;
  SQLite::Statement q(tx,
                      "INSERT INTO agents (id, host, model, stage, version, digest, state, last_error, token_name,"
                      " first_seen_ms, last_seen_ms, last_change_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                      " ON CONFLICT(id) DO UPDATE SET host = excluded.host, model = excluded.model,"
                      " stage = excluded.stage, version = excluded.version, digest = excluded.digest,"
                      " state = excluded.state, last_error = excluded.last_error, token_name = excluded.token_name,"
                      " last_seen_ms = excluded.last_seen_ms,"
                      " last_change_ms = CASE WHEN ? THEN excluded.last_change_ms ELSE agents.last_change_ms END");
  q.bind(1, a.id);
  q.bind(2, a.host);
  q.bind(3, a.model);
  q.bind(4, a.stage);
  if (a.version) q.bind(5, *a.version); else q.bind(5);
  q.bind(6, a.digest);
  q.bind(7, a.state);
  q.bind(8, a.last_error);
  q.bind(9, a.token_name);
  q.bind(10, old ? old->first_seen_ms : now_ms);
  q.bind(11, now_ms);
  q.bind(12, now_ms);
  q.bind(13, changed ? 1 : 0);
  q.exec();
  if (changed) {
    SQLite::Statement e(tx, "INSERT INTO agent_events (agent_id, at_ms, model, version, digest, state, error) VALUES (?, ?, ?, ?, ?, ?, ?)");
    e.bind(1, a.id);
    e.bind(2, now_ms);
    e.bind(3, a.model);
    if (a.version) e.bind(4, *a.version); else e.bind(4);
    e.bind(5, a.digest);
    e.bind(6, a.state);
    e.bind(7, a.last_error);
    e.exec();
  }
  return changed;
}

std::vector<AgentRow> ListAgents(Tx& tx, const std::string& model) {
  std::string sql = std::string(kSelect) + (model.empty() ? "" : " WHERE model = ?") + " ORDER BY model, id";
  SQLite::Statement q(tx, sql);
  if (!model.empty()) q.bind(1, model);
  std::vector<AgentRow> out;
  while (q.executeStep()) out.push_back(Read(q));
  return out;
}

int64_t ReleaseSeq(Tx& tx, const std::string& model, const std::string& stage) {
  SQLite::Statement q(tx,
                      "SELECT COALESCE(MAX(s.id), 0) FROM stage_changes s JOIN models m ON m.id = s.model_id"
                      " WHERE m.name = ? AND (s.to_stage = ? OR s.from_stage = ?)");
  q.bind(1, model);
  q.bind(2, stage);
  q.bind(3, stage);
  q.executeStep();
  return q.getColumn(0).getInt64();
}

std::optional<VersionRecord> VersionInStage(Tx& tx, const std::string& model, const std::string& stage) {
  SQLite::Statement q(tx,
                      "SELECT v.number FROM versions v JOIN models m ON m.id = v.model_id"
                      " WHERE m.name = ? AND v.stage = ? ORDER BY v.number DESC LIMIT 1");
  q.bind(1, model);
  q.bind(2, stage);
  if (!q.executeStep()) return std::nullopt;
  return FindVersionByNumber(tx, model, q.getColumn(0).getInt64());
}

}  // namespace modelreg::store
