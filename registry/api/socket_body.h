// Large request bodies read straight from the connection into lent
// buffers: for a Content-Length body of at least kMinDirectBody, what
// arrived with the head goes to `sink`, the rest is received into the
// buffers `space` lends and handed to `commit` without a copy
// (net::RequestBody::ReadDirect; under TLS through OpenSSL's session).
// Smaller and chunked bodies go to `sink` piece by piece.
// Internal to the api library; call from the request's worker thread.
#pragma once

#include <cstdint>
#include <functional>

#include "api/handler.h"
#include "net/socket_read.h"

namespace modelreg::api {

inline constexpr uint64_t kMinDirectBody = 4 << 20;

// Feeds the whole body to `sink` / `space` + `commit`. Returns false if the
// body was cut off (peer closed or timed out) or one of them stopped it.
bool StreamBody(Ctx& c, const std::function<bool(const char*, size_t)>& sink, const LendFn& space,
                const CommitFn& commit);

}  // namespace modelreg::api
