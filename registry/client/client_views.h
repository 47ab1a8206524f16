// What the registry's answers (docs/api.md) hold, as RegistryClient's typed
// calls return them: core records, plus the few facts an answer adds to a
// record (a version's metrics and approvals, an agent's heartbeat age).
// Plain structs, no behaviour.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/lineage_record.h"
#include "core/policy.h"
#include "core/records.h"

namespace modelreg {

// A version as `versions` lists it and `show` shows it. `data` and
// `approvals` are filled by RegistryClient::Version only.
struct VersionView {
  VersionRecord record;
  std::map<std::string, double> metrics;
  std::vector<DatasetRow> data;
  std::vector<ApprovalInfo> approvals;
};

// An agent with what the registry judged of it when it answered.
struct AgentView {
  AgentInfo info;
  double heartbeat_age_s = 0;
  bool silent = false;  // no report for three heartbeats: its state no longer counts
};

struct StageOutcome {
  VersionRecord version;
  std::optional<VersionRecord> replaced;      // the production version archived by this promotion
  std::vector<std::string> overridden_gates;  // an admin override: what it overrode
};

struct ApproveOutcome {
  VersionView version;
  bool added = false;  // false: this approver had approved it already
};

struct RollbackOutcome {
  VersionRecord restored, demoted;
};

struct Identity {
  std::string name;
  std::string role;
  std::vector<std::string> models;  // empty: every model
};

struct TokenIssued {
  TokenRecord record;
  std::string token;  // the secret, shown once
};

struct TokenRequest {
  std::string name, role;
  std::vector<std::string> models;
  int64_t expires_in_s = 0;   // 0: see expires_at_ms
  int64_t expires_at_ms = 0;  // 0: never
};

}  // namespace modelreg
