// Internal state of RegistryService for releases: long-poll waiters and the
// signed-envelope cache. Not part of the service's interface.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>

#include "service/registry_service.h"

namespace modelreg {

struct RegistryService::ReleaseWaiters {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t generation = 0;  // guarded by mu; bumped on every stage change
  std::atomic<int> waiting{0};
};

struct RegistryService::EnvelopeCache {
  std::mutex mu;
  std::map<std::string, Release> by_key;  // "model\nstage" -> newest signed release
};

}  // namespace modelreg
