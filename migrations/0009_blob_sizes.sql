-- Which blob sizes the registry holds (POST /api/v1/blobs/missing with
-- "sizes"): a client without a digest for a large file asks whether any
-- blob of its size exists before choosing to hash it first (to skip a
-- known blob) or to hash it while uploading (nothing to skip).
CREATE INDEX version_blobs_by_size ON version_blobs(size);
