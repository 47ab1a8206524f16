#include "store/copy_rows.h"

#include "store/sql.h"

namespace modelreg::store {
namespace {

struct Table {
  const char* name;
  const char* columns;  // explicit: the engines order added columns differently
  const char* key;      // ORDER BY for paging
  bool identity;        // an `id` the target generates for new rows
};

// Parents before children.
constexpr Table kTables[] = {
    {"models", "id, name, created_at_ms, created_by", "id", true},
    {"versions",
     "id, model_id, number, digest, manifest_size, config_digest, file_count, total_bytes, stage, code_repo,"
     " code_commit, code_dirty, parent_digest, created_at_ms, created_by",
     "id", true},
    {"version_blobs", "version_id, digest, size", "version_id, digest", false},
    {"version_datasets", "version_id, name, uri, digest", "version_id, name", false},
    {"version_metrics", "version_id, name, value", "version_id, name", false},
    {"tokens", "id, name, hash, role, model_globs, created_at_ms, created_by, revoked_at_ms, expires_at_ms", "id",
     true},
    {"approvals", "version_id, approver, comment, created_at_ms", "version_id, approver", false},
    {"policies", "model_id, approvals_required, require_clean_code, require_data_digests, updated_at_ms, updated_by",
     "model_id", false},
    {"policy_gates", "model_id, position, metric, op, threshold", "model_id, position", false},
    {"stage_changes", "id, model_id, version_id, from_stage, to_stage, kind, actor, reason, at_ms", "id", true},
    {"audit_events", "seq, at_ms, actor, action, model, version, details, prev_hash, hash", "seq", false},
    {"agents",
     "id, host, model, stage, version, digest, state, last_error, token_name, first_seen_ms, last_seen_ms,"
     " last_change_ms, last_event_id, heartbeat_ms, spool_pending_bytes, spool_max_bytes, decisions_dropped",
     "id", false},
    {"agent_events", "id, agent_id, at_ms, model, version, digest, state, error, seen_until_ms, heartbeat_ms", "id",
     true},
    {"decisions", "request_id, model, version, digest, agent_id, at_ms, input_sha256, output, received_at_ms",
     "request_id", false},
    {"blob_samples", "digest, size, sample", "digest", false},
    {"blob_uploaders", "digest, uploader", "digest, uploader", false},
    {"settings", "name, value", "name", false},
};

constexpr int64_t kPage = 2000;

int CountColumns(const char* columns) {
  int n = 1;
  for (const char* c = columns; *c; ++c) n += *c == ',';
  return n;
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

Status CopyAllRows(Database& from, Database& to, CopyReport* report) {
  MR_RETURN_IF_ERROR(CheckSameRegistry(from, to));
  for (const Table& t : kTables) {
    const int ncols = CountColumns(t.columns);
    std::string values = "(";
    for (int i = 0; i < ncols; ++i) values += i ? ", ?" : "?";
    values += ")";
    const std::string insert =
        std::string("INSERT INTO ") + t.name + " (" + t.columns + ") VALUES " + values + " ON CONFLICT DO NOTHING";
    const std::string select =
        std::string("SELECT ") + t.columns + " FROM " + t.name + " ORDER BY " + t.key + " LIMIT ? OFFSET ?";
    int64_t added = 0;
    for (int64_t offset = 0;; offset += kPage) {
      // One page: read from the source, written in one target transaction.
      int64_t rows = 0;
      Status st = from.Transact(TxMode::kRead, [&](Tx& src) {
        Statement q(src, select);
        q.bind(1, kPage);
        q.bind(2, offset);
        return to.Transact(TxMode::kWrite, [&](Tx& dst) {
          Statement ins(dst, insert);
          while (q.executeStep()) {
            for (int c = 0; c < ncols; ++c) ins.bind(c + 1, q.getColumn(c));
            added += ins.exec();
            ins.reset();
            ++rows;
          }
          return Status::OK();
        });
      });
      MR_RETURN_IF_ERROR(st.WithContext(std::string("copying ") + t.name));
      if (rows < kPage) break;
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
