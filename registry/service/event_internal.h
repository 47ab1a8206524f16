// Internal state of RegistryService for events: the feed's long-poll
// watches and the delivery worker's wait. Not part of the service's
// interface.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "service/registry_service.h"

namespace modelreg {

// Event watches (WatchEvents, SubscribeEvents). Commits of this process
// announce their newest event id at once (the events channel, delivered
// locally on SQLite and through LISTEN on PostgreSQL); one thread, started
// with the first watch or wait, also reads the newest id once a second, for
// events written by other processes. Everything but `thread` is guarded by mu.
struct RegistryService::EventWaiters {
  std::mutex mu;
  std::condition_variable cv;
  int64_t last_id = 0;    // the newest event id known
  bool stopping = false;  // StopWaiting: every watch fires, no new one
  bool quit = false;      // the service is going: the thread ends
  bool recheck = false;   // read the newest id now
  struct Watch {
    int64_t after;
    std::function<void()> changed;
  };
  std::map<uint64_t, Watch> watches;
  std::map<uint64_t, std::function<void()>> subscribers;  // SubscribeEvents; called under mu
  uint64_t next_id = 0;
  std::thread thread;

  // Ends the poll thread (it reads the database: before the database goes).
  // Watches and subscribers may still be called afterwards, by commits.
  void StopThread() {
    {
      std::lock_guard<std::mutex> l(mu);
      quit = true;
    }
    cv.notify_all();
    if (thread.joinable()) thread.join();
  }
  ~EventWaiters() { StopThread(); }
};

}  // namespace modelreg
