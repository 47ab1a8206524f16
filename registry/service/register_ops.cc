// Registering a version: the manifest is checked against the blob store and
// the version is numbered and recorded in one transaction.
#include <set>

#include "core/clock.h"
#include "core/lineage_record.h"
#include "core/manifest.h"
#include "service/audit.h"
#include "service/blob_reach_internal.h"
#include "service/lineage_internal.h"
#include "service/registry_service.h"
#include "store/model_store.h"

namespace modelreg {
namespace {

constexpr size_t kMaxListedProblems = 20;

void AddProblem(std::vector<std::string>* v, std::string s) {
  if (v->size() < kMaxListedProblems) v->push_back(std::move(s));
}

}  // namespace

Result<RegisterResult> RegistryService::RegisterManifest(const Principal& p, const std::string& model,
                                                         const std::string& manifest_bytes) {
  MR_RETURN_IF_ERROR(ValidateModelName(model));
  MR_RETURN_IF_ERROR(Authorize(p, Action::kRegister, model));
  MR_ASSIGN_OR_RETURN(Manifest m, ParseManifest(manifest_bytes, options_.limits));
  if (m.artifact_type != kModelArtifactType)
    return Status::InvalidArgument(std::string("artifactType must be ") + kModelArtifactType);
  const Digest digest = Digest::Of(manifest_bytes);
  // Pinned against `admin gc` from before the first look until after the
  // commit (service/retention_ops.cc, 2.).
  std::vector<std::string> pinned{digest.str(), m.config.digest.str()};
  for (const auto& l : m.layers) pinned.push_back(l.digest.str());
  BlobPins pins(this, std::move(pinned));

  // Every referenced blob must be stored with the stated size, and be one
  // the caller may link: one it cannot reach is not uploaded as far as it
  // knows, and is answered so (service/blob_reach_internal.h).
  std::set<std::string> unreachable;
  if (p.scoped()) {
    MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
      auto reachable = service_internal::BlobReachFor(tx, p);
      auto ask = [&](const Descriptor& d) {
        if (!reachable(d.digest.str())) unreachable.insert(d.digest.str());
      };
      ask(m.config);
      for (const auto& l : m.layers) ask(l);
      return Status::OK();
    }));
  }
  std::vector<std::string> missing, wrong_size;
  size_t missing_count = 0;
  Status backend_st;  // the blob backend unreachable (503), not "missing"
  auto check = [&](const Descriptor& d, const std::string& what) {
    std::optional<uint64_t> size;
    if (!unreachable.count(d.digest.str())) {
      auto stored = blobs_->Stat(d.digest);
      if (!stored.ok()) {
        if (backend_st.ok()) backend_st = stored.status();
        return;
      }
      size = *stored;
    }
    if (!size) {
      ++missing_count;
      AddProblem(&missing, what + " " + d.digest.str());
    } else if (*size != d.size) {
      AddProblem(&wrong_size, what + " " + d.digest.str() + ": manifest says " + std::to_string(d.size) +
                                  " bytes, stored blob has " + std::to_string(*size));
    }
  };
  check(m.config, "config");
  for (const auto& l : m.layers) check(l, "file '" + l.title + "'");
  MR_RETURN_IF_ERROR(backend_st);
  if (!wrong_size.empty())
    return Status(StatusCode::kInvalidArgument, "manifest sizes do not match stored blobs", wrong_size);
  if (missing_count > 0)
    return Status(StatusCode::kFailedPrecondition, std::to_string(missing_count) + " referenced blob(s) not uploaded",
                  missing);

  // The lineage record: strict, and about this model.
  if (m.config.size > options_.max_config_bytes)
    return Status::ResourceExhausted("lineage record larger than " + std::to_string(options_.max_config_bytes) +
                                     " bytes");
  MR_ASSIGN_OR_RETURN(std::string config_bytes, blobs_->ReadSmall(m.config.digest, options_.max_config_bytes));
  auto lineage = ParseLineage(config_bytes);
  if (!lineage.ok()) return lineage.status().WithContext("lineage record");
  MR_RETURN_IF_ERROR(CheckLineageText(*lineage));
  if (lineage->model != model)
    return Status::InvalidArgument("lineage record is for model '" + lineage->model + "', not '" + model + "'");
  if (lineage->profile) MR_RETURN_IF_ERROR(service_internal::CheckProfileLayer(*blobs_, m, *lineage->profile));

  // Idempotent: the same bundle registered again is the same version.
  std::optional<VersionRecord> existing;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    existing = store::FindVersionByDigest(tx, model, digest.str());
    return Status::OK();
  }));
  if (existing && existing->deleted())
    return Status::Gone("version " + std::to_string(existing->number) + " of '" + model +
                        "' has this bundle and was deleted at " + FormatIsoTime(*existing->deleted_at_ms) + " by " +
                        existing->deleted_by + " because " + existing->delete_reason +
                        "; a deleted version stays deleted (change the bundle to register a new version)");
  if (existing) {
    // Heals a manifest blob that fsck --repair quarantined (or that was lost).
    MR_ASSIGN_OR_RETURN(auto stored, blobs_->Stat(digest));
    if (!stored) MR_RETURN_IF_ERROR(blobs_->PutBytes(digest, manifest_bytes));
    return RegisterResult{*existing, false};
  }

  // The manifest becomes a blob before the version row points at it (and,
  // in an OCI backend, an artifact of PREFIX/<model> by digest).
  MR_RETURN_IF_ERROR(blobs_->PutBytes(digest, manifest_bytes));
  MR_RETURN_IF_ERROR(blobs_->PublishBundle(model, manifest_bytes, ""));

  VersionRecord v;
  v.model = model;
  v.digest = digest.str();
  v.manifest_size = static_cast<int64_t>(manifest_bytes.size());
  v.config_digest = m.config.digest.str();
  v.file_count = static_cast<int64_t>(m.layers.size());
  v.total_bytes = static_cast<int64_t>(m.TotalLayerBytes());
  if (lineage->code) {
    v.code_repo = lineage->code->repo;
    v.code_commit = lineage->code->commit;
    v.code_dirty = lineage->code->dirty;
  }
  if (lineage->parent) v.parent_digest = lineage->parent->str();
  v.created_by = p.name;
  v.created_at_ms = NowMs();

  std::vector<store::BlobRef> refs;
  refs.reserve(m.layers.size() + 2);
  refs.push_back({digest.str(), v.manifest_size});
  refs.push_back({m.config.digest.str(), static_cast<int64_t>(m.config.size)});
  for (const auto& l : m.layers) refs.push_back({l.digest.str(), static_cast<int64_t>(l.size)});
  std::vector<DatasetRow> datasets;
  for (const auto& d : lineage->data) datasets.push_back({d.name, d.uri, d.digest ? d.digest->str() : ""});
  std::vector<std::pair<std::string, double>> metrics(lineage->metrics.begin(), lineage->metrics.end());

  RegisterResult out;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kWrite, [&](Tx& tx) -> Status {
    // Re-check under the write lock: a concurrent register of the same
    // bundle must not create a second version.
    if (auto again = store::FindVersionByDigest(tx, model, digest.str())) {
      out = RegisterResult{*again, false};
      return Status::OK();
    }
    // Every blob still stored, checked under the write lock that `admin gc`
    // removes blobs under (service/retention_ops.cc, 3.): a version never
    // commits pointing at a blob gc removed meanwhile. The local store only:
    // gc does not remove blobs from an OCI backend, whose Stat is a request
    // (not to be made under the write lock).
    std::vector<std::string> gone;
    for (const auto& ref : blobs_->local() ? refs : std::vector<store::BlobRef>{}) {
      MR_ASSIGN_OR_RETURN(Digest d, Digest::Parse(ref.digest));
      MR_ASSIGN_OR_RETURN(auto stored, blobs_->Stat(d));
      if (!stored) AddProblem(&gone, ref.digest);
    }
    if (!gone.empty())
      return Status(StatusCode::kFailedPrecondition,
                    std::to_string(gone.size()) + " referenced blob(s) not uploaded (removed by admin gc meanwhile)",
                    gone);
    const bool new_model = !store::FindModel(tx, model);
    int64_t model_id = store::EnsureModel(tx, model, p.name, v.created_at_ms);
    // The model's creation is an event, not an audit action of its own
    // (its first "register" records it): docs/events.md.
    if (new_model)
      service_internal::Emit(tx, EventRecord{0, v.created_at_ms, "registered_model.created", model, std::nullopt,
                                             p.name, nlohmann::json{{"name", model}, {"actor", p.name}}.dump()});
    store::InsertVersion(tx, model_id, &v, refs, datasets, metrics);
    service_internal::Audit(tx, p.name, "register", model, v.number,
                            {{"digest", v.digest}, {"files", v.file_count}, {"bytes", v.total_bytes}});
    out = RegisterResult{v, true};
    return Status::OK();
  }));
  // The version number as a tag in an OCI backend, after the commit that
  // gave it: a convenience for `skopeo copy`; the digest reference above is
  // what counts, so a failure here fails nothing.
  if (out.created) (void)blobs_->PublishBundle(model, manifest_bytes, std::to_string(out.version.number));
  return out;
}

}  // namespace modelreg
