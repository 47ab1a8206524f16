// The agent loop: follow one model and stage, apply each new signed release
// (download what is missing, verify, materialize, swap, hook, health check,
// swap back on failure), report state, survive a registry that is down.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <memory>
#include <optional>

#include "local_store.h"
#include "proxy.h"
#include "spool.h"
#include "options.h"
#include "registry_link.h"

namespace modelreg::agent {

class Agent {
 public:
  Agent(Options o, LocalStore store, std::unique_ptr<RegistryLink> link);
  // Runs until `stop` is set (or once, with --once). Returns the exit code.
  int Run(const std::atomic<bool>& stop);

 private:
  // One poll-and-apply step. Unavailable: the registry is unreachable.
  Status ReconcileOnce();
  Status Apply(const SignedRelease& rel);
  // Records a release as failed (not retried until the release changes) and reports it.
  void Refuse(const SignedRelease& rel, const std::string& why);
  void ReportNow(const std::string& state, const std::string& error);
  void Log(const std::string& level, const std::string& msg, const std::string& extra_json = "");
  std::map<std::string, std::string> HookEnv(const CurrentVersion& v) const;

  Options o_;
  LocalStore store_;
  std::unique_ptr<RegistryLink> link_;
  AgentState state_;
  std::optional<CurrentVersion> current_;
  std::string last_error_;
  bool idle_wait_ = false;  // nothing to follow yet: sleep before the next poll
  std::unique_ptr<Proxy> proxy_;  // proxy mode only
  std::unique_ptr<class DecisionSpool> spool_;
};

}  // namespace modelreg::agent
