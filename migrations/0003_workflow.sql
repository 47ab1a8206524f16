-- The approval workflow: approvals, per-model policies and gates, the stage
-- history that rollback and "what was live when" read, and the hash-chained
-- audit log.

-- At most one production version per model, whatever the code does.
CREATE UNIQUE INDEX versions_one_production ON versions(model_id) WHERE stage = 'production';

CREATE TABLE approvals (
  version_id    INTEGER NOT NULL REFERENCES versions(id),
  approver      TEXT NOT NULL,
  comment       TEXT NOT NULL DEFAULT '',
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (version_id, approver)
) WITHOUT ROWID;

CREATE TABLE policies (
  model_id             INTEGER PRIMARY KEY REFERENCES models(id),
  approvals_required   INTEGER NOT NULL DEFAULT 1 CHECK (approvals_required >= 0),
  require_clean_code   INTEGER NOT NULL DEFAULT 0,
  require_data_digests INTEGER NOT NULL DEFAULT 0,
  updated_at_ms        INTEGER NOT NULL,
  updated_by           TEXT NOT NULL
);

CREATE TABLE policy_gates (
  model_id   INTEGER NOT NULL REFERENCES models(id),
  position   INTEGER NOT NULL,
  metric     TEXT NOT NULL,
  op         TEXT NOT NULL CHECK (op IN ('>=', '>', '<=', '<', '==')),
  threshold  REAL,                       -- NULL: compare with the production version
  PRIMARY KEY (model_id, position)
) WITHOUT ROWID;

-- Every stage change, in order. kind: 'stage' (promote, archive, reject),
-- 'rollback'.
CREATE TABLE stage_changes (
  id          INTEGER PRIMARY KEY,
  model_id    INTEGER NOT NULL REFERENCES models(id),
  version_id  INTEGER NOT NULL REFERENCES versions(id),
  from_stage  TEXT NOT NULL,
  to_stage    TEXT NOT NULL,
  kind        TEXT NOT NULL,
  actor       TEXT NOT NULL,
  reason      TEXT NOT NULL DEFAULT '',
  at_ms       INTEGER NOT NULL
);
CREATE INDEX stage_changes_by_model ON stage_changes(model_id, id);

-- Append-only, hash-chained: hash = sha256 of the event's canonical bytes,
-- which include prev_hash. The service never updates or deletes a row.
CREATE TABLE audit_events (
  seq        INTEGER PRIMARY KEY,
  at_ms      INTEGER NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  model      TEXT NOT NULL DEFAULT '',
  version    INTEGER,
  details    TEXT NOT NULL DEFAULT '{}',
  prev_hash  TEXT NOT NULL,
  hash       TEXT NOT NULL
);
CREATE INDEX audit_events_by_model ON audit_events(model, seq);
CREATE INDEX audit_events_by_time ON audit_events(at_ms);
