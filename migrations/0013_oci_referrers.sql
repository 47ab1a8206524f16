-- Manifests pushed to /v2/ with a `subject` (docs/oci.md "Referrers"): a
-- signature or attestation made elsewhere, about a version of the model.
-- The manifest's bytes are a blob like any other (`digest`); its config and
-- layers are referenced in oci_referrer_blobs, as versions' are in
-- version_blobs.
CREATE TABLE oci_referrers (
  id            INTEGER PRIMARY KEY,
  model_id      INTEGER NOT NULL REFERENCES models(id),
  subject       TEXT NOT NULL,
  digest        TEXT NOT NULL,
  size          INTEGER NOT NULL,
  artifact_type TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  created_by    TEXT NOT NULL,
  UNIQUE (model_id, digest)
);
CREATE INDEX oci_referrers_by_subject ON oci_referrers(model_id, subject);

CREATE TABLE oci_referrer_blobs (
  referrer_id INTEGER NOT NULL REFERENCES oci_referrers(id),
  digest      TEXT NOT NULL,
  size        INTEGER NOT NULL,
  PRIMARY KEY (referrer_id, digest)
);
CREATE INDEX oci_referrer_blobs_by_digest ON oci_referrer_blobs(digest);
