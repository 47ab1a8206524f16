// The promotion policy checked against one version, check by check, for the
// version page's checklist (GET .../versions/{v}/gates). Each check runs
// through EvaluatePolicy, the function a promotion runs, with a policy that
// holds only that check: the checklist and the 422 of a promotion cannot
// disagree.
#include "service/registry_service.h"
#include "service/workflow_internal.h"
#include "store/model_store.h"
#include "store/workflow_store.h"

namespace modelreg {

Result<GateChecklist> RegistryService::CheckGates(const Principal& p, const std::string& model,
                                                  const std::string& ref) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  GateChecklist out;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) -> Status {
    MR_ASSIGN_OR_RETURN(VersionRecord v, ResolveVersion(tx, model, ref));
    auto m = store::FindModel(tx, model);
    if (!m) return Status::NotFound("model '" + model + "' not found");
    const Policy policy = store::GetPolicy(tx, m->id);
    auto prod = store::FindProductionVersion(tx, model);
    const PromotionFacts facts = service_internal::PromotionFactsFor(tx, v, prod);
    out.version = v.number;
    out.stage = v.stage;
    out.approvals = facts.approvals;
    out.approvals_required = policy.approvals_required;
    if (prod) out.production_version = prod->number;

    auto run = [&](const std::string& name, const Policy& only) {
      GateCheck g;
      g.check = name;
      auto fails = EvaluatePolicy(only, facts);
      g.ok = fails.empty();
      for (const auto& f : fails) g.detail += (g.detail.empty() ? "" : "; ") + f;
      return g;
    };
    Policy none;
    none.approvals_required = 0;
    {
      Policy only = none;
      only.approvals_required = policy.approvals_required;
      out.checks.push_back(run("approvals >= " + std::to_string(policy.approvals_required), only));
    }
    for (const auto& gate : policy.gates) {
      Policy only = none;
      only.gates = {gate};
      GateCheck g = run(gate.ToString(), only);
      if (auto it = facts.metrics.find(gate.metric); it != facts.metrics.end()) g.actual = it->second;
      if (gate.threshold) {
        g.against = *gate.threshold;
      } else if (facts.production_metrics) {
        if (auto it = facts.production_metrics->find(gate.metric); it != facts.production_metrics->end())
          g.against = it->second;
      } else {
        g.detail = "no production version to compare with: passes";
      }
      out.checks.push_back(std::move(g));
    }
    if (policy.require_clean_code) {
      Policy only = none;
      only.require_clean_code = true;
      out.checks.push_back(run("code.dirty == false", only));
    }
    if (policy.require_data_digests) {
      Policy only = none;
      only.require_data_digests = true;
      out.checks.push_back(run("data digests present", only));
    }
    out.ready = true;
    for (const auto& g : out.checks) out.ready = out.ready && g.ok;
    return Status::OK();
  }));
  return out;
}

}  // namespace modelreg
