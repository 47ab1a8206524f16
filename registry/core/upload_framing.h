// The byte-level formats of the upload protocol (docs/api.md), kept apart from
// the HTTP handlers so that they are unit-tested and fuzzed on their own:
// the Content-Range of a PATCH, and the frames of a batch upload body.
// Pure; BatchFrameParser is not thread-safe (one body, one parser).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "core/digest.h"
#include "core/status.h"

namespace modelreg {

// "START-END", "bytes START-END" or either with "/TOTAL" or "/*" after it:
// the inclusive range [START, END]. Decimal digits only (no sign, space or
// more than 19 digits), END >= START, END < TOTAL. OutOfRange otherwise (HTTP 416).
Result<std::pair<uint64_t, uint64_t>> ParseContentRange(std::string_view text);

// A batch upload body (POST /api/v1/blobs/batch) is a sequence of frames:
// the header "sha256:<hex> <size>\n", then <size> bytes of the blob.
std::string BatchFrameHeader(const Digest& digest, uint64_t size);

class BatchFrameParser {
 public:
  struct Events {
    std::function<Status(const Digest& digest, uint64_t size)> begin;  // a frame's header
    std::function<Status(const char* data, size_t n)> write;           // its bytes, in pieces
    std::function<Status()> end;                                       // after its last byte
  };
  // At most `max_blobs` frames (ResourceExhausted beyond).
  BatchFrameParser(Events events, size_t max_blobs);

  // Consumes the next `n` bytes of the body, in pieces of any size. A
  // malformed header (InvalidArgument) or an event's error is returned and
  // is final: the parser takes nothing more.
  Status Feed(const char* data, size_t n);
  // The body has ended: InvalidArgument if it ended inside a frame.
  Status Finish() const;
  // Frames begun so far.
  size_t count() const { return count_; }

 private:
  Status ParseHeader();

  Events events_;
  size_t max_blobs_;
  std::string header_;
  uint64_t remaining_ = 0;
  bool in_blob_ = false;
  size_t count_ = 0;
  Status failed_;
};

}  // namespace modelreg
