// Webhooks and their deliveries (migrations/0014_events.sql;
// docs/events.md). Call only inside Database::Transact.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/events.h"
#include "store/database.h"

namespace modelreg::store {

// Inserts `w` and sets its id (a name taken is a constraint error: check
// FindWebhook first).
void InsertWebhook(Tx& tx, WebhookRecord* w);
std::optional<WebhookRecord> FindWebhook(Tx& tx, const std::string& name);
std::optional<WebhookRecord> FindWebhookById(Tx& tx, int64_t id);
// Every webhook, by name.
std::vector<WebhookRecord> ListWebhooks(Tx& tx);
// Every webhook with only id, events and models set (what an event is
// matched against; no secret or CA read), by id.
std::vector<WebhookRecord> ListWebhookFilters(Tx& tx);
// Removes the webhook and its deliveries.
void DeleteWebhook(Tx& tx, int64_t id);

// A pending delivery of event `event_id` to webhook `webhook_id`, due now.
void InsertDelivery(Tx& tx, int64_t webhook_id, int64_t event_id, const std::string& model, int64_t now_ms);

// The deliveries that may be attempted at `now_ms`: for each webhook and
// model whose oldest pending delivery is due (next_at and lease passed),
// that one and the pending ones after it, in event order, at most
// `per_group` of each and `max_groups` groups.
std::vector<std::vector<DeliveryRecord>> DueDeliveryGroups(Tx& tx, int64_t now_ms, int64_t per_group,
                                                           int64_t max_groups);
// The delivery if it is still pending.
std::optional<DeliveryRecord> FindPendingDelivery(Tx& tx, int64_t webhook_id, int64_t event_id);
// Marks the delivery as being attempted by this replica until `until_ms`.
void LeaseDelivery(Tx& tx, int64_t webhook_id, int64_t event_id, int64_t until_ms);
// Writes the outcome of an attempt (state, attempts, next_at_ms, last_*);
// the lease ends.
void UpdateDelivery(Tx& tx, const DeliveryRecord& d);
// Ends every lease (SQLite at start-up: no other process delivers).
void ReleaseDeliveryLeases(Tx& tx);
// A webhook's deliveries, newest event first, with their event types.
std::vector<DeliveryRecord> ListDeliveries(Tx& tx, int64_t webhook_id, int64_t limit);
// How many of a webhook's deliveries are in `state`.
int64_t CountDeliveries(Tx& tx, int64_t webhook_id, const std::string& state);

}  // namespace modelreg::store
