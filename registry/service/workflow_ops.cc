// The approval workflow (docs/api.md): stage changes, approvals with separation
// of duties, policy gates, rollback. Each use case is one transaction that
// also appends its audit event.
#include <cerrno>
#include <cstdlib>

#include "core/stage.h"
#include "service/audit.h"
#include "service/channels.h"
#include "service/registry_service.h"
#include "service/version_ref.h"
#include "service/workflow_internal.h"
#include "store/model_store.h"
#include "store/workflow_store.h"

namespace modelreg {

using nlohmann::json;
using service_internal::Audit;

Result<VersionRecord> RegistryService::ResolveVersion(Tx& tx, const std::string& model, const std::string& ref) {
  return service_internal::ResolveVersionRef(tx, model, ref);  // service/version_ref.h
}

PromotionFacts service_internal::PromotionFactsFor(Tx& tx, const VersionRecord& v,
                                                   const std::optional<VersionRecord>& prod) {
  PromotionFacts f;
  for (const auto& [k, val] : store::ListMetrics(tx, v.id)) f.metrics[k] = val;
  if (prod && prod->id != v.id) {
    std::map<std::string, double> pm;
    for (const auto& [k, val] : store::ListMetrics(tx, prod->id)) pm[k] = val;
    f.production_metrics = pm;
    f.production_version = prod->number;
  }
  f.has_code = !v.code_commit.empty();
  f.code_dirty = v.code_dirty.value_or(false);
  auto ds = store::ListDatasets(tx, v.id);
  f.dataset_count = ds.size();
  for (const auto& d : ds)
    if (d.digest.empty()) f.datasets_without_digest.push_back(d.name);
  for (const auto& a : store::ListApprovals(tx, v.id))
    if (a.approver != v.created_by) ++f.approvals;
  return f;
}

Result<StageResult> RegistryService::ChangeStage(const Principal& p, const std::string& model, const std::string& ref,
                                                 const StageRequest& req) {
  auto to = ParseStage(req.to);
  if (!to.ok() || *to == Stage::kNone)
    return Status::InvalidArgument("cannot move a version to '" + req.to +
                                   "': want staging, production, archived or rejected");
  const Stage target = *to;
  // Who may ask, before looking at the version.
  if (target == Stage::kStaging) {
    if (!RoleAllows(p.role, Action::kApprove)) MR_RETURN_IF_ERROR(Authorize(p, Action::kStageOwn, model));
    else MR_RETURN_IF_ERROR(Authorize(p, Action::kApprove, model));
  } else {
    MR_RETURN_IF_ERROR(Authorize(p, Action::kApprove, model));
  }
  if (!req.override_reason.empty()) {
    MR_RETURN_IF_ERROR(Authorize(p, Action::kOverride, model));
    if (target != Stage::kProduction)
      return Status::InvalidArgument("--override applies to promotion to production only");
  }
  if (target == Stage::kRejected && req.reason.empty())
    return Status::InvalidArgument("rejecting a version needs a reason");

  StageResult out;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kWrite, [&](Tx& tx) -> Status {
    MR_ASSIGN_OR_RETURN(VersionRecord v, ResolveVersion(tx, model, ref));
    MR_RETURN_IF_ERROR(DeletedVersionStatus(v));
    if (target == Stage::kStaging && !RoleAllows(p.role, Action::kApprove) && v.created_by != p.name)
      return Status::PermissionDenied("a trainer may move only its own versions to staging (version " +
                                      std::to_string(v.number) + " was registered by '" + v.created_by + "')");
    MR_ASSIGN_OR_RETURN(Stage from, ParseStage(v.stage));
    MR_RETURN_IF_ERROR(CheckStageTransition(from, target).WithContext(model + " version " + std::to_string(v.number)));
    MR_RETURN_IF_ERROR(service_internal::CheckNoRollout(tx, model, target == Stage::kProduction ? nullptr : &v, req.to,
                                                        "move version " + std::to_string(v.number) + " to " + req.to));
    const int64_t model_id = store::FindModel(tx, model)->id;
    const int64_t now = NowMs();
    json details = {{"from", v.stage}, {"to", req.to}};
    if (!req.reason.empty()) details["reason"] = req.reason;

    if (target == Stage::kProduction) {
      auto prod = store::FindProductionVersion(tx, model);
      Policy policy = store::GetPolicy(tx, model_id);
      auto failures = EvaluatePolicy(policy, service_internal::PromotionFactsFor(tx, v, prod));
      if (!failures.empty()) {
        if (req.override_reason.empty())
          return Status(StatusCode::kFailedPrecondition,
                        "promotion of " + model + " version " + std::to_string(v.number) +
                            " to production blocked by " + std::to_string(failures.size()) + " failing gate(s)",
                        failures);
        out.overridden = failures;
        details["override"] = {{"reason", req.override_reason}, {"failed_gates", failures}};
      }
      if (prod) {
        // Archive the previous production version first: the unique index
        // allows one production row per model at every instant.
        const std::string archived = StageName(Stage::kArchived);
        store::SetVersionStage(tx, prod->id, archived);
        store::InsertStageChange(tx, model_id, prod->id, StageName(Stage::kProduction), archived, "stage", p.name,
                                 "replaced by version " + std::to_string(v.number), now);
        details["replaced"] = prod->number;
        prod->stage = archived;
        out.replaced = prod;
      }
    }
    // An override names itself in the history (kind "override"), not only
    // in the audit event's details: docs/api.md, history.
    const bool overridden = !out.overridden.empty();
    store::SetVersionStage(tx, v.id, req.to);
    store::InsertStageChange(tx, model_id, v.id, v.stage, req.to, overridden ? "override" : "stage", p.name,
                             req.override_reason.empty() ? req.reason : req.override_reason, now);
    const char* action = target == Stage::kRejected ? "reject" : target == Stage::kArchived ? "archive" : "promote";
    Audit(tx, p.name, action, model, v.number, details);
    tx.Notify(service_internal::kReleaseChannel, model);
    v.stage = req.to;
    out.version = v;
    return Status::OK();
  }));
  NotifyReleaseChanged();
  return out;
}

Result<bool> RegistryService::Approve(const Principal& p, const std::string& model, const std::string& ref,
                                      const std::string& comment, VersionDetail* after) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kApprove, model));
  bool inserted = false;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kWrite, [&](Tx& tx) -> Status {
    MR_ASSIGN_OR_RETURN(VersionRecord v, ResolveVersion(tx, model, ref));
    MR_RETURN_IF_ERROR(DeletedVersionStatus(v));
    if (v.created_by == p.name)
      return Status::PermissionDenied("'" + p.name + "' registered " + model + " version " + std::to_string(v.number) +
                                      " and cannot approve it: approvals must come from someone else");
    if (v.stage != StageName(Stage::kNone) && v.stage != StageName(Stage::kStaging))
      return Status::FailedPrecondition("cannot approve " + model + " version " + std::to_string(v.number) +
                                        " in stage " + v.stage);
    inserted = store::InsertApproval(tx, v.id, p.name, comment, NowMs());
    if (inserted) {
      json d = json::object();
      if (!comment.empty()) d["comment"] = comment;
      Audit(tx, p.name, "approve", model, v.number, d);
    }
    if (after) *after = DetailOf(tx, v);
    return Status::OK();
  }));
  return inserted;
}

Result<RollbackResult> RegistryService::Rollback(const Principal& p, const std::string& model,
                                                 const std::string& reason) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kApprove, model));
  if (reason.empty()) return Status::InvalidArgument("rollback needs a reason");
  RollbackResult out;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kWrite, [&](Tx& tx) -> Status {
    auto m = store::FindModel(tx, model);
    if (!m) return Status::NotFound("model '" + model + "' not found");
    auto current = store::FindProductionVersion(tx, model);
    if (!current) return Status::FailedPrecondition("model '" + model + "' has no production version to roll back");
    MR_RETURN_IF_ERROR(service_internal::CheckNoRollout(tx, model, nullptr, "production", "roll back"));
    // The target is below the top of the replayed production stack.
    const std::vector<int64_t> stack = ReplayProductionStack(store::ProductionEntries(tx, m->id));
    std::optional<VersionRecord> target;
    for (int i = static_cast<int>(stack.size()) - 2; i >= 0 && !target; --i) {
      if (stack[i] == current->id) continue;
      auto v = store::FindVersionById(tx, stack[i]);
      if (v && v->stage != StageName(Stage::kRejected) && !v->deleted()) target = v;
    }
    if (!target)
      return Status::FailedPrecondition("model '" + model + "' has no earlier production version to roll back to");
    const int64_t now = NowMs();
    const std::string production = StageName(Stage::kProduction), archived = StageName(Stage::kArchived);
    store::SetVersionStage(tx, current->id, archived);
    store::InsertStageChange(tx, m->id, current->id, production, archived, "rollback", p.name, reason, now);
    store::SetVersionStage(tx, target->id, production);
    store::InsertStageChange(tx, m->id, target->id, target->stage, production, "rollback", p.name, reason, now);
    Audit(tx, p.name, "rollback", model, target->number,
          {{"from_version", current->number}, {"to_version", target->number}, {"reason", reason}});
    tx.Notify(service_internal::kReleaseChannel, model);
    current->stage = archived;
    target->stage = production;
    out = RollbackResult{*target, *current};
    return Status::OK();
  }));
  NotifyReleaseChanged();
  return out;
}

Result<Policy> RegistryService::GetPolicy(const Principal& p, const std::string& model) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  std::optional<Policy> out;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    auto m = store::FindModel(tx, model);
    if (m) out = store::GetPolicy(tx, m->id);
    return Status::OK();
  }));
  if (!out) return Status::NotFound("model '" + model + "' not found");
  return *out;
}

Result<Policy> RegistryService::SetPolicy(const Principal& p, const std::string& model, const Policy& policy) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kManagePolicies, model));
  if (policy.approvals_required < 0 || policy.approvals_required > 100)
    return Status::InvalidArgument("approvals must be between 0 and 100");
  MR_RETURN_IF_ERROR(ValidateMonitoringPolicy(policy));
  Policy stored;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kWrite, [&](Tx& tx) -> Status {
    auto m = store::FindModel(tx, model);
    if (!m) return Status::NotFound("model '" + model + "' not found");
    store::SetPolicy(tx, m->id, policy, p.name, NowMs());
    stored = store::GetPolicy(tx, m->id);
    json gates = json::array();
    for (const auto& g : policy.gates) gates.push_back(g.ToString());
    Audit(tx, p.name, "policy.set", model, std::nullopt,
          {{"approvals_required", policy.approvals_required},
           {"gates", gates},
           {"require_clean_code", policy.require_clean_code},
           {"require_data_digests", policy.require_data_digests},
           {"drift_alpha", policy.drift_alpha},
           {"drift_min_psi", policy.drift_min_psi},
           {"max_violation_rate", policy.max_violation_rate ? json(*policy.max_violation_rate) : json(nullptr)}});
    return Status::OK();
  }));
  return stored;
}

Result<std::vector<StageChange>> RegistryService::StageHistory(const Principal& p, const std::string& model) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  std::vector<StageChange> out;
  bool found = false;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    auto m = store::FindModel(tx, model);
    found = m.has_value();
    if (m)
      for (const auto& r : store::ListStageChanges(tx, m->id))
        out.push_back({r.version, r.from_stage, r.to_stage, r.kind, r.actor, r.reason, r.at_ms});
    return Status::OK();
  }));
  if (!found) return Status::NotFound("model '" + model + "' not found");
  return out;
}

}  // namespace modelreg
