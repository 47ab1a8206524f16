// The reference profile of a version (core/profile.h, docs/monitoring.md):
// checked when a version is registered, read back for GET .../profile.
#include "core/lineage_record.h"
#include "core/manifest.h"
#include "core/profile.h"
#include "service/lineage_internal.h"
#include "service/registry_service.h"

namespace modelreg {

namespace service_internal {

Status CheckProfileLayer(const BlobBackend& blobs, const Manifest& m, const ProfileRef& ref) {
  const Descriptor* layer = nullptr;
  for (const auto& l : m.layers)
    if (l.title == kProfilePath) layer = &l;
  if (!layer)
    return Status::InvalidArgument("lineage.profile names " + ref.digest.str() + " but the bundle has no file " +
                                   kProfilePath);
  if (layer->digest != ref.digest || layer->size != ref.size)
    return Status::InvalidArgument("lineage.profile (" + ref.digest.str() + ", " + std::to_string(ref.size) +
                                   " bytes) does not match the bundle file " + kProfilePath + " (" +
                                   layer->digest.str() + ", " + std::to_string(layer->size) + " bytes)");
  if (ref.size > kMaxProfileBytes)
    return Status::InvalidArgument(std::string("the bundle file ") + kProfilePath + " is larger than " +
                                   std::to_string(kMaxProfileBytes) + " bytes");
  MR_ASSIGN_OR_RETURN(std::string bytes, blobs.ReadSmall(ref.digest, kMaxProfileBytes));
  auto p = ParseProfile(bytes);
  if (!p.ok()) return p.status().WithContext(std::string("the bundle file ") + kProfilePath);
  return Status::OK();
}

}  // namespace service_internal

Result<std::optional<std::string>> RegistryService::VersionProfile(const Principal& p, const std::string& model,
                                                                   const std::string& ref) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  VersionRecord v;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) -> Status {
    MR_ASSIGN_OR_RETURN(v, ResolveVersion(tx, model, ref));
    return Status::OK();
  }));
  MR_ASSIGN_OR_RETURN(LineageRecord r, service_internal::LoadLineageRecord(*blobs_, v, options_.max_config_bytes));
  if (!r.profile) return std::optional<std::string>();
  auto bytes = blobs_->ReadSmall(r.profile->digest, service_internal::kMaxProfileBytes);
  if (!bytes.ok())
    return Status::DataLoss("reference profile of " + v.model + " version " + std::to_string(v.number) +
                            " is unreadable (run `modelreg admin fsck`): " + bytes.status().message());
  return std::optional<std::string>(std::move(*bytes));
}

}  // namespace modelreg
