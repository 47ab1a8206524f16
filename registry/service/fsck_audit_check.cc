// Fsck: a model's workflow rows against the audit log (see fsck_checks.h).
// The log is replayed the way workflow_ops.cc and register_ops.cc write it:
//   register             version N: {digest, files, bytes}
//   promote/archive/reject  version N: {from, to, reason?, override?: {reason},
//                        replaced?: the production version it archived}
//   rollback             version T (restored): {from_version, to_version, reason}
//   rollout.finish       version C (the candidate): {rollout_id, from, promoted?, replaced?}
//                        (rollout_ops.cc; a shadow promotes nothing)
//   approve              version N, actor = approver: {comment?}
//   policy.set           no version: {approvals_required, gates, require_*}
//   token.create / token.revoke   no model: {name, role, models, expires_at?} / {name}
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/clock.h"
#include "core/stage.h"
#include "service/fsck_checks.h"
#include "store/audit_store.h"
#include "store/token_store.h"
#include "store/workflow_store.h"

namespace modelreg::service_internal {
namespace {

using nlohmann::json;

struct Transition {
  std::string from, to, kind, actor, reason;
  int64_t ref = 0;  // audit seq, or stage change id

  bool operator==(const Transition& o) const {
    return from == o.from && to == o.to && kind == o.kind && actor == o.actor && reason == o.reason;
  }
  std::string str() const {
    return from + " -> " + to + " (" + kind + ", by " + actor + (reason.empty() ? "" : ", reason '" + reason + "'") +
           ")";
  }
};

struct Registration {
  int64_t seq = 0;
  std::string digest;
  int64_t files = -1, bytes = -1;
};

struct AuditedApproval {
  std::string comment;
  int64_t seq = 0;
};

// What the log says about one model.
struct AuditedModel {
  std::map<int64_t, Registration> registered;
  std::map<int64_t, std::vector<Transition>> changes;
  std::map<int64_t, std::map<std::string, AuditedApproval>> approvals;  // by approver
  std::optional<AuditEvent> policy;                                     // the last policy.set
  std::map<int64_t, AuditEvent> deleted;                                // "delete" events by version
  std::vector<std::string> unreadable;                                  // events it could not use
};

std::string Str(const json& d, const char* key) {
  auto it = d.find(key);
  return it != d.end() && it->is_string() ? it->get<std::string>() : "";
}
int64_t Int(const json& d, const char* key, int64_t otherwise = -1) {
  auto it = d.find(key);
  return it != d.end() && it->is_number_integer() ? it->get<int64_t>() : otherwise;
}

AuditedModel Replay(Tx& tx, const std::string& model) {
  AuditedModel out;
  std::map<int64_t, std::string> stage;  // each version's stage as replayed
  auto change = [&](int64_t version, Transition t) {
    if (t.from.empty()) t.from = stage.count(version) ? stage[version] : "none";
    stage[version] = t.to;
    out.changes[version].push_back(std::move(t));
  };
  store::ForEachModelAudit(tx, model, [&](const AuditEvent& e) {
    const json d = json::parse(e.details, nullptr, false);
    const bool stage_event = e.action == "promote" || e.action == "archive" || e.action == "reject";
    const bool versioned = stage_event || e.action == "register" || e.action == "approve" || e.action == "rollback";
    if (versioned && (!d.is_object() || !e.version)) {
      out.unreadable.push_back("audit event seq " + std::to_string(e.seq) + " (" + e.action +
                               ") has no version or unreadable details; not cross-checked");
      return true;
    }
    if (e.action == "register") {
      out.registered[*e.version] = {e.seq, Str(d, "digest"), Int(d, "files"), Int(d, "bytes")};
    } else if (stage_event) {
      if (int64_t replaced = Int(d, "replaced"); replaced > 0)
        change(replaced, {StageName(Stage::kProduction), StageName(Stage::kArchived), "stage", e.actor,
                          "replaced by version " + std::to_string(*e.version), e.seq});
      std::string reason = Str(d, "reason");
      std::string kind = "stage";
      if (auto o = d.find("override"); o != d.end() && o->is_object()) {
        reason = Str(*o, "reason");
        kind = "override";
      }
      change(*e.version, {Str(d, "from"), Str(d, "to"), kind, e.actor, reason, e.seq});
    } else if (e.action == "rollback") {
      const std::string reason = Str(d, "reason");
      if (int64_t from = Int(d, "from_version"); from > 0)
        change(from, {StageName(Stage::kProduction), StageName(Stage::kArchived), "rollback", e.actor, reason, e.seq});
      change(*e.version, {"", StageName(Stage::kProduction), "rollback", e.actor, reason, e.seq});
    } else if (e.action == "rollout.finish" && d.is_object() && e.version && Int(d, "promoted") > 0) {
      const std::string why = "rollout " + std::to_string(Int(d, "rollout_id")) + " finished";
      if (int64_t replaced = Int(d, "replaced"); replaced > 0)
        change(replaced, {StageName(Stage::kProduction), StageName(Stage::kArchived), "rollout", e.actor,
                          "replaced by version " + std::to_string(*e.version) + " (" + why + ")", e.seq});
      change(*e.version, {Str(d, "from"), StageName(Stage::kProduction), "rollout", e.actor, why, e.seq});
    } else if (e.action == "approve") {
      out.approvals[*e.version][e.actor] = {Str(d, "comment"), e.seq};
    } else if (e.action == "policy.set") {
      out.policy = e;
    } else if (e.action == "delete" && e.version) {
      out.deleted.emplace(*e.version, e);
    }
    return true;
  });
  return out;
}

// "approvals 2; gates [auc >= 0.85]; clean code no; data digests no; set by admin"
std::string Describe(const Policy& p, const std::string& by) {
  std::string gates;
  for (const auto& g : p.gates) gates += (gates.empty() ? "" : ", ") + g.ToString();
  return "approvals " + std::to_string(p.approvals_required) + "; gates [" + gates + "]; clean code " +
         (p.require_clean_code ? "yes" : "no") + "; data digests " + (p.require_data_digests ? "yes" : "no") +
         "; set by " + by;
}

// The policy a policy.set event records, described the same way.
std::string Describe(const AuditEvent& e) {
  const json d = json::parse(e.details, nullptr, false);
  if (!d.is_object()) return "(unreadable details)";
  std::string gates;
  if (auto g = d.find("gates"); g != d.end() && g->is_array())
    for (const auto& x : *g) gates += (gates.empty() ? "" : ", ") + (x.is_string() ? x.get<std::string>() : x.dump());
  auto flag = [&](const char* k) {
    auto it = d.find(k);
    return it != d.end() && it->is_boolean() && it->get<bool>() ? "yes" : "no";
  };
  return "approvals " + std::to_string(Int(d, "approvals_required")) + "; gates [" + gates + "]; clean code " +
         flag("require_clean_code") + "; data digests " + flag("require_data_digests") + "; set by " + e.actor;
}

void CheckHistory(const std::string& who, const VersionRecord& v, const std::vector<Transition>& history,
                  const std::vector<Transition>& audited, std::vector<std::string>* problems) {
  size_t i = 0;
  while (i < history.size() && i < audited.size() && history[i] == audited[i]) ++i;
  const std::string change = i < history.size() ? "stage change #" + std::to_string(history[i].ref) : "";
  const std::string event = i < audited.size() ? "seq " + std::to_string(audited[i].ref) : "";
  if (i < history.size() && i < audited.size())
    problems->push_back(who + change + " is " + history[i].str() + " in the database, but the audit log (" + event +
                        ") records " + audited[i].str());
  else if (i < history.size())
    problems->push_back(who + change + " (" + history[i].str() + ") has no event in the audit log");
  else if (i < audited.size())
    problems->push_back(who + "the audit log (" + event + ") records " + audited[i].str() +
                        ", which is missing from its stage history");

  const std::string by_history = history.empty() ? "none" : history.back().to;
  const std::string by_audit = audited.empty() ? "none" : audited.back().to;
  if (v.stage == by_history && v.stage == by_audit) return;
  const std::string h = history.empty() ? "no changes" : "change #" + std::to_string(history.back().ref);
  const std::string a = audited.empty() ? "no events" : "seq " + std::to_string(audited.back().ref);
  if (by_history == by_audit)
    problems->push_back(who + "stage is '" + v.stage + "' in the database, but its stage history (" + h +
                        ") and the audit log (" + a + ") both say '" + by_audit + "'");
  else
    problems->push_back(who + "stage is '" + v.stage + "' in the database; its stage history (" + h + ") says '" +
                        by_history + "', the audit log (" + a + ") '" + by_audit + "'");
}

void CheckApprovals(const std::string& who, const std::vector<ApprovalInfo>& rows,
                    const std::map<std::string, AuditedApproval>& audited, std::vector<std::string>* problems) {
  std::string only_db, only_log;
  std::map<std::string, const ApprovalInfo*> by_approver;
  for (const auto& a : rows) {
    by_approver[a.approver] = &a;
    auto it = audited.find(a.approver);
    if (it == audited.end()) only_db += (only_db.empty() ? "'" : ", '") + a.approver + "'";
    else if (it->second.comment != a.comment)
      problems->push_back(who + "approval by '" + a.approver + "' has comment '" + a.comment + "' in the database, '" +
                          it->second.comment + "' in the audit log (seq " + std::to_string(it->second.seq) + ")");
  }
  for (const auto& [approver, a] : audited)
    if (!by_approver.count(approver))
      only_log += (only_log.empty() ? "'" : ", '") + approver + "' (seq " + std::to_string(a.seq) + ")";
  if (!only_db.empty() && !only_log.empty())
    problems->push_back(who + "approval by " + only_db + " in the database, but the audit log records approval by " +
                        only_log + " instead");
  else if (!only_db.empty())
    problems->push_back(who + "approval by " + only_db + " in the database has no approve event in the audit log");
  else if (!only_log.empty())
    problems->push_back(who + "approval by " + only_log + " in the audit log is missing from the database");
}

struct AuditedToken {
  std::string role, models, expires;
  int64_t seq = 0;
  std::optional<int64_t> revoked_seq;
};

std::string Globs(const std::vector<std::string>& globs) {
  std::string out;
  for (const auto& g : globs) out += (out.empty() ? "" : ",") + g;
  return out.empty() ? "(every model)" : out;
}

}  // namespace

void CheckTokensAgainstAudit(Tx& tx, std::optional<int64_t> first_audit_ms, std::vector<std::string>* problems) {
  std::map<std::string, AuditedToken> log;
  store::ForEachModelAudit(tx, "", [&](const AuditEvent& e) {
    if (e.action != "token.create" && e.action != "token.revoke") return true;
    const json d = json::parse(e.details, nullptr, false);
    const std::string name = d.is_object() ? Str(d, "name") : "";
    if (name.empty()) {
      problems->push_back("audit event seq " + std::to_string(e.seq) + " (" + e.action +
                          ") names no token; not cross-checked");
    } else if (e.action == "token.revoke") {
      log[name].revoked_seq = e.seq;
    } else {
      std::vector<std::string> models;
      if (auto m = d.find("models"); m != d.end() && m->is_array())
        for (const auto& g : *m) models.push_back(g.is_string() ? g.get<std::string>() : g.dump());
      const std::string expires = Str(d, "expires_at");
      log[name] = {Str(d, "role"), Globs(models), expires.empty() ? "never" : expires, e.seq, std::nullopt};
    }
    return true;
  });
  std::map<std::string, bool> has_row;
  for (const auto& t : store::ListTokens(tx)) {
    has_row[t.name] = true;
    const std::string who = "token '" + t.name + "': ";
    auto it = log.find(t.name);
    if (it == log.end() || it->second.seq == 0) {
      if (first_audit_ms && t.created_at_ms >= *first_audit_ms)
        problems->push_back(who + "role '" + RoleName(t.role) +
                            "' in the database has no token.create event in the audit log");
      continue;
    }
    const AuditedToken& a = it->second;
    const std::string at = " in the audit log (token.create, seq " + std::to_string(a.seq) + ")";
    if (a.role != RoleName(t.role))
      problems->push_back(who + "role '" + RoleName(t.role) + "' in the database, '" + a.role + "'" + at);
    if (a.models != Globs(t.model_globs))
      problems->push_back(who + "models " + Globs(t.model_globs) + " in the database, " + a.models + at);
    const std::string expires = t.expires_at_ms ? FormatIsoTime(*t.expires_at_ms) : "never";
    if (a.expires != expires) problems->push_back(who + "expires " + expires + " in the database, " + a.expires + at);
    if (t.revoked_at_ms.has_value() != a.revoked_seq.has_value())
      problems->push_back(who + (t.revoked_at_ms
                                     ? "revoked in the database, but the audit log has no token.revoke event"
                                     : "not revoked in the database, but the audit log revoked it (seq " +
                                           std::to_string(*a.revoked_seq) + ")"));
  }
  for (const auto& [name, a] : log)
    if (!has_row.count(name))
      problems->push_back("token '" + name + "': the audit log names it (seq " +
                          std::to_string(a.seq ? a.seq : a.revoked_seq.value_or(0)) +
                          ") but the database has no such token");
}

void CheckRowsAgainstAudit(Tx& tx, const ModelRecord& m, const std::vector<VersionRecord>& versions,
                           std::optional<int64_t> first_audit_ms, std::vector<std::string>* problems) {
  AuditedModel log = Replay(tx, m.name);
  for (const auto& u : log.unreadable) problems->push_back(m.name + ": " + u);

  std::map<int64_t, std::vector<Transition>> history;
  for (const auto& r : store::ListStageChanges(tx, m.id))
    history[r.version].push_back({r.from_stage, r.to_stage, r.kind, r.actor, r.reason, r.id});
  auto approvals = store::ListModelApprovals(tx, m.id);

  std::map<int64_t, bool> has_row;
  for (const auto& v : versions) {
    has_row[v.number] = true;
    const std::string who = m.name + " version " + std::to_string(v.number) + ": ";
    if (auto reg = log.registered.find(v.number); reg != log.registered.end()) {
      const Registration& r = reg->second;
      const std::string at = " in the audit log (register, seq " + std::to_string(r.seq) + ")";
      if (r.digest != v.digest)
        problems->push_back(who + "bundle digest " + v.digest + " in the database, " + r.digest + at);
      if (r.files >= 0 && r.files != v.file_count)
        problems->push_back(who + "file count " + std::to_string(v.file_count) + " in the database, " +
                            std::to_string(r.files) + at);
      if (r.bytes >= 0 && r.bytes != v.total_bytes)
        problems->push_back(who + "total bytes " + std::to_string(v.total_bytes) + " in the database, " +
                            std::to_string(r.bytes) + at);
    } else if (first_audit_ms && v.created_at_ms >= *first_audit_ms) {
      problems->push_back(who + "has no register event in the audit log");
    }
    CheckHistory(who, v, history[v.number], log.changes[v.number], problems);
    CheckApprovals(who, approvals[v.number], log.approvals[v.number], problems);
    // Deleted (docs/operations.md "Retention and garbage collection"): the
    // mark and the delete event agree on whether, by whom and why.
    auto del = log.deleted.find(v.number);
    if (v.deleted() && del == log.deleted.end()) {
      if (first_audit_ms && *v.deleted_at_ms >= *first_audit_ms)
        problems->push_back(who + "is deleted in the database (by " + v.deleted_by +
                            ") but the audit log has no delete event for it");
    } else if (!v.deleted() && del != log.deleted.end()) {
      problems->push_back(who + "the audit log deletes it (seq " + std::to_string(del->second.seq) +
                          ") but the database has it not deleted");
    } else if (v.deleted()) {
      const json d = json::parse(del->second.details, nullptr, false);
      const std::string reason = d.is_object() ? Str(d, "reason") : "";
      if (del->second.actor != v.deleted_by || reason != v.delete_reason)
        problems->push_back(who + "deleted by " + v.deleted_by + " because '" + v.delete_reason +
                            "' in the database, by " + del->second.actor + " because '" + reason +
                            "' in the audit log (seq " + std::to_string(del->second.seq) + ")");
    }
  }
  // What the log records about versions the database does not have.
  std::map<int64_t, int64_t> missing;  // version -> first seq naming it
  for (const auto& [n, r] : log.registered) missing.emplace(n, r.seq);
  for (const auto& [n, c] : log.changes)
    if (!c.empty()) missing.emplace(n, c.front().ref);
  for (const auto& [n, a] : log.approvals)
    if (!a.empty()) missing.emplace(n, a.begin()->second.seq);
  for (const auto& [n, seq] : missing)
    if (!has_row.count(n))
      problems->push_back(m.name + " version " + std::to_string(n) + ": the audit log names it (seq " +
                          std::to_string(seq) + ") but the database has no such version");

  const auto stored = store::FindPolicy(tx, m.id);
  const std::string db = stored ? Describe(stored->policy, stored->updated_by) : "";
  const std::string logged = log.policy ? Describe(*log.policy) : "";
  if (db != logged) {
    const std::string at = log.policy ? " (seq " + std::to_string(log.policy->seq) + ")" : "";
    if (!stored)
      problems->push_back(m.name + ": the audit log" + at + " sets a policy (" + logged +
                          ") the database does not have");
    else if (!log.policy)
      problems->push_back(m.name + ": policy (" + db + ") in the database has no policy.set event in the audit log");
    else
      problems->push_back(m.name + ": policy (" + db + ") in the database, but the audit log's last policy.set" + at +
                          " says (" + logged + ")");
  }
}

}  // namespace modelreg::service_internal
