-- A promotion that an admin forced past failing gates is kind 'override' in
-- stage_changes (besides 'stage' and 'rollback'), so that `history` and the
-- web UI show it as one. Rows written before this version said 'stage'; the
-- audit event of the same change (action 'promote', same model, version and
-- instant) holds an "override" object in its details for exactly those.
UPDATE stage_changes SET kind = 'override'
WHERE kind = 'stage' AND to_stage = 'production'
  AND EXISTS (
    SELECT 1 FROM audit_events e
    JOIN models m ON m.id = stage_changes.model_id
    JOIN versions v ON v.id = stage_changes.version_id
    WHERE e.action = 'promote' AND e.model = m.name AND e.version = v.number
      AND e.at_ms = stage_changes.at_ms
      AND json_extract(e.details, '$.override') IS NOT NULL);
