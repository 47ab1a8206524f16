// HTTP/1.1 messages on a blocking socket, for the proxy's data path.
//
// The proxy forwards every request with as few system calls as it can: one
// read for a request that arrives in one segment, one writev per message,
// no poll() before each read (timeouts are socket options). On a
// paravirtualised 2-core machine each system call and wake-up is what a
// proxied request costs, which is why this is not cpp-httplib.
//
// Framing follows RFC 9112: bodies by Content-Length or chunked transfer
// coding (decoded here; the proxy re-frames with Content-Length), responses
// without a length end at close; HEAD, 1xx, 204 and 304 responses have no
// body. Heads are limited to kMaxHead bytes, bodies to kMaxBody.
// Not thread-safe: one Wire per connection and thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace modelreg::net {

inline constexpr size_t kMaxHead = 64 << 10;
inline constexpr size_t kMaxBody = 64 << 20;

struct HttpHead {
  // Request: method, target, version. Response: version, status, reason.
  std::string method, target, version, reason;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;

  // The first value of a header (case-insensitive name), or "".
  std::string Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  // Connection semantics: HTTP/1.1 keeps alive unless "close"; 1.0 only
  // with "keep-alive".
  bool KeepAlive() const;
};

// The first value of the header `name` (case-insensitive) in `headers`, or
// null: the one lookup behind HttpHead and the server's request and response.
const std::string* FindHeader(const std::vector<std::pair<std::string, std::string>>& headers, std::string_view name);

// Parses a request (`is_request`) or response head: the bytes up to and
// without the blank line. InvalidArgument on anything malformed.
Status ParseHead(std::string_view text, bool is_request, HttpHead* head);

// The length Content-Length declares: every value, in several fields or a
// comma list, the same decimal digits (RFC 9112 §6.3: anything else makes
// the framing unknowable, InvalidArgument). Unset if there is none.
Status DeclaredLength(const HttpHead& head, std::optional<uint64_t>* length);

// True for headers that describe one connection, not the message (RFC 9110
// §7.6.1), plus the framing headers the proxy sets itself.
bool IsHopByHop(std::string_view name);

class Wire {
 public:
  explicit Wire(int fd) : fd_(fd) {}
  int fd() const { return fd_; }

  // Reads the next head. Before a byte of it arrived: NotFound if the peer
  // closed or reset the connection (the normal end of keep-alive),
  // Unavailable if the socket's receive timeout passed.
  Status ReadHead(bool is_request, HttpHead* head);
  // Reads the body that `head` announces into `body` (decoding chunks).
  // `request_method` is the request's method when `head` is a response.
  // Sets *until_close when the body ended with the connection.
  Status ReadBody(const HttpHead& head, bool is_request, const std::string& request_method, std::string* body,
                  bool* until_close);
  // Writes `head_bytes` then `body` with one writev (looping on partial writes).
  Status Write(std::string_view head_bytes, std::string_view body);
  // Bytes received but not yet consumed (a pipelined next message).
  bool HasBuffered() const { return pos_ < buf_.size(); }

 private:
  // Appends at least one more byte to buf_; NotFound on orderly close.
  Status Fill();
  Status ReadExactly(size_t n, std::string* out);
  Status ReadLine(std::string* line);
  Status ReadChunked(std::string* out);

  int fd_;
  std::string buf_;
  size_t pos_ = 0;
};

}  // namespace modelreg::net
