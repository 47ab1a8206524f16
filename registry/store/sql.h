// The one SQL interface of the store layer, with two implementations:
// SQLite (store/sqlite_backend.cc, the embedded default) and PostgreSQL
// through libpq (store/pg_backend.cc). Store functions are written once
// against it; the service layer never sees which engine it has.
//
// A Tx is one connection inside one transaction (Database::Transact opens
// and ends it). Statements use `?` placeholders, numbered from 1; the
// PostgreSQL side rewrites them to $1, $2, ... Write SQL both engines
// accept: `INSERT ... ON CONFLICT DO NOTHING` (not INSERT OR IGNORE),
// `RETURNING id` (not last_insert_rowid), COALESCE, no SQLite-only
// functions. Where the dialects must differ, branch on Tx::dialect().
//
// Errors are thrown as SqlError (inside the store layer only: Transact
// catches them and returns a Status, see StatusFromSqlError).
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/status.h"

namespace modelreg {

enum class SqlDialect { kSqlite, kPostgres };

class SqlError : public std::runtime_error {
 public:
  enum class Kind {
    kOther,
    kConstraint,     // unique / foreign key / check violated
    kBusy,           // lock not granted in time; retry later
    kStorage,        // disk full, write or fsync failed
    kCorrupt,        // the database file is damaged
    kConnection,     // the server went away or cannot be reached
    kSerialization,  // a concurrent transaction won; retry
    kBadValue,       // a value the engine cannot take (text that is not UTF-8 on PostgreSQL)
  };
  SqlError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

// Busy, connection and serialization failures are Unavailable (503 with
// Retry-After), a constraint AlreadyExists, corruption DataLoss.
Status StatusFromSqlError(const SqlError& e);

// One value of the current row: what SQLite stored (integer, real, text or
// blob), or PostgreSQL's text form, parsed on demand ('t'/'f' for booleans).
// Text views stay valid until the statement steps or resets.
class SqlColumn {
 public:
  enum class Type { kNull, kInt, kReal, kText, kBlob };
  static SqlColumn Null() { return SqlColumn(Type::kNull, 0, 0, {}); }
  static SqlColumn Int(int64_t v) { return SqlColumn(Type::kInt, v, 0, {}); }
  static SqlColumn Real(double v) { return SqlColumn(Type::kReal, 0, v, {}); }
  static SqlColumn Text(std::string_view v) { return SqlColumn(Type::kText, 0, 0, v); }
  static SqlColumn Blob(std::string_view v) { return SqlColumn(Type::kBlob, 0, 0, v); }
  Type type() const { return type_; }

  bool isNull() const { return type_ == Type::kNull; }
  int64_t getInt64() const;
  int getInt() const { return static_cast<int>(getInt64()); }
  double getDouble() const;
  std::string getString() const;
  std::string getBlob() const { return getString(); }

 private:
  SqlColumn(Type t, int64_t i, double d, std::string_view s) : type_(t), i_(i), d_(d), s_(s) {}
  Type type_;
  int64_t i_;
  double d_;
  std::string_view s_;
};

class SqlStatementImpl {
 public:
  virtual ~SqlStatementImpl() = default;
  virtual void BindNull(int i) = 0;
  virtual void BindInt64(int i, int64_t v) = 0;
  virtual void BindDouble(int i, double v) = 0;
  virtual void BindText(int i, std::string_view v) = 0;
  // `v` is read in place until the statement's next Exec, Step or Reset
  // (SQLite: no copy); by default the same as BindText.
  virtual void BindTextNoCopy(int i, const std::string& v) { BindText(i, v); }
  virtual void BindBlob(int i, const void* data, size_t size) = 0;
  virtual bool Step() = 0;  // runs the statement on the first call; true while a row is current
  virtual int Exec() = 0;   // runs a statement that returns no rows; rows changed
  virtual void Reset() = 0;
  virtual SqlColumn Column(int i) = 0;
  virtual int ColumnCount() = 0;  // of a statement that has run
};

class Tx {
 public:
  virtual ~Tx() = default;
  virtual SqlDialect dialect() const = 0;
  // Runs SQL without parameters (several statements allowed).
  virtual void exec(const std::string& sql) = 0;
  virtual std::unique_ptr<SqlStatementImpl> Prepare(const std::string& sql) = 0;
  // Announces `payload` on `channel` to every replica when this
  // transaction commits (PostgreSQL NOTIFY; on SQLite, whose only writer
  // is this process, to this process's listeners: Database::Listen).
  virtual void Notify(const std::string& channel, const std::string& payload) = 0;
};

// A prepared statement: bind, then Step() through rows or Exec().
class Statement {
 public:
  Statement(Tx& tx, const std::string& sql) : impl_(tx.Prepare(sql)) {}
  void bind(int i) { impl_->BindNull(i); }
  void bind(int i, int v) { impl_->BindInt64(i, v); }
  void bind(int i, long v) { impl_->BindInt64(i, v); }
  void bind(int i, long long v) { impl_->BindInt64(i, v); }
  void bind(int i, unsigned v) { impl_->BindInt64(i, v); }
  void bind(int i, unsigned long v) { impl_->BindInt64(i, static_cast<int64_t>(v)); }
  void bind(int i, unsigned long long v) { impl_->BindInt64(i, static_cast<int64_t>(v)); }
  void bind(int i, bool v) { impl_->BindInt64(i, v ? 1 : 0); }
  void bind(int i, double v) { impl_->BindDouble(i, v); }
  void bind(int i, const std::string& v) { impl_->BindText(i, v); }
  void bind(int i, const char* v) { impl_->BindText(i, v); }
  void bind(int i, std::string_view v) { impl_->BindText(i, v); }
  // Bulk inserts: `v` must stay alive and unchanged until the next exec(),
  // executeStep() or reset() (SQLite reads it in place, no copy).
  void bind_no_copy(int i, const std::string& v) { impl_->BindTextNoCopy(i, v); }
  void bind(int i, const void* data, int size) { impl_->BindBlob(i, data, static_cast<size_t>(size)); }
  bool executeStep() { return impl_->Step(); }
  int exec() { return impl_->Exec(); }
  void reset() { impl_->Reset(); }
  SqlColumn getColumn(int i) { return impl_->Column(i); }
  int getColumnCount() { return impl_->ColumnCount(); }
  // Binds a column read from another statement as the same type.
  void bind(int i, const SqlColumn& c);

 private:
  std::unique_ptr<SqlStatementImpl> impl_;
};

// A PostgreSQL array literal ('{"a",NULL,"b\\"c"}'), to bind as text and
// cast in SQL (`?::text[]`, `?::bigint[]`): a batch as one parameter.
class PgArrayBuilder {
 public:
  void Add(std::string_view element);
  void AddNull();
  const std::string& Finish();

 private:
  std::string out_ = "{";
};

// The first column of the first row of `sql` as an integer (0 if no row or NULL).
int64_t QueryInt64(Tx& tx, const std::string& sql);

}  // namespace modelreg
