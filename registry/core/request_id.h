// Request ids (X-Request-Id): a caller's id is kept if it is 1-128
// characters of [A-Za-z0-9._-]; otherwise a new one is made. Shared by
// the registry's API and the agent's proxy. Pure, thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace modelreg {

bool IsValidRequestId(const std::string& s);

// A new id: a UUIDv7 (RFC 9562 section 5.7), "0193a1b2-c3d4-7xxx-yxxx-xxxxxxxxxxxx":
// 48 bits of Unix time in milliseconds, then 74 random bits. Ids made later
// sort later, so the decisions an agent records land at the end of the
// registry's request-id index (a few pages written per batch) instead of
// one random page each (docs/agent.md, proxy mode).
std::string NewRequestId();
// The same from a given time and 10 random bytes (for tests).
std::string RequestIdV7(uint64_t unix_ms, const unsigned char random[10]);

// `given` if valid, else NewRequestId().
std::string RequestIdOrNew(const std::string& given);

}  // namespace modelreg
