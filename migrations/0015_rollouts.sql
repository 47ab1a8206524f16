-- Rollouts (docs/rollouts.md): a candidate version served beside production
-- in shadow, as a canary share or as an A/B arm, judged from the agents'
-- per-arm counts. At most one active rollout per model (partial index).
CREATE TABLE rollouts (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  model_id        INTEGER NOT NULL REFERENCES models(id),
  mode            TEXT NOT NULL,     -- shadow, canary, ab
  baseline_id     INTEGER NOT NULL REFERENCES versions(id),
  candidate_id    INTEGER NOT NULL REFERENCES versions(id),
  steps           TEXT NOT NULL,     -- candidate weights in basis points, comma-separated
  step            INTEGER NOT NULL,  -- index into steps
  step_started_ms INTEGER NOT NULL,
  step_every_ms   INTEGER NOT NULL,  -- 0: steps by command only
  auto_advance    INTEGER NOT NULL,
  key_header      TEXT NOT NULL,     -- '' : the request id is the routing key
  salt            TEXT NOT NULL,
  state           TEXT NOT NULL,     -- active, aborted, finished
  revision        INTEGER NOT NULL,  -- changes so far (start = 1): part of the release seq
  override_reason TEXT NOT NULL,
  started_at_ms   INTEGER NOT NULL,
  started_by      TEXT NOT NULL,
  ended_at_ms     INTEGER,
  ended_by        TEXT NOT NULL,
  reason          TEXT NOT NULL,     -- why it ended
  verdict         TEXT NOT NULL      -- the judge's last verdict (JSON), '' before the first
);
CREATE UNIQUE INDEX rollouts_one_active ON rollouts(model_id) WHERE state = 'active';
CREATE INDEX rollouts_by_model ON rollouts(model_id, id);

-- The agents' counts: cumulative per (rollout, step, agent, agent process);
-- the latest report replaces the row, the judge sums the rows of a step.
CREATE TABLE rollout_stats (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  rollout_id          INTEGER NOT NULL REFERENCES rollouts(id),
  step                INTEGER NOT NULL,
  agent_id            TEXT NOT NULL,
  run                 TEXT NOT NULL,
  updated_at_ms       INTEGER NOT NULL,
  baseline_requests   INTEGER NOT NULL,
  baseline_errors     INTEGER NOT NULL,
  baseline_latency    TEXT NOT NULL,  -- JSON array of bucket counts (core/rollout_judge.h)
  candidate_requests  INTEGER NOT NULL,
  candidate_errors    INTEGER NOT NULL,
  candidate_latency   TEXT NOT NULL,
  shadow_compared     INTEGER NOT NULL,
  shadow_equal        INTEGER NOT NULL,
  shadow_differ       INTEGER NOT NULL,
  shadow_dropped      INTEGER NOT NULL,
  shadow_max_abs_diff REAL NOT NULL,
  UNIQUE (rollout_id, step, agent_id, run)
);

-- Which arm of which rollout answered a decision, and whether a fallback did.
ALTER TABLE decisions ADD COLUMN arm TEXT;
ALTER TABLE decisions ADD COLUMN rollout_id INTEGER;
ALTER TABLE decisions ADD COLUMN fallback TEXT;
