#include "store/event_store.h"

#include <optional>

namespace modelreg::store {
namespace {

constexpr char kColumns[] = "id, at_ms, type, model, version, actor, data";

EventRecord RowOf(Statement& q) {
  EventRecord e;
  e.id = q.getColumn(0).getInt64();
  e.at_ms = q.getColumn(1).getInt64();
  e.type = q.getColumn(2).getString();
  e.model = q.getColumn(3).getString();
  if (!q.getColumn(4).isNull()) e.version = q.getColumn(4).getInt64();
  e.actor = q.getColumn(5).getString();
  e.data = q.getColumn(6).getString();
  return e;
}

}  // namespace

void AppendEvent(Tx& tx, EventRecord* e) {
  Statement q(tx,
              "INSERT INTO events (at_ms, type, model, version, actor, data) VALUES (?, ?, ?, ?, ?, ?) RETURNING id");
  q.bind(1, e->at_ms);
  q.bind(2, e->type);
  q.bind(3, e->model);
  if (e->version) q.bind(4, *e->version);
  else q.bind(4);
  q.bind(5, e->actor);
  q.bind(6, e->data);
  q.executeStep();
  e->id = q.getColumn(0).getInt64();
}

std::vector<EventRecord> ListEvents(Tx& tx, int64_t after_id, int64_t limit) {
  Statement q(tx, std::string("SELECT ") + kColumns + " FROM events WHERE id > ? ORDER BY id LIMIT ?");
  q.bind(1, after_id);
  q.bind(2, limit);
  std::vector<EventRecord> out;
  while (q.executeStep()) out.push_back(RowOf(q));
  return out;
}

std::optional<EventRecord> FindEvent(Tx& tx, int64_t id) {
  Statement q(tx, std::string("SELECT ") + kColumns + " FROM events WHERE id = ?");
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  return RowOf(q);
}

int64_t LastEventId(Tx& tx) {
  Statement q(tx, "SELECT COALESCE(MAX(id), 0) FROM events");
  q.executeStep();
  return q.getColumn(0).getInt64();
}

}  // namespace modelreg::store
