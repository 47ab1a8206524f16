// SQLite behind store/sql.h and store/database.h: one file in WAL mode, a
// pool of connections, write transactions BEGIN IMMEDIATE and queued on a
// process-wide mutex. SQLiteCpp's exceptions become SqlErrors here.
#include "store/sqlite_backend.h"

#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <chrono>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "store/migrations.h"

namespace modelreg {
namespace {

SqlError ToSqlError(const SQLite::Exception& e) {
  // A full disk is the server's trouble, as for blobs: 503, retry later.
  // SQLite reports ENOSPC as SQLITE_FULL; a write that fails otherwise
  // (EFBIG, EDQUOT, EIO) as an I/O error, whose errno it does not keep.
  const int ext = e.getExtendedErrorCode();
  if (ext == SQLITE_IOERR_WRITE || ext == SQLITE_IOERR_FSYNC || ext == SQLITE_IOERR_TRUNCATE ||
      ext == SQLITE_IOERR_SHMSIZE || ext == SQLITE_IOERR_DIR_FSYNC)
    return SqlError(SqlError::Kind::kStorage, e.what());
  switch (e.getErrorCode()) {
    case SQLITE_FULL:
      return SqlError(SqlError::Kind::kStorage, std::string(e.what()) + " (storage full)");
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return SqlError(SqlError::Kind::kBusy, e.what());
    case SQLITE_CONSTRAINT:
      return SqlError(SqlError::Kind::kConstraint, e.what());
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return SqlError(SqlError::Kind::kCorrupt, e.what());
    default:
      return SqlError(SqlError::Kind::kOther, e.what());
  }
}

// Runs `fn`, turning SQLiteCpp's exceptions into SqlErrors.
template <typename F>
auto Guard(F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const SQLite::Exception& e) { throw ToSqlError(e); }
}

class SqliteStatement : public SqlStatementImpl {
 public:
  SqliteStatement(SQLite::Database& db, const std::string& sql) : q_(Guard([&] { return Make(db, sql); })) {}
  void BindNull(int i) override {
    Guard([&] { q_->bind(i); });
  }
  void BindInt64(int i, int64_t v) override {
    Guard([&] { q_->bind(i, v); });
  }
  void BindDouble(int i, double v) override {
    Guard([&] { q_->bind(i, v); });
  }
  void BindText(int i, std::string_view v) override {
    Guard([&] { q_->bind(i, std::string(v)); });
  }
  void BindTextNoCopy(int i, const std::string& v) override {
    Guard([&] { q_->bindNoCopy(i, v); });
  }
  void BindBlob(int i, const void* data, size_t size) override {
    Guard([&] { q_->bind(i, data, static_cast<int>(size)); });
  }
  bool Step() override {
    return Guard([&] { return q_->executeStep(); });
  }
  int ColumnCount() override { return q_->getColumnCount(); }
  int Exec() override {
    return Guard([&] { return q_->exec(); });
  }
  void Reset() override {
    Guard([&] { q_->reset(); });
  }
  SqlColumn Column(int i) override {
    SQLite::Column c = Guard([&] { return q_->getColumn(i); });
    switch (c.getType()) {
      case SQLITE_NULL:
        return SqlColumn::Null();
      case SQLITE_INTEGER:
        return SqlColumn::Int(c.getInt64());
      case SQLITE_FLOAT:
        return SqlColumn::Real(c.getDouble());
      case SQLITE_BLOB:
        return SqlColumn::Blob(std::string_view(static_cast<const char*>(c.getBlob()), c.getBytes()));
      default: {
        const char* text = c.getText();
        return SqlColumn::Text(std::string_view(text, c.getBytes()));
      }
    }
  }

 private:
  static std::unique_ptr<SQLite::Statement> Make(SQLite::Database& db, const std::string& sql) {
    return std::make_unique<SQLite::Statement>(db, sql);
  }
  std::unique_ptr<SQLite::Statement> q_;
};

class SqliteTx : public Tx {
 public:
  explicit SqliteTx(SQLite::Database& db) : db_(db) {}
  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  void exec(const std::string& sql) override {
    Guard([&] { db_.exec(sql); });
  }
  std::unique_ptr<SqlStatementImpl> Prepare(const std::string& sql) override {
    return std::make_unique<SqliteStatement>(db_, sql);
  }
  // Kept until the commit, then given to this process's listeners
  // (SqliteDatabase::Listen): no other process can be a replica.
  void Notify(const std::string& channel, const std::string& payload) override {
    notes_.emplace_back(channel, payload);
  }
  std::vector<std::pair<std::string, std::string>> notes_;

 private:
  SQLite::Database& db_;
};

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
      if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || std::chrono::steady_clock::now() >= deadline)
        throw ToSqlError(e);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

class SqliteDatabase : public Database {
 public:
  SqliteDatabase(std::string path, Options options) : path_(std::move(path)), options_(std::move(options)) {}

  Status Init() {
    MR_ASSIGN_OR_RETURN(auto conn, NewConnection());
    try {
      EnableWal(*conn, options_.busy_timeout_ms);
    } catch (const std::exception& e) { return StatusFromException(e).WithContext("opening " + path_); }
    Release(std::move(conn));
    return Status::OK();
  }

  Status Transact(TxMode mode, const std::function<Status(Tx&)>& body) override {
    std::unique_lock<std::mutex> writer(write_mu_, std::defer_lock);
    if (mode != TxMode::kRead) writer.lock();
    Status st;
    auto conn = Acquire(&st);
    if (!conn) return st;
    try {
      Guard([&] { conn->exec(mode != TxMode::kRead ? "BEGIN IMMEDIATE" : "BEGIN"); });
    } catch (const std::exception& e) {
      Release(std::move(conn));
      return StatusFromException(e);
    }
    std::vector<std::pair<std::string, std::string>> notes;
    try {
      SqliteTx tx(*conn);
      st = body(tx);
      notes.swap(tx.notes_);
    } catch (const std::exception& e) { st = StatusFromException(e); }
    try {
      Guard([&] { conn->exec(st.ok() ? "COMMIT" : "ROLLBACK"); });
    } catch (const std::exception& e) {
      Status cs = StatusFromException(e);
      try {
        conn->exec("ROLLBACK");
      } catch (...) {}
      // A connection in an unknown state is dropped, not pooled.
      return st.ok() ? cs : st;
    }
    Release(std::move(conn));
    if (writer.owns_lock()) writer.unlock();
    if (st.ok()) Deliver(notes);
    return st;
  }

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  const std::string& path() const override { return path_; }

  Status BackupTo(const std::string& dest_path) override {
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
    } catch (const SQLite::Exception& e) {
      st = StatusFromSqlError(ToSqlError(e)).WithContext("backup to " + dest_path);
    } catch (const std::exception& e) { st = StatusFromException(e).WithContext("backup to " + dest_path); }
    Release(std::move(conn));
    return st;
  }

  Status Listen(const std::vector<std::string>& channels, NotifyFn fn) override {
    std::lock_guard<std::mutex> l(listen_mu_);
    listeners_.push_back({channels, std::move(fn)});
    return Status::OK();
  }

 private:
  Result<std::unique_ptr<SQLite::Database>> NewConnection() {
    try {
      auto c = std::make_unique<SQLite::Database>(
          path_, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX);
      c->setBusyTimeout(options_.busy_timeout_ms);
      c->exec("PRAGMA foreign_keys=ON");
      // WAL + NORMAL is durable across process crashes; FULL adds power-loss
      // durability of the last transaction at one fsync per commit.
      c->exec("PRAGMA synchronous=FULL");
      return c;
    } catch (const SQLite::Exception& e) {
      return StatusFromSqlError(ToSqlError(e)).WithContext("opening database " + path_);
    } catch (const std::exception& e) { return StatusFromException(e).WithContext("opening database " + path_); }
  }

  std::unique_ptr<SQLite::Database> Acquire(Status* st) {
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

  void Release(std::unique_ptr<SQLite::Database> c) {
    std::lock_guard<std::mutex> l(mu_);
    if (idle_.size() < 16) idle_.push_back(std::move(c));
  }

  std::string path_;
  Options options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<SQLite::Database>> idle_;  // guarded by mu_
  // Write transactions of this process queue here instead of on SQLite's
  // busy handler, which sleeps in steps of up to 100 ms and would put those
  // sleeps into the tail latency of every write under concurrency.
  std::mutex write_mu_;

  // Listen's callbacks, called after each commit on the committing thread.
  void Deliver(const std::vector<std::pair<std::string, std::string>>& notes) {
    if (notes.empty()) return;
    std::vector<std::pair<NotifyFn*, const std::pair<std::string, std::string>*>> calls;
    {
      std::lock_guard<std::mutex> l(listen_mu_);
      for (auto& listener : listeners_)
        for (const auto& n : notes)
          for (const auto& c : listener.channels)
            if (c == n.first) calls.emplace_back(&listener.fn, &n);
    }
    // Listeners are only added, never removed: the pointers stay valid.
    for (auto& [fn, n] : calls) (*fn)(n->first, n->second);
  }
  struct Listener {
    std::vector<std::string> channels;
    NotifyFn fn;
  };
  std::mutex listen_mu_;
  std::deque<Listener> listeners_;  // guarded by listen_mu_; a deque keeps addresses
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqliteDatabase(const std::string& path, const Database::Options& options) {
  auto db = std::make_unique<SqliteDatabase>(path, options);
  MR_RETURN_IF_ERROR(db->Init());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace modelreg
