// Where `modelreg serve` takes its settings from (docs/cli.md "serve
// settings"): the command line, else the environment (MODELREG_ + the flag's
// name in upper case with '-' as '_': --listen -> MODELREG_LISTEN,
// --no-webhooks -> MODELREG_NO_WEBHOOKS), else the file named by --config
// (or MODELREG_CONFIG_FILE). Flags win over the environment, which wins over
// the file.
//
// The file: one setting per line, `name = value`, name being the flag without
// its dashes; '#' starts a comment line; blank lines are skipped; a value may
// be wrapped in double quotes. Flags without a value take true/false (also
// yes/no, on/off, 1/0). An unknown name, a line without '=', a bad boolean or a
// setting given twice is refused naming the file and line; so is an
// environment variable with a bad boolean.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace modelreg::cli {

struct ServeSettings {
  // argv with the settings from the environment and the file appended as
  // flags (only those the command line did not give).
  std::vector<std::string> argv;
  std::vector<std::string> from_env;     // flags taken from the environment
  std::vector<std::string> from_config;  // flags taken from the file
  std::string config_file;               // "" when none
};

// `getenv` is the environment (a parameter so that tests can give one).
Result<ServeSettings> MergeServeSettings(const std::vector<std::string>& argv, const std::set<std::string>& value_flags,
                                         const std::set<std::string>& bool_flags, const char* (*getenv)(const char*));

}  // namespace modelreg::cli
