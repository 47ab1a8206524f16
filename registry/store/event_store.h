// The event outbox (migrations/0014_events.sql; docs/events.md). Append in
// the transaction of the change the event is about. Call only inside
// Database::Transact.
#pragma once

#include <cstdint>
#include <vector>

#include "core/events.h"
#include "store/database.h"

namespace modelreg::store {

// Inserts `e` and sets its id.
void AppendEvent(Tx& tx, EventRecord* e);
// Events with id > `after_id`, oldest first, at most `limit`.
std::vector<EventRecord> ListEvents(Tx& tx, int64_t after_id, int64_t limit);
std::optional<EventRecord> FindEvent(Tx& tx, int64_t id);
// The newest event's id; 0 if there is none.
int64_t LastEventId(Tx& tx);

}  // namespace modelreg::store
