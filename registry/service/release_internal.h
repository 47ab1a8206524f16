// Internal state of RegistryService for releases: long-poll waiters and the
// signed-envelope cache. Not part of the service's interface.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "service/registry_service.h"

namespace modelreg {

// Release watches (WatchRelease): one thread, started with the first
// watch, re-reads the release seq of each watched (model, stage) once per
// change notified (NotifyReleaseChanged) and at least once a second, and
// calls the watches whose seq moved. Everything but `thread` is guarded by mu.
struct RegistryService::ReleaseWaiters {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t generation = 0;  // bumped on every stage change
  bool stopping = false;    // StopWaiting: every watch fires, no new one
  bool recheck = false;     // a change may have come while a watch was set up
  bool quit = false;        // the service is going: the thread ends
  struct Watch {
    std::string model, stage;
    int64_t known_seq;
    std::function<void()> changed;
  };
  std::map<uint64_t, Watch> watches;
  uint64_t next_id = 0;
  std::thread thread;

  ~ReleaseWaiters() {
    {
      std::lock_guard<std::mutex> l(mu);
      quit = true;
    }
    cv.notify_all();
    if (thread.joinable()) thread.join();
  }
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
