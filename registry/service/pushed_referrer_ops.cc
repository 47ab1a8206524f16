// Manifests pushed to /v2/ with a subject (docs/oci.md "Referrers"): a
// signature or attestation made elsewhere, stored beside the version it is
// about and listed with the referrers modelreg makes itself.
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "service/audit.h"
#include "service/registry_service.h"
#include "store/model_store.h"
#include "store/referrer_store.h"

namespace modelreg {

Result<RegistryService::PushedReferrerResult> RegistryService::PushReferrer(const Principal& p,
                                                                            const std::string& model,
                                                                            const std::string& bytes) {
  MR_RETURN_IF_ERROR(ValidateModelName(model));
  MR_RETURN_IF_ERROR(Authorize(p, Action::kRegister, model));
  if (bytes.size() > options_.limits.max_manifest_bytes)
    return Status::ResourceExhausted("manifest larger than " + std::to_string(options_.limits.max_manifest_bytes) +
                                     " bytes");
  MR_ASSIGN_OR_RETURN(PushedReferrer r, ParsePushedReferrer(bytes));
  const Digest digest = Digest::Of(bytes);
  // The subject is a version of this model.
  std::optional<VersionRecord> subject;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    subject = store::FindVersionByDigest(tx, model, r.subject.digest.str());
    return Status::OK();
  }));
  if (!subject)
    return Status::InvalidArgument("subject " + r.subject.digest.str() + " is not a version of model '" + model +
                                   "': a referrer must be about one of its versions");
  // Pinned against `admin gc` until committed, and checked again in the
  // commit's transaction, as register's (service/retention_ops.cc).
  std::vector<std::string> pinned{digest.str()};
  for (const Descriptor& d : r.blobs) pinned.push_back(d.digest.str());
  BlobPins pins(this, std::move(pinned));
  // Every blob stored at its size and the caller's to link (as register).
  const Descriptor empty = EmptyConfigDescriptor();
  std::vector<std::string> missing;
  for (const Descriptor& d : r.blobs) {
    if (d.digest == empty.digest && d.size == empty.size) {
      MR_ASSIGN_OR_RETURN(auto stored, blobs_->Stat(d.digest));
      if (!stored) MR_RETURN_IF_ERROR(blobs_->PutBytes(d.digest, "{}"));
      continue;
    }
    MR_ASSIGN_OR_RETURN(auto size, BlobSize(p, d.digest));
    if (!size) {
      missing.push_back(d.digest.str());
    } else if (*size != d.size) {
      return Status::InvalidArgument("blob " + d.digest.str() + ": manifest says " + std::to_string(d.size) +
                                     " bytes, stored blob has " + std::to_string(*size));
    }
  }
  if (!missing.empty())
    return Status(StatusCode::kFailedPrecondition, std::to_string(missing.size()) + " referenced blob(s) not uploaded",
                  missing);
  MR_RETURN_IF_ERROR(blobs_->PutBytes(digest, bytes));
  std::vector<store::BlobRef> refs{{digest.str(), static_cast<int64_t>(bytes.size())}};
  for (const Descriptor& d : r.blobs) refs.push_back({d.digest.str(), static_cast<int64_t>(d.size)});
  PushedReferrerResult out{digest.str(), r.subject.digest.str(), false};
  const store::ReferrerRow row{out.subject,     out.digest, static_cast<int64_t>(bytes.size()),
                               r.artifact_type, NowMs(),    p.name};
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kWrite, [&](Tx& tx) -> Status {
    auto m = store::FindModel(tx, model);
    if (!m) return Status::NotFound("model '" + model + "' not found");
    std::vector<std::string> gone;  // the local store only (register_ops.cc says why)
    for (const auto& ref : blobs_->local() ? refs : std::vector<store::BlobRef>{}) {
      MR_ASSIGN_OR_RETURN(Digest d, Digest::Parse(ref.digest));
      MR_ASSIGN_OR_RETURN(auto stored, blobs_->Stat(d));
      if (!stored) gone.push_back(ref.digest);
    }
    if (!gone.empty())
      return Status(StatusCode::kFailedPrecondition,
                    std::to_string(gone.size()) + " referenced blob(s) not uploaded (removed by admin gc meanwhile)",
                    gone);
    out.created = store::InsertReferrer(tx, m->id, row, refs);
    if (out.created)
      service_internal::Audit(tx, p.name, "referrer.push", model, subject->number,
                              {{"digest", out.digest}, {"subject", out.subject}, {"artifact_type", r.artifact_type}});
    return Status::OK();
  }));
  return out;
}

Result<std::vector<ReferrerDescriptor>> RegistryService::PushedReferrers(const Principal& p, const std::string& model,
                                                                         const Digest& subject) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  std::vector<ReferrerDescriptor> out;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) -> Status {
    auto m = store::FindModel(tx, model);
    if (!m) return Status::NotFound("model '" + model + "' not found");
    for (const auto& row : store::ListReferrers(tx, m->id, subject.str())) {
      MR_ASSIGN_OR_RETURN(Digest d, Digest::Parse(row.digest));
      out.push_back({d, static_cast<uint64_t>(row.size), row.artifact_type});
    }
    return Status::OK();
  }));
  return out;
}

Result<std::string> RegistryService::PushedReferrerManifest(const Principal& p, const std::string& model,
                                                            const Digest& d) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  bool found = false;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    auto m = store::FindModel(tx, model);
    found = m && store::FindReferrer(tx, m->id, d.str());
    return Status::OK();
  }));
  if (!found) return Status::NotFound("no manifest " + d.str() + " was pushed to '" + model + "'");
  return blobs_->ReadSmall(d, options_.limits.max_manifest_bytes);
}

Result<std::unique_ptr<BlobReader>> RegistryService::OpenReferrerBlob(const Principal& p, const std::string& model,
                                                                      const Digest& d) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  std::optional<int64_t> size;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    auto m = store::FindModel(tx, model);
    if (m) size = store::ReferrerBlobSize(tx, m->id, d.str());
    return Status::OK();
  }));
  if (!size) return Status::NotFound("blob " + d.str() + " not found in '" + model + "'");
  MR_ASSIGN_OR_RETURN(auto reader, blobs_->Open(d));
  if (static_cast<int64_t>(reader->size()) != *size)
    return Status::DataLoss("blob " + d.str() + " is not its recorded size in the store");
  return reader;
}

}  // namespace modelreg
