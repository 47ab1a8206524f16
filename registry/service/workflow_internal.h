// What the approval workflow and rollouts share, inside a use case's
// transaction. Internal to the service library.
#pragma once

#include <optional>
#include <string>

#include "core/policy.h"
#include "core/records.h"
#include "store/database.h"

namespace modelreg::service_internal {

// The facts the model's policy judges a promotion of `v` by, `prod` being
// the production version it would replace (workflow_ops.cc).
PromotionFacts PromotionFactsFor(Tx& tx, const VersionRecord& v, const std::optional<VersionRecord>& prod);

// FailedPrecondition when an active rollout of `model` forbids the stage
// change `what`: with `v` null, any change of production (a promotion to
// it, a rollback); else moving `v` when it is the rollout's baseline, or
// its candidate other than to staging (rollout_ops.cc).
Status CheckNoRollout(Tx& tx, const std::string& model, const VersionRecord* v, const std::string& to,
                      const std::string& what);

}  // namespace modelreg::service_internal
