// The error answers of docs/api.md ({"error":{"code","message","details"}}),
// read back into a Status on the client side: `pull`/`register` (client/)
// and the agent decode a registry's answer the same way.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace modelreg::net {

// OK for 2xx. Otherwise the code and message the registry put in its JSON
// error body (prefixed with `what`), keeping "details". A body without one
// (a proxy's page, an empty answer) maps from the HTTP status: 401, 403 and
// 404 to their codes, 502/503/504 to Unavailable (worth retrying), the rest
// to Internal.
Status StatusFromHttpAnswer(int http_status, std::string_view body, const std::string& what);

// Why a request to the registry at `url` got no HTTP answer (cpp-httplib's
// error, as an int so that this header needs no httplib), as Unavailable:
// an untrusted certificate, a failed TLS handshake, or a connection that
// closed without an answer, which on an http:// URL is what an https
// registry does: each says what to check.
Status TransportFailure(int httplib_error, const std::string& url, const std::string& what);

// Collects the body of an error answer as it streams in, keeping its first
// kMaxErrorBody bytes (an error is small; a wrong server may send anything).
inline constexpr size_t kMaxErrorBody = 64 << 10;
void AppendErrorBody(std::string* body, const char* data, size_t n);

}  // namespace modelreg::net
