// Proxy mode's monitoring (docs/agent.md "Monitoring"; issue #27): one
// WindowAccumulator (core/window_accumulator.h) per served version, with
// the version's reference profile read from <version dir>/.modelreg/
// profile.json (absent: monitored without a reference; unreadable: said
// once in the log, then the same); and the completed windows waiting for
// the registry, sent as the "monitoring" member of each status report until
// one is acknowledged (2xx). At most kMaxWindowsPerReport wait: beyond, the
// oldest is dropped and counted; windows the registry refuses (400) are
// dropped and counted too, so that they never hold up the agent's status.
// Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/monitor_window.h"
#include "core/window_accumulator.h"
#include "local_store.h"

namespace modelreg::agent {

// --validate: what a request that breaks the version's input schema gets.
enum class ValidateMode { kFlag, kReject, kOff };
Result<ValidateMode> ParseValidateMode(const std::string& s);  // "reject", "flag", "off"

class Monitoring {
 public:
  // `log(level, message)` says what went wrong with a profile file.
  Monitoring(int64_t window_ms, std::string run, std::function<void(const std::string&, const std::string&)> log);

  // The accumulator of `v`: one per digest while something holds it (a
  // model server restarted after a crash shares its version's windows).
  std::shared_ptr<WindowAccumulator> For(const CurrentVersion& v);

  // The report's "monitoring" member: the windows ended by now_ms (rolled
  // from every accumulator) and those not yet acknowledged, the oldest
  // first, as many as fit in kMaxBatchBytes (at least one); nullopt when
  // none wait. `upto` is what to Ack once the registry took it.
  static constexpr size_t kMaxBatchBytes = 4 << 20;
  struct Batch {
    std::string json;
    uint64_t upto = 0;
  };
  std::optional<Batch> Pending(int64_t now_ms);
  void Ack(uint64_t upto);
  // The registry refused the batch (400: it always would): forgets it, counted as dropped.
  void Drop(uint64_t upto);

  size_t waiting();
  int64_t dropped();

 private:
  const int64_t window_ms_;
  const std::string run_;
  std::function<void(const std::string&, const std::string&)> log_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<WindowAccumulator>> by_digest_;  // guarded by mu_
  std::deque<std::pair<uint64_t, MonitorWindow>> waiting_;               // guarded by mu_
  uint64_t next_seq_ = 1;                                                // guarded by mu_
  int64_t dropped_ = 0;                                                  // guarded by mu_
};

}  // namespace modelreg::agent
