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

// One entry of the referrers answer.
struct ReferrerDescriptor {
  Digest digest;  // the referrer's manifest
  uint64_t size = 0;
  std::string artifact_type;
};
ReferrerDescriptor DescriptorOf(const OciArtifact& a);

// The referrers answer: an image index listing each manifest with its
// artifactType.
std::string ReferrersIndex(const std::vector<ReferrerDescriptor>& referrers);

// A manifest pushed with a `subject` (a signature or attestation made
// elsewhere), as far as modelreg checks it: an OCI image manifest with a
// config, at most kMaxReferrerLayers layers and a subject, each a
// well-formed descriptor. Its artifactType is its own, else its config's
// media type. InvalidArgument naming the first problem.
inline constexpr size_t kMaxReferrerLayers = 64;
struct PushedReferrer {
  std::string artifact_type;
  Descriptor subject;
  std::vector<Descriptor> blobs;  // config, then layers
};
Result<PushedReferrer> ParsePushedReferrer(std::string_view bytes);

}  // namespace modelreg
