-- The event outbox (docs/events.md): one row per change, written in the
-- transaction that made the change, so a crash neither loses nor invents
-- one. Ids only grow (AUTOINCREMENT: never reused), in commit order (every
-- writer holds the one write lock).
CREATE TABLE events (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  at_ms    INTEGER NOT NULL,
  type     TEXT NOT NULL,
  model    TEXT NOT NULL,  -- '' for registry-wide events
  version  INTEGER,
  actor    TEXT NOT NULL,
  data     TEXT NOT NULL   -- JSON object
);

-- Webhooks (admin): where events of the listed types about models matching
-- the glob are POSTed, signed with the secret.
CREATE TABLE webhooks (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  name          TEXT NOT NULL UNIQUE,
  url           TEXT NOT NULL,
  events        TEXT NOT NULL,  -- comma-separated types, or '*'
  models        TEXT NOT NULL,  -- a model glob; '' for every model and registry-wide events
  secret        TEXT NOT NULL,
  ca_pem        TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  created_by    TEXT NOT NULL
);

-- One row per event and webhook it is for, written with the event. A
-- delivery is pending until the receiver answers 2xx (delivered) or it
-- has been tried for a day (failed). Per webhook and model, only the
-- oldest pending delivery is attempted: order per model is kept.
CREATE TABLE webhook_deliveries (
  webhook_id      INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  event_id        INTEGER NOT NULL REFERENCES events(id),
  model           TEXT NOT NULL,
  state           TEXT NOT NULL,  -- pending, delivered, failed
  attempts        INTEGER NOT NULL,
  created_at_ms   INTEGER NOT NULL,
  next_at_ms      INTEGER NOT NULL,
  lease_until_ms  INTEGER NOT NULL,  -- a replica is delivering it until then
  last_at_ms      INTEGER NOT NULL,
  last_status     INTEGER NOT NULL,
  last_error      TEXT NOT NULL,
  last_elapsed_ms INTEGER NOT NULL,
  PRIMARY KEY (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries(state, webhook_id, model, event_id);
