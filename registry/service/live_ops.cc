// "What was live when" and the full story of one decision.
#include "core/stage.h"
#include "service/lineage_internal.h"
#include "service/registry_service.h"
#include "store/agent_store.h"
#include "store/decision_store.h"
#include "store/model_store.h"
#include "store/workflow_store.h"

namespace modelreg {
namespace {
const std::string kProduction = StageName(Stage::kProduction);
}  // namespace

namespace {

// The production version at `at_ms`, replaying the model's stage changes in
// order (a change at exactly `at_ms` is in effect).
std::optional<std::pair<int64_t, int64_t>> ProductionAt(const std::vector<store::StageChangeRow>& changes,
                                                        int64_t at_ms) {
  std::optional<std::pair<int64_t, int64_t>> prod;  // (version number, since)
  for (const auto& c : changes) {
    if (c.at_ms > at_ms) break;
    if (c.to_stage == kProduction) prod = std::make_pair(c.version, c.at_ms);
    else if (c.from_stage == kProduction && prod && prod->first == c.version) prod.reset();
  }
  return prod;
}

AgentStateAt StateAt(Tx& tx, const AgentEvent& e, int64_t at_ms) {
  AgentStateAt s;
  s.agent = e.agent_id;
  s.version = e.version;
  s.digest = e.digest;
  s.error = e.error;
  s.since_ms = e.at_ms;
  s.confirmed_until_ms = std::max(e.at_ms, e.seen_until_ms);
  s.state = e.state;
  if (at_ms > s.confirmed_until_ms + AgentSilenceLimitMs(e.heartbeat_ms)) {
    // Silent for longer than its limit: say so rather than guess.
    s.gap = true;
    s.last_state = e.state;
    s.state = "unknown";
    if (auto next = store::NextAgentEvent(tx, e.model, e.agent_id, at_ms)) s.heard_again_ms = next->at_ms;
  }
  return s;
}

}  // namespace

Result<LiveAt> RegistryService::LiveAtTime(const Principal& p, const std::string& model, int64_t at_ms,
                                           const std::string& agent) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadAudit, model));
  LiveAt out;
  out.model = model;
  out.at_ms = at_ms;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) -> Status {
    auto m = store::FindModel(tx, model);
    if (!m) return Status::NotFound("model '" + model + "' not found");
    if (auto prod = ProductionAt(store::ListStageChanges(tx, m->id), at_ms)) {
      if (auto v = store::FindVersionByNumber(tx, model, prod->first)) {
        out.production = service_internal::RefOf(*v);
        out.production->stage = kProduction;  // its stage then, not now
        out.production_since_ms = prod->second;
      }
    }
    for (const auto& e : store::AgentStatesAt(tx, model, at_ms, agent)) out.agents.push_back(StateAt(tx, e, at_ms));
    if (!agent.empty() && out.agents.empty())
      return Status::NotFound("agent '" + agent + "' had not reported for model '" + model + "' by then");
    return Status::OK();
  }));
  return out;
}

Result<DecisionAudit> RegistryService::AuditDecision(const Principal& p, const std::string& request_id) const {
  MR_ASSIGN_OR_RETURN(DecisionRecord d, GetDecision(p, request_id));
  DecisionAudit out;
  out.decision = d;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) -> Status {
    auto m = store::FindModel(tx, d.model);
    if (!m) return Status::OK();  // decisions of an unknown model: shown as such
    if (auto v = store::FindVersionByDigest(tx, d.model, d.digest)) {
      MR_ASSIGN_OR_RETURN(out.lineage,
                          service_internal::BuildVersionLineage(tx, *blobs_, p, *v, options_.max_config_bytes));
      out.approvals = store::ListApprovals(tx, v->id);
    }
    const auto changes = store::ListStageChanges(tx, m->id);
    for (const auto& c : changes)
      if (out.lineage && c.version == out.lineage->version.number && c.to_stage == kProduction)
        out.promotions.push_back({c.version, c.from_stage, c.to_stage, c.kind, c.actor, c.reason, c.at_ms});
    if (auto prod = ProductionAt(changes, d.at_ms))
      if (auto v = store::FindVersionByNumber(tx, d.model, prod->first)) {
        out.production_at_time = service_internal::RefOf(*v);
        out.production_at_time->stage = kProduction;
      }
    auto states = store::AgentStatesAt(tx, d.model, d.at_ms, d.agent_id);
    if (!states.empty()) out.agent_at_time = StateAt(tx, states.front(), d.at_ms);
    return Status::OK();
  }));
  return out;
}

}  // namespace modelreg
