#include "core/manifest.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/oci_json.h"

namespace modelreg {
namespace {
using nlohmann::json;

json DescriptorJson(const Descriptor& d) {
  json j = {{"mediaType", d.media_type}, {"digest", d.digest.str()}, {"size", d.size}};
  if (!d.title.empty()) j["annotations"] = {{kOciTitleAnnotation, d.title}};
  return j;
}

}  // namespace

uint64_t Manifest::TotalLayerBytes() const {
  uint64_t n = 0;
  for (const auto& l : layers) n += l.size;
  return n;
}

Manifest BuildManifest(std::string artifact_type, Descriptor config, std::vector<BundleFile> files) {
  std::sort(files.begin(), files.end(), [](const BundleFile& a, const BundleFile& b) { return a.path < b.path; });
  Manifest m{std::move(artifact_type), std::move(config), {}};
  m.layers.reserve(files.size());
  for (auto& f : files) m.layers.push_back(Descriptor{kFileMediaType, f.digest, f.size, std::move(f.path)});
  return m;
}

std::string SerializeManifest(const Manifest& m) {
  // nlohmann::json objects are std::map-backed: keys come out sorted, and
  // dump() without indent emits no whitespace.
  json layers = json::array();
  for (const auto& l : m.layers) layers.push_back(DescriptorJson(l));
  json j = {{"schemaVersion", 2},
            {"mediaType", kOciManifestMediaType},
            {"artifactType", m.artifact_type},
            {"config", DescriptorJson(m.config)},
            {"layers", std::move(layers)}};
  return j.dump();
}

Result<Manifest> ParseManifest(std::string_view bytes, const BundleLimits& limits) {
  if (bytes.size() > limits.max_manifest_bytes)
    return Status::ResourceExhausted("manifest is " + std::to_string(bytes.size()) + " bytes, limit is " +
                                     std::to_string(limits.max_manifest_bytes));
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument("manifest is not a JSON object");
  MR_RETURN_IF_ERROR(CheckImageManifestHeader(j));
  auto at = j.find("artifactType");
  if (at == j.end() || !at->is_string() || (*at != kModelArtifactType && *at != kDatasetArtifactType))
    return Status::InvalidArgument(std::string("manifest artifactType must be ") + kModelArtifactType);
  auto cfg = j.find("config");
  if (cfg == j.end()) return Status::InvalidArgument("manifest has no config");
  MR_ASSIGN_OR_RETURN(Descriptor config, ParseDescriptor(*cfg, "config"));
  const bool model = *at == kModelArtifactType;
  if (model && config.media_type != kLineageMediaType)
    return Status::InvalidArgument(std::string("config mediaType must be ") + kLineageMediaType);
  auto ls = j.find("layers");
  if (ls == j.end() || !ls->is_array()) return Status::InvalidArgument("manifest has no layers array");
  if (ls->size() > limits.max_files)
    return Status::ResourceExhausted("bundle has " + std::to_string(ls->size()) + " files, limit is " +
                                     std::to_string(limits.max_files));
  Manifest m{at->get<std::string>(), std::move(config), {}};
  m.layers.reserve(ls->size());
  std::vector<std::string> paths;
  paths.reserve(ls->size());
  for (size_t i = 0; i < ls->size(); ++i) {
    std::string where = "layers[" + std::to_string(i) + "]";
    MR_ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor((*ls)[i], where));
    if (d.media_type != kFileMediaType) return Status::InvalidArgument(where + ".mediaType must be " + kFileMediaType);
    if (d.title.empty()) return Status::InvalidArgument(where + " has no " + kOciTitleAnnotation + " annotation");
    if (!m.layers.empty() && !(m.layers.back().title < d.title))
      return Status::InvalidArgument(where + " '" + d.title + "' is out of order: layers must be sorted by path");
    paths.push_back(d.title);
    m.layers.push_back(std::move(d));
  }
  MR_RETURN_IF_ERROR(ValidateBundlePathSet(paths, limits));
  return m;
}

Descriptor EmptyConfigDescriptor() { return Descriptor{kOciEmptyMediaType, Digest::Of("{}"), 2, ""}; }

}  // namespace modelreg
