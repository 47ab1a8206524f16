// Database: the registry's metadata store and the one way to use it,
// Transact(). Each use case runs inside exactly one Transact call.
//
// Two engines behind one interface (store/sql.h):
//   - SQLite, a file under --data (WAL mode), the embedded default;
//   - PostgreSQL (`postgresql://USER@HOST:PORT/DB`), shared by replicas.
//
// Isolation (docs/operations.md "PostgreSQL"): a write transaction is
// serialized against every other write transaction of every process on the
// same database — SQLite's BEGIN IMMEDIATE; on PostgreSQL a transaction-level
// advisory lock taken first, then READ COMMITTED, so each statement sees
// every write committed before the lock was granted. Use cases therefore
// read-check-write without races (one production version, one audit chain,
// monotonic release seq). A read transaction sees one snapshot (SQLite
// deferred BEGIN; PostgreSQL REPEATABLE READ READ ONLY).
//
// Thread-safe: Transact may be called from many threads; each call borrows a
// pooled connection. The body's Status decides: OK commits, anything else
// rolls back. SqlErrors thrown inside the body are caught here and become a
// Status (StatusFromSqlError); a lost PostgreSQL connection is Unavailable
// and the next call reconnects.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"  // NowMs, for the transaction bodies of every use case
#include "core/status.h"
#include "store/sql.h"

namespace modelreg {

enum class TxMode {
  kRead,   // one snapshot, no writes
  kWrite,  // serialized against every other kWrite of every process
  // Only inserts whose conflicts the database resolves itself (ON CONFLICT
  // DO NOTHING on a unique key) and reads nothing it decides on: not
  // serialized against kWrite on PostgreSQL (so replicas ingest decisions
  // side by side); the same as kWrite on SQLite, which has one writer.
  kAppend,
};

class Database {
 public:
  struct Options {
    int busy_timeout_ms = 10000;
    bool migrate = true;        // apply pending migrations on open
    std::string password_file;  // PostgreSQL: read the password from this file
  };

  // `target`: a file path (SQLite) or a postgresql:// URL. Opens (creating
  // an SQLite file if needed) and migrates. FailedPrecondition if the
  // database was written by a newer binary.
  static Result<std::unique_ptr<Database>> Open(const std::string& target, Options options);
  static Result<std::unique_ptr<Database>> Open(const std::string& target) { return Open(target, Options{}); }
  static bool IsPostgresUrl(const std::string& target);

  virtual ~Database() = default;

  virtual Status Transact(TxMode mode, const std::function<Status(Tx&)>& body) = 0;
  virtual SqlDialect dialect() const = 0;
  // The SQLite file, or the URL (which never holds a password).
  virtual const std::string& path() const = 0;

  // SQLite: copies a consistent snapshot of the live database to
  // `dest_path` (writers may go on meanwhile). PostgreSQL: Unimplemented
  // (use pg_dump; docs/operations.md).
  virtual Status BackupTo(const std::string& dest_path) = 0;

  // Calls `fn(channel, payload)` for each notification sent on one of
  // `channels` by a committed transaction of any process (Tx::Notify), on a
  // thread of the database's own, until the Database is destroyed. After a
  // lost connection is re-established fn("", "") is called once: anything
  // may have changed meanwhile. SQLite, whose only writer is this process:
  // delivered after the commit, on the committing thread (keep fn short).
  using NotifyFn = std::function<void(const std::string& channel, const std::string& payload)>;
  virtual Status Listen(const std::vector<std::string>& channels, NotifyFn fn) = 0;
};

// Maps an exception caught around store code to a Status (SqlError by its
// kind, anything else Internal).
Status StatusFromException(const std::exception& e);

}  // namespace modelreg
