-- Audit and lineage queries (issue 6).
--
-- "What was live when" needs to tell a quiet agent from a dead one: each
-- agent_events row is a state the agent held from at_ms, confirmed by reports
-- up to seen_until_ms. A report after a silence longer than the agent's
-- silence limit (3 heartbeat periods) starts a new row, so a gap stays a gap.
ALTER TABLE agent_events ADD COLUMN seen_until_ms INTEGER;           -- NULL: only at_ms
ALTER TABLE agent_events ADD COLUMN heartbeat_ms INTEGER NOT NULL DEFAULT 0;  -- 0: not reported
ALTER TABLE agents ADD COLUMN last_event_id INTEGER;
ALTER TABLE agents ADD COLUMN heartbeat_ms INTEGER NOT NULL DEFAULT 0;

-- Existing agents: their newest event was confirmed until their last report.
UPDATE agents SET last_event_id = (SELECT MAX(e.id) FROM agent_events e WHERE e.agent_id = agents.id);
UPDATE agent_events SET seen_until_ms =
  (SELECT a.last_seen_ms FROM agents a WHERE a.last_event_id = agent_events.id);

-- Each agent's newest state at or before a time, per model.
CREATE INDEX agent_events_by_model_agent ON agent_events(model, agent_id, at_ms);
-- Fine-tunes of a version (downstream through `parent`).
CREATE INDEX versions_by_parent ON versions(parent_digest);
-- A version's audit events and stage changes.
CREATE INDEX audit_events_by_model_version ON audit_events(model, version, seq);
CREATE INDEX stage_changes_by_version ON stage_changes(version_id, id);
