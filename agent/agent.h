// The agent loop: follow one model and stage, apply each new signed release
// (download what is missing, verify, materialize, swap, hook, health check,
// swap back on failure), report state, survive a registry that is down.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "local_store.h"
#include "monitoring.h"
#include "options.h"
#include "proxy.h"
#include "registry_link.h"
#include "spool.h"

namespace modelreg::agent {

class Agent {
 public:
  Agent(Options o, LocalStore store, std::unique_ptr<RegistryLink> link);
  // Runs until `stop` is set (or once, with --once). Returns the exit code.
  int Run(const std::atomic<bool>& stop);

 private:
  // One poll-and-apply step. Unavailable: the registry is unreachable;
  // DataLoss: the registry holds a damaged blob of the release. Both are
  // retried with back-off.
  Status ReconcileOnce();
  // Its outcomes: the poll failed (Unavailable passed on; anything else
  // logged and reported, OK); the release is unchanged (304, a heartbeat);
  // applying `rel` failed with `st` (Unavailable and DataLoss passed on,
  // the agent's disk retried at the interval, the rest refuses `rel`).
  Status OnPollFailed(const Status& st);
  void OnUnchanged(int64_t known, double poll_took_s);
  Status OnApplyFailed(const SignedRelease& rel, const Status& st);
  Status Apply(const SignedRelease& rel);
  // Downloads what the cache lacks of a version, verifies and materializes
  // it under ROOT/versions (not `current`).
  Status Fetch(const std::string& digest, int64_t version);
  // Proxy mode, a release with a rollout: the baseline current (and served),
  // the candidate fetched, verified and started beside it (proxy SetRollout);
  // a candidate that does not start leaves the baseline alone, reported.
  Status ApplyRollout(const SignedRelease& rel);
  // `rel` is served as it says: remembered (seq, no failure) and reported.
  Status Served(const SignedRelease& rel);
  // Records a release as failed (not retried until the release changes) and reports it.
  void Refuse(const SignedRelease& rel, const std::string& why);
  // Sends the agent's state now; the heartbeat thread repeats the last one.
  void ReportNow(const std::string& state, const std::string& error);
  // The counts a report carries, fresh: spool fill, rollout arms.
  void AddLiveCounts(Report* r) const;
  // The heartbeat thread repeats the last report whenever the main loop has
  // not reported for 1.5 intervals: during a long download, hook or health
  // check the registry still hears from the agent (docs/agent.md), so auditors do
  // not see it as silent while it serves the old version.
  void StartHeartbeat();
  void StopHeartbeat();
  void Log(const std::string& level, const std::string& msg, const std::string& extra_json = "");
  std::map<std::string, std::string> HookEnv(const CurrentVersion& v) const;

  Options o_;
  LocalStore store_;
  std::unique_ptr<RegistryLink> link_;
  AgentState state_;
  std::optional<CurrentVersion> current_;
  std::string last_error_;
  // What the registry said the last time it had no release to follow (404:
  // no such model, nothing in the stage); empty once there is one. Logged
  // when it changes, so a mistyped --model is not a silent idle agent.
  std::string nothing_released_;
  // Seconds to sleep before the next poll: nothing to follow yet (an
  // --interval), or what is left of the interval after a poll answered
  // early (the registry's long polls all taken, or it is stopping).
  double idle_wait_s_ = 0;
  std::unique_ptr<Monitoring> monitoring_;  // proxy mode, unless --no-monitoring (outlives proxy_)
  std::unique_ptr<Proxy> proxy_;            // proxy mode only
  bool first_poll_ = true;
  std::string rollout_candidate_;   // proxy mode: the candidate digest served, "" none
  int64_t files_mode_rollout_ = 0;  // files mode: the rollout last said to need proxy mode
  std::unique_ptr<class DecisionSpool> spool_;

  std::mutex report_mu_;  // held while a report is sent: reports go out in order
  std::condition_variable heartbeat_cv_;
  std::optional<Report> last_report_;
  std::chrono::steady_clock::time_point last_report_at_;
  bool heartbeat_stop_ = false;
  std::thread heartbeat_;
};

}  // namespace modelreg::agent
