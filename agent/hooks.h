// Running the operator's reload hook and health check.
#pragma once

#include <map>
#include <string>

#include "core/status.h"

namespace modelreg::agent {

// Runs `cmd` with /bin/sh -c and extra environment; FailedPrecondition with
// the exit status if it fails or exceeds `timeout_s` (then it is killed).
Status RunShell(const std::string& cmd, const std::map<std::string, std::string>& env, double timeout_s);

// An http(s):// URL must answer 2xx (retried until `timeout_s`); anything
// else is a command that must exit 0.
Status CheckHealth(const std::string& check, const std::map<std::string, std::string>& env, double timeout_s);

}  // namespace modelreg::agent
