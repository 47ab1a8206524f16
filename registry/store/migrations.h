// Schema migrations embedded in the binary, one numbered set per dialect:
// migrations/NNNN_name.sql (SQLite) and migrations/postgresql/NNNN_name.sql.
// A version number names the same logical schema in both; the PostgreSQL set
// starts at the version it was introduced with, as one file holding the
// whole schema of that version (docs/operations.md "Upgrading").
//
// Migrate() applies every pending migration in order, each in its own write
// transaction together with its schema_version bump (write transactions are
// serialized across processes, on PostgreSQL by an advisory lock, so that
// replicas starting together migrate exactly once), and refuses a database
// whose schema is newer than this binary knows.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "store/sql.h"

namespace modelreg {

class Database;

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// All migrations compiled into this binary for `dialect`, ascending.
const std::vector<Migration>& EmbeddedMigrations(SqlDialect dialect = SqlDialect::kSqlite);

// Current schema version (0 for a new database).
Result<int> SchemaVersion(Database& db);

// Applies `migrations` with version > the current one, up to `target`
// (default: all). FailedPrecondition if the database is newer.
Status Migrate(Database& db, const std::vector<Migration>& migrations, int target = -1);

// FailedPrecondition naming both versions if `current` > `latest`.
Status CheckNotNewer(int current, int latest);

}  // namespace modelreg
