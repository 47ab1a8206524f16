// A registry's base URL as the CLI (--registry, MODELREG_URL) and the agent
// take it: http[s]://host[:port], nothing more. cpp-httplib would drop a
// path or fail on credentials in the URL with only "Connection" to say why;
// these are caught here with a message that says what to give instead.
#pragma once

#include <string>

#include "core/status.h"

namespace modelreg::net {

// The URL without trailing slashes, or InvalidArgument naming what is wrong.
Result<std::string> NormalizeRegistryUrl(std::string url);

}  // namespace modelreg::net
