-- Deleting a version and retention (docs/operations.md "Retention and
-- garbage collection"). A deleted version keeps its row, lineage, approvals,
-- stage history and audit events; only its bytes may go (`admin gc`):
-- deleted_at_ms, deleted_by and delete_reason say when, by whom and why
-- (NULL: not deleted). Retention rules per model: keep_archived (the newest
-- N archived versions are kept, older ones deleted; NULL: keep all) and
-- keep_rejected_days (rejected versions older than D days are deleted;
-- NULL: keep all).
ALTER TABLE versions ADD COLUMN deleted_at_ms INTEGER;
ALTER TABLE versions ADD COLUMN deleted_by TEXT;
ALTER TABLE versions ADD COLUMN delete_reason TEXT;

CREATE TABLE retention (
  model_id           INTEGER PRIMARY KEY REFERENCES models(id),
  keep_archived      INTEGER,
  keep_rejected_days INTEGER,
  updated_at_ms      INTEGER NOT NULL,
  updated_by         TEXT NOT NULL
);
