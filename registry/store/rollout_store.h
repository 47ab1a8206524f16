// Rollouts and the agents' per-arm counts (migrations/0015_rollouts.sql,
// 0017_rollout_horizon.sql;
// docs/rollouts.md). Call only inside Database::Transact.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/rollout.h"
#include "store/database.h"

namespace modelreg::store {

// Inserts `r` (state active) for model `model_id` and sets its id. A second
// active rollout of the model is a constraint error: check ActiveRollout.
void InsertRollout(Tx& tx, int64_t model_id, int64_t baseline_id, int64_t candidate_id, RolloutRecord* r);
// The model's active rollout, if any.
std::optional<RolloutRecord> ActiveRollout(Tx& tx, const std::string& model);
// The model's newest rollout (active or ended), if any.
std::optional<RolloutRecord> LatestRollout(Tx& tx, const std::string& model);
std::optional<RolloutRecord> FindRollout(Tx& tx, int64_t id);
// Writes the mutable fields (step, step_started_ms, state, revision,
// ended_*, reason, verdict, judged_requests, last_look).
void UpdateRollout(Tx& tx, const RolloutRecord& r);
// Sum of the revisions of the model's rollouts: how many rollout changes
// the model has had (part of the production release seq).
int64_t RolloutRevisions(Tx& tx, const std::string& model);

// Replaces the row of (rollout, step, agent, run) with `c`.
void UpsertRolloutCounts(Tx& tx, const RolloutCounts& c);
// The rows of one step.
std::vector<RolloutCounts> RolloutCountsOf(Tx& tx, int64_t rollout_id, int step);

}  // namespace modelreg::store
