#include "store/agent_store.h"

#include "store/model_store.h"
#include "store/rollout_store.h"
#include "store/sql.h"

namespace modelreg::store {
namespace {

constexpr char kSelect[] =
    "SELECT id, host, model, stage, version, digest, state, last_error, token_name, first_seen_ms,"
    " last_seen_ms, last_change_ms, heartbeat_ms, spool_pending_bytes, spool_max_bytes, decisions_dropped"
    " FROM agents";

AgentRow Read(Statement& q) {
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
  a.heartbeat_ms = q.getColumn(12).getInt64();
  a.spool_pending_bytes = q.getColumn(13).getInt64();
  a.spool_max_bytes = q.getColumn(14).getInt64();
  a.decisions_dropped = q.getColumn(15).getInt64();
  return a;
}

constexpr char kSelectEvent[] =
    "SELECT id, agent_id, model, version, digest, state, error, at_ms, COALESCE(seen_until_ms, at_ms),"
    " heartbeat_ms FROM agent_events";

AgentEvent ReadEvent(Statement& q) {
  AgentEvent e;
  e.id = q.getColumn(0).getInt64();
  e.agent_id = q.getColumn(1).getString();
  e.model = q.getColumn(2).getString();
  if (!q.getColumn(3).isNull()) e.version = q.getColumn(3).getInt64();
  e.digest = q.getColumn(4).getString();
  e.state = q.getColumn(5).getString();
  e.error = q.getColumn(6).getString();
  e.at_ms = q.getColumn(7).getInt64();
  e.seen_until_ms = q.getColumn(8).getInt64();
  e.heartbeat_ms = q.getColumn(9).getInt64();
  return e;
}

}  // namespace

std::optional<AgentRow> FindAgent(Tx& tx, const std::string& id) {
  Statement q(tx, std::string(kSelect) + " WHERE id = ?");
  q.bind(1, id);
  if (q.executeStep()) return Read(q);
  return std::nullopt;
}

AgentUpsert UpsertAgent(Tx& tx, const AgentRow& a, int64_t now_ms) {
  AgentUpsert out{FindAgent(tx, a.id), false};
  const std::optional<AgentRow>& old = out.before;
  // A report after a silence starts a new state row even when nothing else
  // changed, so that the silence stays visible to "what was live when".
  const bool after_silence = old && now_ms - old->last_seen_ms > AgentSilenceLimitMs(old->heartbeat_ms);
  bool changed = !old || old->state != a.state || old->digest != a.digest || old->version != a.version ||
                 old->last_error != a.last_error || old->model != a.model || after_silence;
  Statement q(tx,
              "INSERT INTO agents (id, host, model, stage, version, digest, state, last_error, token_name,"
              " first_seen_ms, last_seen_ms, last_change_ms, heartbeat_ms, spool_pending_bytes,"
              " spool_max_bytes, decisions_dropped)"
              " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
              " ON CONFLICT(id) DO UPDATE SET host = excluded.host, model = excluded.model,"
              " stage = excluded.stage, version = excluded.version, digest = excluded.digest,"
              " state = excluded.state, last_error = excluded.last_error, token_name = excluded.token_name,"
              " last_seen_ms = excluded.last_seen_ms, heartbeat_ms = excluded.heartbeat_ms,"
              " spool_pending_bytes = excluded.spool_pending_bytes,"
              " spool_max_bytes = excluded.spool_max_bytes, decisions_dropped = excluded.decisions_dropped,"
              " last_change_ms = CASE WHEN ? = 1 THEN excluded.last_change_ms ELSE agents.last_change_ms END");
  q.bind(1, a.id);
  q.bind(2, a.host);
  q.bind(3, a.model);
  q.bind(4, a.stage);
  if (a.version) q.bind(5, *a.version);
  else q.bind(5);
  q.bind(6, a.digest);
  q.bind(7, a.state);
  q.bind(8, a.last_error);
  q.bind(9, a.token_name);
  q.bind(10, old ? old->first_seen_ms : now_ms);
  q.bind(11, now_ms);
  q.bind(12, now_ms);
  q.bind(13, a.heartbeat_ms);
  q.bind(14, a.spool_pending_bytes);
  q.bind(15, a.spool_max_bytes);
  q.bind(16, a.decisions_dropped);
  q.bind(17, changed ? 1 : 0);
  q.exec();
  if (!changed) {
    Statement u(tx,
                "UPDATE agent_events SET seen_until_ms = ?"
                " WHERE id = (SELECT last_event_id FROM agents WHERE id = ?)");
    u.bind(1, now_ms);
    u.bind(2, a.id);
    u.exec();
    return out;
  }
  Statement e(tx,
              "INSERT INTO agent_events (agent_id, at_ms, model, version, digest, state, error,"
              " seen_until_ms, heartbeat_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  e.bind(1, a.id);
  e.bind(2, now_ms);
  e.bind(3, a.model);
  if (a.version) e.bind(4, *a.version);
  else e.bind(4);
  e.bind(5, a.digest);
  e.bind(6, a.state);
  e.bind(7, a.last_error);
  e.bind(8, now_ms);
  e.bind(9, a.heartbeat_ms);
  e.executeStep();
  const int64_t event_id = e.getColumn(0).getInt64();
  Statement l(tx, "UPDATE agents SET last_event_id = ? WHERE id = ?");
  l.bind(1, event_id);
  l.bind(2, a.id);
  l.exec();
  out.appended = true;
  return out;
}

std::vector<AgentEvent> AgentStatesAt(Tx& tx, const std::string& model, int64_t at_ms, const std::string& agent_id) {
  // Newest row per agent at or before the time: a range scan of
  // (model, agent_id, at_ms) per agent, then one row each by primary key.
  std::string sql = "SELECT MAX(at_ms), agent_id FROM agent_events WHERE model = ? AND at_ms <= ?" +
                    std::string(agent_id.empty() ? "" : " AND agent_id = ?") + " GROUP BY agent_id ORDER BY agent_id";
  Statement q(tx, sql);
  q.bind(1, model);
  q.bind(2, at_ms);
  if (!agent_id.empty()) q.bind(3, agent_id);
  std::vector<std::pair<std::string, int64_t>> newest;
  while (q.executeStep()) newest.emplace_back(q.getColumn(1).getString(), q.getColumn(0).getInt64());
  Statement row(tx,
                std::string(kSelectEvent) + " WHERE model = ? AND agent_id = ? AND at_ms = ? ORDER BY id DESC LIMIT 1");
  std::vector<AgentEvent> out;
  for (const auto& [agent, t] : newest) {
    row.reset();
    row.bind(1, model);
    row.bind(2, agent);
    row.bind(3, t);
    if (row.executeStep()) out.push_back(ReadEvent(row));
  }
  return out;
}

std::optional<AgentEvent> NextAgentEvent(Tx& tx, const std::string& model, const std::string& agent_id,
                                         int64_t after_ms) {
  Statement q(tx,
              std::string(kSelectEvent) + " WHERE model = ? AND agent_id = ? AND at_ms > ? ORDER BY at_ms, id LIMIT 1");
  q.bind(1, model);
  q.bind(2, agent_id);
  q.bind(3, after_ms);
  if (q.executeStep()) return ReadEvent(q);
  return std::nullopt;
}

std::vector<AgentRow> AgentsWithDigest(Tx& tx, const std::string& model, const std::string& digest) {
  Statement q(tx, std::string(kSelect) + " WHERE model = ? AND digest = ? ORDER BY id");
  q.bind(1, model);
  q.bind(2, digest);
  std::vector<AgentRow> out;
  while (q.executeStep()) out.push_back(Read(q));
  return out;
}

std::vector<AgentRow> ListAgents(Tx& tx, const std::string& model) {
  std::string sql = std::string(kSelect) + (model.empty() ? "" : " WHERE model = ?") + " ORDER BY model, id";
  Statement q(tx, sql);
  if (!model.empty()) q.bind(1, model);
  std::vector<AgentRow> out;
  while (q.executeStep()) out.push_back(Read(q));
  return out;
}

int64_t ReleaseSeq(Tx& tx, const std::string& model, const std::string& stage) {
  Statement q(tx,
              "SELECT COALESCE(MAX(s.id), 0) FROM stage_changes s JOIN models m ON m.id = s.model_id"
              " WHERE m.name = ? AND (s.to_stage = ? OR s.from_stage = ?)");
  q.bind(1, model);
  q.bind(2, stage);
  q.bind(3, stage);
  q.executeStep();
  const int64_t stage_seq = q.getColumn(0).getInt64();
  // Production's release also carries the rollout (docs/rollouts.md): every
  // rollout change adds one to the revisions, every stage change raises
  // the stage part, so the sum grows at each change of either.
  return stage == "production" ? stage_seq + RolloutRevisions(tx, model) : stage_seq;
}

std::optional<VersionRecord> VersionInStage(Tx& tx, const std::string& model, const std::string& stage) {
  Statement q(tx,
              "SELECT v.number FROM versions v JOIN models m ON m.id = v.model_id"
              " WHERE m.name = ? AND v.stage = ? ORDER BY v.number DESC LIMIT 1");
  q.bind(1, model);
  q.bind(2, stage);
  if (!q.executeStep()) return std::nullopt;
  return FindVersionByNumber(tx, model, q.getColumn(0).getInt64());
}

}  // namespace modelreg::store
