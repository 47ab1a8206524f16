// RegistryService: the registry's use cases, each one atomic. The HTTP API
// and the CLI's local (--data) commands both call this facade; it is the only
// layer that combines the database, the blob store and the permission table.
//
// Every method that takes a Principal checks its permission first
// (PermissionDenied / NotFound for models outside a token's scope). Every
// method that changes state runs in exactly one database transaction.
// Thread-safe: one instance serves all request threads.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "auth/oci_bearer.h"
#include "auth/permissions.h"
#include "blob/blob_backend.h"
#include "blob/oci_backend.h"
#include "core/audit_chain.h"
#include "core/audit_queries.h"
#include "core/bundle_path.h"
#include "core/drift_record.h"
#include "core/events.h"
#include "core/modelpack.h"
#include "core/monitor_window.h"
#include "core/oci_referrer.h"
#include "core/policy.h"
#include "core/records.h"
#include "core/rollout.h"
#include "core/status.h"
#include "store/database.h"

namespace modelreg {

struct ServiceOptions {
  BundleLimits limits;
  int64_t upload_ttl_ms = 24ll * 3600 * 1000;  // idle upload sessions expire
  size_t max_config_bytes = 1 << 20;
  bool direct_io = true;  // uploads bypass the page cache (BlobStore::Open)
  // Metadata: empty for SQLite at DATA/registry.db, or a postgresql:// URL
  // (store/database.h), its password in a file or PGPASSWORD/~/.pgpass.
  std::string db_url;
  std::string db_password_file;
  // The release key: empty for DATA/keys/release.key (created if absent), or
  // a PEM file every replica of one database is given. On PostgreSQL the
  // first replica records the key's id and others with another key are
  // refused (docs/operations.md "Replicas").
  std::string release_key_file;
  // Blobs in an OCI registry instead of DATA/blobs (serve --blobs oci://...;
  // docs/operations.md "Blobs in an OCI registry").
  std::optional<OciConfig> oci_blobs;
  // /v2/: agent tokens pull only versions that were ever in staging or
  // production, and resolve only the stage tags (serve
  // --oci-agent-stages-only; docs/oci.md).
  bool oci_agent_stages_only = false;
};

struct RegisterResult {
  VersionRecord version;
  bool created = false;
};

struct StageRequest {
  std::string to;  // staging, production, archived, rejected
  std::string reason;
  std::string override_reason;  // admin only: promote despite failing gates
};

struct StageResult {
  VersionRecord version;                  // after the change
  std::optional<VersionRecord> replaced;  // the production version it archived
  std::vector<std::string> overridden;    // gates that failed but were overridden
};

// A rollout to start (docs/rollouts.md): the candidate version and how it
// is served beside production.
// `modelreg rollout start --horizon`: the default, and the allowed range
// of a non-zero horizon.
inline constexpr int64_t kDefaultHorizonRequests = 20000;
inline constexpr int64_t kMinHorizonRequests = 1000;
inline constexpr int64_t kMaxHorizonRequests = 1000000000;

struct RolloutRequest {
  std::string version;  // the candidate: a number, digest or stage reference
  RolloutMode mode = RolloutMode::kCanary;
  std::vector<int> steps;       // canary: weights in basis points; ab: one; shadow: none
  int64_t step_every_ms = 0;    // with auto_advance: how long each step runs
  bool auto_advance = false;    // steps (and finishing) happen by themselves
  std::string key_header;       // routing key header; "" : the request id
  std::string override_reason;  // admin only: start despite failing gates
  // The judge's planned horizon per step, in total requests
  // (core/rollout_judge.h); 0: the always-valid test alone.
  int64_t horizon_requests = kDefaultHorizonRequests;
};

struct RollbackResult {
  VersionRecord restored;
  VersionRecord demoted;
};

struct AuditQuery {
  std::string model;
  std::optional<int64_t> version;  // needs model
  std::string version_ref;         // or a version's name (service/version_ref.h), resolved in the query's transaction
  std::optional<int64_t> since_ms;
  int64_t after_seq = 0;
  int64_t limit = 1000;
  bool newest = false;  // the last `limit` events (oldest first), not the first after after_seq
  std::string actor;    // empty: every actor
  std::string action;   // empty: every action
  std::optional<int64_t> until_ms;
  std::optional<int64_t> before_seq;  // with newest: the page before this event
};

// Each check of a model's promotion policy against one version now, as a
// promotion to production would run it (docs/api.md, gates): approvals,
// every metric gate, clean code, data digests.
struct GateCheck {
  std::string check;  // "approvals >= 1", "auc >= 0.85", ...
  bool ok = false;
  std::string detail;             // EvaluatePolicy's line when it fails
  std::optional<double> actual;   // a metric gate: the version's value
  std::optional<double> against;  // a metric gate: the threshold or production's value
};
struct GateChecklist {
  int64_t version = 0;
  std::string stage;
  int approvals = 0;  // distinct, not by the registrant
  int approvals_required = 0;
  std::optional<int64_t> production_version;
  std::vector<GateCheck> checks;
  bool ready = false;  // every check passes
};

struct UploadState {
  std::string id;
  uint64_t offset = 0;
};

struct TokenCreated {
  TokenRecord record;
  std::string token;  // shown once, never stored
};

struct FsckReport {
  uint64_t blobs_checked = 0;
  uint64_t bytes_checked = 0;
  uint64_t references_checked = 0;
  uint64_t versions_cross_checked = 0;  // rows compared with lineage record and audit log
  std::vector<std::string> problems;    // what is wrong after any repair
  std::vector<std::string> repaired;    // what a repair did
  bool ok() const { return problems.empty(); }
};

// `admin gc` (retention_ops.cc; docs/operations.md "Retention and garbage
// collection").
struct GcOptions {
  bool dry_run = false;
  // Blobs whose file changed (or was touched: BlobBackend::Touch) less than
  // this long ago are spared; < 0: the upload TTL (ServiceOptions).
  int64_t grace_ms = -1;
  bool apply_retention = true;  // first delete what the models' retention rules say
};

// What the blob store holds (for /metrics): cached for a few seconds.
struct BlobUsage {
  uint64_t blobs = 0, bytes = 0;
  uint64_t reclaimable_blobs = 0, reclaimable_bytes = 0;  // referenced by nothing live, any age
  bool known = false;                                     // false: the backend cannot be listed
};

struct MigrateReport {
  uint64_t blobs_copied = 0, blobs_present = 0, bytes_copied = 0;
  std::vector<std::pair<std::string, int64_t>> rows;  // table -> rows added
};

struct Release {
  std::string model, stage;
  int64_t version = 0;
  std::string digest;
  int64_t seq = 0;
  std::optional<RolloutRecord> rollout;  // production's active rollout, signed with it
  std::string envelope;                  // DSSE JSON, signed by the release key
};

class SigningKey;

// Blobs of one model a caller was allowed to read (RegistryService::
// ModelBlobs): their sizes, and each opened when the download reaches it.
// Holds no lock; valid while the service lives.
class ModelBlobSet {
 public:
  const std::vector<uint64_t>& sizes() const { return sizes_; }
  // Opens blob `i` (0-based, in the order asked). DataLoss if it is gone or
  // no longer its checked size.
  Result<std::unique_ptr<BlobReader>> Open(size_t i) const;

 private:
  friend class RegistryService;
  const BlobBackend* blobs_ = nullptr;
  std::vector<Digest> digests_;
  std::vector<uint64_t> sizes_;
};

class RegistryService {
 public:
  // Opens DATA (database + blob store), applying migrations. Does not lock
  // the directory; `serve` takes DATA/LOCK itself.
  static Result<std::unique_ptr<RegistryService>> Open(const std::string& data_dir, ServiceOptions options = {});
  ~RegistryService();

  // ---- tokens (token_ops.cc) ----
  // Unauthenticated (no/unknown/revoked/expired token) -> Unauthenticated.
  Result<Principal> Authenticate(const std::string& token) const;
  // The same for the token whose sha256 is `hash` (auth/token.h TokenHash).
  Result<Principal> AuthenticateHash(const std::string& hash) const;
  // `expires_at_ms`: when the token stops working (none: never); must be
  // in the future.
  Result<TokenCreated> CreateToken(const Principal& actor, const std::string& name, Role role,
                                   const std::vector<std::string>& model_globs,
                                   std::optional<int64_t> expires_at_ms = std::nullopt);
  Result<std::vector<TokenRecord>> ListTokens(const Principal& actor) const;
  Status RevokeToken(const Principal& actor, const std::string& name);
  // On an empty token table, creates token "admin" and writes it to
  // DATA/admin.token (0600). Returns true if it created one.
  Result<bool> BootstrapAdmin();
  // The identity used by local (--data) CLI commands run by the operator.
  static Principal LocalOperator();

  // ---- the OCI /v2/ endpoint's credentials (oci_token_ops.cc; docs/oci.md) ----
  // A caller of /v2/: its principal, and with a bearer from /v2/token the
  // access that bearer grants (nullopt: a modelreg token, whose role and
  // model scopes alone apply).
  struct OciCaller {
    Principal principal;
    std::optional<std::vector<OciAccess>> access;
  };
  // `credential`: a modelreg token or a bearer IssueOciBearer made.
  // Unauthenticated if neither, or if the token behind it is revoked or expired.
  Result<OciCaller> AuthenticateOci(const std::string& credential) const;
  struct OciBearer {
    std::string token;
    int64_t expires_in_s = 0;
    std::vector<OciAccess> granted;
  };
  // A bearer for the modelreg token `token` (which must authenticate)
  // granting of `wanted` what its role and model scopes allow: pull where it
  // may read the model, push where it may register versions of it. Access it
  // may not have is left out, not refused (the token protocol's rule).
  Result<OciBearer> IssueOciBearer(const std::string& token, const std::vector<OciAccess>& wanted) const;
  static constexpr int64_t kOciBearerTtlS = 300;
  // ---- referrers (referrer_ops.cc; docs/oci.md "Referrers") ----
  // The artifacts whose subject is the version of `model` with bundle
  // digest `subject`: its signed SLSA provenance, its approval record and,
  // while it is in a stage and the caller may read releases, the signed
  // release naming it. Empty if no version has that digest.
  Result<std::vector<OciArtifact>> Referrers(const Principal& p, const std::string& model, const Digest& subject);
  // A referrer's manifest or document by digest, among those Referrers
  // listed on this replica (built again for the caller); NotFound otherwise.
  // `manifest`: a referrer's manifest; else its document.
  Result<std::string> ReferrerBytes(const Principal& p, const std::string& model, const Digest& d, bool manifest);
  // Stores a manifest pushed with a `subject` (core/oci_referrer.h
  // ParsePushedReferrer) about a version of `model`: its blobs must be
  // stored at their sizes and reachable by the caller (the empty config is
  // stored if absent). The same bytes again change nothing (created false).
  struct PushedReferrerResult {
    std::string digest, subject;
    bool created = false;
  };
  Result<PushedReferrerResult> PushReferrer(const Principal& p, const std::string& model, const std::string& bytes);
  // The referrers of `subject` pushed to `model`, oldest first.
  Result<std::vector<ReferrerDescriptor>> PushedReferrers(const Principal& p, const std::string& model,
                                                          const Digest& subject) const;
  // A pushed referrer's manifest, or a blob one references; NotFound otherwise.
  Result<std::string> PushedReferrerManifest(const Principal& p, const std::string& model, const Digest& d) const;
  Result<std::unique_ptr<BlobReader>> OpenReferrerBlob(const Principal& p, const std::string& model,
                                                       const Digest& d) const;

  // The digests of every version of `model` that was ever in staging or
  // production: its manifest and every blob it references
  // (approved_ops.cc). What agents may pull under
  // ServiceOptions::oci_agent_stages_only.
  Result<std::set<std::string>> ApprovedDigests(const Principal& p, const std::string& model) const;

  // ---- the ModelPack view of versions (modelpack_ops.cc; docs/oci.md) ----
  // Version `ref` (service/version_ref.h; also the digest of a ModelPack
  // manifest built before) as a CNCF ModelPack artifact over its own blobs
  // (core/modelpack.h), built on demand and cached.
  Result<ModelPackArtifact> ModelPackOf(const Principal& p, const std::string& model, const std::string& ref) const;
  // The ModelPack config blob `d` of a version of `model`; NotFound if no
  // version's ModelPack config is `d`.
  Result<std::string> ModelPackConfig(const Principal& p, const std::string& model, const Digest& d) const;

  // ---- uploads (upload_ops.cc) ----
  //
  // Knowing a digest grants nothing: a token limited to some models learns
  // that a blob is stored, and may link it into a version, only if a version
  // of a model it can read holds it or it uploaded those bytes itself
  // (FinishUpload, CommitBatch record that). Any other blob is answered
  // exactly as an absent one, here and by RegisterManifest.
  //
  // The digests the caller must upload: absent, or not reachable by it.
  Result<std::vector<std::string>> MissingBlobs(const Principal& p, const std::vector<std::string>& digests) const;
  // For each probe (a file's size and sample), whether a blob of the
  // registry the caller may reach may be that file: a client hashes a large
  // file before uploading it only then (store::MatchSamples).
  Result<std::vector<bool>> MatchBlobSamples(const Principal& p, const std::vector<SampleProbe>& probes) const;
  // A stored blob's size; nullopt if absent or not reachable by the caller.
  Result<std::optional<uint64_t>> BlobSize(const Principal& p, const Digest& d) const;
  Result<UploadState> StartUpload(const Principal& p);
  Result<UploadState> GetUpload(const Principal& p, const std::string& id) const;
  // Opens the session for appending at `offset` (OutOfRange if it is not
  // the current offset). The caller streams into the appender and closes it.
  Result<std::unique_ptr<BlobAppender>> AppendUpload(const Principal& p, const std::string& id, uint64_t offset);
  Result<FileDigest> FinishUpload(const Principal& p, const std::string& id, const Digest& digest);
  Status CancelUpload(const Principal& p, const std::string& id);
  Result<std::unique_ptr<BlobBatch>> StartBatch(const Principal& p);
  // Publishes a batch's checked blobs (BlobBatch::Commit) and records the
  // caller as their uploader. Returns how many were new to the store.
  Result<size_t> CommitBatch(const Principal& p, BlobBatch& batch);
  // Removes sessions idle longer than the TTL; returns how many.
  Result<size_t> ExpireUploads(int64_t now_ms);
  // At start-up: deletes upload files no session knows about.
  void RemoveOrphanUploads();

  // ---- models and versions (register_ops.cc, read_ops.cc) ----
  // Every blob the manifest names must be stored, at its size, and reachable
  // by the caller (see MissingBlobs); one that is not is reported as not
  // uploaded (FailedPrecondition naming it), and nothing is registered.
  Result<RegisterResult> RegisterManifest(const Principal& p, const std::string& model,
                                          const std::string& manifest_bytes);
  Result<std::vector<ModelRecord>> ListModels(const Principal& p) const;
  // Versions per stage over the models the caller may see (stage -> count).
  Result<std::map<std::string, int64_t>> VersionsPerStage(const Principal& p) const;
  Result<ModelRecord> GetModel(const Principal& p, const std::string& model) const;
  // With `metrics`, also every version's metrics by version number.
  Result<std::vector<VersionRecord>> ListVersions(
      const Principal& p, const std::string& model,
      std::map<int64_t, std::vector<std::pair<std::string, double>>>* metrics = nullptr) const;
  // `ref` is a version number or a bundle digest.
  Result<VersionDetail> GetVersion(const Principal& p, const std::string& model, const std::string& ref) const;
  // Opens a blob the model references (scoped read). NotFound otherwise;
  // DataLoss if it is missing from the store or not its registered size.
  // A reader checks what it serves (blob/blob_backend.h).
  Result<std::unique_ptr<BlobReader>> OpenModelBlob(const Principal& p, const std::string& model,
                                                    const Digest& d) const;
  // The sizes of blobs the model references, in order, for a download of
  // many at once. NotFound names the first the model does not reference;
  // DataLoss, one whose file in the store is missing or not its size.
  Result<std::vector<uint64_t>> ModelBlobSizes(const Principal& p, const std::string& model,
                                               const std::vector<Digest>& digests) const;
  // The same check as ModelBlobSizes, with a handle that opens each blob
  // later (a download of many blobs in one response).
  Result<ModelBlobSet> ModelBlobs(const Principal& p, const std::string& model,
                                  const std::vector<Digest>& digests) const;
  // A version's manifest blob, opened; `digest` receives the version's
  // bundle digest. One transaction: the version resolved and its manifest
  // opened together.
  Result<std::unique_ptr<BlobReader>> OpenManifest(const Principal& p, const std::string& model, const std::string& ref,
                                                   std::string* digest) const;
  // A version's manifest bytes and digest, as OpenManifest resolves `ref`,
  // from memory once read (manifest_ops.cc). A stage is resolved through the
  // release the agents follow (GetRelease's cache, no transaction) when the
  // caller may read releases: a promotion is seen at once on the replica
  // that made it, within about a second on the others.
  Result<std::shared_ptr<const std::string>> ManifestBytes(const Principal& p, const std::string& model,
                                                           const std::string& ref, std::string* digest);
  // Opens any blob; only for tokens not limited to some models.
  Result<std::unique_ptr<BlobReader>> OpenBlob(const Principal& p, const Digest& d) const;

  // ---- approval workflow (workflow_ops.cc) ----
  Result<StageResult> ChangeStage(const Principal& p, const std::string& model, const std::string& ref,
                                  const StageRequest& req);
  // Returns false if this approver had already approved (counted once).
  // With `after`, also the version as it is after the approval, read in
  // the same transaction.
  Result<bool> Approve(const Principal& p, const std::string& model, const std::string& ref, const std::string& comment,
                       VersionDetail* after = nullptr);
  Result<RollbackResult> Rollback(const Principal& p, const std::string& model, const std::string& reason);
  Result<Policy> GetPolicy(const Principal& p, const std::string& model) const;
  // Returns the policy as stored (read back in the same transaction).
  Result<Policy> SetPolicy(const Principal& p, const std::string& model, const Policy& policy);
  Result<std::vector<StageChange>> StageHistory(const Principal& p, const std::string& model) const;
  // The policy checked against version `ref` now, check by check, without
  // changing anything (gate_ops.cc).
  Result<GateChecklist> CheckGates(const Principal& p, const std::string& model, const std::string& ref) const;

  // ---- rollouts (rollout_ops.cc; docs/rollouts.md) ----
  // One active rollout per model; each change is one transaction with its
  // audit event and changes production's release seq (agents follow it).
  Result<RolloutRecord> StartRollout(const Principal& p, const std::string& model, const RolloutRequest& req);
  // Canary: to the next step (FailedPrecondition at the last: finish it).
  Result<RolloutRecord> AdvanceRollout(const Principal& p, const std::string& model);
  Result<RolloutRecord> AbortRollout(const Principal& p, const std::string& model, const std::string& reason);
  // Canary and ab: the candidate becomes production (the baseline archived);
  // shadow: ends, promoting nothing.
  Result<RolloutRecord> FinishRollout(const Principal& p, const std::string& model);
  // The active rollout, else the newest ended one; with the current step's
  // summed counts and the verdict on them. NotFound: never had one.
  Result<RolloutStatus> GetRolloutStatus(const Principal& p, const std::string& model) const;
  // An agent's counts (the agent's report); then judges the step: a
  // candidate significantly worse is aborted at once, and an auto-advancing
  // rollout whose step has run its time advances (or finishes).
  Status ReportRolloutCounts(const Principal& p, const std::string& model, RolloutCounts counts);

  // ---- audit log (audit_ops.cc) ----
  Result<std::vector<AuditEvent>> AuditLog(const Principal& p, const AuditQuery& q) const;
  // Recomputes the chain; with `against`, also checks that the log still
  // holds the checkpoint's events (nothing cut from its end or rewritten).
  Result<AuditVerifyResult> VerifyAudit(const Principal& p,
                                        const std::optional<AuditCheckpoint>& against = std::nullopt) const;
  // The log's length and head now, signed by the release key (a DSSE
  // envelope of kAuditCheckpointPayloadType) for an auditor to keep.
  Result<std::string> SignedAuditCheckpoint(const Principal& p) const;

  // ---- audit and lineage queries (lineage_ops.cc, live_ops.cc) ----
  // Upstream: the lineage record, parent chain, fine-tunes, serving agents.
  Result<VersionLineage> Lineage(const Principal& p, const std::string& model, const std::string& ref) const;
  // Downstream of a dataset digest or commit: every version trained on it,
  // then their fine-tunes (depth > 0), with the agents serving each now.
  // InvalidArgument unless exactly one of dataset/commit is well-formed.
  Result<DownstreamPage> Downstream(const Principal& p, const DownstreamQuery& q) const;
  // What was live for `model` at `at_ms`: the production release and each
  // agent's state (only `agent` if not empty; NotFound if it had not
  // reported by then). Changes at exactly `at_ms` count as in effect.
  Result<LiveAt> LiveAtTime(const Principal& p, const std::string& model, int64_t at_ms,
                            const std::string& agent) const;
  // A decision with the version that produced it, its lineage, approvals,
  // promotions, and the serving agent's state at the decision's time.
  Result<DecisionAudit> AuditDecision(const Principal& p, const std::string& request_id) const;
  // What differs from version `from` to version `to` of one model.
  Result<VersionDiffResult> Diff(const Principal& p, const std::string& model, const std::string& from,
                                 const std::string& to) const;
  // The SLSA provenance statement of a version in a DSSE envelope (JSON)
  // signed by the release key.
  Result<std::string> Provenance(const Principal& p, const std::string& model, const std::string& ref) const;
  // The reference profile (core/profile.h) of a version: the bytes of its
  // bundle file kProfilePath, as lineage.profile names it; nullopt when the
  // version was registered without one (profile_ops.cc).
  Result<std::optional<std::string>> VersionProfile(const Principal& p, const std::string& model,
                                                    const std::string& ref) const;

  // ---- events and webhooks (event_ops.cc, webhook_ops.cc; docs/events.md) ----
  // Every change the audit log records is also an event in the outbox,
  // written in the same transaction, plus operational ones (agents, audit
  // verification). Webhooks get them signed, at least once, in order per
  // model; the feed lists them.
  struct EventPage {
    std::vector<EventRecord> events;  // oldest first
    int64_t next = 0;                 // pass as `after` to continue (the last id looked at)
  };
  // Events after `after` the caller may see: those about models it may
  // read, and registry-wide ones for unscoped auditors and admins.
  Result<EventPage> Events(const Principal& p, int64_t after, int64_t limit) const;
  // The newest event's id (0: none yet), to follow from now on.
  Result<int64_t> LatestEventId(const Principal& p) const;
  // Long poll: calls `changed` once, on a service thread, when an event
  // newer than `after` is committed (by this process at once, by another
  // within about a second), or when StopWaiting is called. Returns 0
  // (never calls it) if there is one already or the service is stopping.
  Result<uint64_t> WatchEvents(const Principal& p, int64_t after, std::function<void()> changed);
  void CancelEventWatch(uint64_t id);
  // Calls `fn` each time newer events are known (committed by this process,
  // or seen by the once-a-second poll), on the committing or a service
  // thread, until UnsubscribeEvents: keep it short (set a flag, notify).
  uint64_t SubscribeEvents(std::function<void()> fn);
  // Returns once `fn` is no longer running or going to run.
  void UnsubscribeEvents(uint64_t id);

  struct WebhookSpec {
    std::string name, url;
    std::string events;  // comma-separated types or "*"
    std::string models;  // a model glob, or "" for every model
    std::string secret;  // empty: one is generated (and returned once)
    std::string ca_pem;
  };
  struct WebhookCreated {
    WebhookRecord record;  // with the secret: shown once
  };
  Result<WebhookCreated> CreateWebhook(const Principal& p, WebhookSpec spec);
  struct WebhookSummary {
    WebhookRecord record;  // secret and CA left out
    bool has_ca = false;
    int64_t pending = 0, delivered = 0, failed = 0;
  };
  Result<std::vector<WebhookSummary>> ListWebhooks(const Principal& p) const;
  Status DeleteWebhook(const Principal& p, const std::string& name);
  // The webhook with its secret and a "webhook.test" event to send to it
  // now (not stored, id 0): `webhook test`.
  Result<std::pair<WebhookRecord, EventRecord>> WebhookTest(const Principal& p, const std::string& name) const;
  // The webhook's deliveries, newest event first.
  Result<std::vector<DeliveryRecord>> WebhookDeliveries(const Principal& p, const std::string& name,
                                                        int64_t limit) const;

  // The delivery worker's side (api/webhook_worker.h), no Principal: the
  // server's own thread. A job is one webhook's due deliveries of one
  // model, in event order, leased to this replica for `lease_ms`.
  struct WebhookJob {
    WebhookRecord hook;
    std::vector<DeliveryRecord> deliveries;
    std::vector<EventRecord> events;  // deliveries[i]'s event
  };
  Result<std::vector<WebhookJob>> ClaimWebhookJobs(int64_t lease_ms, int64_t per_group, int64_t max_groups);
  struct DeliveryOutcome {
    int64_t webhook_id = 0, event_id = 0;
    bool attempted = false;  // false: handed back untried (due again at once)
    bool delivered = false;  // a 2xx answer
    bool retryable = true;   // false: failed for good (a refused address)
    int status = 0;          // the HTTP status; 0 if none
    std::string error;
    int64_t at_ms = 0, elapsed_ms = 0;
  };
  // Records the outcomes: delivered, retried after RetryDelayMs, or failed
  // (not retryable, or pending for kDeliveryGiveUpMs).
  Status FinishWebhookJobs(const std::vector<DeliveryOutcome>& outcomes);
  // SQLite at start-up: deliveries a killed process had leased are due at
  // once (no other process delivers from this database).
  Status ReleaseWebhookLeases();

  // ---- releases and agents (release_ops.cc) ----
  // NotFound if no version is in `stage`.
  Result<Release> GetRelease(const Principal& p, const std::string& model, const std::string& stage);
  Result<int64_t> GetReleaseSeq(const Principal& p, const std::string& model, const std::string& stage) const;
  // Long polls (docs/agent.md): calls `changed` once, on a service thread,
  // when the release seq of model/stage is no longer `known_seq` (changes
  // notified by NotifyReleaseChanged are seen at once, others within about
  // a second), or when StopWaiting is called. Returns the watch's id, or 0
  // (nothing watched, `changed` never called) when the seq differs already
  // or the service is stopping. The caller holds no thread meanwhile.
  Result<uint64_t> WatchRelease(const Principal& p, const std::string& model, const std::string& stage,
                                int64_t known_seq, std::function<void()> changed);
  // Drops a watch whose caller went away; nothing if it fired already.
  void CancelReleaseWatch(uint64_t id);
  // Fires every watch and makes later ones return 0: the server is stopping.
  void StopWaiting();
  const std::string& ReleaseKeyPem() const;
  const std::string& ReleaseKeyId() const;
  Status ReportAgent(const Principal& p, AgentInfo report);
  Result<std::vector<AgentInfo>> ListAgents(const Principal& p, const std::string& model) const;
  // Wakes release watches; called after every committed stage change.
  void NotifyReleaseChanged();

  // ---- model monitoring (drift_ops.cc; docs/monitoring.md) ----
  // Stores an agent's completed monitoring windows (the "monitoring" member
  // of its status report) with the drift statistics of each feature against
  // the version's reference profile under the model's policy, in one
  // transaction: a window naming an unknown version, a digest that is not
  // that version's, or features and bin counts that do not fit its profile
  // -> InvalidArgument and nothing is stored. A window stored before (same
  // agent, run, version, arm, start) is skipped. A window with an alarm is
  // audited as drift.alarm, one whose schema-violation rate exceeds the
  // policy's max_violation_rate (>= 20 rows) as schema.violations; both name
  // the version's datasets (what to retrain from).
  Status ReportMonitoring(const Principal& p, const std::string& agent_id, const std::string& model,
                          const MonitorReport& report);
  struct DriftFilter {
    std::optional<int64_t> version;
    int64_t since_ms = 0;
    std::string agent;
  };
  struct DriftAnswer {
    std::vector<DriftPointRecord> points;            // oldest window first
    std::vector<std::pair<int64_t, bool>> versions;  // monitored versions: number, has a reference
  };
  Result<DriftAnswer> Drift(const Principal& p, const std::string& model, const DriftFilter& f) const;
  // The newest statistics per model, version and feature of the models `p`
  // may read (for /metrics).
  Result<std::vector<LatestDriftRecord>> LatestDrift(const Principal& p) const;

  // ---- decisions (decision_ops.cc) ----
  struct IngestResult {
    size_t accepted = 0;
    size_t duplicates = 0;
  };
  // Stores a batch of decisions in one transaction; a request id seen
  // before is a duplicate, not an error (agents resend after a crash).
  Result<IngestResult> IngestDecisions(const Principal& p, std::vector<DecisionRecord> batch);
  Result<DecisionRecord> GetDecision(const Principal& p, const std::string& request_id) const;

  Status CheckReady() const;

  // ---- operations (admin_ops.cc) ----
  // Re-hashes every blob, checks every reference and the database. The
  // report lists each problem; ok() is true when there is none.
  // In an OCI backend, the blobs the database references are fetched and
  // hashed (the backend cannot be listed); `repair` is local only.
  // With `repair`, corrupt blobs are quarantined (BlobStore::Quarantine):
  // versions that reference them then report the blob missing until a
  // register of a bundle holding those bytes uploads a good copy.
  Result<FsckReport> Fsck(bool repair = false) const;
  // A consistent online backup into DEST (new or empty): the database via
  // SQLite's backup API, then every blob (hard links where possible; blobs
  // are immutable) and the release key. `serve --data DEST` starts from it.
  Status Backup(const std::string& dest);

  // ---- retention and garbage collection (retention_ops.cc) ----
  // Marks a version deleted: its row, lineage, approvals, history and audit
  // events stay; pulls of it answer Gone; `admin gc` may remove its bytes.
  // FailedPrecondition for the production version, a version in staging
  // (agents follow it) and the versions of a running rollout;
  // InvalidArgument without a reason. Audited ("delete").
  Result<VersionRecord> DeleteVersion(const Principal& p, const std::string& model, const std::string& ref,
                                      const std::string& reason);
  // NotFound if the model does not exist; a rule with neither limit when none was set.
  Result<RetentionRule> GetRetention(const Principal& p, const std::string& model) const;
  Result<RetentionRule> SetRetention(const Principal& p, const std::string& model, const RetentionRule& rule);
  // Applies retention rules, then removes blobs nothing live references
  // (the argument that this is safe beside registrations and pulls is at
  // the top of retention_ops.cc). Local blob store only: FailedPrecondition
  // for an OCI backend.
  Result<GcReport> CollectGarbage(const Principal& p, const GcOptions& opts);
  Result<BlobUsage> StoredBlobUsage() const;

  // For tests, benchmarks and tools that craft state directly. Handlers and
  // the CLI go through the use cases above (docs/architecture.md).
  // admin migrate: copies this registry (local blobs) into `target`'s
  // database and blob backend; re-running after an interruption completes
  // it (service/migrate_ops.cc).
  Status MigrateInto(RegistryService& target, MigrateReport* report);

  Database& db() { return *db_; }
  BlobBackend& blobs() { return *blobs_; }
  const std::string& data_dir() const { return data_dir_; }
  // Where blobs are ("local DIR", "oci://HOST:PORT/PREFIX"), for logs.
  std::string blobs_description() const { return blobs_->Describe(); }
  const ServiceOptions& options() const { return options_; }

 private:
  RegistryService(std::string data_dir, ServiceOptions options, std::unique_ptr<Database> db,
                  std::unique_ptr<BlobBackend> blobs);
  // Resolves a version reference inside a transaction (service/version_ref.h).
  static Result<VersionRecord> ResolveVersion(Tx& tx, const std::string& model, const std::string& ref);
  // A version's datasets, metrics and approvals, inside a transaction.
  static VersionDetail DetailOf(Tx& tx, const VersionRecord& v);
  Result<std::string> CheckUploadOwner(const Principal& p, const std::string& id) const;
  // The release watch thread's loop (release_ops.cc).
  void WatchReleases();
  // The release now in model/stage, signed (once per seq: cached), unchecked.
  Result<Release> SignedRelease(const std::string& model, const std::string& stage);

  std::string data_dir_;
  ServiceOptions options_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<BlobBackend> blobs_;
  std::unique_ptr<SigningKey> release_key_;
  std::string oci_bearer_key_;  // derived from the release key (DeriveKey)
  std::string webhook_key_;     // seals webhook secrets in the database (auth/secret_box.h)

  struct ReleaseWaiters;
  std::unique_ptr<ReleaseWaiters> waiters_;
  struct EventWaiters;
  std::unique_ptr<EventWaiters> event_waiters_;
  // An event up to `id` was committed (0: something may have been): wakes
  // the watches and waiters behind it (event_ops.cc).
  void EventsCommitted(int64_t id);
  void PollEvents();
  struct EnvelopeCache;
  std::unique_ptr<EnvelopeCache> envelopes_;
  struct TokenCache;
  std::unique_ptr<TokenCache> tokens_;
  void TokensChanged();
  // A 32-byte key for `purpose`, derived from the release key: the same on
  // every replica given the same release key (registry_service.cc).
  std::string DeriveKey(const std::string& purpose) const;
  // The webhook's secret as given (opened from its sealed form).
  Status OpenWebhookSecret(WebhookRecord* w) const;
  // Builds (or finds cached) the ModelPack artifact of `v`.
  Result<ModelPackArtifact> BuildModelPackOf(const VersionRecord& v) const;
  // The first version of `model`, newest first, whose ModelPack artifact
  // `match` accepts.
  Result<ModelPackArtifact> FindModelPack(const Principal& p, const std::string& model,
                                          const std::function<bool(const ModelPackArtifact&)>& match) const;
  std::string CachedModelPackBundle(const Digest& d) const;
  Result<ModelPackArtifact> ModelPackByDigest(const Principal& p, const std::string& model, const Digest& d,
                                              const std::function<bool(const ModelPackArtifact&)>& match) const;
  struct ModelPackCache;
  std::unique_ptr<ModelPackCache> modelpacks_;
  struct ManifestCache;
  std::unique_ptr<ManifestCache> manifests_;
  // Blobs pinned by registrations in flight in this process, and the
  // lock gc's check-and-remove holds (retention_ops.cc).
  struct GcState;
  std::unique_ptr<GcState> gc_;
  friend class BlobPins;
  // Deletes what retention rules say, in the caller's transaction.
  static std::vector<VersionRecord> ApplyRetention(Tx& tx, int64_t now_ms);
};

// OK unless `v` is deleted: then Gone, saying when, by whom and why.
Status DeletedVersionStatus(const VersionRecord& v);

// Pins blobs against `admin gc` for its lifetime (a registration in flight).
class BlobPins {
 public:
  BlobPins(RegistryService* s, std::vector<std::string> digests);
  ~BlobPins();
  BlobPins(const BlobPins&) = delete;
  BlobPins& operator=(const BlobPins&) = delete;

 private:
  RegistryService* s_;
  std::vector<std::string> digests_;
};

}  // namespace modelreg
