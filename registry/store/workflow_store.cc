#include "store/workflow_store.h"

#include "store/model_store.h"
#include "store/sql.h"

namespace modelreg::store {

bool InsertApproval(Tx& tx, int64_t version_id, const std::string& approver, const std::string& comment,
                    int64_t now_ms) {
  Statement q(tx,
              "INSERT INTO approvals (version_id, approver, comment, created_at_ms)"
              " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING");
  q.bind(1, version_id);
  q.bind(2, approver);
  q.bind(3, comment);
  q.bind(4, now_ms);
  return q.exec() > 0;
}

std::vector<ApprovalInfo> ListApprovals(Tx& tx, int64_t version_id) {
  Statement q(
      tx,
      "SELECT approver, comment, created_at_ms FROM approvals WHERE version_id = ? ORDER BY created_at_ms, approver");
  q.bind(1, version_id);
  std::vector<ApprovalInfo> out;
  while (q.executeStep())
    out.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getInt64()});
  return out;
}

std::map<int64_t, std::vector<ApprovalInfo>> ListModelApprovals(Tx& tx, int64_t model_id) {
  Statement q(tx,
              "SELECT v.number, a.approver, a.comment, a.created_at_ms FROM approvals a"
              " JOIN versions v ON v.id = a.version_id WHERE v.model_id = ?"
              " ORDER BY v.number, a.created_at_ms, a.approver");
  q.bind(1, model_id);
  std::map<int64_t, std::vector<ApprovalInfo>> out;
  while (q.executeStep())
    out[q.getColumn(0).getInt64()].push_back(
        {q.getColumn(1).getString(), q.getColumn(2).getString(), q.getColumn(3).getInt64()});
  return out;
}

std::optional<PolicyRow> FindPolicy(Tx& tx, int64_t model_id) {
  PolicyRow row;
  bool found = false;
  Statement q(tx,
              "SELECT approvals_required, require_clean_code, require_data_digests, updated_by, drift_alpha,"
              " drift_min_psi, max_violation_rate FROM policies WHERE model_id = ?");
  q.bind(1, model_id);
  if (q.executeStep()) {
    found = true;
    row.policy.approvals_required = q.getColumn(0).getInt();
    row.policy.require_clean_code = q.getColumn(1).getInt() != 0;
    row.policy.require_data_digests = q.getColumn(2).getInt() != 0;
    row.updated_by = q.getColumn(3).getString();
    row.policy.drift_alpha = q.getColumn(4).getDouble();
    row.policy.drift_min_psi = q.getColumn(5).getDouble();
    if (!q.getColumn(6).isNull()) row.policy.max_violation_rate = q.getColumn(6).getDouble();
  }
  Statement g(tx, "SELECT metric, op, threshold FROM policy_gates WHERE model_id = ? ORDER BY position");
  g.bind(1, model_id);
  while (g.executeStep()) {
    found = true;
    Gate gate{g.getColumn(0).getString(), g.getColumn(1).getString(), std::nullopt};
    if (!g.getColumn(2).isNull()) gate.threshold = g.getColumn(2).getDouble();
    row.policy.gates.push_back(gate);
  }
  if (!found) return std::nullopt;
  return row;
}

Policy GetPolicy(Tx& tx, int64_t model_id) {
  auto row = FindPolicy(tx, model_id);
  return row ? row->policy : Policy{};
}

void SetPolicy(Tx& tx, int64_t model_id, const Policy& p, const std::string& actor, int64_t now_ms) {
  Statement up(tx,
               "INSERT INTO policies (model_id, approvals_required, require_clean_code,"
               " require_data_digests, updated_at_ms, updated_by, drift_alpha, drift_min_psi, max_violation_rate)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
               " ON CONFLICT(model_id) DO UPDATE SET approvals_required = excluded.approvals_required,"
               " require_clean_code = excluded.require_clean_code,"
               " require_data_digests = excluded.require_data_digests,"
               " updated_at_ms = excluded.updated_at_ms, updated_by = excluded.updated_by,"
               " drift_alpha = excluded.drift_alpha, drift_min_psi = excluded.drift_min_psi,"
               " max_violation_rate = excluded.max_violation_rate");
  up.bind(1, model_id);
  up.bind(2, p.approvals_required);
  up.bind(3, p.require_clean_code ? 1 : 0);
  up.bind(4, p.require_data_digests ? 1 : 0);
  up.bind(5, now_ms);
  up.bind(6, actor);
  up.bind(7, p.drift_alpha);
  up.bind(8, p.drift_min_psi);
  if (p.max_violation_rate) up.bind(9, *p.max_violation_rate);
  else up.bind(9);
  up.exec();
  Statement del(tx, "DELETE FROM policy_gates WHERE model_id = ?");
  del.bind(1, model_id);
  del.exec();
  Statement ins(tx, "INSERT INTO policy_gates (model_id, position, metric, op, threshold) VALUES (?, ?, ?, ?, ?)");
  int pos = 0;
  for (const auto& g : p.gates) {
    ins.bind(1, model_id);
    ins.bind(2, pos++);
    ins.bind(3, g.metric);
    ins.bind(4, g.op);
    if (g.threshold) ins.bind(5, *g.threshold);
    else ins.bind(5);
    ins.exec();
    ins.reset();
  }
}

void SetVersionStage(Tx& tx, int64_t version_id, const std::string& stage) {
  Statement q(tx, "UPDATE versions SET stage = ? WHERE id = ?");
  q.bind(1, stage);
  q.bind(2, version_id);
  q.exec();
}

std::optional<VersionRecord> FindProductionVersion(Tx& tx, const std::string& model) {
  Statement q(tx,
              "SELECT v.number FROM versions v JOIN models m ON m.id = v.model_id"
              " WHERE m.name = ? AND v.stage = 'production'");
  q.bind(1, model);
  if (!q.executeStep()) return std::nullopt;
  return FindVersionByNumber(tx, model, q.getColumn(0).getInt64());
}

std::optional<VersionRecord> FindVersionById(Tx& tx, int64_t version_id) {
  Statement q(tx, "SELECT m.name, v.number FROM versions v JOIN models m ON m.id = v.model_id WHERE v.id = ?");
  q.bind(1, version_id);
  if (!q.executeStep()) return std::nullopt;
  return FindVersionByNumber(tx, q.getColumn(0).getString(), q.getColumn(1).getInt64());
}

void InsertStageChange(Tx& tx, int64_t model_id, int64_t version_id, const std::string& from, const std::string& to,
                       const std::string& kind, const std::string& actor, const std::string& reason, int64_t now_ms) {
  Statement q(tx,
              "INSERT INTO stage_changes (model_id, version_id, from_stage, to_stage, kind, actor,"
              " reason, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  q.bind(1, model_id);
  q.bind(2, version_id);
  q.bind(3, from);
  q.bind(4, to);
  q.bind(5, kind);
  q.bind(6, actor);
  q.bind(7, reason);
  q.bind(8, now_ms);
  q.exec();
}

std::vector<StageChangeRow> ListStageChanges(Tx& tx, int64_t model_id) {
  Statement q(tx,
              "SELECT s.id, v.number, s.from_stage, s.to_stage, s.kind, s.actor, s.reason, s.at_ms"
              " FROM stage_changes s JOIN versions v ON v.id = s.version_id"
              " WHERE s.model_id = ? ORDER BY s.id");
  q.bind(1, model_id);
  std::vector<StageChangeRow> out;
  while (q.executeStep())
    out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getInt64(), q.getColumn(2).getString(),
                   q.getColumn(3).getString(), q.getColumn(4).getString(), q.getColumn(5).getString(),
                   q.getColumn(6).getString(), q.getColumn(7).getInt64()});
  return out;
}

std::vector<std::pair<int64_t, std::string>> ProductionEntries(Tx& tx, int64_t model_id) {
  Statement q(tx,
              "SELECT version_id, kind FROM stage_changes WHERE model_id = ? AND to_stage = 'production' ORDER BY id");
  q.bind(1, model_id);
  std::vector<std::pair<int64_t, std::string>> out;
  while (q.executeStep()) out.emplace_back(q.getColumn(0).getInt64(), q.getColumn(1).getString());
  return out;
}

}  // namespace modelreg::store
