#include "store/migrations.h"

#include "store/database.h"

namespace modelreg {
namespace {

// Inside a write transaction: creating the table there keeps two replicas
// opening a new database from racing on it.
int VersionIn(Tx& tx, bool create) {
  if (create) tx.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  return static_cast<int>(QueryInt64(tx, "SELECT COALESCE(MAX(version), 0) FROM schema_version"));
}

bool HasVersionTable(Tx& tx) {
  const char* sql = tx.dialect() == SqlDialect::kSqlite
                        ? "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
                        : "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
                          " AND tablename = 'schema_version'";
  return QueryInt64(tx, sql) > 0;
}

}  // namespace

Status CheckNotNewer(int current, int latest) {
  if (current <= latest) return Status::OK();
  return Status::FailedPrecondition("database schema version " + std::to_string(current) +
                                    " is newer than this modelreg binary supports (" + std::to_string(latest) +
                                    "); it was written by a newer modelreg: upgrade the binary, or restore a backup");
}

Result<int> SchemaVersion(Database& db) {
  int v = 0;
  MR_RETURN_IF_ERROR(db.Transact(TxMode::kRead, [&](Tx& tx) {
    v = HasVersionTable(tx) ? VersionIn(tx, false) : 0;
    return Status::OK();
  }));
  return v;
}

Status Migrate(Database& db, const std::vector<Migration>& migrations, int target) {
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  if (target < 0) target = latest;
  MR_ASSIGN_OR_RETURN(int current, SchemaVersion(db));
  MR_RETURN_IF_ERROR(CheckNotNewer(current, latest));
  for (const auto& m : migrations) {
    if (m.version <= current || m.version > target) continue;
    Status st = db.Transact(TxMode::kWrite, [&](Tx& tx) {
      // Re-check inside the write lock: another process may have migrated.
      const int now = VersionIn(tx, true);
      MR_RETURN_IF_ERROR(CheckNotNewer(now, latest));
      if (now >= m.version) return Status::OK();
      tx.exec(m.sql);
      tx.exec("DELETE FROM schema_version");
      Statement ins(tx, "INSERT INTO schema_version (version) VALUES (?)");
      ins.bind(1, m.version);
      ins.exec();
      return Status::OK();
    });
    if (st.code() == StatusCode::kFailedPrecondition || st.code() == StatusCode::kUnavailable) return st;
    if (!st.ok()) return Status::Internal(std::string("migration ") + m.name + " failed: " + st.message());
  }
  return Status::OK();
}

}  // namespace modelreg
