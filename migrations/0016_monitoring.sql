-- Model monitoring (docs/monitoring.md): the agents' monitoring windows and
-- the drift statistics the registry computes from them per feature, and the
-- policy's drift and schema-violation settings.
CREATE TABLE monitor_windows (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  model_id       INTEGER NOT NULL REFERENCES models(id),
  version_id     INTEGER NOT NULL REFERENCES versions(id),
  agent_id       TEXT NOT NULL,
  run            TEXT NOT NULL,     -- the agent process (core/monitor_window.h)
  arm            TEXT NOT NULL,     -- '' without a rollout, baseline, candidate
  start_ms       INTEGER NOT NULL,
  end_ms         INTEGER NOT NULL,
  has_reference  INTEGER NOT NULL,  -- the version has a reference profile
  requests       INTEGER NOT NULL,
  row_count      INTEGER NOT NULL,
  unreadable     INTEGER NOT NULL,
  violations     INTEGER NOT NULL,
  rejected       INTEGER NOT NULL,
  received_at_ms INTEGER NOT NULL,
  UNIQUE (agent_id, run, version_id, arm, start_ms)
);
CREATE INDEX monitor_windows_by_model ON monitor_windows(model_id, start_ms);
CREATE INDEX monitor_windows_by_version ON monitor_windows(version_id, start_ms);

-- One row per window and feature; the model's output is feature '(output)'
-- with is_output = 1. psi, js and threshold are NULL without a reference.
CREATE TABLE drift_stats (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  window_id         INTEGER NOT NULL REFERENCES monitor_windows(id),
  feature           TEXT NOT NULL,
  is_output         INTEGER NOT NULL,
  n                 INTEGER NOT NULL,
  missing           INTEGER NOT NULL,
  out_of_range      INTEGER NOT NULL,
  type_errors       INTEGER NOT NULL,
  unknown_category  INTEGER NOT NULL,
  counts            TEXT NOT NULL,  -- JSON array of bin counts
  psi               REAL,
  js                REAL,
  missing_rate      REAL NOT NULL,
  out_of_range_rate REAL NOT NULL,
  threshold         REAL,
  alarm             INTEGER NOT NULL,
  UNIQUE (window_id, feature, is_output)
);

ALTER TABLE policies ADD COLUMN drift_alpha REAL NOT NULL DEFAULT 0.001;
ALTER TABLE policies ADD COLUMN drift_min_psi REAL NOT NULL DEFAULT 0.02;
ALTER TABLE policies ADD COLUMN max_violation_rate REAL;  -- NULL: no trigger
