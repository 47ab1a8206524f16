#include "store/migrations.h"

#include <SQLiteCpp/SQLiteCpp.h>

namespace modelreg {

Result<int> SchemaVersion(SQLite::Database& db) {
  try {
    db.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    SQLite::Statement q(db, "SELECT MAX(version) FROM schema_version");
    if (q.executeStep() && !q.getColumn(0).isNull()) return q.getColumn(0).getInt();
    return 0;
  } catch (const std::exception& e) { return Status::Internal(std::string("reading schema version: ") + e.what()); }
}

Status Migrate(SQLite::Database& db, const std::vector<Migration>& migrations, int target) {
  int latest = migrations.empty() ? 0 : migrations.back().version;
  if (target < 0) target = latest;
  MR_ASSIGN_OR_RETURN(int current, SchemaVersion(db));
  if (current > latest)
    return Status::FailedPrecondition("database schema version " + std::to_string(current) +
                                      " is newer than this modelreg binary supports (" + std::to_string(latest) +
                                      "); it was written by a newer modelreg: upgrade the binary, or restore a backup");
  for (const auto& m : migrations) {
    if (m.version <= current || m.version > target) continue;
    try {
      SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
      // Re-check inside the write lock: another process may have migrated.
      SQLite::Statement q(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
      q.executeStep();
      if (q.getColumn(0).getInt() >= m.version) continue;
      db.exec(m.sql);
      SQLite::Statement del(db, "DELETE FROM schema_version");
      del.exec();
      SQLite::Statement ins(db, "INSERT INTO schema_version (version) VALUES (?)");
      ins.bind(1, m.version);
      ins.exec();
      tx.commit();
    } catch (const std::exception& e) {
      return Status::Internal(std::string("migration ") + m.name + " failed: " + e.what());
    }
  }
  return Status::OK();
}

}  // namespace modelreg
