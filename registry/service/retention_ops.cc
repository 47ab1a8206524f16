// Deleting versions, retention rules and garbage collection of blobs
// (docs/operations.md "Retention and garbage collection").
//
// Why `admin gc` never removes a blob a registration is about to reference,
// and blocks neither registrations nor pulls:
//
// 1. A blob is removed only if, at that instant, no version that is not
//    deleted references it, no pushed OCI referrer does (BlobIsLive), no
//    registration of this process has pinned it (BlobPins), and its file is
//    older than the grace period (default: the upload TTL). The check and
//    the unlink happen inside one kWrite transaction, a batch of blobs at a
//    time, with GcState::mu held: kWrite transactions are serialized
//    against every other kWrite of every process (store/database.h), so the
//    check cannot go stale before the unlink.
// 2. RegisterManifest pins every blob of its manifest (GcState::mu) before
//    it first looks at them, and releases the pins after its commit. Gc
//    takes the same mutex around its check-and-unlink, so either the blob
//    was removed before the registration looked (it is then reported "not
//    uploaded", the answer for any absent blob, and the client uploads it
//    again) or gc sees the pin and keeps it.
// 3. RegisterManifest checks again, inside its own kWrite transaction, that
//    every blob is stored (the last line for a registration on another
//    replica, which this process cannot see pinned): gc's transaction and
//    the registration's are serialized, so either the version row commits
//    first (gc then finds the blob live) or the blob is gone before the
//    registration's check, which then fails and records nothing. No version
//    ever commits pointing at a removed blob.
// 4. A client is told a blob need not be uploaded (MissingBlobs) or finishes
//    uploading it (the file is new) at most the grace period before it
//    registers: MissingBlobs touches each stored blob it names
//    (BlobBackend::Touch) so the grace period counts from then. A client
//    slower than that gets "not uploaded" at worst (3.), never a broken
//    version; the CLI then uploads again and retries.
// 5. Pulls read only versions that are not deleted, whose blobs are never
//    candidates; a download that opened a blob before its version was
//    deleted keeps its open file (unlink does not cut it short).
// 6. Upload sessions live in DATA/uploads, which gc does not touch (idle
//    sessions expire by the upload TTL as before).
// Each delete transaction holds the write lock for one batch (kBatch
// blobs: a few milliseconds); registrations queue behind it briefly, reads
// not at all.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>

#include "blob/blob_store.h"
#include "core/clock.h"
#include "service/audit.h"
#include "service/gc_internal.h"
#include "service/registry_service.h"
#include "store/model_store.h"
#include "store/rollout_store.h"

namespace modelreg {
namespace {

constexpr size_t kBatch = 64;
constexpr int64_t kDayMs = 24ll * 3600 * 1000;
constexpr auto kUsageMaxAge = std::chrono::seconds(10);

// Why `v` may not be deleted now; empty if it may.
std::string DeleteRefusal(Tx& tx, const VersionRecord& v) {
  if (v.stage == "production")
    return "version " + std::to_string(v.number) + " of '" + v.model +
           "' is the production version: promote or roll back to another version first";
  // Agents following staging are served its newest version (releases).
  if (v.stage == "staging")
    return "version " + std::to_string(v.number) + " of '" + v.model +
           "' is in staging, where agents following staging pull it: archive or reject it first";
  if (auto r = store::ActiveRollout(tx, v.model)) {
    if (r->candidate.version == v.number || r->baseline.version == v.number)
      return "version " + std::to_string(v.number) + " of '" + v.model + "' is in the running rollout " +
             std::to_string(r->id) + ": finish or abort it first";
  }
  return "";
}

void MarkDeleted(Tx& tx, const VersionRecord& v, int64_t now, const std::string& actor, const std::string& reason) {
  store::MarkVersionDeleted(tx, v.id, now, actor, reason);
  service_internal::Audit(tx, actor, "delete", v.model, v.number,
                          {{"digest", v.digest}, {"reason", reason}, {"stage", v.stage}, {"bytes", v.total_bytes}});
}

// Files' times are the real clock's, whatever NowMs says (tests fix it).
int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t MtimeMs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
}

}  // namespace

BlobPins::BlobPins(RegistryService* s, std::vector<std::string> digests) : s_(s), digests_(std::move(digests)) {
  std::lock_guard<std::mutex> l(s_->gc_->mu);
  for (const auto& d : digests_) ++s_->gc_->pinned[d];
}

BlobPins::~BlobPins() {
  std::lock_guard<std::mutex> l(s_->gc_->mu);
  for (const auto& d : digests_) {
    auto it = s_->gc_->pinned.find(d);
    if (it != s_->gc_->pinned.end() && --it->second <= 0) s_->gc_->pinned.erase(it);
  }
}

Result<VersionRecord> RegistryService::DeleteVersion(const Principal& p, const std::string& model,
                                                     const std::string& ref, const std::string& reason) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kManageStorage, model));
  if (reason.empty()) return Status::InvalidArgument("a reason is required to delete a version (--reason TEXT)");
  if (reason.size() > 1000) return Status::InvalidArgument("reason longer than 1000 characters");
  VersionRecord out;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kWrite, [&](Tx& tx) -> Status {
    MR_ASSIGN_OR_RETURN(VersionRecord v, ResolveVersion(tx, model, ref));
    if (v.deleted())
      return Status::FailedPrecondition("version " + std::to_string(v.number) + " of '" + model +
                                        "' was already deleted at " + FormatIsoTime(*v.deleted_at_ms) + " by " +
                                        v.deleted_by);
    if (auto why = DeleteRefusal(tx, v); !why.empty()) return Status::FailedPrecondition(why);
    const int64_t now = NowMs();
    MarkDeleted(tx, v, now, p.name, reason);
    v.deleted_at_ms = now;
    v.deleted_by = p.name;
    v.delete_reason = reason;
    out = v;
    return Status::OK();
  }));
  return out;
}

Result<RetentionRule> RegistryService::GetRetention(const Principal& p, const std::string& model) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  RetentionRule out;
  bool found = false;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    auto m = store::FindModel(tx, model);
    found = m.has_value();
    if (m)
      if (auto r = store::GetRetention(tx, m->id)) out = *r;
    return Status::OK();
  }));
  if (!found) return Status::NotFound("model '" + model + "' not found");
  return out;
}

Result<RetentionRule> RegistryService::SetRetention(const Principal& p, const std::string& model,
                                                    const RetentionRule& rule_in) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kManageStorage, model));
  if (rule_in.keep_archived && (*rule_in.keep_archived < 0 || *rule_in.keep_archived > 1000000))
    return Status::InvalidArgument("--keep-archived must be 0 to 1000000");
  if (rule_in.keep_rejected_days && (*rule_in.keep_rejected_days < 0 || *rule_in.keep_rejected_days > 36500))
    return Status::InvalidArgument("--keep-rejected-days must be 0 to 36500");
  RetentionRule rule = rule_in;
  rule.updated_at_ms = NowMs();
  rule.updated_by = p.name;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kWrite, [&](Tx& tx) -> Status {
    auto m = store::FindModel(tx, model);
    if (!m) return Status::NotFound("model '" + model + "' not found");
    store::SetRetention(tx, m->id, rule);
    nlohmann::json d = {{"keep_archived", nullptr}, {"keep_rejected_days", nullptr}};
    if (rule.keep_archived) d["keep_archived"] = *rule.keep_archived;
    if (rule.keep_rejected_days) d["keep_rejected_days"] = *rule.keep_rejected_days;
    service_internal::Audit(tx, p.name, "retention.set", model, std::nullopt, d);
    return Status::OK();
  }));
  return rule;
}

std::vector<VersionRecord> RegistryService::ApplyRetention(Tx& tx, int64_t now_ms) {
  std::vector<VersionRecord> out;
  for (const auto& [model, rule] : store::AllRetention(tx)) {
    if (!rule.keep_archived && !rule.keep_rejected_days) continue;
    auto versions = store::ListVersions(tx, model);
    // Archived: the newest N (by version number) stay.
    if (rule.keep_archived) {
      int64_t kept = 0;
      for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
        if (it->stage != "archived" || it->deleted()) continue;
        if (kept < *rule.keep_archived) {
          ++kept;
          continue;
        }
        if (!DeleteRefusal(tx, *it).empty()) continue;
        const std::string reason =
            "retention: archived, older than the newest " + std::to_string(*rule.keep_archived) + " archived";
        MarkDeleted(tx, *it, now_ms, "retention", reason);
        it->deleted_at_ms = now_ms;
        it->deleted_by = "retention";
        it->delete_reason = reason;
        out.push_back(*it);
      }
    }
    // Rejected: older than D days (counted from registration; a version is
    // rejected at most once).
    if (rule.keep_rejected_days) {
      for (auto& v : versions) {
        if (v.stage != "rejected" || v.deleted()) continue;
        if (v.created_at_ms > now_ms - *rule.keep_rejected_days * kDayMs) continue;
        if (!DeleteRefusal(tx, v).empty()) continue;
        const std::string reason =
            "retention: rejected, registered more than " + std::to_string(*rule.keep_rejected_days) + " days ago";
        MarkDeleted(tx, v, now_ms, "retention", reason);
        v.deleted_at_ms = now_ms;
        v.deleted_by = "retention";
        v.delete_reason = reason;
        out.push_back(v);
      }
    }
  }
  return out;
}

Result<GcReport> RegistryService::CollectGarbage(const Principal& p, const GcOptions& opts) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kManageStorage));
  BlobStore* local = blobs_->local();
  if (!local)
    return Status::FailedPrecondition("garbage collection of blobs in " + blobs_->Describe() +
                                      " is not supported yet: delete and retention mark versions deleted, but their "
                                      "bytes stay in that registry (docs/operations.md)");
  std::unique_lock<std::mutex> run(gc_->run_mu, std::try_to_lock);
  if (!run.owns_lock()) return Status::Aborted("garbage collection is already running");
  GcReport r;
  r.dry_run = opts.dry_run;
  r.grace_ms = opts.grace_ms >= 0 ? opts.grace_ms : options_.upload_ttl_ms;
  const int64_t now = NowMs();

  // Retention, then what is live, in one transaction; a dry run rolls it back.
  std::set<std::string> live;
  const Status dry_rollback = Status::Aborted("dry run");
  Status st = db_->Transact(TxMode::kWrite, [&](Tx& tx) -> Status {
    if (opts.apply_retention) r.deleted_by_retention = ApplyRetention(tx, now);
    live = store::LiveBlobDigests(tx);
    return opts.dry_run ? dry_rollback : Status::OK();
  });
  if (!st.ok() && !(opts.dry_run && st.code() == StatusCode::kAborted && st.message() == "dry run")) return st;

  // Candidates: stored, not live, older than the grace period.
  const int64_t wall = WallMs();
  std::vector<std::pair<Digest, uint64_t>> candidates;
  for (const Digest& d : local->ListBlobs()) {
    ++r.blobs_scanned;
    if (live.count(d.str())) continue;
    struct stat sb;
    if (::stat(local->BlobPath(d).c_str(), &sb) != 0) continue;
    if (MtimeMs(sb) > wall - r.grace_ms) {
      ++r.blobs_young;
      r.bytes_young += static_cast<uint64_t>(sb.st_size);
      continue;
    }
    candidates.emplace_back(d, static_cast<uint64_t>(sb.st_size));
  }
  auto record = [&](const Digest& d, uint64_t size) {
    ++r.blobs_removed;
    r.bytes_removed += size;
    if (r.removed.size() < GcReport::kMaxListed) r.removed.emplace_back(d.str(), size);
  };
  if (opts.dry_run) {
    for (const auto& [d, size] : candidates) record(d, size);
    return r;
  }
  // Removal, a batch per write transaction, each blob checked again.
  for (size_t at = 0; at < candidates.size(); at += kBatch) {
    const size_t end = std::min(candidates.size(), at + kBatch);
    MR_RETURN_IF_ERROR(db_->Transact(TxMode::kWrite, [&](Tx& tx) -> Status {
      const int64_t now2 = WallMs();
      std::lock_guard<std::mutex> l(gc_->mu);
      for (size_t i = at; i < end; ++i) {
        const Digest& d = candidates[i].first;
        if (gc_->pinned.count(d.str()) || store::BlobIsLive(tx, d.str())) {
          ++r.blobs_in_use;
          continue;
        }
        struct stat sb;
        if (::stat(local->BlobPath(d).c_str(), &sb) != 0) continue;
        if (MtimeMs(sb) > now2 - r.grace_ms) {
          ++r.blobs_young;
          r.bytes_young += static_cast<uint64_t>(sb.st_size);
          continue;
        }
        MR_ASSIGN_OR_RETURN(auto removed, local->Remove(d));
        if (removed) record(d, *removed);
      }
      return Status::OK();
    }));
  }
  {
    std::lock_guard<std::mutex> l(gc_->usage_mu);
    gc_->usage_at = {};  // the next scrape counts again
  }
  return r;
}

Result<BlobUsage> RegistryService::StoredBlobUsage() const {
  BlobStore* local = blobs_->local();
  if (!local) return BlobUsage{};
  {
    std::lock_guard<std::mutex> l(gc_->usage_mu);
    if (gc_->usage_at != std::chrono::steady_clock::time_point{} &&
        std::chrono::steady_clock::now() - gc_->usage_at < kUsageMaxAge)
      return gc_->usage;
  }
  std::set<std::string> live;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    live = store::LiveBlobDigests(tx);
    return Status::OK();
  }));
  BlobUsage u;
  u.known = true;
  for (const Digest& d : local->ListBlobs()) {
    struct stat sb;
    if (::stat(local->BlobPath(d).c_str(), &sb) != 0) continue;
    ++u.blobs;
    u.bytes += static_cast<uint64_t>(sb.st_size);
    if (!live.count(d.str())) {
      ++u.reclaimable_blobs;
      u.reclaimable_bytes += static_cast<uint64_t>(sb.st_size);
    }
  }
  std::lock_guard<std::mutex> l(gc_->usage_mu);
  gc_->usage = u;
  gc_->usage_at = std::chrono::steady_clock::now();
  return u;
}

}  // namespace modelreg
