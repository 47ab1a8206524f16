#include "config_file.h"

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/file_util.h"

namespace modelreg::cli {

using nlohmann::json;

std::string ConfigPath() {
  if (const char* p = std::getenv("MODELREG_CONFIG"); p && *p) return p;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x == '/') return std::string(x) + "/modelreg/config";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.config/modelreg/config";
  return "";
}

Result<CliConfig> LoadConfig(const std::string& path) {
  CliConfig c;
  if (path.empty()) return c;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return c;
  MR_ASSIGN_OR_RETURN(std::string text, ReadSmallFile(path, 1 << 20));
  const Status bad = Status::InvalidArgument("configuration file " + path +
                                             " is not a modelreg configuration (fix or remove it; "
                                             "`modelreg login` writes it)");
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad;
  if (j.contains("current")) {
    if (!j["current"].is_string()) return bad;
    c.current = j["current"].get<std::string>();
  }
  if (j.contains("contexts")) {
    if (!j["contexts"].is_object()) return bad;
    for (const auto& [name, v] : j["contexts"].items()) {
      if (!v.is_object()) return bad;
      Context ctx;
      for (auto [key, field] : {std::pair{"registry", &ctx.registry}, {"token", &ctx.token}, {"ca", &ctx.ca_file}}) {
        if (!v.contains(key)) continue;
        if (!v[key].is_string()) return bad;
        *field = v[key].get<std::string>();
      }
      c.contexts[name] = ctx;
    }
  }
  return c;
}

Status SaveConfig(const std::string& path, const CliConfig& config) {
  if (path.empty()) return Status::FailedPrecondition("no place for the configuration: set HOME or XDG_CONFIG_HOME");
  json j = {{"current", config.current}, {"contexts", json::object()}};
  for (const auto& [name, ctx] : config.contexts) {
    json v = {{"registry", ctx.registry}, {"token", ctx.token}};
    if (!ctx.ca_file.empty()) v["ca"] = ctx.ca_file;
    j["contexts"][name] = v;
  }
  const auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) MR_RETURN_IF_ERROR(MakeDirs(dir.string(), 0700));
  return WriteFileAtomic(path, j.dump(2) + "\n", 0600);
}

Status CheckContextName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char ch : name) ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-');
  if (!ok)
    return Status::InvalidArgument("context name '" + name.substr(0, 80) +
                                   "': 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
  return Status::OK();
}

}  // namespace modelreg::cli
