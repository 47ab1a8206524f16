// The state `admin gc` shares with registrations in this process
// (retention_ops.cc). Internal to the service library.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "service/registry_service.h"

namespace modelreg {

struct RegistryService::GcState {
  // Held while gc checks a blob's pins and removes it, and while a
  // registration pins its blobs: a blob is pinned before the registration
  // first looks at it, or removed before (and then found missing).
  std::mutex mu;
  std::map<std::string, int> pinned;  // digest -> registrations in flight
  // Runs of gc, one at a time.
  std::mutex run_mu;
  // /metrics: the last usage figures and when they were taken.
  mutable std::mutex usage_mu;
  BlobUsage usage;
  std::chrono::steady_clock::time_point usage_at{};
};

}  // namespace modelreg
