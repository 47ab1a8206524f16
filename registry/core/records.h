// Domain records shared by the store, service and API layers: plain structs,
// no behaviour, no library types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace modelreg {

enum class Role { kAdmin, kTrainer, kApprover, kAgent, kAuditor };
const char* RoleName(Role r);
Result<Role> ParseRole(const std::string& s);

struct ModelRecord {
  int64_t id = 0;
  std::string name;
  int64_t created_at_ms = 0;
  std::string created_by;
  int64_t version_count = 0;
  std::optional<int64_t> latest_version;
  std::optional<int64_t> production_version;
  // The newest of: creation, the latest registration, the last stage change.
  int64_t last_change_ms = 0;
};

struct DatasetRow {
  std::string name;
  std::string uri;
  std::string digest;  // may be empty
};

struct VersionRecord {
  int64_t id = 0;
  std::string model;
  int64_t number = 0;
  std::string digest;  // bundle digest
  int64_t manifest_size = 0;
  std::string config_digest;
  int64_t file_count = 0;
  int64_t total_bytes = 0;
  std::string stage = "none";
  std::string code_repo;
  std::string code_commit;
  std::optional<bool> code_dirty;
  std::string parent_digest;
  int64_t created_at_ms = 0;
  std::string created_by;
  // Deleted (`modelreg delete`, or retention): the row stays, its bytes
  // may be collected by `admin gc` (docs/operations.md "Retention and
  // garbage collection").
  std::optional<int64_t> deleted_at_ms;
  std::string deleted_by;
  std::string delete_reason;
  bool deleted() const { return deleted_at_ms.has_value(); }
};

// A model's retention rules (`modelreg retention set`); nullopt: keep all.
struct RetentionRule {
  std::optional<int64_t> keep_archived;       // the newest N archived versions stay
  std::optional<int64_t> keep_rejected_days;  // rejected versions older than D days go
  int64_t updated_at_ms = 0;
  std::string updated_by;
};

// What `admin gc` did (or, in a dry run, would do): docs/operations.md
// "Retention and garbage collection".
struct GcReport {
  bool dry_run = false;
  int64_t grace_ms = 0;
  std::vector<VersionRecord> deleted_by_retention;  // (dry run: would be)
  uint64_t blobs_scanned = 0;
  uint64_t blobs_removed = 0, bytes_removed = 0;  // (dry run: would be)
  uint64_t blobs_young = 0, bytes_young = 0;      // unreferenced, within the grace period
  uint64_t blobs_in_use = 0;                      // referenced again, or by a registration in flight, at the re-check
  std::vector<std::pair<std::string, uint64_t>> removed;  // digest, bytes (the first kMaxListed)
  static constexpr size_t kMaxListed = 1000;
};

struct TokenRecord {
  int64_t id = 0;
  std::string name;
  Role role = Role::kAuditor;
  std::vector<std::string> model_globs;  // empty: every model
  int64_t created_at_ms = 0;
  std::string created_by;
  std::optional<int64_t> revoked_at_ms;
  std::optional<int64_t> expires_at_ms;  // none: never expires
};

// A local file as a client describes it before hashing it: its size and
// sample (core/digest.h SampleFd), to ask whether the registry may hold it.
struct SampleProbe {
  uint64_t size = 0;
  std::string sample;  // "sha256:..."
};

struct UploadRecord {
  std::string id;
  std::string created_by;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

// A serving agent's last reported state.
struct AgentInfo {
  std::string id, host, model, stage;
  std::optional<int64_t> version;
  std::string digest, state, last_error, token_name;
  int64_t first_seen_ms = 0, last_seen_ms = 0, last_change_ms = 0;
  int64_t heartbeat_ms = 0;  // the agent's reporting period; 0 if it did not say
  // Proxy mode: the decision spool's fill and what did not fit (0 otherwise).
  int64_t spool_pending_bytes = 0, spool_max_bytes = 0, decisions_dropped = 0;
  // At or above 80 % of its bound: decisions are about to be dropped.
  bool SpoolNearBound() const { return spool_max_bytes > 0 && spool_pending_bytes * 10 >= spool_max_bytes * 8; }
};

// How long an agent may stay silent before its last state no longer counts
// as confirmed: three reporting periods (10 s assumed when unknown). The one
// rule behind both recording gaps and answering "what was live when".
inline constexpr int64_t kDefaultHeartbeatMs = 10000;
inline int64_t AgentSilenceLimitMs(int64_t heartbeat_ms) {
  return 3 * (heartbeat_ms > 0 ? heartbeat_ms : kDefaultHeartbeatMs);
}

// One state an agent held: from at_ms, confirmed by reports until
// seen_until_ms (agent_events).
struct AgentEvent {
  int64_t id = 0;
  std::string agent_id, model;
  std::optional<int64_t> version;
  std::string digest, state, error;
  int64_t at_ms = 0, seen_until_ms = 0, heartbeat_ms = 0;
};

struct ApprovalInfo {
  std::string approver;
  std::string comment;
  int64_t created_at_ms = 0;
};

// A version with what GET /models/M/versions/V shows besides its row.
struct VersionDetail {
  VersionRecord version;
  std::vector<DatasetRow> datasets;
  std::vector<std::pair<std::string, double>> metrics;
  std::vector<ApprovalInfo> approvals;
};

// One stage change of a version (promotion, archive, rejection, rollback).
struct StageChange {
  int64_t version = 0;
  std::string from_stage, to_stage, kind, actor, reason;
  int64_t at_ms = 0;
};

// One answer of a model server, as an agent recorded it.
struct DecisionRecord {
  std::string request_id;
  std::string model;
  std::optional<int64_t> version;
  std::string digest;
  std::string agent_id;
  int64_t at_ms = 0;
  std::string input_sha256;           // hex of the request body's sha256
  std::optional<std::string> output;  // only with --record-output
  int64_t received_at_ms = 0;
  // While a rollout is active (docs/api.md): the arm that answered,
  // "baseline" or "candidate", and the rollout's id; both or neither.
  std::string arm;
  std::optional<int64_t> rollout_id;
  // "previous" or "static" when a fallback answered, else "".
  std::string fallback;
};

// Bounds of POST /api/v1/decisions: decisions per batch, bytes of an output.
inline constexpr size_t kMaxDecisionBatch = 10000;
inline constexpr size_t kMaxDecisionOutputBytes = 64u << 10;

}  // namespace modelreg
