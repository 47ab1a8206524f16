-- Registry-wide settings shared by every replica of one database. First
-- use: 'release_key_id', the id of the key releases are signed with, written
-- by the first replica to start, so that a replica given another key is
-- refused (agents pin one key whatever replica answers them).
CREATE TABLE settings (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
