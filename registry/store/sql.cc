#include "store/sql.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace modelreg {

Status StatusFromSqlError(const SqlError& e) {
  const std::string what = e.what();
  switch (e.kind()) {
    case SqlError::Kind::kConstraint:
      return Status::AlreadyExists("constraint: " + what);
    case SqlError::Kind::kBusy:
      return Status::Unavailable("database busy: " + what);
    case SqlError::Kind::kStorage:
      return Status::Unavailable("database: " + what + " (cannot write: storage full, over a quota, or failing)");
    case SqlError::Kind::kCorrupt:
      return Status::DataLoss("database corrupt: " + what);
    case SqlError::Kind::kConnection:
      return Status::Unavailable("database unreachable: " + what);
    case SqlError::Kind::kSerialization:
      return Status::Unavailable("database conflict, retry: " + what);
    case SqlError::Kind::kBadValue:
      return Status::InvalidArgument("value refused by the database: " + what);
    case SqlError::Kind::kOther:
      break;
  }
  return Status::Internal("database: " + what);
}

int64_t SqlColumn::getInt64() const {
  switch (type_) {
    case Type::kNull:
      return 0;
    case Type::kInt:
      return i_;
    case Type::kReal:
      return static_cast<int64_t>(d_);
    case Type::kText:
    case Type::kBlob:
      break;
  }
  if (s_ == "t") return 1;
  if (s_ == "f") return 0;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s_.data(), s_.data() + s_.size(), v);
  if (ec == std::errc() && ptr == s_.data() + s_.size()) return v;
  // A numeric aggregate (SUM over BIGINT is NUMERIC in PostgreSQL) may
  // carry a fraction; anything else is not an integer.
  const std::string copy(s_);
  char* end = nullptr;
  const double d = std::strtod(copy.c_str(), &end);
  if (end && *end == '\0' && !copy.empty()) return static_cast<int64_t>(d);
  throw SqlError(SqlError::Kind::kOther, "column value '" + copy.substr(0, 40) + "' is not an integer");
}

double SqlColumn::getDouble() const {
  switch (type_) {
    case Type::kNull:
      return 0;
    case Type::kInt:
      return static_cast<double>(i_);
    case Type::kReal:
      return d_;
    case Type::kText:
    case Type::kBlob:
      break;
  }
  const std::string copy(s_);
  char* end = nullptr;
  const double d = std::strtod(copy.c_str(), &end);
  if (copy.empty() || !end || *end != '\0')
    throw SqlError(SqlError::Kind::kOther, "column value '" + copy.substr(0, 40) + "' is not a number");
  return d;
}

std::string SqlColumn::getString() const {
  switch (type_) {
    case Type::kNull:
      return "";
    case Type::kInt:
      return std::to_string(i_);
    case Type::kReal: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", d_);
      return buf;
    }
    case Type::kText:
    case Type::kBlob:
      break;
  }
  return std::string(s_);
}

void Statement::bind(int i, const SqlColumn& c) {
  switch (c.type()) {
    case SqlColumn::Type::kNull:
      impl_->BindNull(i);
      return;
    case SqlColumn::Type::kInt:
      impl_->BindInt64(i, c.getInt64());
      return;
    case SqlColumn::Type::kReal:
      impl_->BindDouble(i, c.getDouble());
      return;
    case SqlColumn::Type::kText: {
      const std::string s = c.getString();
      impl_->BindText(i, s);
      return;
    }
    case SqlColumn::Type::kBlob: {
      const std::string s = c.getBlob();
      impl_->BindBlob(i, s.data(), s.size());
      return;
    }
  }
}

int64_t QueryInt64(Tx& tx, const std::string& sql) {
  Statement q(tx, sql);
  if (!q.executeStep()) return 0;
  return q.getColumn(0).getInt64();
}

void PgArrayBuilder::Add(std::string_view element) {
  if (out_.size() > 1) out_ += ',';
  out_ += '"';
  for (char c : element) {
    if (c == '"' || c == '\\') out_ += '\\';
    out_ += c;
  }
  out_ += '"';
}

void PgArrayBuilder::AddNull() {
  if (out_.size() > 1) out_ += ',';
  out_ += "NULL";
}

const std::string& PgArrayBuilder::Finish() {
  if (out_.empty() || out_.back() != '}') out_ += '}';
  return out_;
}

}  // namespace modelreg
