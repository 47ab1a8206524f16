#include "store/copy_rows.h"

#include <string>

#include "store/sql.h"

namespace modelreg::store {
namespace {

// One column of a table's primary key. `integer` says how to bind its last
// value when the source is PostgreSQL, whose values all read back as text.
struct KeyColumn {
  const char* name;
  bool integer;
};

struct Table {
  const char* name;
  const char* columns;  // explicit: the engines order added columns differently
  KeyColumn key[2];     // the primary key, which pages follow; key[1].name is null for one column
  bool identity;        // an `id` the target generates for new rows
};

constexpr KeyColumn kId = {"id", true};
constexpr KeyColumn kVersionId = {"version_id", true};
constexpr KeyColumn kModelId = {"model_id", true};

// Parents before children.
constexpr Table kTables[] = {
    {"models", "id, name, created_at_ms, created_by", {kId}, true},
    {"versions",
     "id, model_id, number, digest, manifest_size, config_digest, file_count, total_bytes, stage, code_repo,"
     " code_commit, code_dirty, parent_digest, created_at_ms, created_by, deleted_at_ms, deleted_by, delete_reason",
     {kId},
     true},
    {"version_blobs", "version_id, digest, size", {kVersionId, {"digest", false}}, false},
    {"version_datasets", "version_id, name, uri, digest", {kVersionId, {"name", false}}, false},
    {"version_metrics", "version_id, name, value", {kVersionId, {"name", false}}, false},
    {"tokens",
     "id, name, hash, role, model_globs, created_at_ms, created_by, revoked_at_ms, expires_at_ms",
     {kId},
     true},
    {"approvals", "version_id, approver, comment, created_at_ms", {kVersionId, {"approver", false}}, false},
    {"policies",
     "model_id, approvals_required, require_clean_code, require_data_digests, updated_at_ms, updated_by,"
     " drift_alpha, drift_min_psi, max_violation_rate",
     {kModelId},
     false},
    {"retention", "model_id, keep_archived, keep_rejected_days, updated_at_ms, updated_by", {kModelId}, false},
    {"policy_gates", "model_id, position, metric, op, threshold", {kModelId, {"position", true}}, false},
    {"stage_changes", "id, model_id, version_id, from_stage, to_stage, kind, actor, reason, at_ms", {kId}, true},
    {"audit_events", "seq, at_ms, actor, action, model, version, details, prev_hash, hash", {{"seq", true}}, false},
    {"agents",
     "id, host, model, stage, version, digest, state, last_error, token_name, first_seen_ms, last_seen_ms,"
     " last_change_ms, last_event_id, heartbeat_ms, spool_pending_bytes, spool_max_bytes, decisions_dropped",
     {{"id", false}},
     false},
    {"agent_events",
     "id, agent_id, at_ms, model, version, digest, state, error, seen_until_ms, heartbeat_ms",
     {kId},
     true},
    {"decisions",
     "request_id, model, version, digest, agent_id, at_ms, input_sha256, output, received_at_ms, arm, rollout_id,"
     " fallback",
     {{"request_id", false}},
     false},
    {"blob_samples", "digest, size, sample", {{"digest", false}}, false},
    {"blob_uploaders", "digest, uploader", {{"digest", false}, {"uploader", false}}, false},
    {"settings", "name, value", {{"name", false}}, false},
    {"oci_referrers", "id, model_id, subject, digest, size, artifact_type, created_at_ms, created_by", {kId}, true},
    {"oci_referrer_blobs", "referrer_id, digest, size", {{"referrer_id", true}, {"digest", false}}, false},
    {"events", "id, at_ms, type, model, version, actor, data", {kId}, true},
    {"webhooks", "id, name, url, events, models, secret, ca_pem, created_at_ms, created_by", {kId}, true},
    {"webhook_deliveries",
     "webhook_id, event_id, model, state, attempts, created_at_ms, next_at_ms, lease_until_ms, last_at_ms,"
     " last_status, last_error, last_elapsed_ms",
     {{"webhook_id", true}, {"event_id", true}},
     false},
    {"rollouts",
     "id, model_id, mode, baseline_id, candidate_id, steps, step, step_started_ms, step_every_ms, auto_advance,"
     " key_header, salt, state, revision, override_reason, started_at_ms, started_by, ended_at_ms, ended_by, reason,"
     " verdict, horizon_requests, judged_requests, last_look",
     {kId},
     true},
    {"rollout_stats",
     "id, rollout_id, step, agent_id, run, updated_at_ms, baseline_requests, baseline_errors, baseline_latency,"
     " candidate_requests, candidate_errors, candidate_latency, shadow_compared, shadow_equal, shadow_differ,"
     " shadow_dropped, shadow_max_abs_diff",
     {kId},
     true},
    {"monitor_windows",
     "id, model_id, version_id, agent_id, run, arm, start_ms, end_ms, has_reference, requests, row_count, unreadable,"
     " violations, rejected, received_at_ms",
     {kId},
     true},
    {"drift_stats",
     "id, window_id, feature, is_output, n, missing, out_of_range, type_errors, unknown_category, counts, psi, js,"
     " missing_rate, out_of_range_rate, threshold, alarm",
     {kId},
     true},
};

int CountColumns(const char* columns) {
  int n = 1;
  for (const char* c = columns; *c; ++c) n += *c == ',';
  return n;
}

// The last key of a page, kept past the statement that read it, bound as
// the lower bound of the next page. SQLite's values keep the type they were
// stored with (its order sorts integers before text before blobs); text read
// from PostgreSQL is parsed back for integer columns.
class KeyValue {
 public:
  void Read(const SqlColumn& c, bool parse_integer) {
    type_ = parse_integer && !c.isNull() ? SqlColumn::Type::kInt : c.type();
    switch (type_) {
      case SqlColumn::Type::kNull:
        break;
      case SqlColumn::Type::kInt:
        i_ = c.getInt64();
        break;
      case SqlColumn::Type::kReal:
        d_ = c.getDouble();
        break;
      case SqlColumn::Type::kText:
      case SqlColumn::Type::kBlob:
        s_ = c.getString();
        break;
    }
  }
  bool isNull() const { return type_ == SqlColumn::Type::kNull; }
  SqlColumn View() const {
    switch (type_) {
      case SqlColumn::Type::kNull:
        break;
      case SqlColumn::Type::kInt:
        return SqlColumn::Int(i_);
      case SqlColumn::Type::kReal:
        return SqlColumn::Real(d_);
      case SqlColumn::Type::kText:
        return SqlColumn::Text(s_);
      case SqlColumn::Type::kBlob:
        return SqlColumn::Blob(s_);
    }
    return SqlColumn::Null();
  }

 private:
  SqlColumn::Type type_ = SqlColumn::Type::kNull;
  int64_t i_ = 0;
  double d_ = 0;
  std::string s_;
};

// The statements that read `t` a page at a time in key order: the first
// page, and the page after a key (a row value, `(a, b) > (?, ?)`, for a
// composite key: SQLite >= 3.15 and PostgreSQL both take it and walk the
// primary key's index). The key columns follow the table's columns.
struct PageQueries {
  std::string first, next;
  int nkeys = 0;
};

PageQueries PageQueriesFor(const Table& t) {
  std::string keys, params;
  int nkeys = 0;
  for (const KeyColumn& k : t.key) {
    if (!k.name) break;
    keys += nkeys ? ", " : "";
    keys += k.name;
    params += nkeys ? ", ?" : "?";
    ++nkeys;
  }
  const std::string select = std::string("SELECT ") + t.columns + ", " + keys + " FROM " + t.name;
  const std::string order = " ORDER BY " + keys + " LIMIT ?";
  const std::string after = nkeys == 1 ? keys + " > ?" : "(" + keys + ") > (" + params + ")";
  return {select + order, select + " WHERE " + after + order, nkeys};
}

// The target's audit log must be a prefix of the source's.
Status CheckSameRegistry(Database& from, Database& to) {
  int64_t count = 0;
  std::string head;
  MR_RETURN_IF_ERROR(to.Transact(TxMode::kRead, [&](Tx& tx) {
    Statement q(tx, "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1");
    if (q.executeStep()) {
      count = q.getColumn(0).getInt64();
      head = q.getColumn(1).getString();
    }
    return Status::OK();
  }));
  if (count == 0) return Status::OK();
  std::string source_hash;
  MR_RETURN_IF_ERROR(from.Transact(TxMode::kRead, [&](Tx& tx) {
    Statement q(tx, "SELECT hash FROM audit_events WHERE seq = ?");
    q.bind(1, count);
    if (q.executeStep()) source_hash = q.getColumn(0).getString();
    return Status::OK();
  }));
  if (source_hash == head) return Status::OK();
  return Status::FailedPrecondition("the target database " + to.path() + " holds another registry's data (its audit " +
                                    "event " + std::to_string(count) +
                                    " is not the source's): migrate into an empty database");
}

}  // namespace

Status CopyAllRows(Database& from, Database& to, CopyReport* report, int64_t page_rows) {
  if (page_rows < 1) return Status::InvalidArgument("page_rows must be at least 1");
  MR_RETURN_IF_ERROR(CheckSameRegistry(from, to));
  const bool parse_keys = from.dialect() == SqlDialect::kPostgres;
  for (const Table& t : kTables) {
    const int ncols = CountColumns(t.columns);
    std::string values = "(";
    for (int i = 0; i < ncols; ++i) values += i ? ", ?" : "?";
    values += ")";
    const std::string insert =
        std::string("INSERT INTO ") + t.name + " (" + t.columns + ") VALUES " + values + " ON CONFLICT DO NOTHING";
    const PageQueries pages = PageQueriesFor(t);
    KeyValue last[2];
    int64_t added = 0;
    for (bool first = true;; first = false) {
      // One page: read from the source, written in one target transaction.
      int64_t rows = 0;
      Status st = from.Transact(TxMode::kRead, [&](Tx& src) {
        Statement q(src, first ? pages.first : pages.next);
        int param = 1;
        if (!first)
          for (int k = 0; k < pages.nkeys; ++k) q.bind(param++, last[k].View());
        q.bind(param, page_rows);
        return to.Transact(TxMode::kWrite, [&](Tx& dst) {
          Statement ins(dst, insert);
          while (q.executeStep()) {
            for (int c = 0; c < ncols; ++c) ins.bind(c + 1, q.getColumn(c));
            added += ins.exec();
            ins.reset();
            ++rows;
            for (int k = 0; k < pages.nkeys; ++k) last[k].Read(q.getColumn(ncols + k), parse_keys && t.key[k].integer);
          }
          return Status::OK();
        });
      });
      MR_RETURN_IF_ERROR(st.WithContext(std::string("copying ") + t.name));
      if (report) report->rows_read += rows;
      if (rows < page_rows) break;
      for (int k = 0; k < pages.nkeys; ++k)
        if (last[k].isNull())
          return Status::FailedPrecondition(std::string("copying ") + t.name +
                                            ": a row has no key (NULL), so the next page cannot be found;"
                                            " give it a key or delete it, then migrate again");
    }
    if (t.identity && to.dialect() == SqlDialect::kPostgres) {
      MR_RETURN_IF_ERROR(to.Transact(TxMode::kWrite, [&](Tx& tx) {
        tx.exec(std::string("SELECT setval(pg_get_serial_sequence('") + t.name +
                "', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM " + t.name + "), false)");
        return Status::OK();
      }));
    }
    if (report) report->rows.emplace_back(t.name, added);
  }
  return Status::OK();
}

}  // namespace modelreg::store
