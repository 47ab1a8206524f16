// PostgreSQL behind store/sql.h and store/database.h, on libpq.
//
// Statements are prepared once per connection and parameter types (`?`
// placeholders rewritten to $n; integers typed int8, reals float8, text
// text, blobs bytea in binary; text results), then run with PQexecPrepared:
// a repeated statement is neither parsed nor rewritten again. Write
// transactions take one transaction-level advisory lock (kWriteLockKey)
// before anything else, so that writers of every replica are serialized as
// SQLite's are (store/database.h); append transactions do not. NOTIFY rides
// on the same transaction and is delivered at commit.
#include "store/pg_backend.h"

#include <libpq-fe.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/file_util.h"

namespace modelreg {
namespace {

// pg_advisory_xact_lock key of the one write lock ("mreg" in ASCII).
constexpr int64_t kWriteLockKey = 0x6d726567;
constexpr unsigned kOidBytea = 17, kOidInt8 = 20, kOidText = 25, kOidFloat8 = 701;

SqlError::Kind KindOfSqlState(const char* state, PGconn* conn) {
  if (!state) return PQstatus(conn) == CONNECTION_BAD ? SqlError::Kind::kConnection : SqlError::Kind::kOther;
  const std::string s(state);
  const std::string cls = s.substr(0, 2);
  if (cls == "08" || s == "57P01" || s == "57P02" || s == "57P03") return SqlError::Kind::kConnection;
  if (s == "40001" || s == "40P01") return SqlError::Kind::kSerialization;
  if (cls == "23") return SqlError::Kind::kConstraint;
  if (cls == "22") return SqlError::Kind::kBadValue;
  if (cls == "53" || cls == "58") return SqlError::Kind::kStorage;
  if (s == "55P03" || s == "57014") return SqlError::Kind::kBusy;
  if (s == "XX001" || s == "XX002") return SqlError::Kind::kCorrupt;
  return SqlError::Kind::kOther;
}

std::string TrimMessage(const char* m) {
  std::string s = m ? m : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Owns a PGresult; throws SqlError if it is not a success.
struct PgResult {
  PGresult* r = nullptr;
  PgResult() = default;
  PgResult(PGconn* conn, PGresult* res) : r(res) {
    const ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return;
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    std::string msg = TrimMessage(r ? PQresultErrorMessage(r) : PQerrorMessage(conn));
    if (msg.empty()) msg = TrimMessage(PQerrorMessage(conn));
    const SqlError::Kind kind = KindOfSqlState(state, conn);
    if (r) PQclear(r);
    r = nullptr;
    throw SqlError(kind, "PostgreSQL: " + msg);
  }
  PgResult(PgResult&& o) noexcept : r(o.r) { o.r = nullptr; }
  PgResult& operator=(PgResult&& o) noexcept {
    if (this != &o) {
      if (r) PQclear(r);
      r = o.r;
      o.r = nullptr;
    }
    return *this;
  }
  ~PgResult() {
    if (r) PQclear(r);
  }
};

// `?` -> `$n`, outside quoted literals, identifiers and comments.
std::string NumberPlaceholders(const std::string& sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote) {
      out += c;
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      const size_t end = sql.find('\n', i);
      const size_t stop = end == std::string::npos ? sql.size() : end;
      out.append(sql, i, stop - i);
      i = stop - 1;
    } else if (c == '?') {
      out += '$' + std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One server connection and the statements prepared on it, by SQL text and
// parameter types (prepared statements live as long as the connection).
struct PgConnection {
  static constexpr size_t kMaxPrepared = 256;  // beyond this, statements run unprepared
  PGconn* conn = nullptr;
  std::unordered_map<std::string, std::string> prepared;  // key -> statement name
  std::function<void()> on_close;                         // a pooled connection: the pool counts it
  ~PgConnection() {
    if (conn) PQfinish(conn);
    if (on_close) on_close();
  }
};

class PgStatement : public SqlStatementImpl {
 public:
  PgStatement(PgConnection& c, const std::string& sql) : c_(c), conn_(c.conn), sql_(sql) {}

  void BindNull(int i) override { Set(i, std::nullopt, 0, 0); }
  void BindInt64(int i, int64_t v) override { Set(i, std::to_string(v), kOidInt8, 0); }
  void BindDouble(int i, double v) override {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    Set(i, std::string(buf), kOidFloat8, 0);
  }
  void BindText(int i, std::string_view v) override {
    // Text parameters travel NUL-terminated: a NUL would cut the value short.
    if (v.find('\0') != std::string_view::npos)
      throw SqlError(SqlError::Kind::kBadValue, "PostgreSQL text cannot hold a NUL character");
    Set(i, std::string(v), kOidText, 0);
  }
  void BindBlob(int i, const void* data, size_t size) override {
    Set(i, std::string(static_cast<const char*>(data), size), kOidBytea, 1);
  }

  bool Step() override {
    if (!res_.r) {
      Run();
      row_ = -1;
    }
    return ++row_ < PQntuples(res_.r);
  }
  int Exec() override {
    Run();
    const char* n = PQcmdTuples(res_.r);
    return n && *n ? std::atoi(n) : 0;
  }
  void Reset() override {
    res_ = PgResult();
    row_ = -1;
  }
  SqlColumn Column(int i) override {
    if (!res_.r || row_ < 0 || row_ >= PQntuples(res_.r) || i < 0 || i >= PQnfields(res_.r))
      throw SqlError(SqlError::Kind::kOther, "column " + std::to_string(i) + " read outside a row");
    if (PQgetisnull(res_.r, row_, i)) return SqlColumn::Null();
    const char* v = PQgetvalue(res_.r, row_, i);
    const int len = PQgetlength(res_.r, row_, i);
    if (PQftype(res_.r, i) != kOidBytea) return SqlColumn::Text(std::string_view(v, len));
    return DecodeBytea(i, v, len);
  }
  int ColumnCount() override { return res_.r ? PQnfields(res_.r) : 0; }

 private:
  SqlColumn DecodeBytea(int i, const char* v, int len) {
    // bytea in text form: \x followed by hex digits.
    if (decoded_.size() <= static_cast<size_t>(i)) decoded_.resize(i + 1);
    std::string& out = decoded_[i];
    out.clear();
    if (len < 2 || v[0] != '\\' || v[1] != 'x') throw SqlError(SqlError::Kind::kOther, "bytea column not in hex form");
    for (int k = 2; k + 1 < len; k += 2) out += static_cast<char>(HexValue(v[k]) * 16 + HexValue(v[k + 1]));
    return SqlColumn::Blob(out);
  }

  void Set(int i, std::optional<std::string> v, unsigned oid, int format) {
    if (i < 1) throw SqlError(SqlError::Kind::kOther, "parameter index " + std::to_string(i));
    const size_t k = static_cast<size_t>(i - 1);
    if (values_.size() <= k) {
      values_.resize(k + 1);
      oids_.resize(k + 1, 0);
      formats_.resize(k + 1, 0);
    }
    values_[k] = std::move(v);
    oids_[k] = oid;
    formats_[k] = format;
  }

  void Run() {
    const int n = static_cast<int>(values_.size());
    std::vector<const char*> ptrs(n);
    std::vector<int> lengths(n);
    for (int k = 0; k < n; ++k) {
      ptrs[k] = values_[k] ? values_[k]->data() : nullptr;
      lengths[k] = values_[k] ? static_cast<int>(values_[k]->size()) : 0;
    }
    res_ = PgResult();
    std::string key = sql_;
    key.push_back('\0');
    key.append(reinterpret_cast<const char*>(oids_.data()), oids_.size() * sizeof(unsigned));
    auto it = c_.prepared.find(key);
    if (it == c_.prepared.end() && c_.prepared.size() < PgConnection::kMaxPrepared) {
      const std::string name = "s" + std::to_string(c_.prepared.size());
      PgResult(conn_, PQprepare(conn_, name.c_str(), NumberPlaceholders(sql_).c_str(), n, oids_.data()));
      it = c_.prepared.emplace(std::move(key), name).first;
    }
    if (it != c_.prepared.end()) {
      res_ = PgResult(conn_,
                      PQexecPrepared(conn_, it->second.c_str(), n, ptrs.data(), lengths.data(), formats_.data(), 0));
    } else {
      res_ = PgResult(conn_, PQexecParams(conn_, NumberPlaceholders(sql_).c_str(), n, oids_.data(), ptrs.data(),
                                          lengths.data(), formats_.data(), 0));
    }
  }

  PgConnection& c_;
  PGconn* conn_;
  std::string sql_;
  std::vector<std::optional<std::string>> values_;
  std::vector<unsigned> oids_;
  std::vector<int> formats_;
  PgResult res_;
  int row_ = -1;
  std::vector<std::string> decoded_;
};

class PgTx : public Tx {
 public:
  explicit PgTx(PgConnection& c) : c_(c), conn_(c.conn) {}
  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  void exec(const std::string& sql) override { PgResult(conn_, PQexec(conn_, sql.c_str())); }
  std::unique_ptr<SqlStatementImpl> Prepare(const std::string& sql) override {
    return std::make_unique<PgStatement>(c_, sql);
  }
  void Notify(const std::string& channel, const std::string& payload) override {
    Statement q(*this, "SELECT pg_notify(?, ?)");
    q.bind(1, channel);
    q.bind(2, payload);
    q.executeStep();
  }

 private:
  PgConnection& c_;
  PGconn* conn_;
};

using Conn = std::unique_ptr<PgConnection>;

class PgDatabase : public Database {
 public:
  PgDatabase(std::string url, Options options, std::string password)
      : url_(std::move(url)), options_(std::move(options)), password_(std::move(password)) {}

  ~PgDatabase() override {
    stop_ = true;
    for (auto& t : listeners_) t.join();
    for (auto& c : idle_) c->on_close = nullptr;
    idle_.clear();
  }

  Result<Conn> Connect() const {
    // Lock waits end: a writer waits for the write lock at most the busy
    // timeout, like SQLite's busy handler.
    std::vector<const char*> keys = {"dbname", "connect_timeout", "application_name", "options"};
    const std::string timeout = std::to_string(std::max(1, options_.busy_timeout_ms / 1000));
    const std::string settings =
        "-c lock_timeout=" + std::to_string(options_.busy_timeout_ms) + " -c client_min_messages=warning";
    std::vector<const char*> values = {url_.c_str(), timeout.c_str(), "modelreg", settings.c_str()};
    if (!password_.empty()) {
      keys.push_back("password");
      values.push_back(password_.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    Conn c = std::make_unique<PgConnection>();
    c->conn = PQconnectdbParams(keys.data(), values.data(), 1);
    if (!c->conn) return Status::ResourceExhausted("PostgreSQL: out of memory");
    if (PQstatus(c->conn) != CONNECTION_OK)
      return Status::Unavailable("cannot connect to PostgreSQL at " + url_ + ": " +
                                 TrimMessage(PQerrorMessage(c->conn)));
    return c;
  }

  Status Transact(TxMode mode, const std::function<Status(Tx&)>& body) override {
    // A pooled connection may have died with a server restart: the first
    // failure to BEGIN on it retries once on a new one.
    for (int attempt = 0;; ++attempt) {
      Status st;
      bool fresh = false;
      Conn conn = Acquire(&st, &fresh);
      if (!conn) return st;
      try {
        PgTx tx(*conn);
        // One round trip: BEGIN and the lock go as one simple query.
        switch (mode) {
          case TxMode::kRead:
            tx.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
            break;
          case TxMode::kAppend:
            tx.exec("BEGIN ISOLATION LEVEL READ COMMITTED");
            break;
          case TxMode::kWrite:
            tx.exec("BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(" +
                    std::to_string(kWriteLockKey) + ")");
            break;
        }
      } catch (const SqlError& e) {
        if (PQstatus(conn->conn) == CONNECTION_BAD && !fresh && attempt == 0) continue;
        if (PQstatus(conn->conn) == CONNECTION_OK) Rollback(conn->conn);
        if (PQstatus(conn->conn) == CONNECTION_OK) Release(std::move(conn));
        return StatusFromSqlError(e);
      }
      try {
        PgTx tx(*conn);
        st = body(tx);
      } catch (const std::exception& e) { st = StatusFromException(e); }
      if (PQstatus(conn->conn) != CONNECTION_OK) {
        return st.ok() ? Status::Unavailable("PostgreSQL connection lost; the transaction's outcome is unknown") : st;
      }
      if (!st.ok()) {
        if (Rollback(conn->conn)) Release(std::move(conn));
        return st;
      }
      try {
        PgResult(conn->conn, PQexec(conn->conn, "COMMIT"));
      } catch (const SqlError& e) {
        // A connection in an unknown state is dropped, not pooled.
        return StatusFromSqlError(e);
      }
      Release(std::move(conn));
      return st;
    }
  }

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  const std::string& path() const override { return url_; }

  Status BackupTo(const std::string&) override {
    return Status::FailedPrecondition(
        "admin backup copies the SQLite file; a PostgreSQL database is backed up with pg_dump or the "
        "server's own backups (docs/operations.md)");
  }

  Status Listen(const std::vector<std::string>& channels, NotifyFn fn) override {
    MR_ASSIGN_OR_RETURN(Conn first, Connect());
    MR_RETURN_IF_ERROR(Subscribe(first->conn, channels));
    listeners_.emplace_back([this, channels, fn = std::move(fn), c = std::move(first)]() mutable {
      ListenLoop(std::move(c), channels, fn);
    });
    return Status::OK();
  }

 private:
  static bool Rollback(PGconn* c) {
    try {
      PgResult(c, PQexec(c, "ROLLBACK"));
      return true;
    } catch (const SqlError&) { return false; }
  }

  Status Subscribe(PGconn* c, const std::vector<std::string>& channels) {
    try {
      for (const auto& ch : channels) {
        char* quoted = PQescapeIdentifier(c, ch.data(), ch.size());
        if (!quoted) return Status::Internal("PostgreSQL: cannot quote channel " + ch);
        const std::string sql = std::string("LISTEN ") + quoted;
        PQfreemem(quoted);
        PgResult(c, PQexec(c, sql.c_str()));
      }
    } catch (const SqlError& e) { return StatusFromSqlError(e); }
    return Status::OK();
  }

  void ListenLoop(Conn c, const std::vector<std::string>& channels, const NotifyFn& fn) {
    int backoff_ms = 100;
    while (!stop_) {
      if (!c || PQstatus(c->conn) != CONNECTION_OK) {
        c.reset();
        auto fresh = Connect();
        if (!fresh.ok() || !Subscribe((*fresh)->conn, channels).ok()) {
          for (int waited = 0; waited < backoff_ms && !stop_; waited += 50)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
          backoff_ms = std::min(backoff_ms * 2, 2000);
          continue;
        }
        c = std::move(fresh).value();
        backoff_ms = 100;
        fn("", "");  // notifications may have been missed while away
      }
      pollfd p{PQsocket(c->conn), POLLIN, 0};
      if (p.fd < 0) {
        c.reset();
        continue;
      }
      if (::poll(&p, 1, 200) < 0) continue;
      if (!PQconsumeInput(c->conn)) {
        c.reset();
        continue;
      }
      while (PGnotify* n = PQnotifies(c->conn)) {
        fn(n->relname ? n->relname : "", n->extra ? n->extra : "");
        PQfreemem(n);
      }
    }
  }

  // A pooled connection: an idle one, else a new one while fewer than
  // kMaxOpen are open, else the first one released within the busy
  // timeout. Bounded so that a burst of requests waits for connections
  // instead of starting a burst of server backends (each costs the server
  // a process; replicas x kMaxOpen must stay under max_connections).
  Conn Acquire(Status* st, bool* fresh) {
    {
      std::unique_lock<std::mutex> l(mu_);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.busy_timeout_ms);
      while (idle_.empty() && open_ >= kMaxOpen) {
        if (freed_.wait_until(l, deadline) == std::cv_status::timeout && idle_.empty() && open_ >= kMaxOpen) {
          *st = Status::Unavailable("all " + std::to_string(kMaxOpen) +
                                    " PostgreSQL connections of this replica stayed busy for " +
                                    std::to_string(options_.busy_timeout_ms) + " ms");
          return nullptr;
        }
      }
      if (!idle_.empty()) {
        Conn c = std::move(idle_.back());
        idle_.pop_back();
        *fresh = false;
        return c;
      }
      ++open_;
    }
    auto c = Connect();
    if (!c.ok()) {
      Closed();
      *st = c.status();
      return nullptr;
    }
    (*c)->on_close = [this] { Closed(); };
    *fresh = true;
    return std::move(c).value();
  }

  void Closed() {
    {
      std::lock_guard<std::mutex> l(mu_);
      --open_;
    }
    freed_.notify_one();
  }

  void Release(Conn c) {
    {
      std::lock_guard<std::mutex> l(mu_);
      idle_.push_back(std::move(c));
    }
    freed_.notify_one();
  }

  std::string url_;
  Options options_;
  std::string password_;
  static constexpr size_t kMaxOpen = 16;
  std::mutex mu_;
  std::condition_variable freed_;  // a connection was released or closed
  size_t open_ = 0;                // guarded by mu_: pooled connections open, idle or in use
  std::vector<Conn> idle_;         // guarded by mu_
  std::atomic<bool> stop_{false};
  std::vector<std::thread> listeners_;
};

}  // namespace

Status CheckNoPasswordInUrl(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t end = url.find_first_of("/?", start);
  const std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  const size_t at = authority.rfind('@');
  const bool in_userinfo = at != std::string::npos && authority.substr(0, at).find(':') != std::string::npos;
  const size_t q = url.find('?');
  const bool in_query = q != std::string::npos && (url.find("password=", q) != std::string::npos);
  if (in_userinfo || in_query)
    return Status::InvalidArgument(
        "the database URL holds a password; it would show in `ps` and in logs. Give it in PGPASSWORD, "
        "~/.pgpass or --db-password-file instead");
  return Status::OK();
}

Result<std::unique_ptr<Database>> OpenPostgresDatabase(const std::string& url, const Database::Options& options) {
  MR_RETURN_IF_ERROR(CheckNoPasswordInUrl(url));
  std::string password;
  if (!options.password_file.empty()) {
    MR_ASSIGN_OR_RETURN(password, ReadSmallFile(options.password_file, 4096));
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
    if (password.empty()) return Status::InvalidArgument("password file " + options.password_file + " is empty");
  }
  auto db = std::make_unique<PgDatabase>(url, options, std::move(password));
  // Fail at start, not at the first request, when the server is unreachable.
  MR_ASSIGN_OR_RETURN(Conn probe, db->Connect());
  (void)probe;
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace modelreg
