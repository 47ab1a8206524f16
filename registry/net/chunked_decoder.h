// Decoding a request body sent with the chunked transfer coding (RFC 9112
// §7.1), incrementally, as its bytes arrive from a connection.
//
// Strict: a chunk size is 1 to 16 hex digits (no sign, no space before
// it; extensions after ';' are skipped), every line ends in CRLF, the data
// of a chunk is followed by CRLF, trailer lines are read and ignored up to
// the blank line; a size line or trailer line longer than 4 KiB, or more
// than 64 KiB of trailers, is refused. Anything else is InvalidArgument and
// final: the decoder takes nothing more (the connection's framing is lost;
// the server answers 400 and closes). Pure; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace modelreg::net {

class ChunkedDecoder {
 public:
  // Consumes bytes from the front of `in` and hands the data they carry to
  // `data` (return false to stop: Feed then returns OK with the bytes
  // consumed so far). Sets *used to the bytes of `in` consumed. Stops at
  // the end of the body: bytes after it (a pipelined request) are left.
  Status Feed(std::string_view in, size_t* used, const std::function<bool(const char*, size_t)>& data);
  // The whole body, trailers included, has been consumed.
  bool done() const { return state_ == State::kDone; }
  // Data bytes decoded so far.
  uint64_t decoded() const { return decoded_; }

 private:
  enum class State { kSize, kData, kDataEnd, kTrailer, kDone, kFailed };
  Status Fail(const std::string& why);
  // Completes a line from `in` into line_; true once a CRLF ended it.
  Result<bool> TakeLine(std::string_view in, size_t* pos);

  State state_ = State::kSize;
  std::string line_;
  uint64_t left_ = 0;  // of the current chunk's data
  uint64_t decoded_ = 0;
  size_t trailer_bytes_ = 0;
};

}  // namespace modelreg::net
