#include "store/model_store.h"

#include <algorithm>

#include "store/sql.h"

namespace modelreg::store {
namespace {

constexpr char kModelSelect[] =
    "SELECT m.id, m.name, m.created_at_ms, m.created_by,"
    " (SELECT COUNT(*) FROM versions v WHERE v.model_id = m.id),"
    " (SELECT MAX(number) FROM versions v WHERE v.model_id = m.id),"
    " (SELECT number FROM versions v WHERE v.model_id = m.id AND v.stage = 'production'),"
    " (SELECT MAX(created_at_ms) FROM versions v WHERE v.model_id = m.id),"
    " (SELECT at_ms FROM stage_changes s WHERE s.model_id = m.id ORDER BY s.id DESC LIMIT 1)"
    " FROM models m";

// The columns ReadVersion reads, in its order.
#define MR_VERSION_COLUMNS                                                              \
  "v.id, m.name, v.number, v.digest, v.manifest_size, v.config_digest, v.file_count,"   \
  " v.total_bytes, v.stage, v.code_repo, v.code_commit, v.code_dirty, v.parent_digest," \
  " v.created_at_ms, v.created_by, v.deleted_at_ms, v.deleted_by, v.delete_reason"
constexpr char kVersionSelect[] = "SELECT " MR_VERSION_COLUMNS " FROM versions v JOIN models m ON m.id = v.model_id";
// A version per dataset row naming the digest; the dataset's name last.
constexpr char kVersionsTrainedOn[] =
    "SELECT " MR_VERSION_COLUMNS
    ", d.name FROM version_datasets d JOIN versions v ON v.id = d.version_id"
    " JOIN models m ON m.id = v.model_id WHERE d.digest = ? ORDER BY m.name, v.number, d.name";
#undef MR_VERSION_COLUMNS

ModelRecord ReadModel(Statement& q) {
  ModelRecord m;
  m.id = q.getColumn(0).getInt64();
  m.name = q.getColumn(1).getString();
  m.created_at_ms = q.getColumn(2).getInt64();
  m.created_by = q.getColumn(3).getString();
  m.version_count = q.getColumn(4).getInt64();
  if (!q.getColumn(5).isNull()) m.latest_version = q.getColumn(5).getInt64();
  if (!q.getColumn(6).isNull()) m.production_version = q.getColumn(6).getInt64();
  m.last_change_ms = m.created_at_ms;
  for (int col : {7, 8})
    if (!q.getColumn(col).isNull()) m.last_change_ms = std::max(m.last_change_ms, q.getColumn(col).getInt64());
  return m;
}

VersionRecord ReadVersion(Statement& q) {
  VersionRecord v;
  v.id = q.getColumn(0).getInt64();
  v.model = q.getColumn(1).getString();
  v.number = q.getColumn(2).getInt64();
  v.digest = q.getColumn(3).getString();
  v.manifest_size = q.getColumn(4).getInt64();
  v.config_digest = q.getColumn(5).getString();
  v.file_count = q.getColumn(6).getInt64();
  v.total_bytes = q.getColumn(7).getInt64();
  v.stage = q.getColumn(8).getString();
  v.code_repo = q.getColumn(9).getString();
  v.code_commit = q.getColumn(10).getString();
  if (!q.getColumn(11).isNull()) v.code_dirty = q.getColumn(11).getInt() != 0;
  v.parent_digest = q.getColumn(12).getString();
  v.created_at_ms = q.getColumn(13).getInt64();
  v.created_by = q.getColumn(14).getString();
  if (!q.getColumn(15).isNull()) v.deleted_at_ms = q.getColumn(15).getInt64();
  v.deleted_by = q.getColumn(16).getString();
  v.delete_reason = q.getColumn(17).getString();
  return v;
}

std::optional<VersionRecord> FirstVersion(Statement& q) {
  if (q.executeStep()) return ReadVersion(q);
  return std::nullopt;
}

}  // namespace

std::optional<ModelRecord> FindModel(Tx& tx, const std::string& name) {
  Statement q(tx, std::string(kModelSelect) + " WHERE m.name = ?");
  q.bind(1, name);
  if (q.executeStep()) return ReadModel(q);
  return std::nullopt;
}

int64_t EnsureModel(Tx& tx, const std::string& name, const std::string& actor, int64_t now_ms) {
  Statement find(tx, "SELECT id FROM models WHERE name = ?");
  find.bind(1, name);
  if (find.executeStep()) return find.getColumn(0).getInt64();
  Statement ins(tx, "INSERT INTO models (name, created_at_ms, created_by) VALUES (?, ?, ?) RETURNING id");
  ins.bind(1, name);
  ins.bind(2, now_ms);
  ins.bind(3, actor);
  ins.executeStep();
  return ins.getColumn(0).getInt64();
}

std::vector<ModelRecord> ListModels(Tx& tx) {
  Statement q(tx, std::string(kModelSelect) + " ORDER BY m.name");
  std::vector<ModelRecord> out;
  while (q.executeStep()) out.push_back(ReadModel(q));
  return out;
}

std::vector<StageCount> VersionCountsByStage(Tx& tx) {
  Statement q(tx,
              "SELECT m.name, v.stage, COUNT(*) FROM versions v JOIN models m ON m.id = v.model_id"
              " GROUP BY m.name, v.stage ORDER BY m.name, v.stage");
  std::vector<StageCount> out;
  while (q.executeStep())
    out.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getInt64()});
  return out;
}

std::optional<VersionRecord> FindVersionByDigest(Tx& tx, const std::string& model, const std::string& digest) {
  Statement q(tx, std::string(kVersionSelect) + " WHERE m.name = ? AND v.digest = ?");
  q.bind(1, model);
  q.bind(2, digest);
  return FirstVersion(q);
}

std::optional<VersionRecord> FindVersionByNumber(Tx& tx, const std::string& model, int64_t number) {
  Statement q(tx, std::string(kVersionSelect) + " WHERE m.name = ? AND v.number = ?");
  q.bind(1, model);
  q.bind(2, number);
  return FirstVersion(q);
}

std::vector<VersionRecord> ListVersions(Tx& tx, const std::string& model) {
  Statement q(tx, std::string(kVersionSelect) + " WHERE m.name = ? ORDER BY v.number");
  q.bind(1, model);
  std::vector<VersionRecord> out;
  while (q.executeStep()) out.push_back(ReadVersion(q));
  return out;
}

void InsertVersion(Tx& tx, int64_t model_id, VersionRecord* v, const std::vector<BlobRef>& blobs,
                   const std::vector<DatasetRow>& datasets,
                   const std::vector<std::pair<std::string, double>>& metrics) {
  Statement next(tx, "SELECT COALESCE(MAX(number), 0) + 1 FROM versions WHERE model_id = ?");
  next.bind(1, model_id);
  next.executeStep();
  v->number = next.getColumn(0).getInt64();
  Statement ins(tx,
                "INSERT INTO versions (model_id, number, digest, manifest_size, config_digest, file_count,"
                " total_bytes, stage, code_repo, code_commit, code_dirty, parent_digest, created_at_ms,"
                " created_by) VALUES (?, ?, ?, ?, ?, ?, ?, 'none', ?, ?, ?, ?, ?, ?) RETURNING id");
  ins.bind(1, model_id);
  ins.bind(2, v->number);
  ins.bind(3, v->digest);
  ins.bind(4, v->manifest_size);
  ins.bind(5, v->config_digest);
  ins.bind(6, v->file_count);
  ins.bind(7, v->total_bytes);
  auto bind_opt = [&](int i, const std::string& s) {
    if (s.empty()) ins.bind(i);
    else ins.bind(i, s);
  };
  bind_opt(8, v->code_repo);
  bind_opt(9, v->code_commit);
  if (v->code_dirty) ins.bind(10, *v->code_dirty ? 1 : 0);
  else ins.bind(10);
  bind_opt(11, v->parent_digest);
  ins.bind(12, v->created_at_ms);
  ins.bind(13, v->created_by);
  ins.executeStep();
  v->id = ins.getColumn(0).getInt64();
  v->stage = "none";

  Statement blob(tx, "INSERT INTO version_blobs (version_id, digest, size) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
  for (const auto& b : blobs) {
    blob.bind(1, v->id);
    blob.bind(2, b.digest);
    blob.bind(3, b.size);
    blob.exec();
    blob.reset();
  }
  Statement ds(tx, "INSERT INTO version_datasets (version_id, name, uri, digest) VALUES (?, ?, ?, ?)");
  for (const auto& d : datasets) {
    ds.bind(1, v->id);
    ds.bind(2, d.name);
    ds.bind(3, d.uri);
    if (d.digest.empty()) ds.bind(4);
    else ds.bind(4, d.digest);
    ds.exec();
    ds.reset();
  }
  Statement me(tx, "INSERT INTO version_metrics (version_id, name, value) VALUES (?, ?, ?)");
  for (const auto& [name, value] : metrics) {
    me.bind(1, v->id);
    me.bind(2, name);
    me.bind(3, value);
    me.exec();
    me.reset();
  }
}

std::vector<DatasetRow> ListDatasets(Tx& tx, int64_t version_id) {
  Statement q(tx, "SELECT name, uri, COALESCE(digest, '') FROM version_datasets WHERE version_id = ? ORDER BY name");
  q.bind(1, version_id);
  std::vector<DatasetRow> out;
  while (q.executeStep())
    out.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getString()});
  return out;
}

std::vector<std::pair<std::string, double>> ListMetrics(Tx& tx, int64_t version_id) {
  Statement q(tx, "SELECT name, value FROM version_metrics WHERE version_id = ? ORDER BY name");
  q.bind(1, version_id);
  std::vector<std::pair<std::string, double>> out;
  while (q.executeStep()) out.emplace_back(q.getColumn(0).getString(), q.getColumn(1).getDouble());
  return out;
}

std::map<int64_t, std::vector<std::pair<std::string, double>>> ListModelMetrics(Tx& tx, const std::string& model) {
  Statement q(tx,
              "SELECT v.number, vm.name, vm.value FROM version_metrics vm"
              " JOIN versions v ON v.id = vm.version_id JOIN models m ON m.id = v.model_id"
              " WHERE m.name = ? ORDER BY v.number, vm.name");
  q.bind(1, model);
  std::map<int64_t, std::vector<std::pair<std::string, double>>> out;
  while (q.executeStep())
    out[q.getColumn(0).getInt64()].emplace_back(q.getColumn(1).getString(), q.getColumn(2).getDouble());
  return out;
}

std::vector<std::optional<uint64_t>> ModelBlobSizes(Tx& tx, const std::string& model,
                                                    const std::vector<std::string>& digests) {
  Statement q(
      tx,
      "SELECT b.size FROM version_blobs b JOIN versions v ON v.id = b.version_id"
      " JOIN models m ON m.id = v.model_id WHERE b.digest = ? AND m.name = ? AND v.deleted_at_ms IS NULL LIMIT 1");
  std::vector<std::optional<uint64_t>> out;
  out.reserve(digests.size());
  for (const auto& d : digests) {  // one prepared statement for the whole list
    q.reset();
    q.bind(1, d);
    q.bind(2, model);
    out.push_back(q.executeStep() ? std::optional<uint64_t>(q.getColumn(0).getInt64()) : std::nullopt);
  }
  return out;
}

void InsertBlobSample(Tx& tx, const std::string& digest, uint64_t size, const std::string& sample) {
  Statement q(tx, "INSERT INTO blob_samples (digest, size, sample) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
  q.bind(1, digest);
  q.bind(2, static_cast<int64_t>(size));
  q.bind(3, sample);
  q.exec();
}

std::vector<bool> MatchSamples(Tx& tx, const std::vector<SampleProbe>& probes,
                               const std::function<bool(const std::string& digest)>& reachable) {
  // Both walk an index (blob_samples_by_size, version_blobs_by_size) and
  // stop at the first blob the caller may reach: for a token that reaches
  // every blob, the first row.
  Statement same(tx, "SELECT digest FROM blob_samples WHERE size = ? AND sample = ?");
  Statement unsampled(tx,
                      "SELECT v.digest FROM version_blobs v WHERE v.size = ? AND NOT EXISTS"
                      " (SELECT 1 FROM blob_samples s WHERE s.digest = v.digest)");
  auto any_reachable = [&](Statement& q) {
    while (q.executeStep())
      if (reachable(q.getColumn(0).getString())) return true;
    return false;
  };
  std::vector<bool> out;
  out.reserve(probes.size());
  for (const auto& p : probes) {
    same.reset();
    same.bind(1, static_cast<int64_t>(p.size));
    same.bind(2, p.sample);
    bool maybe = any_reachable(same);
    if (!maybe) {
      unsampled.reset();
      unsampled.bind(1, static_cast<int64_t>(p.size));
      maybe = any_reachable(unsampled);
    }
    out.push_back(maybe);
  }
  return out;
}

std::map<int64_t, std::vector<DatasetRow>> ListModelDatasets(Tx& tx, int64_t model_id) {
  Statement q(tx,
              "SELECT v.number, d.name, d.uri, COALESCE(d.digest, '') FROM version_datasets d"
              " JOIN versions v ON v.id = d.version_id WHERE v.model_id = ? ORDER BY v.number, d.name");
  q.bind(1, model_id);
  std::map<int64_t, std::vector<DatasetRow>> out;
  while (q.executeStep())
    out[q.getColumn(0).getInt64()].push_back(
        {q.getColumn(1).getString(), q.getColumn(2).getString(), q.getColumn(3).getString()});
  return out;
}

std::vector<std::string> IntegrityProblems(Tx& tx) {
  // PostgreSQL checks its pages itself (data checksums, amcheck for the
  // operator); the row-level checks below run on both engines.
  if (tx.dialect() != SqlDialect::kSqlite) return {};
  Statement q(tx, "PRAGMA integrity_check");
  std::vector<std::string> out;
  while (q.executeStep()) {
    std::string line = q.getColumn(0).getString();
    if (line != "ok") out.push_back("database: " + line);
  }
  return out;
}

std::vector<std::string> DanglingRowProblems(Tx& tx) {
  std::vector<std::string> out;
  // One line per (table, parent): a table of orphans is one problem.
  // (PostgreSQL enforces foreign keys on every write; SQLite only while
  // foreign_keys is on, so a file edited elsewhere may hold orphans.)
  if (tx.dialect() == SqlDialect::kSqlite) {
    Statement fk(tx,
                 "SELECT \"table\", parent, COUNT(*) FROM pragma_foreign_key_check"
                 " GROUP BY \"table\", parent ORDER BY \"table\", parent");
    while (fk.executeStep())
      out.push_back("database: " + std::to_string(fk.getColumn(2).getInt64()) + " row(s) of " +
                    fk.getColumn(0).getString() + " refer to a missing row of " + fk.getColumn(1).getString());
  }
  Statement moved(tx,
                  "SELECT s.id, ms.name, mv.name, v.number FROM stage_changes s"
                  " JOIN versions v ON v.id = s.version_id JOIN models mv ON mv.id = v.model_id"
                  " LEFT JOIN models ms ON ms.id = s.model_id WHERE s.model_id != v.model_id ORDER BY s.id");
  while (moved.executeStep())
    out.push_back("database: stage change #" + std::to_string(moved.getColumn(0).getInt64()) +
                  " is filed under model '" + moved.getColumn(1).getString() + "' but is about " +
                  moved.getColumn(2).getString() + " version " + std::to_string(moved.getColumn(3).getInt64()));
  return out;
}

void Ping(Tx& tx) {
  Statement q(tx, "SELECT 1");
  q.executeStep();
}

std::vector<BlobRef> AllReferencedBlobs(Tx& tx) {
  Statement q(tx,
              "SELECT b.digest, MAX(b.size) FROM version_blobs b JOIN versions v ON v.id = b.version_id"
              " WHERE v.deleted_at_ms IS NULL OR b.digest = v.digest OR b.digest = v.config_digest"
              " GROUP BY b.digest ORDER BY b.digest");
  std::vector<BlobRef> out;
  while (q.executeStep()) out.push_back({q.getColumn(0).getString(), q.getColumn(1).getInt64()});
  return out;
}

std::map<int64_t, std::vector<BlobRef>> ListModelBlobRefs(Tx& tx, int64_t model_id) {
  Statement q(tx,
              "SELECT v.number, b.digest, b.size FROM version_blobs b JOIN versions v ON v.id = b.version_id"
              " WHERE v.model_id = ? ORDER BY v.number, b.digest");
  q.bind(1, model_id);
  std::map<int64_t, std::vector<BlobRef>> out;
  while (q.executeStep())
    out[q.getColumn(0).getInt64()].push_back({q.getColumn(1).getString(), q.getColumn(2).getInt64()});
  return out;
}

}  // namespace modelreg::store

namespace modelreg::store {

std::vector<VersionRecord> VersionsWithDigest(Tx& tx, const std::string& digest) {
  Statement q(tx, std::string(kVersionSelect) + " WHERE v.digest = ? ORDER BY v.id");
  q.bind(1, digest);
  std::vector<VersionRecord> out;
  while (q.executeStep()) out.push_back(ReadVersion(q));
  return out;
}

std::vector<VersionRecord> VersionsWithParent(Tx& tx, const std::string& parent_digest) {
  Statement q(tx, std::string(kVersionSelect) + " WHERE v.parent_digest = ? ORDER BY v.id");
  q.bind(1, parent_digest);
  std::vector<VersionRecord> out;
  while (q.executeStep()) out.push_back(ReadVersion(q));
  return out;
}

std::vector<std::pair<VersionRecord, std::string>> VersionsTrainedOn(Tx& tx, const std::string& dataset_digest) {
  Statement q2(tx, kVersionsTrainedOn);
  q2.bind(1, dataset_digest);
  std::vector<std::pair<VersionRecord, std::string>> out;
  while (q2.executeStep()) out.emplace_back(ReadVersion(q2), q2.getColumn(18).getString());
  return out;
}

std::vector<VersionRecord> VersionsAtCommit(Tx& tx, const std::string& commit_prefix) {
  // A prefix is a range over the commit index: [prefix, prefix + "g"),
  // since commits are lowercase hex.
  Statement q(
      tx, std::string(kVersionSelect) + " WHERE v.code_commit >= ? AND v.code_commit < ? ORDER BY m.name, v.number");
  q.bind(1, commit_prefix);
  q.bind(2, commit_prefix + "g");
  std::vector<VersionRecord> out;
  while (q.executeStep()) out.push_back(ReadVersion(q));
  return out;
}

void MarkVersionDeleted(Tx& tx, int64_t version_id, int64_t at_ms, const std::string& actor,
                        const std::string& reason) {
  Statement q(tx,
              "UPDATE versions SET deleted_at_ms = ?, deleted_by = ?, delete_reason = ?"
              " WHERE id = ? AND deleted_at_ms IS NULL");
  q.bind(1, at_ms);
  q.bind(2, actor);
  q.bind(3, reason);
  q.bind(4, version_id);
  q.exec();
}

std::optional<RetentionRule> GetRetention(Tx& tx, int64_t model_id) {
  Statement q(tx,
              "SELECT keep_archived, keep_rejected_days, updated_at_ms, updated_by FROM retention WHERE model_id = ?");
  q.bind(1, model_id);
  if (!q.executeStep()) return std::nullopt;
  RetentionRule r;
  if (!q.getColumn(0).isNull()) r.keep_archived = q.getColumn(0).getInt64();
  if (!q.getColumn(1).isNull()) r.keep_rejected_days = q.getColumn(1).getInt64();
  r.updated_at_ms = q.getColumn(2).getInt64();
  r.updated_by = q.getColumn(3).getString();
  return r;
}

void SetRetention(Tx& tx, int64_t model_id, const RetentionRule& r) {
  Statement q(tx,
              "INSERT INTO retention (model_id, keep_archived, keep_rejected_days, updated_at_ms, updated_by)"
              " VALUES (?, ?, ?, ?, ?) ON CONFLICT (model_id) DO UPDATE SET keep_archived = excluded.keep_archived,"
              " keep_rejected_days = excluded.keep_rejected_days, updated_at_ms = excluded.updated_at_ms,"
              " updated_by = excluded.updated_by");
  q.bind(1, model_id);
  if (r.keep_archived) q.bind(2, *r.keep_archived);
  else q.bind(2);
  if (r.keep_rejected_days) q.bind(3, *r.keep_rejected_days);
  else q.bind(3);
  q.bind(4, r.updated_at_ms);
  q.bind(5, r.updated_by);
  q.exec();
}

std::vector<std::pair<std::string, RetentionRule>> AllRetention(Tx& tx) {
  Statement q(tx,
              "SELECT m.name, r.keep_archived, r.keep_rejected_days, r.updated_at_ms, r.updated_by FROM retention r"
              " JOIN models m ON m.id = r.model_id ORDER BY m.name");
  std::vector<std::pair<std::string, RetentionRule>> out;
  while (q.executeStep()) {
    RetentionRule r;
    if (!q.getColumn(1).isNull()) r.keep_archived = q.getColumn(1).getInt64();
    if (!q.getColumn(2).isNull()) r.keep_rejected_days = q.getColumn(2).getInt64();
    r.updated_at_ms = q.getColumn(3).getInt64();
    r.updated_by = q.getColumn(4).getString();
    out.emplace_back(q.getColumn(0).getString(), std::move(r));
  }
  return out;
}

std::set<std::string> LiveBlobDigests(Tx& tx) {
  std::set<std::string> out;
  Statement v(
      tx,
      "SELECT DISTINCT b.digest FROM version_blobs b JOIN versions v ON v.id = b.version_id"
      " WHERE v.deleted_at_ms IS NULL UNION SELECT digest FROM versions UNION SELECT config_digest FROM versions");
  while (v.executeStep()) out.insert(v.getColumn(0).getString());
  Statement r(tx, "SELECT digest FROM oci_referrers UNION SELECT digest FROM oci_referrer_blobs");
  while (r.executeStep()) out.insert(r.getColumn(0).getString());
  return out;
}

bool BlobIsLive(Tx& tx, const std::string& digest) {
  Statement q(tx,
              "SELECT 1 FROM version_blobs b JOIN versions v ON v.id = b.version_id"
              " WHERE b.digest = ? AND (v.deleted_at_ms IS NULL OR b.digest = v.digest OR b.digest = v.config_digest)"
              " UNION ALL SELECT 1 FROM oci_referrers WHERE digest = ?"
              " UNION ALL SELECT 1 FROM oci_referrer_blobs WHERE digest = ? LIMIT 1");
  q.bind(1, digest);
  q.bind(2, digest);
  q.bind(3, digest);
  return q.executeStep();
}

}  // namespace modelreg::store
