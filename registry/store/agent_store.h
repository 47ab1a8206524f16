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
// Inserts or updates the agent's row; appends an agent_events row when the
// state, version or error changed. Returns true if it changed.
bool UpsertAgent(Tx& tx, const AgentRow& a, int64_t now_ms);
std::vector<AgentRow> ListAgents(Tx& tx, const std::string& model);

// The release sequence of (model, stage): the id of the newest stage change
// into or out of that stage, 0 if none. Grows with every release change.
int64_t ReleaseSeq(Tx& tx, const std::string& model, const std::string& stage);
// The version currently in `stage` (for production: at most one; for other
// stages the newest).
std::optional<VersionRecord> VersionInStage(Tx& tx, const std::string& model, const std::string& stage);

}  // namespace modelreg::store
