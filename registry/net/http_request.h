// One HTTP/1.1 request as the server hands it to a handler, the response
// the handler fills in, and the strict checks a request head passes before
// any handler sees it (RFC 9112).
//
// The checks (CheckRequestHead), each answered by the server itself and
// never guessed at:
// - the request line: a method of token characters, an origin-form target
//   ("/…", printable ASCII, no '#', at most kMaxTarget bytes, else 414),
//   HTTP/1.0 or HTTP/1.1 (else 505);
// - header names are tokens, values hold no control character but HTAB;
//   at most kMaxHeaders fields (431); HTTP/1.1 needs one Host (400);
// - framing: Transfer-Encoding is "chunked" alone (any letter case; another
//   coding is 501), never beside Content-Length (400); Content-Length is
//   decimal digits, one value however often repeated (400); a POST, PUT or
//   PATCH with neither is 411.
// Percent-decoding of the path keeps every byte (the path may then hold
// bytes that are not UTF-8: whoever writes it into JSON replaces them);
// a '%' not followed by two hex digits, or an encoded NUL, is 400.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "net/http_wire.h"

namespace modelreg::net {

inline constexpr size_t kMaxHeaders = 100;
inline constexpr size_t kMaxTarget = 8192;  // longer: 414

struct ServerRequest {
  std::string method, target, path, query, version;
  // The path as sent, still percent-encoded. Routes match this one, so an
  // encoded '/' (%2F) stays inside its segment instead of making a new one
  // (`versions/1%2Fapprovals` is the version named "1/approvals", not the
  // approvals route); the router decodes each captured segment.
  std::string raw_path;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::pair<std::string, std::string>> params;  // decoded query, in order
  std::string remote_addr;
  int remote_port = 0;
  std::vector<std::string> captures;  // set by the router: capture i at [i]

  std::string get_header_value(std::string_view name) const;  // first one, or ""
  bool has_header(std::string_view name) const;
  bool has_param(std::string_view key) const;
  std::string get_param_value(std::string_view key) const;  // first one, or ""
};

// Where a streamed response body goes; false: the connection failed.
struct DataSink {
  std::function<bool(const char* data, size_t n)> write;
  // Sends `n` bytes of file `fd` from `offset` without copying them
  // through user space (sendfile(2)); false: the connection failed or the
  // file ended early. Null where it cannot be used (TLS): use write.
  std::function<bool(int fd, uint64_t offset, size_t n)> send_file;
};

struct ServerResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // A body produced while it is sent: `provider(offset, length, sink)` is
  // called until `content_length` bytes went out; false aborts the
  // response (the connection is closed: its length was promised).
  std::optional<uint64_t> content_length;
  std::function<bool(size_t offset, size_t length, DataSink& sink)> provider;

  void set_header(std::string name, std::string value);  // adds a field
  void erase_header(std::string_view name);              // every field of that name
  bool has_header(std::string_view name) const;
  std::string get_header_value(std::string_view name) const;
  void set_content(std::string content, std::string content_type);
  void set_content_provider(uint64_t length, std::string content_type,
                            std::function<bool(size_t, size_t, DataSink&)> fn);
  void set_redirect(std::string location, int code = 302);
};

// How the request's body is framed.
struct RequestFraming {
  enum Kind { kNone, kLength, kChunked } kind = kNone;
  uint64_t length = 0;  // kLength
};

// A refusal of the server's own: the HTTP status and why.
struct HeadRefusal {
  int status;
  std::string message;
};

// Checks `head` (parsed by ParseHead) and fills `req`'s method, target,
// path, query, params, version and headers, and `framing`. A refusal is
// final for the connection: the server answers it and closes.
std::optional<HeadRefusal> CheckRequestHead(const HttpHead& head, ServerRequest* req, RequestFraming* framing);

// "%41b+c" -> "Ab c" with `plus_is_space`; nullopt for a malformed escape or a NUL.
std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space);

// RFC 9110 §5.6.2 tchar: what a method and a header name are made of.
bool IsTokenChar(unsigned char c);

// The standard reason phrase of `status` ("OK", "Not Found", …).
const char* ReasonPhrase(int status);

}  // namespace modelreg::net
