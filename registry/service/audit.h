// Appending audit events from inside a use case's transaction. Internal to
// the service library.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "store/database.h"

namespace modelreg::service_internal {

// Appends one event, hash-chained to the previous one, in the caller's
// transaction: the change and its record commit or roll back together.
void Audit(Tx& tx, const std::string& actor, const std::string& action, const std::string& model,
           std::optional<int64_t> version, const nlohmann::json& details);

}  // namespace modelreg::service_internal
