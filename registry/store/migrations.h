// Schema migrations embedded in the binary from migrations/NNNN_name.sql.
//
// Migrate() applies every pending migration in order, each in its own
// IMMEDIATE transaction together with its schema_version bump, and refuses a
// database whose schema is newer than this binary knows.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace SQLite {
class Database;
}

namespace modelreg {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// All migrations compiled into this binary, ascending by version.
const std::vector<Migration>& EmbeddedMigrations();

// Current schema version of `db` (0 for a new database).
Result<int> SchemaVersion(SQLite::Database& db);

// Applies `migrations` with version > the current one, up to `target`
// (default: all). FailedPrecondition if the database is newer.
Status Migrate(SQLite::Database& db, const std::vector<Migration>& migrations, int target = -1);

}  // namespace modelreg
