// Data access for decisions. Call only inside Database::Transact.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/records.h"
#include "store/database.h"

namespace modelreg::store {

// INSERT ... ON CONFLICT DO NOTHING: returns how many were new (the rest were duplicates).
size_t InsertDecisions(Tx& tx, const std::vector<DecisionRecord>& ds, int64_t now_ms);
std::optional<DecisionRecord> FindDecision(Tx& tx, const std::string& request_id);

}  // namespace modelreg::store
