#include "args.h"

namespace modelreg::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& value_flags,
           const std::set<std::string>& bool_flags) {
  bool only_positional = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    // An empty argument is a shell variable that was not set ("$DEST"):
    // refused here, before it reaches a path or a URL.
    if (a.empty()) throw UsageError("argument " + std::to_string(i + 1) + " is empty");
    if (only_positional || a.size() < 2 || a[0] != '-' || a == "-") {
      positional_.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    std::string name = a, value;
    bool inline_value = false;
    if (auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      inline_value = true;
    }
    if (value_flags.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argv.size()) throw UsageError(name + " needs a value");
        value = argv[++i];
      }
      if (value.empty()) throw UsageError(name + " needs a value, not an empty string");
      values_[name].push_back(value);
    } else if (bool_flags.count(name)) {
      if (inline_value) throw UsageError(name + " takes no value");
      values_[name].push_back("");
    } else {
      throw UsageError("unknown option " + name);
    }
  }
}

std::optional<std::string> Args::Get(const std::string& flag) const {
  auto it = values_.find(flag);
  if (it == values_.end()) return std::nullopt;
  return it->second.back();
}

std::string Args::GetOr(const std::string& flag, const std::string& def) const {
  auto v = Get(flag);
  return v ? *v : def;
}

std::vector<std::string> Args::GetAll(const std::string& flag) const {
  auto it = values_.find(flag);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

const std::string& Args::Pos(size_t i, const char* what) const {
  if (i >= positional_.size()) throw UsageError(std::string("missing ") + what);
  return positional_[i];
}

void Args::ExpectPositional(size_t min, size_t max) const {
  if (positional_.size() < min) throw UsageError("missing arguments");
  if (positional_.size() > max) throw UsageError("unexpected argument '" + positional_[max] + "'");
}

}  // namespace modelreg::cli
