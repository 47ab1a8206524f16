// Reading a known number of bytes straight from a connection in large
// reads. Used where a body is large and Debian's cpp-httplib would read it
// 4 KiB at a time with a poll() each (its buffer size is compiled into the
// shared library): the server's blob uploads (api/socket_body), the
// client's and the agent's blob downloads. Over TLS the reads go through
// OpenSSL's session for the connection (net/tls_session.h finds it), with
// read-ahead on, so that one read() takes in many records instead of two
// read()s and a poll() per 16 KiB record. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#include "core/status.h"

struct ssl_st;  // OpenSSL's SSL

namespace modelreg {

// A connected socket, and OpenSSL's session on it if it carries TLS.
struct Connection {
  int fd = -1;
  ssl_st* tls = nullptr;
};

// Receives exactly `n` bytes (of plaintext, under TLS) from `conn` into
// the buffers `space()` lends (PipelinedWriter::Space: up to 1 MiB),
// without a copy of its own; `commit(bytes)` takes what arrived there.
// Unavailable if the peer closes, the TLS session fails, or `timeout_ms`
// passes without data; an error of `space` or `commit` stops the read and
// is returned as is. Under TLS the socket is non-blocking while this runs
// and read-ahead is on; both are as before when it returns. Bytes the peer
// sent past the `n` may then be held inside OpenSSL: see TlsHoldsMore.
using LendFn = std::function<Result<std::pair<char*, size_t>>()>;
using CommitFn = std::function<Status(size_t)>;
Status ReadConnectionInto(const Connection& conn, uint64_t n, int timeout_ms, const LendFn& space,
                          const CommitFn& commit);

// True if OpenSSL holds bytes of `conn` not yet read (false for plain TCP).
// cpp-httplib polls the socket before each read when OpenSSL has no
// decrypted byte pending, so such bytes would go unseen: a server closes
// the connection after its answer instead.
bool TlsHoldsMore(const Connection& conn);

}  // namespace modelreg
