// Data access for agents and releases. Call only inside Database::Transact.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/records.h"
#include "store/database.h"

namespace modelreg::store {

using AgentRow = AgentInfo;

std::optional<AgentRow> FindAgent(Tx& tx, const std::string& id);
// Inserts or updates the agent's row. Appends an agent_events row when the
// state, version, digest or error changed, or when the agent reports after a
// silence longer than AgentSilenceLimitMs; otherwise extends the newest row's
// seen_until_ms. Returns the row as it was before (none for a new agent),
// read once here so that callers comparing old and new need no second read.
struct AgentUpsert {
  std::optional<AgentRow> before;
  bool appended = false;  // an agent_events row was appended
};
AgentUpsert UpsertAgent(Tx& tx, const AgentRow& a, int64_t now_ms);
std::vector<AgentRow> ListAgents(Tx& tx, const std::string& model);
// Agents whose current state names this digest (any state).
std::vector<AgentRow> AgentsWithDigest(Tx& tx, const std::string& model, const std::string& digest);

// Each agent's newest state row for `model` that began at or before `at_ms`
// (only `agent_id`'s if not empty), ordered by agent id.
std::vector<AgentEvent> AgentStatesAt(Tx& tx, const std::string& model, int64_t at_ms, const std::string& agent_id);
// The agent's first state row for `model` that began after `after_ms`.
std::optional<AgentEvent> NextAgentEvent(Tx& tx, const std::string& model, const std::string& agent_id,
                                         int64_t after_ms);

// The release sequence of (model, stage): the id of the newest stage change
// into or out of that stage, 0 if none; for production plus the model's
// rollout revisions (store/rollout_store.h). Grows with every release change.
int64_t ReleaseSeq(Tx& tx, const std::string& model, const std::string& stage);
// The version currently in `stage` (for production: at most one; for other
// stages the newest).
std::optional<VersionRecord> VersionInStage(Tx& tx, const std::string& model, const std::string& stage);

}  // namespace modelreg::store
