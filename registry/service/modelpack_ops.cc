// The ModelPack view of versions (docs/oci.md "ModelPack"): each version
// also served as a CNCF ModelPack artifact built from its own manifest and
// lineage record (core/modelpack.h). Nothing is stored: the artifact is
// built when asked for and kept in a cache.
#include "core/lineage_record.h"
#include "core/manifest.h"
#include "service/oci_caches.h"
#include "service/version_ref.h"
#include "store/model_store.h"

namespace modelreg {
namespace {

constexpr size_t kMaxVersionsSearched = 1000;

}  // namespace

Result<ModelPackArtifact> RegistryService::BuildModelPackOf(const VersionRecord& v) const {
  {
    std::lock_guard<std::mutex> l(modelpacks_->mu);
    auto it = modelpacks_->by_bundle.find(v.digest);
    if (it != modelpacks_->by_bundle.end()) return *it->second;
  }
  MR_ASSIGN_OR_RETURN(Digest bundle_digest, Digest::Parse(v.digest));
  MR_ASSIGN_OR_RETURN(std::string manifest_bytes, blobs_->ReadSmall(bundle_digest, options_.limits.max_manifest_bytes));
  MR_ASSIGN_OR_RETURN(Manifest m, ParseManifest(manifest_bytes, options_.limits));
  MR_ASSIGN_OR_RETURN(std::string config_bytes, blobs_->ReadSmall(m.config.digest, options_.max_config_bytes));
  MR_ASSIGN_OR_RETURN(LineageRecord lineage, ParseLineage(config_bytes));
  ModelPackInput in{&m, &lineage, v.model, v.number, v.digest, v.created_at_ms, v.created_by};
  MR_ASSIGN_OR_RETURN(ModelPackArtifact a, BuildModelPack(in));
  auto shared = std::make_shared<const ModelPackArtifact>(a);
  std::lock_guard<std::mutex> l(modelpacks_->mu);
  if (modelpacks_->by_bundle.size() >= ModelPackCache::kMaxEntries) {
    modelpacks_->by_bundle.clear();
    modelpacks_->bundle_of.clear();
  }
  modelpacks_->by_bundle[v.digest] = shared;
  modelpacks_->bundle_of[a.manifest_digest.str()] = v.digest;
  modelpacks_->bundle_of[a.config_digest.str()] = v.digest;
  return a;
}

Result<ModelPackArtifact> RegistryService::FindModelPack(
    const Principal& p, const std::string& model, const std::function<bool(const ModelPackArtifact&)>& match) const {
  std::vector<VersionRecord> versions;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    if (!store::FindModel(tx, model)) return Status::NotFound("model '" + model + "' not found");
    versions = store::ListVersions(tx, model);
    return Status::OK();
  }));
  (void)p;
  size_t searched = 0;
  for (auto it = versions.rbegin(); it != versions.rend() && searched < kMaxVersionsSearched; ++it, ++searched) {
    auto a = BuildModelPackOf(*it);
    if (a.ok() && match(*a)) return a;
  }
  return Status::NotFound("no version of model '" + model + "' has that ModelPack artifact");
}

// The bundle digest the cache knows ModelPack digest `d` (manifest or
// config) to come from; empty if none.
std::string RegistryService::CachedModelPackBundle(const Digest& d) const {
  std::lock_guard<std::mutex> l(modelpacks_->mu);
  auto it = modelpacks_->bundle_of.find(d.str());
  return it == modelpacks_->bundle_of.end() ? std::string() : it->second;
}

// The artifact `match` accepts among the one of the version whose bundle
// the cache names for `d`, else among all the model's versions.
Result<ModelPackArtifact> RegistryService::ModelPackByDigest(
    const Principal& p, const std::string& model, const Digest& d,
    const std::function<bool(const ModelPackArtifact&)>& match) const {
  const std::string bundle = CachedModelPackBundle(d);
  if (!bundle.empty()) {
    std::optional<VersionRecord> v;
    // Another model's bundle (the same bytes registered twice) is not found here.
    Status st = db_->Transact(TxMode::kRead, [&](Tx& tx) -> Status {
      MR_ASSIGN_OR_RETURN(v, ResolveVersion(tx, model, bundle));
      return Status::OK();
    });
    if (st.ok()) {
      auto a = BuildModelPackOf(*v);
      if (a.ok() && match(*a)) return a;
    }
  }
  return FindModelPack(p, model, match);
}

Result<ModelPackArtifact> RegistryService::ModelPackOf(const Principal& p, const std::string& model,
                                                       const std::string& ref) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  if (auto d = Digest::Parse(ref); d.ok())  // a ModelPack manifest's digest (a bundle's is not one)
    return ModelPackByDigest(p, model, *d, [&](const ModelPackArtifact& a) { return a.manifest_digest == *d; });
  std::optional<VersionRecord> v;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) -> Status {
    MR_ASSIGN_OR_RETURN(v, ResolveVersion(tx, model, ref));
    return DeletedVersionStatus(*v);
  }));
  return BuildModelPackOf(*v);
}

Result<std::string> RegistryService::ModelPackConfig(const Principal& p, const std::string& model,
                                                     const Digest& d) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  MR_ASSIGN_OR_RETURN(ModelPackArtifact a,
                      ModelPackByDigest(p, model, d, [&](const ModelPackArtifact& x) { return x.config_digest == d; }));
  return a.config;
}

}  // namespace modelreg
