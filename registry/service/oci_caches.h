// What the OCI endpoint keeps in memory (docs/oci.md). Internal to the
// service library.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "service/registry_service.h"

namespace modelreg {

// The ModelPack artifacts built so far (service/modelpack_ops.cc), by
// bundle digest. BuildModelPack is deterministic, so an entry never goes
// stale; the cache only bounds how often one is built.
struct RegistryService::ModelPackCache {
  static constexpr size_t kMaxEntries = 4096;  // then it starts over
  std::mutex mu;
  std::map<std::string, std::shared_ptr<const ModelPackArtifact>> by_bundle;
  std::map<std::string, std::string> bundle_of;  // ModelPack manifest or config digest -> bundle digest
  // A generated referrer's manifest or document digest -> its subject
  // (service/referrer_ops.cc), filled when a version's referrers are listed.
  std::map<std::string, std::string> referrer_subject;
};

// Bundle manifests read so far (service/manifest_ops.cc), by digest: a
// manifest never changes, and a stage tag is pulled far more often than it
// moves. Bounded by bytes; starts over when full.
struct RegistryService::ManifestCache {
  static constexpr size_t kMaxBytes = 64 << 20;
  std::mutex mu;
  size_t bytes = 0;
  std::map<std::string, std::shared_ptr<const std::string>> by_digest;
};

}  // namespace modelreg
