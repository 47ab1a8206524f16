#include "store/database.h"

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <chrono>
#include <thread>

#include "store/migrations.h"

namespace modelreg {

Status StatusFromException(const std::exception& e) {
  if (auto* se = dynamic_cast<const SQLite::Exception*>(&e)) {
    // A full disk is the server's trouble, as for blobs (Status::FromErrno):
    // 503, retry later. SQLite reports ENOSPC as SQLITE_FULL; a write that
    // fails otherwise (EFBIG, EDQUOT, EIO) as an I/O error, whose errno it
    // does not keep reliably, so both are said.
    const int ext = se->getExtendedErrorCode();
    if (ext == SQLITE_IOERR_WRITE || ext == SQLITE_IOERR_FSYNC || ext == SQLITE_IOERR_TRUNCATE ||
        ext == SQLITE_IOERR_SHMSIZE || ext == SQLITE_IOERR_DIR_FSYNC)
      return Status::Unavailable(std::string("database: ") + e.what() +
                                 " (cannot write: storage full, over a quota, or failing)");
    switch (se->getErrorCode()) {
      case SQLITE_FULL:
        return Status::Unavailable(std::string("database: ") + e.what() + " (storage full)");
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        return Status::Unavailable(std::string("database busy: ") + e.what());
      case SQLITE_CONSTRAINT:
        return Status::AlreadyExists(std::string("constraint: ") + e.what());
      case SQLITE_CORRUPT:
      case SQLITE_NOTADB:
        return Status::DataLoss(std::string("database corrupt: ") + e.what());
      default:
        break;
    }
  }
  return Status::Internal(std::string("database: ") + e.what());
}

namespace {

// Switching a new database file to WAL takes an exclusive lock, and SQLite
// answers SQLITE_BUSY at once instead of calling the busy handler when
// several connections open a fresh file together (say `serve` and
// `token create --data`). Retry until the busy timeout, like any other lock.
void EnableWal(SQLite::Database& conn, int busy_timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  for (;;) {
    try {
      conn.exec("PRAGMA journal_mode=WAL");
      return;
    } catch (const SQLite::Exception& e) {
      const int code = e.getErrorCode();
      if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || std::chrono::steady_clock::now() >= deadline) throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, Options options) {
  std::unique_ptr<Database> db(new Database(path, options));
  MR_ASSIGN_OR_RETURN(auto conn, db->NewConnection());
  try {
    EnableWal(*conn, options.busy_timeout_ms);
    if (options.migrate) {
      MR_RETURN_IF_ERROR(Migrate(*conn, EmbeddedMigrations()));
    } else {
      MR_ASSIGN_OR_RETURN(int v, SchemaVersion(*conn));
      int latest = EmbeddedMigrations().back().version;
      if (v > latest)
        return Status::FailedPrecondition("database schema version " + std::to_string(v) +
                                          " is newer than this modelreg binary supports (" + std::to_string(latest) +
                                          ")");
    }
  } catch (const std::exception& e) { return StatusFromException(e).WithContext("opening " + path); }
  db->Release(std::move(conn));
  return db;
}

Database::Database(std::string path, Options options) : path_(std::move(path)), options_(options) {}

Database::~Database() = default;

Result<std::unique_ptr<SQLite::Database>> Database::NewConnection() {
  try {
    auto c = std::make_unique<SQLite::Database>(path_,
                                                SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX);
    c->setBusyTimeout(options_.busy_timeout_ms);
    c->exec("PRAGMA foreign_keys=ON");
    // WAL + NORMAL is durable across process crashes; FULL adds power-loss
    // durability of the last transaction at one fsync per commit.
    c->exec("PRAGMA synchronous=FULL");
    return c;
  } catch (const std::exception& e) { return StatusFromException(e).WithContext("opening database " + path_); }
}

std::unique_ptr<SQLite::Database> Database::Acquire(Status* st) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!idle_.empty()) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
  }
  auto c = NewConnection();
  if (!c.ok()) {
    *st = c.status();
    return nullptr;
  }
  return std::move(c).value();
}

void Database::Release(std::unique_ptr<SQLite::Database> c) {
  std::lock_guard<std::mutex> l(mu_);
  if (idle_.size() < 16) idle_.push_back(std::move(c));
}

Status Database::Transact(TxMode mode, const std::function<Status(Tx&)>& body) {
  std::unique_lock<std::mutex> writer(write_mu_, std::defer_lock);
  if (mode == TxMode::kWrite) writer.lock();
  Status st;
  auto conn = Acquire(&st);
  if (!conn) return st;
  try {
    conn->exec(mode == TxMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN");
  } catch (const std::exception& e) {
    Release(std::move(conn));
    return StatusFromException(e);
  }
  try {
    st = body(*conn);
  } catch (const std::exception& e) { st = StatusFromException(e); }
  try {
    conn->exec(st.ok() ? "COMMIT" : "ROLLBACK");
  } catch (const std::exception& e) {
    Status cs = StatusFromException(e);
    try {
      conn->exec("ROLLBACK");
    } catch (...) {}
    // A connection in an unknown state is dropped, not pooled.
    return st.ok() ? cs : st;
  }
  Release(std::move(conn));
  return st;
}

}  // namespace modelreg

namespace modelreg {

Status Database::BackupTo(const std::string& dest_path) {
  Status st;
  auto conn = Acquire(&st);
  if (!conn) return st;
  try {
    SQLite::Database dest(dest_path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    SQLite::Backup backup(dest, *conn);
    // Steps of 1024 pages: a backup restarted by a concurrent write
    // continues until it completes on one consistent snapshot.
    int rc;
    do { rc = backup.executeStep(1024); } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    if (rc != SQLITE_DONE) st = Status::Internal("backup failed with SQLite code " + std::to_string(rc));
  } catch (const std::exception& e) { st = StatusFromException(e).WithContext("backup to " + dest_path); }
  Release(std::move(conn));
  return st;
}

}  // namespace modelreg
