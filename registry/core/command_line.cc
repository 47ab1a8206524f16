#include "core/command_line.h"

#include <algorithm>

namespace modelreg {

std::optional<std::string> ParsedArgs::Get(const std::string& flag) const {
  auto it = values_.find(flag);
  if (it == values_.end()) return std::nullopt;
  return it->second.back();
}

std::string ParsedArgs::GetOr(const std::string& flag, const std::string& def) const {
  auto v = Get(flag);
  return v ? *v : def;
}

std::vector<std::string> ParsedArgs::GetAll(const std::string& flag) const {
  auto it = values_.find(flag);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

Result<ParsedArgs> ParseCommandLine(const std::vector<std::string>& argv, const FlagSpec& spec) {
  ParsedArgs out;
  bool only_positional = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    // An empty argument is a shell variable that was not set ("$DEST"):
    // refused here, before it reaches a path or a URL.
    if (a.empty()) return Status::InvalidArgument("argument " + std::to_string(i + 1) + " is empty");
    if (only_positional || a.size() < 2 || a[0] != '-' || a == "-") {
      out.positional_.push_back(a);
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
    if (spec.value_flags.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argv.size()) return Status::InvalidArgument(name + " needs a value");
        value = argv[++i];
      }
      if (value.empty()) return Status::InvalidArgument(name + " needs a value, not an empty string");
      out.values_[name].push_back(value);
    } else if (spec.bool_flags.count(name)) {
      if (inline_value) return Status::InvalidArgument(name + " takes no value");
      out.values_[name].push_back("");
    } else {
      std::vector<std::string> known(spec.value_flags.begin(), spec.value_flags.end());
      known.insert(known.end(), spec.bool_flags.begin(), spec.bool_flags.end());
      return Status::InvalidArgument("unknown option " + name + DidYouMean(name, known));
    }
  }
  return out;
}

namespace {

// Optimal string alignment distance: insertions, deletions, substitutions
// and swaps of two neighbours each cost 1.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

}  // namespace

std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  // Flags compare without their dashes: "--jsn" is 1 edit from "--json".
  auto bare = [](std::string_view s) {
    while (!s.empty() && s.front() == '-') s.remove_prefix(1);
    return s;
  };
  const std::string_view w = bare(word);
  if (w.empty() || w.size() > 64) return "";
  const size_t limit = w.size() <= 4 ? 1 : w.size() <= 8 ? 2 : 3;
  std::string best;
  size_t best_d = limit + 1;
  for (const auto& c : candidates) {
    const std::string_view cb = bare(c);
    size_t dist = EditDistance(w, cb);
    // A prefix of a long flag ("--regis") is what was meant, too.
    if (w.size() >= 3 && cb.size() > w.size() && cb.substr(0, w.size()) == w) dist = std::min<size_t>(dist, 1);
    if (dist < best_d) {
      best_d = dist;
      best = c;
    }
  }
  return best;
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  const std::string m = ClosestMatch(word, candidates);
  return m.empty() ? "" : " (did you mean " + m + "?)";
}

}  // namespace modelreg
