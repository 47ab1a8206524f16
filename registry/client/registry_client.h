// RegistryClient: the registry's REST API from the client side, used by the
// CLI (and later the agent's pull path). Register packs, hashes and uploads
// only what the registry lacks; Pull downloads and verifies every byte into
// a temporary directory and renames it into place.
//
// Errors come back as Status: the server's JSON error (code, message,
// details) when it answered, Unavailable when it could not be reached,
// Unauthenticated/… for TLS trust problems with a hint about --ca.
// Not thread-safe: one client per thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/bundle_dir.h"
#include "core/lineage_record.h"
#include "core/records.h"
#include "core/status.h"

namespace modelreg {

// Live counters another thread may read while Register or Pull runs (the
// CLI's progress line). Blob bytes are added as they are sent or received
// (bytes sent again after a lost connection count again); `total` is what a
// Pull will download, set once its manifest is read (0 until then, and for
// Register, whose total is not known before it hashes).
struct TransferProgress {
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> total{0};
  // Register: bytes of files read to hash them before sending (a file
  // hashed while it is sent counts in `bytes` only).
  std::atomic<uint64_t> hashed{0};
};

struct ClientOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string token;
  std::string ca_file;
  int timeout_s = 300;
  int retries = 5;                          // per blob, on connection loss
  uint64_t batch_threshold = 1 << 20;       // files up to this size go in batches
  uint64_t batch_max_bytes = 64ull << 20;   // per batch request
  uint64_t stream_hash_above = 64ull << 20; // larger files are hashed while uploading
  bool direct_io = true;                    // pull writes whole blocks with O_DIRECT (MODELREG_DIRECT_IO=off: not)
  TransferProgress* progress = nullptr;     // not owned; outlives the client
};

struct TransferStats {
  uint64_t files = 0;
  uint64_t bytes_total = 0;
  uint64_t blobs_uploaded = 0;
  uint64_t bytes_uploaded = 0;
  uint64_t bytes_downloaded = 0;
  uint64_t bytes_reused = 0;  // pull: files a killed pull left that verified, not downloaded again
};

struct RegisterOutcome {
  nlohmann::json version;  // the server's version object, with "created"
  TransferStats stats;
};

struct PullOutcome {
  std::string digest;
  int64_t version = 0;
  TransferStats stats;
};

class RegistryClient {
 public:
  static Result<std::unique_ptr<RegistryClient>> Create(ClientOptions options);
  ~RegistryClient();

  // Generic JSON calls for the CLI's simple commands.
  Result<nlohmann::json> GetJson(const std::string& path);
  Result<nlohmann::json> SendJson(const std::string& method, const std::string& path,
                                  const nlohmann::json& body);
  Status Delete(const std::string& path);

  Result<RegisterOutcome> Register(const std::string& model, const std::string& dir,
                                   const LineageRecord& lineage);
  // `ref`: version number or sha256 digest. DEST must not exist or be empty.
  Result<PullOutcome> Pull(const std::string& model, const std::string& ref,
                           const std::string& dest);

  // Lower-level pieces, exposed for tests of the protocol.
  Result<std::vector<std::string>> MissingBlobs(const std::vector<std::string>& digests);
  // For each probe, whether a blob of the registry may be that file (the
  // same size and sample); true for all from a registry too old to say.
  Result<std::vector<bool>> MaybePresent(const std::vector<SampleProbe>& probes);
  Status UploadFile(const std::string& local, const Digest& digest, uint64_t size,
                    TransferStats* stats);
  // Uploads a file whose digest is not known yet, hashing it while sending.
  Result<Digest> UploadFileHashing(const std::string& local, uint64_t size, TransferStats* stats);
  // Bytes the server holds for an upload session (its path).
  Result<uint64_t> UploadOffset(const std::string& session);
  Status UploadBatch(const std::vector<const LocalFile*>& files, TransferStats* stats);
  Status UploadBytes(const std::string& bytes, const Digest& digest, TransferStats* stats);
  Result<nlohmann::json> PutManifest(const std::string& model, const std::string& manifest);

  struct Impl;  // opaque; public so the .cc's helpers can take it

 private:
  Result<Digest> UploadFileImpl(const std::string& local, std::optional<Digest> known, uint64_t size,
                                TransferStats* stats);

 public:

 private:
  explicit RegistryClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace modelreg
