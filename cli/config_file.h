// The CLI's configuration file (docs/cli.md): named contexts, each a
// registry URL, its token and optionally a CA file, and which one is in use.
// `modelreg login` writes it; every client command reads it for what
// neither a flag nor the environment gives (flags > env > config).
// Path: $XDG_CONFIG_HOME/modelreg/config, else ~/.config/modelreg/config;
// MODELREG_CONFIG names another file. JSON, written atomically with mode
// 0600 (it holds tokens) in a directory of mode 0700.
#pragma once

#include <map>
#include <string>

#include "core/status.h"

namespace modelreg::cli {

struct Context {
  std::string registry;  // normalized http[s]://host[:port]
  std::string token;
  std::string ca_file;  // "" for the system's CAs
};

struct CliConfig {
  std::string current;  // the context in use; "" when none
  std::map<std::string, Context> contexts;
};

// Where the configuration is read and written; "" when neither
// MODELREG_CONFIG, XDG_CONFIG_HOME nor HOME is set.
std::string ConfigPath();

// The file's contents; an absent file is an empty configuration. A file that
// is not a configuration is InvalidArgument naming it.
Result<CliConfig> LoadConfig(const std::string& path);
Status SaveConfig(const std::string& path, const CliConfig& config);

// A context name: 1-64 of [A-Za-z0-9._-], starting with a letter or digit.
Status CheckContextName(const std::string& name);

}  // namespace modelreg::cli
