-- The index decisions_by_model_time (model, at_ms) of migration 0005 is read
-- by no query (decisions are looked up by request id, their primary key),
-- and every recorded decision paid for it: about a fifth of the engine's
-- time per insert (bench/README.md "Decision ingest"). A query by model and
-- time would bring it back with that query.
DROP INDEX IF EXISTS decisions_by_model_time;
