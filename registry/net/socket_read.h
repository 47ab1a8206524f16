// Reading a known number of bytes straight from a connected socket in large
// reads. Used where a body is large and Debian's cpp-httplib would read it
// 4 KiB at a time with a poll() each (its buffer size is compiled into the
// shared library): the server's blob uploads (api/socket_body), the
// client's and the agent's blob downloads. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#include "core/status.h"

namespace modelreg {

// Receives exactly `n` bytes from `fd` without a copy: `space()` lends the
// buffer each read goes into (PipelinedWriter::Space: up to 1 MiB),
// `commit(bytes)` takes what arrived there. Unavailable if the peer closes
// or `timeout_ms` passes without data; an error of `space` or `commit`
// stops the read and is returned as is.
using LendFn = std::function<Result<std::pair<char*, size_t>>()>;
using CommitFn = std::function<Status(size_t)>;
Status ReadSocketInto(int fd, uint64_t n, int timeout_ms, const LendFn& space, const CommitFn& commit);

}  // namespace modelreg
