#include "store/webhook_store.h"

namespace modelreg::store {
namespace {

constexpr char kWebhookColumns[] = "id, name, url, events, models, secret, ca_pem, created_at_ms, created_by";
constexpr char kDeliveryColumns[] =
    "d.webhook_id, d.event_id, d.model, d.state, d.attempts, d.created_at_ms, d.next_at_ms, d.last_at_ms,"
    " d.last_status, d.last_error, d.last_elapsed_ms, e.type";

WebhookRecord WebhookOf(Statement& q) {
  WebhookRecord w;
  w.id = q.getColumn(0).getInt64();
  w.name = q.getColumn(1).getString();
  w.url = q.getColumn(2).getString();
  w.events = q.getColumn(3).getString();
  w.models = q.getColumn(4).getString();
  w.secret = q.getColumn(5).getString();
  w.ca_pem = q.getColumn(6).getString();
  w.created_at_ms = q.getColumn(7).getInt64();
  w.created_by = q.getColumn(8).getString();
  return w;
}

DeliveryRecord DeliveryOf(Statement& q) {
  DeliveryRecord d;
  d.webhook_id = q.getColumn(0).getInt64();
  d.event_id = q.getColumn(1).getInt64();
  d.model = q.getColumn(2).getString();
  d.state = q.getColumn(3).getString();
  d.attempts = q.getColumn(4).getInt64();
  d.created_at_ms = q.getColumn(5).getInt64();
  d.next_at_ms = q.getColumn(6).getInt64();
  d.last_at_ms = q.getColumn(7).getInt64();
  d.last_status = q.getColumn(8).getInt64();
  d.last_error = q.getColumn(9).getString();
  d.last_elapsed_ms = q.getColumn(10).getInt64();
  d.event_type = q.getColumn(11).getString();
  return d;
}

}  // namespace

void InsertWebhook(Tx& tx, WebhookRecord* w) {
  Statement q(tx,
              "INSERT INTO webhooks (name, url, events, models, secret, ca_pem, created_at_ms, created_by)"
              " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  q.bind(1, w->name);
  q.bind(2, w->url);
  q.bind(3, w->events);
  q.bind(4, w->models);
  q.bind(5, w->secret);
  q.bind(6, w->ca_pem);
  q.bind(7, w->created_at_ms);
  q.bind(8, w->created_by);
  q.executeStep();
  w->id = q.getColumn(0).getInt64();
}

std::optional<WebhookRecord> FindWebhook(Tx& tx, const std::string& name) {
  Statement q(tx, std::string("SELECT ") + kWebhookColumns + " FROM webhooks WHERE name = ?");
  q.bind(1, name);
  if (!q.executeStep()) return std::nullopt;
  return WebhookOf(q);
}

std::optional<WebhookRecord> FindWebhookById(Tx& tx, int64_t id) {
  Statement q(tx, std::string("SELECT ") + kWebhookColumns + " FROM webhooks WHERE id = ?");
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  return WebhookOf(q);
}

std::vector<WebhookRecord> ListWebhooks(Tx& tx) {
  Statement q(tx, std::string("SELECT ") + kWebhookColumns + " FROM webhooks ORDER BY name");
  std::vector<WebhookRecord> out;
  while (q.executeStep()) out.push_back(WebhookOf(q));
  return out;
}

std::vector<WebhookRecord> ListWebhookFilters(Tx& tx) {
  Statement q(tx, "SELECT id, events, models FROM webhooks ORDER BY id");
  std::vector<WebhookRecord> out;
  while (q.executeStep()) {
    WebhookRecord w;
    w.id = q.getColumn(0).getInt64();
    w.events = q.getColumn(1).getString();
    w.models = q.getColumn(2).getString();
    out.push_back(std::move(w));
  }
  return out;
}

void DeleteWebhook(Tx& tx, int64_t id) {
  Statement d(tx, "DELETE FROM webhook_deliveries WHERE webhook_id = ?");
  d.bind(1, id);
  d.exec();
  Statement w(tx, "DELETE FROM webhooks WHERE id = ?");
  w.bind(1, id);
  w.exec();
}

void InsertDelivery(Tx& tx, int64_t webhook_id, int64_t event_id, const std::string& model, int64_t now_ms) {
  Statement q(tx,
              "INSERT INTO webhook_deliveries (webhook_id, event_id, model, state, attempts, created_at_ms,"
              " next_at_ms, lease_until_ms, last_at_ms, last_status, last_error, last_elapsed_ms)"
              " VALUES (?, ?, ?, 'pending', 0, ?, ?, 0, 0, 0, '', 0) ON CONFLICT DO NOTHING");
  q.bind(1, webhook_id);
  q.bind(2, event_id);
  q.bind(3, model);
  q.bind(4, now_ms);
  q.bind(5, now_ms);
  q.exec();
}

std::vector<std::vector<DeliveryRecord>> DueDeliveryGroups(Tx& tx, int64_t now_ms, int64_t per_group,
                                                           int64_t max_groups) {
  // The head of each (webhook, model) queue: its oldest pending delivery.
  Statement heads(tx,
                  "SELECT h.webhook_id, h.model, h.event_id FROM webhook_deliveries h"
                  " JOIN (SELECT webhook_id, model, MIN(event_id) AS event_id FROM webhook_deliveries"
                  "       WHERE state = 'pending' GROUP BY webhook_id, model) m"
                  " ON h.webhook_id = m.webhook_id AND h.model = m.model AND h.event_id = m.event_id"
                  " WHERE h.next_at_ms <= ? AND h.lease_until_ms <= ? ORDER BY h.event_id LIMIT ?");
  heads.bind(1, now_ms);
  heads.bind(2, now_ms);
  heads.bind(3, max_groups);
  struct Head {
    int64_t webhook_id;
    std::string model;
    int64_t event_id;
  };
  std::vector<Head> due;
  while (heads.executeStep())
    due.push_back({heads.getColumn(0).getInt64(), heads.getColumn(1).getString(), heads.getColumn(2).getInt64()});
  std::vector<std::vector<DeliveryRecord>> out;
  Statement group(tx, std::string("SELECT ") + kDeliveryColumns +
                          " FROM webhook_deliveries d JOIN events e ON e.id = d.event_id"
                          " WHERE d.webhook_id = ? AND d.model = ? AND d.state = 'pending' AND d.event_id >= ?"
                          " AND d.lease_until_ms <= ? ORDER BY d.event_id LIMIT ?");
  for (const Head& h : due) {
    group.bind(1, h.webhook_id);
    group.bind(2, h.model);
    group.bind(3, h.event_id);
    group.bind(4, now_ms);
    group.bind(5, per_group);
    std::vector<DeliveryRecord> g;
    while (group.executeStep()) g.push_back(DeliveryOf(group));
    group.reset();
    if (!g.empty()) out.push_back(std::move(g));
  }
  return out;
}

std::optional<DeliveryRecord> FindPendingDelivery(Tx& tx, int64_t webhook_id, int64_t event_id) {
  Statement q(tx, std::string("SELECT ") + kDeliveryColumns +
                      " FROM webhook_deliveries d JOIN events e ON e.id = d.event_id"
                      " WHERE d.webhook_id = ? AND d.event_id = ? AND d.state = 'pending'");
  q.bind(1, webhook_id);
  q.bind(2, event_id);
  if (!q.executeStep()) return std::nullopt;
  return DeliveryOf(q);
}

void LeaseDelivery(Tx& tx, int64_t webhook_id, int64_t event_id, int64_t until_ms) {
  Statement q(tx, "UPDATE webhook_deliveries SET lease_until_ms = ? WHERE webhook_id = ? AND event_id = ?");
  q.bind(1, until_ms);
  q.bind(2, webhook_id);
  q.bind(3, event_id);
  q.exec();
}

void UpdateDelivery(Tx& tx, const DeliveryRecord& d) {
  Statement q(tx,
              "UPDATE webhook_deliveries SET state = ?, attempts = ?, next_at_ms = ?, lease_until_ms = 0,"
              " last_at_ms = ?, last_status = ?, last_error = ?, last_elapsed_ms = ?"
              " WHERE webhook_id = ? AND event_id = ?");
  q.bind(1, d.state);
  q.bind(2, d.attempts);
  q.bind(3, d.next_at_ms);
  q.bind(4, d.last_at_ms);
  q.bind(5, d.last_status);
  q.bind(6, d.last_error);
  q.bind(7, d.last_elapsed_ms);
  q.bind(8, d.webhook_id);
  q.bind(9, d.event_id);
  q.exec();
}

void ReleaseDeliveryLeases(Tx& tx) {
  tx.exec("UPDATE webhook_deliveries SET lease_until_ms = 0 WHERE lease_until_ms <> 0");
}

std::vector<DeliveryRecord> ListDeliveries(Tx& tx, int64_t webhook_id, int64_t limit) {
  Statement q(tx, std::string("SELECT ") + kDeliveryColumns +
                      " FROM webhook_deliveries d JOIN events e ON e.id = d.event_id"
                      " WHERE d.webhook_id = ? ORDER BY d.event_id DESC LIMIT ?");
  q.bind(1, webhook_id);
  q.bind(2, limit);
  std::vector<DeliveryRecord> out;
  while (q.executeStep()) out.push_back(DeliveryOf(q));
  return out;
}

int64_t CountDeliveries(Tx& tx, int64_t webhook_id, const std::string& state) {
  Statement q(tx, "SELECT COUNT(*) FROM webhook_deliveries WHERE webhook_id = ? AND state = ?");
  q.bind(1, webhook_id);
  q.bind(2, state);
  q.executeStep();
  return q.getColumn(0).getInt64();
}

}  // namespace modelreg::store
