// Manifests for the OCI endpoint, from memory (service/oci_caches.h).
#include "service/oci_caches.h"

namespace modelreg {

Result<std::shared_ptr<const std::string>> RegistryService::ManifestBytes(const Principal& p, const std::string& model,
                                                                          const std::string& ref, std::string* digest) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  std::string d;
  if ((ref == "production" || ref == "staging") && RoleAllows(p.role, Action::kReadRelease)) {
    auto release = GetRelease(p, model, ref);
    if (release.ok()) d = release->digest;
  }
  if (d.empty()) {
    MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) -> Status {
      MR_ASSIGN_OR_RETURN(VersionRecord v, ResolveVersion(tx, model, ref));
      MR_RETURN_IF_ERROR(DeletedVersionStatus(v));
      d = v.digest;
      return Status::OK();
    }));
  }
  *digest = d;
  {
    std::lock_guard<std::mutex> l(manifests_->mu);
    auto it = manifests_->by_digest.find(d);
    if (it != manifests_->by_digest.end()) return it->second;
  }
  MR_ASSIGN_OR_RETURN(Digest parsed, Digest::Parse(d));
  // Read whole and checked against its digest before it is kept.
  MR_ASSIGN_OR_RETURN(std::string bytes, blobs_->ReadSmall(parsed, options_.limits.max_manifest_bytes));
  auto shared = std::make_shared<const std::string>(std::move(bytes));
  std::lock_guard<std::mutex> l(manifests_->mu);
  if (manifests_->bytes + shared->size() > ManifestCache::kMaxBytes) {
    manifests_->by_digest.clear();
    manifests_->bytes = 0;
  }
  if (manifests_->by_digest.emplace(d, shared).second) manifests_->bytes += shared->size();
  return shared;
}

}  // namespace modelreg
