// Data access for models and versions. Call only inside Database::Transact;
// SQL errors (store/sql.h) surface as exceptions that Transact turns into a Status.
// All SQL is bound, never spliced.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/records.h"
#include "store/database.h"

namespace modelreg::store {

std::optional<ModelRecord> FindModel(Tx& tx, const std::string& name);
// Returns the model's id, creating the row if it does not exist.
int64_t EnsureModel(Tx& tx, const std::string& name, const std::string& actor, int64_t now_ms);
std::vector<ModelRecord> ListModels(Tx& tx);
// Versions per (model, stage): {model, stage, count}, for /metrics.
struct StageCount {
  std::string model, stage;
  int64_t count = 0;
};
std::vector<StageCount> VersionCountsByStage(Tx& tx);

std::optional<VersionRecord> FindVersionByDigest(Tx& tx, const std::string& model, const std::string& digest);
std::optional<VersionRecord> FindVersionByNumber(Tx& tx, const std::string& model, int64_t number);
std::vector<VersionRecord> ListVersions(Tx& tx, const std::string& model);

// Lineage indexes: across all models, in a stable order.
std::vector<VersionRecord> VersionsWithDigest(Tx& tx, const std::string& digest);
std::vector<VersionRecord> VersionsWithParent(Tx& tx, const std::string& parent_digest);
// Versions whose lineage names the dataset digest, with the dataset's name.
std::vector<std::pair<VersionRecord, std::string>> VersionsTrainedOn(Tx& tx, const std::string& dataset_digest);
// Versions whose code commit starts with `commit_prefix` (lowercase hex).
std::vector<VersionRecord> VersionsAtCommit(Tx& tx, const std::string& commit_prefix);

struct BlobRef {
  std::string digest;
  int64_t size;
};

// Inserts the next version of `model_id` (number = max + 1) with its blob
// references, datasets and metrics. Fills in id and number.
void InsertVersion(Tx& tx, int64_t model_id, VersionRecord* v, const std::vector<BlobRef>& blobs,
                   const std::vector<DatasetRow>& datasets, const std::vector<std::pair<std::string, double>>& metrics);

std::vector<DatasetRow> ListDatasets(Tx& tx, int64_t version_id);
std::vector<std::pair<std::string, double>> ListMetrics(Tx& tx, int64_t version_id);
// Every version's metrics of one model, by version number (one query).
std::map<int64_t, std::vector<std::pair<std::string, double>>> ListModelMetrics(Tx& tx, const std::string& model);
// For each of `digests`, in order: its size as registered if a version of
// `model` references it, else nullopt.
std::vector<std::optional<uint64_t>> ModelBlobSizes(Tx& tx, const std::string& model,
                                                    const std::vector<std::string>& digests);
// A blob's sample (core/digest.h SampleFd), recorded when it is stored.
void InsertBlobSample(Tx& tx, const std::string& digest, uint64_t size, const std::string& sample);
// For each probe, in order: whether a blob of its size may be that file: one
// with the same sample is on record, or a registered one of that size has
// no sample on record (stored before samples were). Only blobs `reachable`
// accepts count (a caller limited to some models must not learn of others).
std::vector<bool> MatchSamples(Tx& tx, const std::vector<SampleProbe>& probes,
                               const std::function<bool(const std::string& digest)>& reachable);
// Every version's datasets of one model, by version number (one query).
std::map<int64_t, std::vector<DatasetRow>> ListModelDatasets(Tx& tx, int64_t model_id);
// PRAGMA integrity_check (SQLite; nothing on PostgreSQL): empty when the
// database is sound.
std::vector<std::string> IntegrityProblems(Tx& tx);
// Rows of a sound database that point nowhere (PRAGMA foreign_key_check: a
// metric, approval, stage change… of a version or model that is not there)
// or at the wrong place (a stage change filed under another model than its
// version's). Empty when there are none.
std::vector<std::string> DanglingRowProblems(Tx& tx);
// A trivial query, for readiness checks.
void Ping(Tx& tx);
// Every (digest, size) that must be stored, for fsck: the blobs of versions
// not deleted, and every version's manifest and lineage record.
std::vector<BlobRef> AllReferencedBlobs(Tx& tx);
// Every version's blob references of one model, by version number, in
// digest order (one query; for fsck).
std::map<int64_t, std::vector<BlobRef>> ListModelBlobRefs(Tx& tx, int64_t model_id);

// Retention and garbage collection (docs/operations.md "Retention and
// garbage collection").
// Marks a version deleted (nothing if it is already).
void MarkVersionDeleted(Tx& tx, int64_t version_id, int64_t at_ms, const std::string& actor, const std::string& reason);
std::optional<RetentionRule> GetRetention(Tx& tx, int64_t model_id);
void SetRetention(Tx& tx, int64_t model_id, const RetentionRule& r);
// Every model's rule, by model name.
std::vector<std::pair<std::string, RetentionRule>> AllRetention(Tx& tx);
// Every blob digest something still needs: a version not deleted; any
// version's manifest and lineage record (a deleted version keeps them, so
// that `show`, lineage and fsck still read them; only its files go); a
// pushed OCI referrer's manifest or one of its blobs.
std::set<std::string> LiveBlobDigests(Tx& tx);
// The same question for one digest (the re-check in gc's delete transaction).
bool BlobIsLive(Tx& tx, const std::string& digest);

}  // namespace modelreg::store
