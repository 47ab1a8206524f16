// The audit log: append (used by every state-changing use case), list, verify.
#include "auth/signing.h"
#include "service/audit.h"
#include "service/registry_service.h"
#include "store/audit_store.h"

namespace modelreg {

namespace service_internal {
void Audit(Tx& tx, const std::string& actor, const std::string& action, const std::string& model,
           std::optional<int64_t> version, const nlohmann::json& details) {
  AuditEvent e;
  e.at_ms = NowMs();
  e.actor = actor;
  e.action = action;
  e.model = model;
  e.version = version;
  e.details = details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  store::AppendAudit(tx, &e);
  for (EventRecord& ev : EventsOfAudit(e)) Emit(tx, std::move(ev));
}
}  // namespace service_internal

Result<std::vector<AuditEvent>> RegistryService::AuditLog(const Principal& p, const AuditQuery& q) const {
  if (q.model.empty()) MR_RETURN_IF_ERROR(Authorize(p, Action::kReadAudit));
  else MR_RETURN_IF_ERROR(Authorize(p, Action::kReadAudit, q.model));
  if (p.scoped() && q.model.empty())
    return Status::PermissionDenied("token '" + p.name + "' is limited to some models: pass a model");
  if ((q.version || !q.version_ref.empty()) && q.model.empty())
    return Status::InvalidArgument("a version filter needs a model");
  store::AuditFilter f{q.model,  q.version, q.since_ms, q.after_seq, std::clamp<int64_t>(q.limit, 1, 10000),
                       q.newest, q.actor,   q.action,   q.until_ms,  q.before_seq};
  std::vector<AuditEvent> out;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    if (!q.version_ref.empty()) {
      MR_ASSIGN_OR_RETURN(VersionRecord v, ResolveVersion(tx, q.model, q.version_ref));
      f.version = v.number;
    }
    out = store::ListAudit(tx, f);
    return Status::OK();
  }));
  return out;
}

Result<AuditVerifyResult> RegistryService::VerifyAudit(const Principal& p,
                                                       const std::optional<AuditCheckpoint>& against) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadAudit));
  AuditChainVerifier v;
  if (against) v.ExpectCheckpoint(*against);
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    store::ForEachAudit(tx, [&](const AuditEvent& e) { return v.Feed(e); });
    return Status::OK();
  }));
  v.Finish();
  AuditVerifyResult out{v.ok(), v.checked(), v.first_bad_seq(), v.problem(), v.last_hash()};
  if (!out.ok) {
    // Whoever follows the events hears of it (docs/events.md). Recording it
    // may fail on a broken database: the verification's answer stands.
    nlohmann::json data = {
        {"checked", out.checked}, {"first_bad_seq", out.first_bad_seq}, {"problem", out.problem}, {"actor", p.name}};
    (void)db_->Transact(TxMode::kWrite, [&](Tx& tx) {
      service_internal::Emit(tx, EventRecord{0, NowMs(), "audit.verify_failed", "", std::nullopt, p.name,
                                             data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
      return Status::OK();
    });
  }
  return out;
}

Result<std::string> RegistryService::SignedAuditCheckpoint(const Principal& p) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadAudit));
  AuditCheckpoint head;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    head = store::AuditHead(tx);
    return Status::OK();
  }));
  head.at_ms = NowMs();
  return SignDsse(*release_key_, kAuditCheckpointPayloadType, SerializeAuditCheckpoint(head));
}

}  // namespace modelreg
