-- Serving agents: each agent's current state, and every change of it (the
-- raw material for "what was live when").
CREATE TABLE agents (
  id             TEXT PRIMARY KEY,
  host           TEXT NOT NULL,
  model          TEXT NOT NULL,
  stage          TEXT NOT NULL,
  version        INTEGER,
  digest         TEXT NOT NULL DEFAULT '',
  state          TEXT NOT NULL,
  last_error     TEXT NOT NULL DEFAULT '',
  token_name     TEXT NOT NULL,
  first_seen_ms  INTEGER NOT NULL,
  last_seen_ms   INTEGER NOT NULL,
  last_change_ms INTEGER NOT NULL
);
CREATE INDEX agents_by_model ON agents(model);

CREATE TABLE agent_events (
  id       INTEGER PRIMARY KEY,
  agent_id TEXT NOT NULL,
  at_ms    INTEGER NOT NULL,
  model    TEXT NOT NULL,
  version  INTEGER,
  digest   TEXT NOT NULL DEFAULT '',
  state    TEXT NOT NULL,
  error    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX agent_events_by_agent ON agent_events(agent_id, at_ms);
CREATE INDEX agent_events_by_model ON agent_events(model, at_ms);
