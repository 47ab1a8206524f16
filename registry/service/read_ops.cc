// Read-only use cases: models, versions, blobs.
#include <algorithm>

#include "core/clock.h"
#include "service/registry_service.h"
#include "store/model_store.h"
#include "store/workflow_store.h"

namespace modelreg {

Status DeletedVersionStatus(const VersionRecord& v) {
  if (!v.deleted()) return Status::OK();
  return Status::Gone("version " + std::to_string(v.number) + " of '" + v.model + "' was deleted at " +
                      FormatIsoTime(*v.deleted_at_ms) + " by " + v.deleted_by + " because " + v.delete_reason +
                      ": its files are no longer served (`modelreg show` still shows its record)");
}

Result<std::vector<ModelRecord>> RegistryService::ListModels(const Principal& p) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels));
  std::vector<ModelRecord> all;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    all = store::ListModels(tx);
    return Status::OK();
  }));
  std::vector<ModelRecord> out;
  for (auto& m : all)
    if (p.CanSeeModel(m.name)) out.push_back(std::move(m));
  return out;
}

Result<std::map<std::string, int64_t>> RegistryService::VersionsPerStage(const Principal& p) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels));
  std::vector<store::StageCount> all;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    all = store::VersionCountsByStage(tx);
    return Status::OK();
  }));
  std::map<std::string, int64_t> out;
  for (const char* stage : {"none", "staging", "production", "archived", "rejected"}) out[stage] = 0;
  for (const auto& c : all)
    if (p.CanSeeModel(c.model)) out[c.stage] += c.count;
  return out;
}

Result<ModelRecord> RegistryService::GetModel(const Principal& p, const std::string& model) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  std::optional<ModelRecord> m;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    m = store::FindModel(tx, model);
    return Status::OK();
  }));
  if (!m) return Status::NotFound("model '" + model + "' not found");
  return *m;
}

Result<std::vector<VersionRecord>> RegistryService::ListVersions(
    const Principal& p, const std::string& model,
    std::map<int64_t, std::vector<std::pair<std::string, double>>>* metrics) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  std::vector<VersionRecord> out;
  bool found = false;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    found = store::FindModel(tx, model).has_value();
    if (found) out = store::ListVersions(tx, model);
    if (found && metrics) *metrics = store::ListModelMetrics(tx, model);
    return Status::OK();
  }));
  if (!found) return Status::NotFound("model '" + model + "' not found");
  return out;
}

Result<VersionDetail> RegistryService::GetVersion(const Principal& p, const std::string& model,
                                                  const std::string& ref) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  VersionDetail out;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) -> Status {
    MR_ASSIGN_OR_RETURN(VersionRecord v, ResolveVersion(tx, model, ref));
    out = DetailOf(tx, v);
    return Status::OK();
  }));
  return out;
}

VersionDetail RegistryService::DetailOf(Tx& tx, const VersionRecord& v) {
  VersionDetail out;
  out.version = v;
  out.datasets = store::ListDatasets(tx, v.id);
  out.metrics = store::ListMetrics(tx, v.id);
  out.approvals = store::ListApprovals(tx, v.id);
  return out;
}

Result<std::unique_ptr<BlobReader>> RegistryService::OpenManifest(const Principal& p, const std::string& model,
                                                                  const std::string& ref, std::string* digest) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  std::unique_ptr<BlobReader> fd;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) -> Status {
    MR_ASSIGN_OR_RETURN(VersionRecord v, ResolveVersion(tx, model, ref));
    MR_RETURN_IF_ERROR(DeletedVersionStatus(v));
    MR_ASSIGN_OR_RETURN(Digest d, Digest::Parse(v.digest));
    // Opened inside the transaction: the version and its bytes are seen
    // at one instant.
    MR_ASSIGN_OR_RETURN(fd, blobs_->Open(d));
    *digest = d.str();
    return Status::OK();
  }));
  return fd;
}

Result<ModelBlobSet> RegistryService::ModelBlobs(const Principal& p, const std::string& model,
                                                 const std::vector<Digest>& digests) const {
  ModelBlobSet out;
  MR_ASSIGN_OR_RETURN(out.sizes_, ModelBlobSizes(p, model, digests));
  out.blobs_ = blobs_.get();
  out.digests_ = digests;
  return out;
}

Result<std::unique_ptr<BlobReader>> ModelBlobSet::Open(size_t i) const {
  if (i >= digests_.size()) return Status::OutOfRange("no blob " + std::to_string(i) + " in this set");
  MR_ASSIGN_OR_RETURN(auto fd, blobs_->Open(digests_[i]));
  if (fd->size() != sizes_[i])
    return Status::DataLoss("blob " + digests_[i].str() + " changed size in the store since it was checked");
  return fd;
}

Result<std::unique_ptr<BlobReader>> RegistryService::OpenModelBlob(const Principal& p, const std::string& model,
                                                                   const Digest& d) const {
  // The model references it, and the store holds it at its registered size
  // (DataLoss otherwise: a client would take a short answer for a lost
  // connection and ask again).
  MR_ASSIGN_OR_RETURN(auto sizes, ModelBlobSizes(p, model, {d}));
  MR_ASSIGN_OR_RETURN(auto fd, blobs_->Open(d));
  if (fd->size() != sizes[0])
    return Status::DataLoss("blob " + d.str() + " of model '" + model + "' changed size in the store (" +
                            std::to_string(fd->size()) + " bytes, registered as " + std::to_string(sizes[0]) +
                            "); run `modelreg admin fsck`");
  return fd;
}

Result<std::vector<uint64_t>> RegistryService::ModelBlobSizes(const Principal& p, const std::string& model,
                                                              const std::vector<Digest>& digests) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  std::vector<std::string> names;
  names.reserve(digests.size());
  for (const auto& d : digests) names.push_back(d.str());
  std::vector<std::optional<uint64_t>> registered;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    registered = store::ModelBlobSizes(tx, model, names);
    return Status::OK();
  }));
  std::vector<uint64_t> sizes;
  sizes.reserve(digests.size());
  for (size_t i = 0; i < digests.size(); ++i) {
    if (!registered[i]) {
      const auto absent =
          std::count(registered.begin() + static_cast<std::ptrdiff_t>(i), registered.end(), std::nullopt);
      return Status::NotFound("model '" + model + "' has no blob " + names[i] +
                              (absent > 1 ? " (nor " + std::to_string(absent - 1) + " more of those asked)" : ""));
    }
    MR_ASSIGN_OR_RETURN(auto stored, blobs_->Stat(digests[i]));
    if (stored != registered[i])
      return Status::DataLoss(
          "blob " + names[i] + " of model '" + model + "' is " +
          (stored ? std::to_string(*stored) + " bytes in the store, registered as " + std::to_string(*registered[i])
                  : std::string("missing from the store")) +
          "; run `modelreg admin fsck`");
    sizes.push_back(*stored);
  }
  return sizes;
}

Result<std::unique_ptr<BlobReader>> RegistryService::OpenBlob(const Principal& p, const Digest& d) const {
  if (!RoleAllows(p.role, Action::kRegister)) MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels));
  if (p.scoped())
    return Status::PermissionDenied("token '" + p.name +
                                    "' is limited to some models: download through "
                                    "/api/v1/models/{model}/blobs/{digest}");
  return blobs_->Open(d);
}

}  // namespace modelreg
