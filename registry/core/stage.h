// The lifecycle stage of a model version and the rules for moving between
// stages (docs/architecture.md). The wire form (JSON, the database, the
// CLI) stays the lowercase name: "none", "staging", "production",
// "archived", "rejected"; code speaks Stage and converts at the edges.
//
// The transitions a direct request may make are one table (kStageTransitions
// in stage.cc); rollback is a separate use case (RegistryService::Rollback)
// that moves production back to an earlier version. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace modelreg {

enum class Stage { kNone, kStaging, kProduction, kArchived, kRejected };

// The wire name: "none", "staging", ...
const char* StageName(Stage s);
// The inverse of StageName; InvalidArgument "unknown stage 'x'" otherwise.
Result<Stage> ParseStage(std::string_view name);
bool IsStage(std::string_view name);
// True for the stages an agent may follow and a release names (staging,
// production).
bool IsReleaseStage(Stage s);

// OK if a direct request may move a version from `from` to `to`;
// FailedPrecondition with a hint otherwise ("already in staging", "the
// version was rejected; rejection is final", "cannot move a version from
// none to production (promote it to staging first)").
Status CheckStageTransition(Stage from, Stage to);
// The same on wire names; an unknown `to` is InvalidArgument.
Status CheckStageTransition(const std::string& from, const std::string& to);

// Rollback's view of a model's production history: `entries` are the
// versions that entered production, oldest first, each with the kind of
// change that put it there ("stage" for a promotion, "rollback"). Replayed
// as a stack: a promotion pushes; a rollback pops back to the version it
// restored (or starts the stack with it when older history is gone). The
// top is the version in production; a rollback goes to one below it.
std::vector<int64_t> ReplayProductionStack(const std::vector<std::pair<int64_t, std::string>>& entries);

}  // namespace modelreg
