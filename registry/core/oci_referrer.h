// Artifacts about a version, shaped as OCI referrers (docs/oci.md
// "Referrers"): an image manifest whose `subject` is the version's bundle
// manifest, with the empty config and one layer holding the document (a
// DSSE envelope, a JSON record), and the image index the referrers API
// answers with. Pure, deterministic (sorted keys, no whitespace).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/digest.h"
#include "core/manifest.h"

namespace modelreg {

inline constexpr char kOciIndexMediaType[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kDsseEnvelopeMediaType[] = "application/vnd.dsse.envelope.v1+json";
// What modelreg attaches to each version.
inline constexpr char kProvenanceArtifactType[] = "application/vnd.in-toto+json";
inline constexpr char kReleaseArtifactType[] = "application/vnd.modelreg.release.v1+json";
inline constexpr char kApprovalsArtifactType[] = "application/vnd.modelreg.approvals.v1+json";

struct OciArtifact {
  std::string artifact_type;
  std::string manifest;  // the image manifest's bytes
  Digest manifest_digest;
  std::string layer;  // the document
  Digest layer_digest;
  std::string layer_media_type;
  std::string subject;  // the subject's digest
};

// An artifact holding `document` (of `layer_media_type`) about `subject`.
OciArtifact BuildSubjectArtifact(const std::string& artifact_type, const std::string& layer_media_type,
                                 std::string document, const Descriptor& subject);

// The referrers answer: an image index listing each artifact's manifest
// with its artifactType.
std::string ReferrersIndex(const std::vector<OciArtifact>& artifacts);

}  // namespace modelreg
