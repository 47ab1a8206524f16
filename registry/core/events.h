// Events (docs/events.md): what the registry tells the rest of a platform
// about its changes, through webhooks and the event feed. The catalogue of
// event types, the events an audit record stands for, the JSON every
// receiver gets, which webhook wants which event, and the retry schedule.
// Pure, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/audit_chain.h"
#include "core/status.h"

namespace modelreg {

// One change, as stored in the outbox (store/event_store.h).
struct EventRecord {
  int64_t id = 0;  // assigned when stored; grows in commit order
  int64_t at_ms = 0;
  std::string type;   // one of EventTypes()
  std::string model;  // empty for registry-wide events
  std::optional<int64_t> version;
  std::string actor;
  std::string data;  // JSON object text
};

struct EventType {
  const char* name;    // "stage.changed"
  const char* entity;  // MLflow-style entity ("model_version") …
  const char* action;  // … and action ("created"), both in every body
  bool model_scoped;   // about one model (false: registry-wide)
  const char* what;    // one line for docs and --help
};
// Every type, in the order docs/events.md lists them.
const std::vector<EventType>& EventTypes();
const EventType* FindEventType(std::string_view name);

// The events an audit record stands for (none for most reads-only actions
// it never records anyway): "register" -> model_version.created, "promote"
// -> stage.changed (and one for the version it replaced), "rollback" ->
// rollback and a stage.changed for each of the two versions, and so on.
// `e.details` is the audit record's JSON.
std::vector<EventRecord> EventsOfAudit(const AuditEvent& e);

// The JSON object a webhook receives and the feed lists:
// {"id","type","entity","action","timestamp","model","version","actor","data"}.
std::string EventBody(const EventRecord& e);

// A webhook's event list as given (`--events`): comma-separated type names,
// or "*" for all; each must be a known type. Returned normalized (sorted,
// no duplicates, joined by commas), or InvalidArgument naming the unknown one.
Result<std::string> NormalizeEventList(std::string_view list);
// Whether a webhook with `events` (normalized) and model glob `models`
// ("" = every model and the registry-wide events) wants `e`.
bool WebhookWants(std::string_view events, std::string_view models, const EventRecord& e);

// A webhook as stored (store/webhook_store.h). The secret and CA are never
// listed back by the API.
struct WebhookRecord {
  int64_t id = 0;
  std::string name, url;
  std::string events;  // NormalizeEventList's form
  std::string models;  // a model glob, or "" for all
  std::string secret;
  std::string ca_pem;  // PEM certificates to verify an https receiver; "" for the system's
  int64_t created_at_ms = 0;
  std::string created_by;
};

// One event's delivery to one webhook.
struct DeliveryRecord {
  int64_t webhook_id = 0, event_id = 0;
  std::string model, state;  // pending, delivered, failed
  int64_t attempts = 0, created_at_ms = 0, next_at_ms = 0;
  int64_t last_at_ms = 0;   // 0: not tried yet
  int64_t last_status = 0;  // HTTP status of the last attempt; 0: no answer
  std::string last_error;
  int64_t last_elapsed_ms = 0;
  std::string event_type;  // of the event, for listings
};

// Delivery retries: after failed attempt `attempts` (1-based), wait
// 1 s doubling to at most kMaxRetryDelayMs, times a random factor in
// [0.5, 1] (`unit` in [0, 1) supplies the randomness).
inline constexpr int64_t kMaxRetryDelayMs = 30'000;
// A delivery not accepted this long after its event is given up (failed).
inline constexpr int64_t kDeliveryGiveUpMs = 24ll * 3600 * 1000;
int64_t RetryDelayMs(int64_t attempts, double unit);

}  // namespace modelreg
