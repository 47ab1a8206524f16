// The CLI's view of the shared command-line parser (core/command_line.h):
// flags declared up front (with or without a value, repeatable), everything
// else positional. Unknown flags and missing values are usage errors
// (UsageError, exit 2).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/command_line.h"
#include "core/status.h"

namespace modelreg::cli {

class UsageError : public std::exception {
 public:
  explicit UsageError(std::string m) : msg_(std::move(m)) {}
  const char* what() const noexcept override { return msg_.c_str(); }

 private:
  std::string msg_;
};

// The value, or a UsageError with the refusal's message: for parsers that
// return Result (flag values, times, addresses).
template <typename T>
T OrUsageError(Result<T> parsed) {
  if (!parsed.ok()) throw UsageError(parsed.status().message());
  return std::move(parsed).value();
}

class Args {
 public:
  // `value_flags` take a value ("--data DIR" or "--data=DIR"); `bool_flags`
  // do not. Throws UsageError.
  Args(const std::vector<std::string>& argv, const std::set<std::string>& value_flags,
       const std::set<std::string>& bool_flags);

  const std::vector<std::string>& positional() const { return parsed_.positional(); }
  bool Has(const std::string& flag) const { return parsed_.Has(flag); }
  std::optional<std::string> Get(const std::string& flag) const { return parsed_.Get(flag); }
  std::string GetOr(const std::string& flag, const std::string& def) const { return parsed_.GetOr(flag, def); }
  std::vector<std::string> GetAll(const std::string& flag) const { return parsed_.GetAll(flag); }
  // Positional i or UsageError naming `what`.
  const std::string& Pos(size_t i, const char* what) const;
  void ExpectPositional(size_t min, size_t max) const;

 private:
  ParsedArgs parsed_;
};

}  // namespace modelreg::cli
