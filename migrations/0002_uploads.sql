-- Blob upload sessions survive a server restart: the bytes live in
-- DATA/uploads/<id>, the owner and last activity here.
CREATE TABLE uploads (
  id            TEXT PRIMARY KEY,
  created_by    TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX uploads_by_updated ON uploads(updated_at_ms);
