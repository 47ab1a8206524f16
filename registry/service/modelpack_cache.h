// The ModelPack artifacts built so far (service/modelpack_ops.cc), by
// bundle digest. BuildModelPack is deterministic, so an entry never goes
// stale; the cache only bounds how often one is built. Internal to the
// service library.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "service/registry_service.h"

namespace modelreg {

struct RegistryService::ModelPackCache {
  static constexpr size_t kMaxEntries = 4096;  // then it starts over
  std::mutex mu;
  std::map<std::string, std::shared_ptr<const ModelPackArtifact>> by_bundle;
  std::map<std::string, std::string> bundle_of;  // ModelPack manifest or config digest -> bundle digest
};

}  // namespace modelreg
