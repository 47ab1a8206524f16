// Referrers of a version (docs/oci.md "Referrers"): what modelreg knows and
// signs about it, as OCI artifacts whose subject is the version's bundle
// manifest. Built when listed, from the same facts the REST API serves
// (provenance, approvals, stage history, the signed release).
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "service/oci_caches.h"

namespace modelreg {
Result<std::vector<OciArtifact>> RegistryService::Referrers(const Principal& p, const std::string& model,
                                                            const Digest& subject) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  auto detail = GetVersion(p, model, subject.str());
  if (!detail.ok()) {
    // The spec's rule: a subject without referrers is an empty list.
    if (detail.status().code() == StatusCode::kNotFound) {
      MR_RETURN_IF_ERROR(GetModel(p, model).status());  // but a model that is not there is
      return std::vector<OciArtifact>{};
    }
    return detail.status();
  }
  const VersionRecord& v = detail->version;
  const Descriptor subj{kOciManifestMediaType, subject, static_cast<uint64_t>(v.manifest_size), ""};
  std::vector<OciArtifact> out;
  MR_ASSIGN_OR_RETURN(std::string provenance, Provenance(p, model, v.digest));
  out.push_back(BuildSubjectArtifact(kProvenanceArtifactType, kDsseEnvelopeMediaType, std::move(provenance), subj));

  nlohmann::json approvals = nlohmann::json::array();
  for (const auto& a : detail->approvals)
    approvals.push_back({{"approver", a.approver}, {"comment", a.comment}, {"at", FormatIsoTime(a.created_at_ms)}});
  nlohmann::json history = nlohmann::json::array();
  MR_ASSIGN_OR_RETURN(auto changes, StageHistory(p, model));
  for (const auto& c : changes)
    if (c.version == v.number)
      history.push_back({{"from", c.from_stage},
                         {"to", c.to_stage},
                         {"kind", c.kind},
                         {"actor", c.actor},
                         {"reason", c.reason},
                         {"at", FormatIsoTime(c.at_ms)}});
  const nlohmann::json record = {{"model", model},        {"version", v.number},    {"digest", v.digest},
                                 {"stage", v.stage},      {"approvals", approvals}, {"stage_history", history},
                                 {"author", v.created_by}};
  out.push_back(BuildSubjectArtifact(kApprovalsArtifactType, kApprovalsArtifactType, record.dump(), subj));

  if ((v.stage == "production" || v.stage == "staging") && RoleAllows(p.role, Action::kReadRelease)) {
    auto release = GetRelease(p, model, v.stage);
    if (release.ok() && release->digest == v.digest)
      out.push_back(BuildSubjectArtifact(kReleaseArtifactType, kDsseEnvelopeMediaType, release->envelope, subj));
  }
  // Which subject each digest listed here is about: a later fetch by digest
  // builds that one version's artifacts again, never searches.
  std::lock_guard<std::mutex> l(modelpacks_->mu);
  if (modelpacks_->referrer_subject.size() > ModelPackCache::kMaxEntries * 4) modelpacks_->referrer_subject.clear();
  for (const auto& a : out) {
    modelpacks_->referrer_subject[a.manifest_digest.str()] = subject.str();
    modelpacks_->referrer_subject[a.layer_digest.str()] = subject.str();
  }
  return out;
}

Result<std::string> RegistryService::ReferrerBytes(const Principal& p, const std::string& model, const Digest& d,
                                                   bool manifest) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  // Only what was listed on this replica is known (a client lists, then
  // fetches): that version's artifacts are built again for this caller.
  std::string subject_text;
  {
    std::lock_guard<std::mutex> l(modelpacks_->mu);
    auto it = modelpacks_->referrer_subject.find(d.str());
    if (it != modelpacks_->referrer_subject.end()) subject_text = it->second;
  }
  if (!subject_text.empty()) {
    MR_ASSIGN_OR_RETURN(Digest subject, Digest::Parse(subject_text));
    auto artifacts = Referrers(p, model, subject);
    if (artifacts.ok())
      for (const auto& a : *artifacts) {
        if (manifest && a.manifest_digest == d) return a.manifest;
        if (!manifest && a.layer_digest == d) return a.layer;
      }
  }
  return Status::NotFound("no referrer of a version of '" + model + "' listed here is " + d.str() +
                          ": list the version's referrers first");
}

}  // namespace modelreg
