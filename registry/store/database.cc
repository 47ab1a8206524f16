#include "store/database.h"

#include "store/migrations.h"
#include "store/pg_backend.h"
#include "store/sqlite_backend.h"

namespace modelreg {

Status StatusFromException(const std::exception& e) {
  if (auto* se = dynamic_cast<const SqlError*>(&e)) return StatusFromSqlError(*se);
  return Status::Internal(std::string("database: ") + e.what());
}

bool Database::IsPostgresUrl(const std::string& target) {
  return target.rfind("postgresql://", 0) == 0 || target.rfind("postgres://", 0) == 0;
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& target, Options options) {
  const bool pg = IsPostgresUrl(target);
  auto opened = pg ? OpenPostgresDatabase(target, options) : OpenSqliteDatabase(target, options);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<Database> db = std::move(opened).value();
  const auto& migrations = EmbeddedMigrations(db->dialect());
  Status st;
  if (options.migrate) {
    st = Migrate(*db, migrations);
  } else {
    auto v = SchemaVersion(*db);
    st = v.ok() ? CheckNotNewer(*v, migrations.back().version) : v.status();
  }
  if (!st.ok()) return st.WithContext("opening " + db->path());
  return db;
}

}  // namespace modelreg
