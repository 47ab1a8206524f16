// Appending audit events, and the outbox events they stand for, from inside
// a use case's transaction. Internal to the service library.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/events.h"
#include "store/database.h"

namespace modelreg::service_internal {

// Appends one event, hash-chained to the previous one, in the caller's
// transaction: the change and its record commit or roll back together.
void Audit(Tx& tx, const std::string& actor, const std::string& action, const std::string& model,
           std::optional<int64_t> version, const nlohmann::json& details);

// Appends an event to the outbox (EventsOfAudit's, from Audit; or an
// operational one) with a pending delivery for every webhook that wants
// it, in the caller's transaction, and announces it on kEventsChannel.
void Emit(Tx& tx, EventRecord e);

}  // namespace modelreg::service_internal
