-- Models, versions with their lineage index, and access tokens.
CREATE TABLE models (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  created_at_ms INTEGER NOT NULL,
  created_by    TEXT NOT NULL
);

CREATE TABLE versions (
  id            INTEGER PRIMARY KEY,
  model_id      INTEGER NOT NULL REFERENCES models(id),
  number        INTEGER NOT NULL,
  digest        TEXT NOT NULL,              -- bundle digest = sha256 of manifest bytes
  manifest_size INTEGER NOT NULL,
  config_digest TEXT NOT NULL,              -- lineage record blob
  file_count    INTEGER NOT NULL,
  total_bytes   INTEGER NOT NULL,
  stage         TEXT NOT NULL DEFAULT 'none'
                CHECK (stage IN ('none', 'staging', 'production', 'archived', 'rejected')),
  code_repo     TEXT,
  code_commit   TEXT,
  code_dirty    INTEGER,
  parent_digest TEXT,
  created_at_ms INTEGER NOT NULL,
  created_by    TEXT NOT NULL,
  UNIQUE (model_id, number),
  UNIQUE (model_id, digest)
);
CREATE INDEX versions_by_digest ON versions(digest);
CREATE INDEX versions_by_commit ON versions(code_commit);

-- Every blob a version references (files, config, manifest): what fsck and
-- garbage collection walk.
CREATE TABLE version_blobs (
  version_id INTEGER NOT NULL REFERENCES versions(id),
  digest     TEXT NOT NULL,
  size       INTEGER NOT NULL,
  PRIMARY KEY (version_id, digest)
) WITHOUT ROWID;
CREATE INDEX version_blobs_by_digest ON version_blobs(digest);

CREATE TABLE version_datasets (
  version_id INTEGER NOT NULL REFERENCES versions(id),
  name       TEXT NOT NULL,
  uri        TEXT NOT NULL,
  digest     TEXT,
  PRIMARY KEY (version_id, name)
) WITHOUT ROWID;
CREATE INDEX version_datasets_by_digest ON version_datasets(digest);

CREATE TABLE version_metrics (
  version_id INTEGER NOT NULL REFERENCES versions(id),
  name       TEXT NOT NULL,
  value      REAL NOT NULL,
  PRIMARY KEY (version_id, name)
) WITHOUT ROWID;

CREATE TABLE tokens (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  hash          BLOB NOT NULL UNIQUE,       -- sha256 of the token text; the token itself is never stored
  role          TEXT NOT NULL CHECK (role IN ('admin', 'trainer', 'approver', 'agent', 'auditor')),
  model_globs   TEXT NOT NULL DEFAULT '',   -- newline-separated; empty means every model
  created_at_ms INTEGER NOT NULL,
  created_by    TEXT NOT NULL,
  revoked_at_ms INTEGER
);
