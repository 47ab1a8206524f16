// Request ids (X-Request-Id): a caller's id is kept if it is 1-128
// characters of [A-Za-z0-9._-]; otherwise a random one is made. Shared by
// the registry's API and the agent's proxy. Pure, thread-safe.
#pragma once

#include <string>

namespace modelreg {

bool IsValidRequestId(const std::string& s);
// `given` if valid, else 16 random hex characters.
std::string RequestIdOrNew(const std::string& given);

}  // namespace modelreg
