-- What a client may ask before uploading a large file whose digest it has
-- not computed (POST /api/v1/blobs/missing with "samples"): could the
-- registry hold this file? A blob of the same size and sample (core/digest.h
-- SampleFd) may be it; no such blob means the file is new, and the client
-- hashes it while uploading instead of reading it twice.
CREATE TABLE blob_samples (
  digest TEXT PRIMARY KEY,
  size   INTEGER NOT NULL,
  sample TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX blob_samples_by_size ON blob_samples(size, sample);
-- Blobs stored before samples were recorded: found by size alone.
CREATE INDEX version_blobs_by_size ON version_blobs(size);
