-- Decisions recorded by agents in proxy mode: which version answered which
-- request. Idempotent by request id.
CREATE TABLE decisions (
  request_id     TEXT PRIMARY KEY,
  model          TEXT NOT NULL,
  version        INTEGER,
  digest         TEXT NOT NULL,
  agent_id       TEXT NOT NULL,
  at_ms          INTEGER NOT NULL,
  input_sha256   TEXT NOT NULL,
  output         TEXT,
  received_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX decisions_by_model_time ON decisions(model, at_ms);
