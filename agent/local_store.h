// The agent's disk layout under ROOT, and the operations that keep it safe:
//
//   ROOT/cache/blobs/<hex>     verified blobs (read-only)
//   ROOT/cache/partial/<hex>   a download in progress (resumable)
//   ROOT/versions/<hex>/       a materialized, verified version (read-only,
//                              files hard-linked from the cache)
//   ROOT/versions/<hex>.json   {"version":N,"digest":"sha256:..","at_ms":..}
//   ROOT/current -> versions/<hex>   swapped atomically by rename
//   ROOT/state.json            last applied release seq, failed digests
//
// A version directory exists only after every file was verified; `current`
// only ever points at one. Not thread-safe: the agent loop owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/manifest.h"
#include "core/status.h"

namespace modelreg::agent {

struct AgentState {
  int64_t seq = 0;            // last release seq applied (or refused)
  std::string failed_digest;  // not retried until the release changes
  int64_t failed_seq = 0;
  uint64_t bytes_downloaded = 0;  // lifetime counter, for operators and tests
};

struct CurrentVersion {
  std::string digest;
  int64_t version = 0;
  std::string dir;
};

// Marks an error as a failure of the agent's own disk, for the agent to
// tell from the registry's and from the release's: a full disk
// (UNAVAILABLE "storage full" from Status::FromErrno) becomes
// RESOURCE_EXHAUSTED, any other error FAILED_PRECONDITION ("the agent's
// disk: …"); the agent retries both at each interval and never refuses the
// release for them. DATA_LOSS (bytes that do not verify) passes as is.
// (The client's pull only needs a full disk told from a lost network:
// net::DiskFullIsFinal in net/blob_download.h.)
Status AgentDiskFailure(Status st);

// The agent's root: the blob cache, the versions built from it, `current`
// and the state file. Each Status it returns went through AgentDiskFailure.
class LocalStore {
 public:
  static Result<LocalStore> Open(const std::string& root);

  std::string BlobPath(const Digest& d) const;
  std::string PartialPath(const Digest& d) const;
  bool HasBlob(const Digest& d) const;
  // Bytes still to download for `m` (blobs not in the cache).
  uint64_t MissingBytes(const Manifest& m) const;
  // Free bytes on the filesystem holding ROOT.
  uint64_t FreeBytes() const;
  // Moves a verified partial download into the cache.
  Status CommitBlob(const Digest& d);

  bool HasVersion(const std::string& digest) const;
  // Builds versions/<hex> from cached blobs (hardlinks), read-only.
  Status Materialize(const std::string& digest, int64_t version, const Manifest& m);
  // Points `current` at versions/<hex> atomically.
  Status Swap(const std::string& digest);
  std::optional<CurrentVersion> Current() const;
  // Removes `current` (after the only version failed its health check).
  void ClearCurrent();
  // Keeps the newest `keep` versions (and `current`), removes the rest and
  // cache blobs no kept version uses.
  void CollectGarbage(int keep);

  Result<AgentState> LoadState() const;
  Status SaveState(const AgentState& s) const;
  std::string VersionDir(const std::string& digest) const;
  const std::string& root() const { return root_; }

 private:
  explicit LocalStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace modelreg::agent
