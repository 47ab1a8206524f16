#include "core/oci_referrer.h"

#include <nlohmann/json.hpp>

namespace modelreg {

OciArtifact BuildSubjectArtifact(const std::string& artifact_type, const std::string& layer_media_type,
                                 std::string document, const Descriptor& subject) {
  using nlohmann::json;
  const Digest layer_digest = Digest::Of(document);
  OciArtifact a{artifact_type,       "", layer_digest, std::move(document), layer_digest, layer_media_type,
                subject.digest.str()};
  const Descriptor empty = EmptyConfigDescriptor();
  const json j = {
      {"schemaVersion", 2},
      {"mediaType", kOciManifestMediaType},
      {"artifactType", artifact_type},
      {"config", {{"mediaType", empty.media_type}, {"digest", empty.digest.str()}, {"size", empty.size}}},
      {"layers",
       json::array({{{"mediaType", layer_media_type}, {"digest", a.layer_digest.str()}, {"size", a.layer.size()}}})},
      {"subject", {{"mediaType", subject.media_type}, {"digest", subject.digest.str()}, {"size", subject.size}}}};
  a.manifest = j.dump();
  a.manifest_digest = Digest::Of(a.manifest);
  return a;
}

std::string ReferrersIndex(const std::vector<OciArtifact>& artifacts) {
  using nlohmann::json;
  json manifests = json::array();
  for (const auto& a : artifacts)
    manifests.push_back({{"mediaType", kOciManifestMediaType},
                         {"digest", a.manifest_digest.str()},
                         {"size", a.manifest.size()},
                         {"artifactType", a.artifact_type}});
  return json{{"schemaVersion", 2}, {"mediaType", kOciIndexMediaType}, {"manifests", manifests}}.dump();
}

}  // namespace modelreg
