// The bundle manifest: an OCI image manifest (docs/architecture.md) with one raw layer per
// file, sorted by path, and the lineage record as config.
//
// SerializeManifest is deterministic (sorted keys, no whitespace), so the same
// files and lineage always give the same bytes and hence the same bundle
// digest. ParseManifest is strict: it checks media types, digests, sizes,
// path rules and ordering, and is what the server runs on every manifest it
// accepts and the client on every manifest it pulls. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/bundle_path.h"
#include "core/digest.h"
#include "core/status.h"

namespace modelreg {

inline constexpr char kOciManifestMediaType[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kModelArtifactType[] = "application/vnd.modelreg.model.v1";
inline constexpr char kDatasetArtifactType[] = "application/vnd.modelreg.dataset.v1";
inline constexpr char kLineageMediaType[] = "application/vnd.modelreg.lineage.v1+json";
inline constexpr char kFileMediaType[] = "application/vnd.modelreg.file.v1";
inline constexpr char kOciEmptyMediaType[] = "application/vnd.oci.empty.v1+json";
inline constexpr char kOciTitleAnnotation[] = "org.opencontainers.image.title";

struct Descriptor {
  std::string media_type;
  Digest digest;
  uint64_t size = 0;
  std::string title;  // layer path; empty for the config
};

struct Manifest {
  std::string artifact_type;  // kModelArtifactType or kDatasetArtifactType
  Descriptor config;
  std::vector<Descriptor> layers;  // sorted by title, byte order

  uint64_t TotalLayerBytes() const;
};

// One file of a bundle as packed by the client.
struct BundleFile {
  std::string path;
  Digest digest;
  uint64_t size = 0;
};

// Builds a manifest from files (any order; sorted here) and a config.
Manifest BuildManifest(std::string artifact_type, Descriptor config, std::vector<BundleFile> files);

std::string SerializeManifest(const Manifest& m);

// Strict parse and validation of manifest bytes.
Result<Manifest> ParseManifest(std::string_view bytes, const BundleLimits& limits = {});

// The OCI empty config ("{}"), used as config of dataset manifests.
Descriptor EmptyConfigDescriptor();

}  // namespace modelreg
