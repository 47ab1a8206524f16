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
  bool stopping = false;    // guarded by mu
  std::atomic<int> waiting{0};
};

struct RegistryService::EnvelopeCache {
  std::mutex mu;
  std::map<std::string, Release> by_key;  // "model\nstage" -> newest signed release
  // Release seqs for the 304 path: valid while the generation is unchanged
  // and for at most kFreshMs (changes made by other processes, e.g. the CLI
  // with --data, are seen within that time).
  struct Seq {
    int64_t seq;
    uint64_t generation;
    int64_t at_ms;
  };
  std::map<std::string, Seq> seqs;
  static constexpr int64_t kFreshMs = 1000;
};

// Authenticated tokens, by hash. Entries are dropped when any token changes
// in this process, and live at most kFreshMs (revocations by other
// processes take effect within that time).
struct RegistryService::TokenCache {
  std::mutex mu;
  uint64_t generation = 0;
  struct Entry {
    Principal principal;
    uint64_t generation;
    int64_t at_ms;
    std::optional<int64_t> expires_at_ms;
  };
  std::map<std::string, Entry> by_hash;
  static constexpr int64_t kFreshMs = 1000;
};

}  // namespace modelreg
