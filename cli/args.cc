#include "args.h"

namespace modelreg::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& value_flags,
           const std::set<std::string>& bool_flags)
    : parsed_(OrUsageError(ParseCommandLine(argv, FlagSpec{value_flags, bool_flags}))) {}

const std::string& Args::Pos(size_t i, const char* what) const {
  if (i >= positional().size()) throw UsageError(std::string("missing ") + what);
  return positional()[i];
}

void Args::ExpectPositional(size_t min, size_t max) const {
  if (positional().size() < min) throw UsageError("missing arguments");
  if (positional().size() > max) throw UsageError("unexpected argument '" + positional()[max] + "'");
}

}  // namespace modelreg::cli
