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
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "client/client_views.h"
#include "core/bundle_dir.h"
#include "core/lineage_record.h"
#include "core/manifest.h"
#include "core/records.h"
#include "core/status.h"

namespace modelreg {

// Live counters another thread may read while Register or Pull runs (the
// CLI's progress line). Blob bytes are added as they are sent or received
// (bytes sent again after a lost connection count again); `total` is what
// will be moved, as far as known (0 until then).
struct TransferProgress {
  std::atomic<uint64_t> bytes{0};
  // Pull: set once its manifest is read. Register: grows as it learns what
  // it sends (a large file before it is streamed, then the blobs the
  // registry lacks).
  std::atomic<uint64_t> total{0};
  // Register: bytes of files read to hash them before sending (a file
  // hashed while it is sent counts in `bytes` only).
  std::atomic<uint64_t> hashed{0};
  // Register: the most `hashed` may reach, the bundle's size (set by the
  // caller; files the digest cache knows are not read, so hashing may end
  // below it).
  std::atomic<uint64_t> hash_total{0};
};

struct ClientOptions {
  std::string url = "http://127.0.0.1:8080";
  std::string token;
  std::string ca_file;
  int timeout_s = 300;
  int retries = 5;                           // per blob, on connection loss
  uint64_t batch_threshold = 1 << 20;        // files up to this size go in batches
  uint64_t batch_max_bytes = 64ull << 20;    // per batch request
  uint64_t stream_hash_above = 64ull << 20;  // larger files are hashed while uploading
  bool direct_io = true;                     // pull writes whole blocks with O_DIRECT (MODELREG_DIRECT_IO=off: not)
  TransferProgress* progress = nullptr;      // not owned; outlives the client
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
  bool unchanged = false;  // PullChecked: DEST held this bundle already; nothing was written
  bool replaced = false;   // PullChecked: DEST held something else and was replaced
};

class RegistryClient {
 public:
  static Result<std::unique_ptr<RegistryClient>> Create(ClientOptions options);
  ~RegistryClient();

  // Typed calls (docs/api.md), in client/typed_calls.cc. MODEL, VERSION and
  // other names are passed as the user gave them: paths are built and
  // escaped in client/api_path.h; a VERSION (number, digest or prefix,
  // `production`, `latest`) is resolved by the registry. An answer of the
  // wrong shape is an Internal status (client/answer_decode.h). `raw`, when
  // given, receives the answer as the registry sent it (for --json output).
  Result<Identity> WhoAmI(nlohmann::json* raw = nullptr);
  Result<std::vector<std::string>> KeysPem(nlohmann::json* raw = nullptr);
  Result<std::vector<ModelRecord>> Models(nlohmann::json* raw = nullptr);
  Result<std::vector<VersionView>> Versions(const std::string& model, nlohmann::json* raw = nullptr);
  Result<VersionView> Version(const std::string& model, const std::string& version, nlohmann::json* raw = nullptr);
  // The version's lineage record (data, code, params, metrics, environment, parent).
  Result<LineageRecord> LineageOf(const std::string& model, const std::string& version, nlohmann::json* raw = nullptr);
  Result<std::vector<StageChange>> History(const std::string& model, nlohmann::json* raw = nullptr);
  // `model`: only agents serving it ("" for all).
  Result<std::vector<AgentView>> Agents(const std::string& model, nlohmann::json* raw = nullptr);
  // `to`: staging or production; `override_reason` (admin): promote despite failing checks.
  Result<StageOutcome> Stage(const std::string& model, const std::string& version, const std::string& to,
                             const std::string& reason, const std::string& override_reason,
                             nlohmann::json* raw = nullptr);
  Result<ApproveOutcome> Approve(const std::string& model, const std::string& version, const std::string& comment,
                                 nlohmann::json* raw = nullptr);
  Result<StageOutcome> Reject(const std::string& model, const std::string& version, const std::string& reason,
                              nlohmann::json* raw = nullptr);
  Result<StageOutcome> Archive(const std::string& model, const std::string& version, const std::string& reason,
                               nlohmann::json* raw = nullptr);
  Result<RollbackOutcome> Rollback(const std::string& model, const std::string& reason, nlohmann::json* raw = nullptr);
  Result<Policy> GetPolicy(const std::string& model, nlohmann::json* raw = nullptr);
  // Stores `policy` (gates as their text) and returns the policy stored.
  Result<Policy> SetPolicy(const std::string& model, const Policy& policy, nlohmann::json* raw = nullptr);
  Result<TokenIssued> CreateToken(const TokenRequest& req, nlohmann::json* raw = nullptr);
  Result<std::vector<TokenRecord>> Tokens(nlohmann::json* raw = nullptr);
  Status RevokeToken(const std::string& name);
  // Audit, lineage and decision queries: the answer's JSON (docs/api.md),
  // paths and queries built here. `query`: (key, value) pairs, empty values left out.
  Result<nlohmann::json> AuditEvents(const std::vector<std::pair<std::string, std::string>>& query);
  Result<nlohmann::json> AuditVerify(const std::vector<std::pair<std::string, std::string>>& query);
  Result<nlohmann::json> AuditCheckpoint();
  Result<nlohmann::json> DecisionAudit(const std::string& request_id);
  Result<nlohmann::json> LiveAt(const std::string& model,
                                const std::vector<std::pair<std::string, std::string>>& query);
  Result<nlohmann::json> Downstream(const std::vector<std::pair<std::string, std::string>>& query);
  Result<nlohmann::json> Lineage(const std::string& model, const std::string& version);
  Result<nlohmann::json> Diff(const std::string& model, const std::string& from, const std::string& to);
  Result<nlohmann::json> Provenance(const std::string& model, const std::string& version);
  // Retention and garbage collection (docs/api.md): the answers' JSON.
  Result<VersionRecord> DeleteVersion(const std::string& model, const std::string& version, const std::string& reason,
                                      nlohmann::json* raw = nullptr);
  Result<nlohmann::json> Retention(const std::string& model);
  // `rule`: {"keep_archived": N|null, "keep_rejected_days": D|null}.
  Result<nlohmann::json> SetRetention(const std::string& model, const nlohmann::json& rule);
  // `options`: {"dry_run": bool, "grace_seconds": N, "retention": bool}.
  Result<nlohmann::json> CollectGarbage(const nlohmann::json& options);

  // Generic JSON calls (tests, and paths not covered above).
  Result<nlohmann::json> GetJson(const std::string& path);
  Result<nlohmann::json> SendJson(const std::string& method, const std::string& path, const nlohmann::json& body);
  Status Delete(const std::string& path);

  // `profile`: a serialized reference profile (core/profile.h), or empty.
  // When given it becomes the bundle file kProfilePath (a DIR already
  // holding that path is refused: InvalidArgument) and lineage.profile
  // refers to it.
  Result<RegisterOutcome> Register(const std::string& model, const std::string& dir, const LineageRecord& lineage,
                                   const std::string& profile = "");
  // `ref`: version number or sha256 digest. DEST must not exist or be empty.
  Result<PullOutcome> Pull(const std::string& model, const std::string& ref, const std::string& dest);

  // Pull into a DEST that may hold files (client/pull_checked.cc): when it
  // holds exactly this bundle, nothing is done (outcome.unchanged); when it
  // holds something else, AlreadyExists unless `replace`, which pulls into a
  // new directory beside DEST and swaps the two in one rename (DEST is the
  // old or the new bundle, never a mix), then removes the old.
  Result<PullOutcome> PullChecked(const std::string& model, const std::string& ref, const std::string& dest,
                                  bool replace);
  // The version's manifest, checked against its digest (into *digest).
  Result<Manifest> ManifestOf(const std::string& model, const std::string& version, std::string* digest = nullptr);

  // Lower-level pieces, exposed for tests of the protocol.
  Result<std::vector<std::string>> MissingBlobs(const std::vector<std::string>& digests);
  // For each probe, whether a blob of the registry may be that file (the
  // same size and sample); true for all from a registry too old to say.
  Result<std::vector<bool>> MaybePresent(const std::vector<SampleProbe>& probes);
  Status UploadFile(const std::string& local, const Digest& digest, uint64_t size, TransferStats* stats);
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
  // Register's uploads of the blobs in `missing` not in `sent` yet (adds
  // them); `count_progress`: the first round adds them to the progress total.
  Status UploadMissing(const std::set<std::string>& missing, bool count_progress, const std::string& config,
                       const Digest& config_digest, const std::string& profile,
                       const std::optional<BundleFile>& profile_file, const std::vector<LocalFile>& files,
                       const std::set<std::string>& streamed, std::set<std::string>* sent, TransferStats* stats);

 public:
 private:
  explicit RegistryClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace modelreg
