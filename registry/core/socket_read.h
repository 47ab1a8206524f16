// Reading a known number of bytes straight from a connected socket in large
// reads. Used where a body is large and Debian's cpp-httplib would read it
// 4 KiB at a time with a poll() each (its buffer size is compiled into the
// shared library): the server's blob uploads (api/socket_body) and the
// client's blob downloads. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <functional>

#include <utility>

#include "core/status.h"

namespace modelreg {

// Feeds exactly `n` bytes from `fd` to `sink` in reads of up to 1 MiB.
// Unavailable if the peer closes or `timeout_ms` passes without data;
// Aborted if `sink` returns false.
Status ReadSocketInto(int fd, uint64_t n, int timeout_ms, const std::function<bool(const char*, size_t)>& sink);

// The same without a copy: `space()` lends the buffer to receive into
// (usually PipelinedWriter::Space), `commit(bytes)` takes what arrived
// there; an error of either stops the read and is returned as is.
using LendFn = std::function<Result<std::pair<char*, size_t>>()>;
using CommitFn = std::function<Status(size_t)>;
Status ReadSocketInto(int fd, uint64_t n, int timeout_ms, const LendFn& space, const CommitFn& commit);

}  // namespace modelreg
