#include "store/audit_store.h"

#include <algorithm>

#include "store/sql.h"

namespace modelreg::store {
namespace {

constexpr char kSelect[] =
    "SELECT seq, at_ms, actor, action, model, version, details, prev_hash, hash FROM audit_events";

AuditEvent Read(Statement& q) {
  AuditEvent e;
  e.seq = q.getColumn(0).getInt64();
  e.at_ms = q.getColumn(1).getInt64();
  e.actor = q.getColumn(2).getString();
  e.action = q.getColumn(3).getString();
  e.model = q.getColumn(4).getString();
  if (!q.getColumn(5).isNull()) e.version = q.getColumn(5).getInt64();
  e.details = q.getColumn(6).getString();
  e.prev_hash = q.getColumn(7).getString();
  e.hash = q.getColumn(8).getString();
  return e;
}

}  // namespace

AuditCheckpoint AuditHead(Tx& tx) {
  AuditCheckpoint head{0, kAuditGenesisHash, 0};
  Statement last(tx, "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1");
  if (last.executeStep()) {
    head.count = last.getColumn(0).getInt64();
    head.head_hash = last.getColumn(1).getString();
  }
  return head;
}

void AppendAudit(Tx& tx, AuditEvent* e) {
  const AuditCheckpoint head = AuditHead(tx);
  e->seq = head.count + 1;
  e->prev_hash = head.head_hash;
  e->hash = ComputeAuditHash(*e);
  Statement ins(tx,
                "INSERT INTO audit_events (seq, at_ms, actor, action, model, version, details,"
                " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  ins.bind(1, e->seq);
  ins.bind(2, e->at_ms);
  ins.bind(3, e->actor);
  ins.bind(4, e->action);
  ins.bind(5, e->model);
  if (e->version) ins.bind(6, *e->version);
  else ins.bind(6);
  ins.bind(7, e->details);
  ins.bind(8, e->prev_hash);
  ins.bind(9, e->hash);
  ins.exec();
}

std::vector<AuditEvent> ListAudit(Tx& tx, const AuditFilter& f) {
  std::string sql = std::string(kSelect) + " WHERE seq > ?";
  if (!f.model.empty()) sql += " AND model = ?";
  if (!f.model.empty() && f.version) sql += " AND version = ?";
  if (f.since_ms) sql += " AND at_ms >= ?";
  if (f.until_ms) sql += " AND at_ms < ?";
  if (f.before_seq) sql += " AND seq < ?";
  if (!f.actor.empty()) sql += " AND actor = ?";
  if (!f.action.empty()) sql += " AND action = ?";
  sql += f.newest ? " ORDER BY seq DESC LIMIT ?" : " ORDER BY seq LIMIT ?";
  Statement q(tx, sql);
  int i = 1;
  q.bind(i++, f.after_seq);
  if (!f.model.empty()) q.bind(i++, f.model);
  if (!f.model.empty() && f.version) q.bind(i++, *f.version);
  if (f.since_ms) q.bind(i++, *f.since_ms);
  if (f.until_ms) q.bind(i++, *f.until_ms);
  if (f.before_seq) q.bind(i++, *f.before_seq);
  if (!f.actor.empty()) q.bind(i++, f.actor);
  if (!f.action.empty()) q.bind(i++, f.action);
  q.bind(i++, f.limit);
  std::vector<AuditEvent> out;
  while (q.executeStep()) out.push_back(Read(q));
  if (f.newest) std::reverse(out.begin(), out.end());
  return out;
}

void ForEachAudit(Tx& tx, const std::function<bool(const AuditEvent&)>& fn) {
  Statement q(tx, std::string(kSelect) + " ORDER BY seq");
  while (q.executeStep())
    if (!fn(Read(q))) return;
}

void ForEachModelAudit(Tx& tx, const std::string& model, const std::function<bool(const AuditEvent&)>& fn) {
  Statement q(tx, std::string(kSelect) + " WHERE model = ? ORDER BY seq");
  q.bind(1, model);
  while (q.executeStep())
    if (!fn(Read(q))) return;
}

std::vector<std::string> AuditedModelsWithoutRow(Tx& tx) {
  Statement q(tx,
              "SELECT DISTINCT model FROM audit_events WHERE model != ''"
              " AND model NOT IN (SELECT name FROM models) ORDER BY model");
  std::vector<std::string> out;
  while (q.executeStep()) out.push_back(q.getColumn(0).getString());
  return out;
}

}  // namespace modelreg::store
