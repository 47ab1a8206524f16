// Database: the registry's SQLite file (WAL mode) and the one way to use it,
// Transact(). Each use case runs inside exactly one Transact call.
//
// Thread-safe: Transact may be called from many threads; each call borrows a
// pooled connection. Write transactions use BEGIN IMMEDIATE so concurrent
// writers queue on the busy timeout instead of failing half-way. The body's
// Status decides: OK commits, anything else rolls back. SQLite exceptions
// thrown inside the body are caught here and become a Status.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace SQLite {
class Database;
}

namespace modelreg {

using Tx = SQLite::Database;  // what a transaction body works with

enum class TxMode { kRead, kWrite };

class Database {
 public:
  struct Options {
    int busy_timeout_ms = 10000;
    bool migrate = true;  // apply pending migrations on open
  };

  // Opens (creating if needed) and migrates. FailedPrecondition if the
  // database was written by a newer binary.
  static Result<std::unique_ptr<Database>> Open(const std::string& path, Options options);
  static Result<std::unique_ptr<Database>> Open(const std::string& path) { return Open(path, Options{}); }
  ~Database();

  Status Transact(TxMode mode, const std::function<Status(Tx&)>& body);

  const std::string& path() const { return path_; }

  // Copies a consistent snapshot of the live database to `dest_path` with
  // SQLite's online backup API (writers may go on meanwhile).
  Status BackupTo(const std::string& dest_path);

 private:
  Database(std::string path, Options options);
  Result<std::unique_ptr<SQLite::Database>> NewConnection();
  std::unique_ptr<SQLite::Database> Acquire(Status* st);
  void Release(std::unique_ptr<SQLite::Database> c);

  std::string path_;
  Options options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<SQLite::Database>> idle_;  // guarded by mu_
  // Write transactions of this process queue here instead of on SQLite's
  // busy handler, which sleeps in steps of up to 100 ms and would put those
  // sleeps into the tail latency of every write under concurrency.
  std::mutex write_mu_;
};

// Maps a caught SQLite/standard exception to a Status (busy -> Unavailable,
// full disk or failed write -> Unavailable, constraint -> AlreadyExists).
Status StatusFromException(const std::exception& e);

}  // namespace modelreg
