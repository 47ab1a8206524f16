// Large request bodies read straight from the connection's socket.
//
// Debian's libcpp-httplib reads bodies 4 KiB at a time with a poll() before
// each read (CPPHTTPLIB_RECV_BUFSIZ is compiled into the shared library):
// ~0.5 CPU-seconds per GiB, on a 2-core machine the difference between
// 0.8 and 1 GB/s for a register. For a request whose body has a
// Content-Length of at least kMinDirectBody, StreamBody takes what httplib
// has already buffered through its reader, stops it, and reads the rest from
// the connection in large reads into lent buffers (under TLS through
// OpenSSL's session, net/tls_session.h). Anything else (chunked, small
// bodies, a socket or session it cannot find) goes through httplib's
// reader unchanged.
// Internal to the api library; call from the request's worker thread.
#pragma once

#include <cstdint>
#include <functional>

#include "api/handler.h"
#include "net/socket_read.h"

namespace modelreg::api {

inline constexpr uint64_t kMinDirectBody = 4 << 20;

// Feeds the whole body to `sink` (return false to stop); what is read
// straight from the socket goes into the buffers `space` lends and is
// handed to `commit` instead, without a copy (net/socket_read.h). Returns
// false if the body was cut off (peer closed or timed out), or `sink`,
// `space` or `commit` stopped it.
bool StreamBody(Ctx& c, const std::function<bool(const char*, size_t)>& sink, const LendFn& space,
                const CommitFn& commit);

}  // namespace modelreg::api
