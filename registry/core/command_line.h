// The one command-line parser of `modelreg` and `modelreg-agent`
// (docs/cli.md): flags declared up front, with a value ("--data DIR" or
// "--data=DIR") or without one, each repeatable; everything else is
// positional; "--" ends the flags. Unknown flags, missing or empty values,
// and empty arguments (an unset "$VAR") are refused with InvalidArgument;
// an unknown flag's message suggests the closest known one. Pure,
// thread-safe, no exceptions.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace modelreg {

struct FlagSpec {
  std::set<std::string> value_flags;  // take a value
  std::set<std::string> bool_flags;   // take none
};

class ParsedArgs {
 public:
  const std::vector<std::string>& positional() const { return positional_; }
  bool Has(const std::string& flag) const { return values_.count(flag) > 0; }
  // The last value given for `flag` ("" for a bool flag that was given).
  std::optional<std::string> Get(const std::string& flag) const;
  std::string GetOr(const std::string& flag, const std::string& def) const;
  std::vector<std::string> GetAll(const std::string& flag) const;

 private:
  friend Result<ParsedArgs> ParseCommandLine(const std::vector<std::string>& argv, const FlagSpec& spec);
  std::vector<std::string> positional_;
  std::map<std::string, std::vector<std::string>> values_;
};

Result<ParsedArgs> ParseCommandLine(const std::vector<std::string>& argv, const FlagSpec& spec);

// The candidate closest to `word` by edit distance (a transposition counts
// one), if it is close enough to be a typo of it: at most 1 edit for words
// up to 4 characters, 2 up to 8, 3 beyond. "" when none is.
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean X?)" for the closest candidate, or "".
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace modelreg
