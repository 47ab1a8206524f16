#include "net/http_request.h"

#include <strings.h>

#include <algorithm>

namespace modelreg::net {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

bool IsToken(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return IsTokenChar(static_cast<unsigned char>(c)); });
}

// What the server shows of a client's bytes in a message: printable ASCII,
// others as \xHH, at most 80 of them.
std::string Shown(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 80)) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  if (s.size() > 80) out += "…";
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view TrimOws(std::string_view t) {
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  return t;
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      const int hi = i + 1 < in.size() ? HexValue(in[i + 1]) : -1;
      const int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      if (c == '\0') return std::nullopt;
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    out.push_back(c);
  }
  return out;
}

std::optional<HeadRefusal> CheckRequestHead(const HttpHead& head, ServerRequest* req, RequestFraming* framing) {
  *framing = RequestFraming{};
  if (!IsToken(head.method)) return HeadRefusal{400, "bad method '" + Shown(head.method) + "'"};
  if (head.version != "HTTP/1.1" && head.version != "HTTP/1.0")
    return HeadRefusal{505, "HTTP version '" + Shown(head.version) + "' is not supported (HTTP/1.1 is)"};
  const std::string& t = head.target;
  if (t.size() > kMaxTarget)
    return HeadRefusal{414, "request line longer than " + std::to_string(kMaxTarget) + " bytes"};
  if (t.empty() || t.front() != '/')
    return HeadRefusal{400, "request target '" + Shown(t) + "' is not an absolute path"};
  for (unsigned char c : t)
    if (c <= 0x20 || c >= 0x7f || c == '#')
      return HeadRefusal{400, "request target holds a byte that must be percent-encoded: '" + Shown(t) + "'"};
  if (head.headers.size() > kMaxHeaders)
    return HeadRefusal{431, "more than " + std::to_string(kMaxHeaders) + " header fields"};
  size_t hosts = 0;
  for (const auto& [name, value] : head.headers) {
    if (!IsToken(name)) return HeadRefusal{400, "bad header name '" + Shown(name) + "'"};
    for (unsigned char c : value)
      if ((c < 0x20 && c != '\t') || c == 0x7f)
        return HeadRefusal{400, "header '" + Shown(name) + "' holds a control character"};
    if (IEquals(name, "Host")) ++hosts;
  }
  if (head.version == "HTTP/1.1" && hosts != 1)
    return HeadRefusal{400, hosts == 0 ? "an HTTP/1.1 request needs a Host header" : "more than one Host header"};

  std::optional<uint64_t> length;
  if (Status st = DeclaredLength(head, &length); !st.ok()) return HeadRefusal{400, st.message()};
  bool chunked = false;
  for (const auto& [name, value] : head.headers) {
    if (!IEquals(name, "Transfer-Encoding")) continue;
    if (chunked || !IEquals(TrimOws(value), "chunked"))
      return HeadRefusal{501, "Transfer-Encoding '" + Shown(value) + "' is not supported (only chunked alone)"};
    chunked = true;
  }
  if (chunked && head.version == "HTTP/1.0") return HeadRefusal{400, "Transfer-Encoding in an HTTP/1.0 request"};
  if (chunked && length) return HeadRefusal{400, "both Transfer-Encoding and Content-Length (RFC 9112 §6.1)"};
  if (chunked) framing->kind = RequestFraming::kChunked;
  else if (length) framing->kind = RequestFraming::kLength, framing->length = *length;
  else if (head.method == "POST" || head.method == "PUT" || head.method == "PATCH")
    return HeadRefusal{411, head.method + " needs a Content-Length or chunked Transfer-Encoding"};

  req->method = head.method;
  req->target = t;
  req->version = head.version;
  req->headers = head.headers;
  const size_t q = t.find('?');
  auto path = PercentDecode(std::string_view(t).substr(0, q), false);
  if (!path) return HeadRefusal{400, "bad percent-encoding in the path '" + Shown(t) + "'"};
  req->path = std::move(*path);
  req->raw_path = t.substr(0, q);
  req->query = q == std::string::npos ? "" : t.substr(q + 1);
  req->params.clear();
  std::string_view qs(req->query);
  while (!qs.empty()) {
    const size_t amp = qs.find('&');
    const std::string_view pair = qs.substr(0, amp);
    qs = amp == std::string_view::npos ? std::string_view() : qs.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    auto key = PercentDecode(pair.substr(0, eq), true);
    auto value = PercentDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    if (!key || !value) return HeadRefusal{400, "bad percent-encoding in the query '" + Shown(req->query) + "'"};
    req->params.emplace_back(std::move(*key), std::move(*value));
  }
  return std::nullopt;
}

std::string ServerRequest::get_header_value(std::string_view name) const {
  const std::string* v = FindHeader(headers, name);
  return v ? *v : "";
}

bool ServerRequest::has_header(std::string_view name) const { return FindHeader(headers, name) != nullptr; }

bool ServerRequest::has_param(std::string_view key) const {
  for (const auto& [k, v] : params)
    if (k == key) return true;
  return false;
}

std::string ServerRequest::get_param_value(std::string_view key) const {
  for (const auto& [k, v] : params)
    if (k == key) return v;
  return "";
}

void ServerResponse::set_header(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
}

void ServerResponse::erase_header(std::string_view name) {
  headers.erase(std::remove_if(headers.begin(), headers.end(), [&](const auto& h) { return IEquals(h.first, name); }),
                headers.end());
}

bool ServerResponse::has_header(std::string_view name) const { return FindHeader(headers, name) != nullptr; }

std::string ServerResponse::get_header_value(std::string_view name) const {
  const std::string* v = FindHeader(headers, name);
  return v ? *v : "";
}

void ServerResponse::set_content(std::string content, std::string content_type) {
  body = std::move(content);
  content_length.reset();
  provider = nullptr;
  erase_header("Content-Type");
  set_header("Content-Type", std::move(content_type));
}

void ServerResponse::set_content_provider(uint64_t length, std::string content_type,
                                          std::function<bool(size_t, size_t, DataSink&)> fn) {
  body.clear();
  content_length = length;
  provider = std::move(fn);
  erase_header("Content-Type");
  set_header("Content-Type", std::move(content_type));
}

void ServerResponse::set_redirect(std::string location, int code) {
  erase_header("Location");
  set_header("Location", std::move(location));
  status = code;
}

const char* ReasonPhrase(int s) {
  switch (s) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    case 507:
      return "Insufficient Storage";
    default:
      return "Unknown";
  }
}

bool IsTokenChar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

}  // namespace modelreg::net
