// What an agent may pull through /v2/ when the server limits agents to
// approved versions (serve --oci-agent-stages-only; docs/oci.md).
#include "service/registry_service.h"
#include "store/model_store.h"
#include "store/workflow_store.h"

namespace modelreg {

Result<std::set<std::string>> RegistryService::ApprovedDigests(const Principal& p, const std::string& model) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  std::set<std::string> out;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    auto m = store::FindModel(tx, model);
    if (!m) return Status::NotFound("model '" + model + "' not found");
    std::set<int64_t> approved;
    for (const auto& c : store::ListStageChanges(tx, m->id))
      if (c.to_stage == "staging" || c.to_stage == "production") approved.insert(c.version);
    if (approved.empty()) return Status::OK();
    const auto refs = store::ListModelBlobRefs(tx, m->id);  // the manifest's own digest among them
    for (int64_t v : approved) {
      auto it = refs.find(v);
      if (it == refs.end()) continue;
      for (const auto& r : it->second) out.insert(r.digest);
    }
    return Status::OK();
  }));
  return out;
}

}  // namespace modelreg
