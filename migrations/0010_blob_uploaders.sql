-- Who uploaded which blob (issue #21 item 4). Knowing a digest must not
-- grant its bytes: a token limited to some models may link a stored blob
-- into a version, or learn that it is stored, only if some version of a
-- model it can read holds the blob, or it uploaded those bytes itself. This
-- table is the second half: a row per (blob, token name) written when an
-- upload of that token finished (session, monolithic or batch), after the
-- bytes were checked against the digest. Token names are never reused.
-- Tokens not limited to some models reach every blob and are not recorded.
CREATE TABLE blob_uploaders (
  digest   TEXT NOT NULL,
  uploader TEXT NOT NULL,
  PRIMARY KEY (digest, uploader)
) WITHOUT ROWID;
