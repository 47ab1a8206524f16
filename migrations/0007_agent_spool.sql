-- The fill level of each proxy-mode agent's decision spool, as it reports it
-- (SPEC §8: bounded, with a metric when near the bound). Not history: the
-- latest report only. 0 bytes of 0: not in proxy mode or not reported.
ALTER TABLE agents ADD COLUMN spool_pending_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN spool_max_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN decisions_dropped INTEGER NOT NULL DEFAULT 0;
