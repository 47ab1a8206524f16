#include "core/oci_referrer.h"

#include <nlohmann/json.hpp>

#include "core/oci_json.h"

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

ReferrerDescriptor DescriptorOf(const OciArtifact& a) {
  return ReferrerDescriptor{a.manifest_digest, a.manifest.size(), a.artifact_type};
}

std::string ReferrersIndex(const std::vector<ReferrerDescriptor>& referrers) {
  using nlohmann::json;
  json manifests = json::array();
  for (const auto& r : referrers)
    manifests.push_back({{"mediaType", kOciManifestMediaType},
                         {"digest", r.digest.str()},
                         {"size", r.size},
                         {"artifactType", r.artifact_type}});
  return json{{"schemaVersion", 2}, {"mediaType", kOciIndexMediaType}, {"manifests", manifests}}.dump();
}

namespace {

// A pushed referrer's descriptors must also name their media type.
Result<Descriptor> ParseTypedDescriptor(const nlohmann::json& j, const std::string& where) {
  MR_ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor(j, where));
  if (d.media_type.empty()) return Status::InvalidArgument(where + ".mediaType missing or not a string");
  return d;
}

}  // namespace

Result<PushedReferrer> ParsePushedReferrer(std::string_view bytes) {
  using nlohmann::json;
  const json j = json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (!j.is_object()) return Status::InvalidArgument("manifest is not a JSON object");
  MR_RETURN_IF_ERROR(CheckImageManifestHeader(j));
  auto subject_it = j.find("subject");
  if (subject_it == j.end()) return Status::InvalidArgument("manifest has no subject");
  MR_ASSIGN_OR_RETURN(Descriptor subject, ParseTypedDescriptor(*subject_it, "subject"));
  PushedReferrer out{"", subject, {}};
  auto config = j.find("config");
  if (config == j.end()) return Status::InvalidArgument("manifest has no config");
  MR_ASSIGN_OR_RETURN(Descriptor c, ParseTypedDescriptor(*config, "config"));
  out.blobs.push_back(c);
  auto layers = j.find("layers");
  if (layers == j.end() || !layers->is_array()) return Status::InvalidArgument("manifest has no layers array");
  if (layers->size() > kMaxReferrerLayers)
    return Status::ResourceExhausted("a manifest with a subject may have at most " +
                                     std::to_string(kMaxReferrerLayers) + " layers");
  for (size_t i = 0; i < layers->size(); ++i) {
    MR_ASSIGN_OR_RETURN(Descriptor l, ParseTypedDescriptor((*layers)[i], "layers[" + std::to_string(i) + "]"));
    out.blobs.push_back(l);
  }
  auto at = j.find("artifactType");
  if (at != j.end() && !at->is_string()) return Status::InvalidArgument("artifactType is not a string");
  out.artifact_type = at != j.end() ? at->get<std::string>() : c.media_type;
  return out;
}

}  // namespace modelreg
