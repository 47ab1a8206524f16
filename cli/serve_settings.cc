#include "serve_settings.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <optional>

namespace modelreg::cli {

namespace {

std::string EnvName(const std::string& flag) {
  std::string n = "MODELREG_";
  for (char c : flag.substr(2)) n += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return n;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::optional<bool> ParseBool(std::string v) {
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  return std::nullopt;
}

// The flags the command line gave ("--x V", "--x=V" or "--x"), whatever their order.
std::set<std::string> GivenFlags(const std::vector<std::string>& argv) {
  std::set<std::string> given;
  for (const auto& a : argv) {
    if (a.rfind("--", 0) != 0) continue;
    given.insert(a.substr(0, a.find('=')));
  }
  return given;
}

// name -> value (the flag's value, or "true"/"false" for a flag without one).
Result<std::map<std::string, std::string>> ReadConfig(const std::string& path, const std::set<std::string>& value_flags,
                                                      const std::set<std::string>& bool_flags) {
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("--config " + path + ": cannot read it");
  std::map<std::string, std::string> out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const std::string where = path + ":" + std::to_string(n) + ": ";
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#') continue;
    size_t eq = t.find('=');
    if (eq == std::string::npos) return Status::InvalidArgument(where + "want 'name = value', got '" + t + "'");
    std::string name = Trim(t.substr(0, eq)), value = Trim(t.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    const std::string flag = "--" + name;
    if (name == "config") return Status::InvalidArgument(where + "a configuration file cannot name another");
    if (bool_flags.count(flag)) {
      auto b = ParseBool(value);
      if (!b) return Status::InvalidArgument(where + name + ": want true or false, got '" + value + "'");
      value = *b ? "true" : "false";
    } else if (!value_flags.count(flag)) {
      return Status::InvalidArgument(where + "unknown setting '" + name +
                                     "' (the flags of `modelreg serve --help`, without --)");
    } else if (value.empty()) {
      return Status::InvalidArgument(where + name + ": empty value");
    }
    if (!out.emplace(name, value).second) return Status::InvalidArgument(where + name + " is set twice");
  }
  return out;
}

}  // namespace

Result<ServeSettings> MergeServeSettings(const std::vector<std::string>& argv, const std::set<std::string>& value_flags,
                                         const std::set<std::string>& bool_flags, const char* (*getenv)(const char*)) {
  ServeSettings s;
  s.argv = argv;
  const std::set<std::string> given = GivenFlags(argv);
  // --config F (or MODELREG_CONFIG_FILE): taken out of argv, it is no serve flag.
  std::vector<std::string> rest;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] == "--config") {
      if (i + 1 >= argv.size()) return Status::InvalidArgument("--config needs a file");
      s.config_file = argv[++i];
    } else if (argv[i].rfind("--config=", 0) == 0) {
      s.config_file = argv[i].substr(9);
    } else {
      rest.push_back(argv[i]);
    }
  }
  s.argv = rest;
  if (s.config_file.empty())
    if (const char* f = getenv("MODELREG_CONFIG_FILE"); f && *f) s.config_file = f;
  std::map<std::string, std::string> file;
  if (!s.config_file.empty()) {
    auto r = ReadConfig(s.config_file, value_flags, bool_flags);
    if (!r.ok()) return r.status();
    file = std::move(*r);
  }
  auto add = [&](const std::string& flag, const std::string& value, bool is_bool) {
    if (is_bool) {
      if (value == "true") s.argv.push_back(flag);
    } else {
      s.argv.push_back(flag);
      s.argv.push_back(value);
    }
  };
  for (const auto* set : {&value_flags, &bool_flags}) {
    const bool is_bool = set == &bool_flags;
    for (const auto& flag : *set) {
      if (given.count(flag)) continue;
      const std::string env = EnvName(flag);
      if (const char* v = getenv(env.c_str()); v && *v) {
        std::string value = v;
        if (is_bool) {
          auto b = ParseBool(value);
          if (!b) return Status::InvalidArgument(env + ": want true or false, got '" + value + "'");
          value = *b ? "true" : "false";
        }
        add(flag, value, is_bool);
        s.from_env.push_back(flag);
        continue;
      }
      if (auto it = file.find(flag.substr(2)); it != file.end()) {
        add(flag, it->second, is_bool);
        s.from_config.push_back(flag);
      }
    }
  }
  return s;
}

}  // namespace modelreg::cli
