#include "net/http_wire.h"

#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

namespace modelreg::net {
namespace {

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view Trim(std::string_view t) {
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  return t;
}

bool ContainsToken(std::string_view list, std::string_view token) {
  size_t i = 0;
  while (i < list.size()) {
    size_t j = list.find(',', i);
    if (j == std::string_view::npos) j = list.size();
    if (IEquals(Trim(list.substr(i, j - i)), token)) return true;
    i = j + 1;
  }
  return false;
}

Status Bad(const std::string& why) { return Status::InvalidArgument("malformed HTTP message: " + why); }

bool AllDigits(std::string_view t, bool hex) {
  if (t.empty() || t.size() > 16) return false;
  for (char c : t)
    if (!((c >= '0' && c <= '9') || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))))) return false;
  return true;
}

}  // namespace

Status DeclaredLength(const HttpHead& head, std::optional<uint64_t>* length) {
  length->reset();
  for (const auto& [k, v] : head.headers) {
    if (!IEquals(k, "Content-Length")) continue;
    std::string_view list = v;
    for (size_t i = 0; i <= list.size();) {
      size_t j = list.find(',', i);
      if (j == std::string_view::npos) j = list.size();
      const std::string_view t = Trim(list.substr(i, j - i));
      if (!AllDigits(t, false)) return Bad("bad Content-Length '" + std::string(v) + "'");
      const uint64_t n = std::strtoull(std::string(t).c_str(), nullptr, 10);
      if (*length && **length != n) return Bad("Content-Length given twice with different values");
      *length = n;
      i = j + 1;
    }
  }
  return Status::OK();
}

const std::string* FindHeader(const std::vector<std::pair<std::string, std::string>>& headers, std::string_view name) {
  for (const auto& [k, v] : headers)
    if (IEquals(k, name)) return &v;
  return nullptr;
}

std::string HttpHead::Get(std::string_view name) const {
  const std::string* v = FindHeader(headers, name);
  return v ? *v : "";
}

bool HttpHead::Has(std::string_view name) const { return FindHeader(headers, name) != nullptr; }

bool HttpHead::KeepAlive() const {
  const std::string c = Get("Connection");
  if (version == "HTTP/1.0") return ContainsToken(c, "keep-alive");
  return !ContainsToken(c, "close");
}

bool IsHopByHop(std::string_view n) {
  for (const char* h : {"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization",
                        "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length"})
    if (IEquals(n, h)) return true;
  return false;
}

Status ParseHead(std::string_view text, bool is_request, HttpHead* head) {
  *head = HttpHead{};
  size_t eol = text.find("\r\n");
  std::string_view start = text.substr(0, eol);
  size_t sp1 = start.find(' ');
  if (sp1 == std::string_view::npos) return Bad("no space in the start line");
  if (is_request) {
    size_t sp2 = start.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return Bad("request line is not METHOD TARGET VERSION");
    head->method = std::string(start.substr(0, sp1));
    head->target = std::string(start.substr(sp1 + 1, sp2 - sp1 - 1));
    head->version = std::string(start.substr(sp2 + 1));
    if (head->method.empty() || head->target.empty() || head->target.find(' ') != std::string::npos)
      return Bad("bad request line");
  } else {
    head->version = std::string(start.substr(0, sp1));
    std::string_view rest = start.substr(sp1 + 1);
    if (rest.size() < 3) return Bad("bad status line");
    char* end = nullptr;
    std::string code(rest.substr(0, 3));
    head->status = static_cast<int>(std::strtol(code.c_str(), &end, 10));
    if (*end || head->status < 100 || head->status > 999) return Bad("bad status code");
    head->reason = rest.size() > 4 ? std::string(rest.substr(4)) : "";
  }
  if (head->version != "HTTP/1.1" && head->version != "HTTP/1.0") return Bad("unsupported version " + head->version);
  size_t pos = eol == std::string_view::npos ? text.size() : eol + 2;
  while (pos < text.size()) {
    size_t e = text.find("\r\n", pos);
    if (e == std::string_view::npos) e = text.size();
    std::string_view line = text.substr(pos, e - pos);
    pos = e + 2;
    if (line.empty()) continue;
    if (line.front() == ' ' || line.front() == '\t') return Bad("obsolete line folding");
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return Bad("header without a name");
    std::string_view name = line.substr(0, colon), value = line.substr(colon + 1);
    if (name.find_first_of(" \t") != std::string_view::npos) return Bad("space in a header name");
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    head->headers.emplace_back(std::string(name), std::string(value));
  }
  return Status::OK();
}

Status Wire::Fill() {
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  char tmp[16 << 10];
  for (;;) {
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n > 0) {
      buf_.append(tmp, static_cast<size_t>(n));
      return Status::OK();
    }
    if (n == 0) return Status::NotFound("connection closed");
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return Status::NotFound("connection reset");
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Status::Unavailable("timed out");
    return Status::FromErrno("recv", errno);
  }
}

Status Wire::ReadHead(bool is_request, HttpHead* head) {
  size_t scanned = 0;  // bytes after pos_ already searched (Fill may move pos_)
  for (;;) {
    const size_t from = pos_ + (scanned > 3 ? scanned - 3 : 0);
    size_t end = buf_.find("\r\n\r\n", from);
    // A head ended by bare LFs would never see its CRLF CRLF: refuse it
    // rather than wait for the connection's timeout.
    if (const size_t lf = buf_.find("\n\n", from); lf != std::string::npos && lf < end)
      return Bad("header lines must end in CRLF, not a bare LF");
    if (end != std::string::npos) {
      std::string_view text(buf_.data() + pos_, end - pos_);
      // Tolerate blank lines before a request (RFC 9112 §2.2).
      while (is_request && text.substr(0, 2) == "\r\n") text.remove_prefix(2);
      Status st = ParseHead(text, is_request, head);
      pos_ = end + 4;
      return st;
    }
    if (buf_.size() - pos_ > kMaxHead) return Status::ResourceExhausted("HTTP head larger than 64 KiB");
    scanned = buf_.size() - pos_;
    const bool empty = scanned == 0;
    Status st = Fill();
    if (!st.ok()) {
      if (!empty) return Status::InvalidArgument("connection ended mid-head: " + st.message());
      return st;
    }
  }
}

Status Wire::ReadExactly(size_t n, std::string* out) {
  while (buf_.size() - pos_ < n) {
    size_t have = buf_.size() - pos_;
    out->append(buf_, pos_, have);
    n -= have;
    pos_ = buf_.size();
    Status st = Fill();
    if (!st.ok()) return Status::InvalidArgument("body cut off: " + st.message());
  }
  out->append(buf_, pos_, n);
  pos_ += n;
  return Status::OK();
}

Status Wire::ReadLine(std::string* line) {
  for (;;) {
    size_t e = buf_.find("\r\n", pos_);
    if (e != std::string::npos) {
      line->assign(buf_, pos_, e - pos_);
      pos_ = e + 2;
      return Status::OK();
    }
    if (buf_.size() - pos_ > 4096) return Bad("chunk line too long");
    Status st = Fill();
    if (!st.ok()) return Status::InvalidArgument("body cut off: " + st.message());
  }
}

Status Wire::ReadChunked(std::string* out) {
  for (;;) {
    std::string line;
    MR_RETURN_IF_ERROR(ReadLine(&line));
    const std::string_view digits = Trim(std::string_view(line).substr(0, line.find(';')));
    if (!AllDigits(digits, true)) return Bad("bad chunk size");
    const uint64_t size = std::strtoull(std::string(digits).c_str(), nullptr, 16);
    if (size == 0) {
      // Trailers (ignored) up to the blank line.
      do { MR_RETURN_IF_ERROR(ReadLine(&line)); } while (!line.empty());
      return Status::OK();
    }
    if (size > kMaxBody - out->size()) return Status::ResourceExhausted("body larger than 64 MiB");
    MR_RETURN_IF_ERROR(ReadExactly(static_cast<size_t>(size), out));
    MR_RETURN_IF_ERROR(ReadLine(&line));
    if (!line.empty()) return Bad("chunk not followed by CRLF");
  }
}

Status Wire::ReadBody(const HttpHead& head, bool is_request, const std::string& request_method, std::string* body,
                      bool* until_close) {
  body->clear();
  *until_close = false;
  if (!is_request && (request_method == "HEAD" || head.status < 200 || head.status == 204 || head.status == 304))
    return Status::OK();
  std::optional<uint64_t> length;
  MR_RETURN_IF_ERROR(DeclaredLength(head, &length));
  if (head.Has("Transfer-Encoding")) {
    // A request's framing must be unambiguous (the model server gets it
    // re-framed with Content-Length, so no other coding can pass): chunked
    // alone, and no Content-Length beside it (RFC 9112 §6.1, §6.3).
    if (is_request) {
      if (!IEquals(Trim(head.Get("Transfer-Encoding")), "chunked"))
        return Bad("Transfer-Encoding other than chunked: '" + head.Get("Transfer-Encoding") + "'");
      if (length) return Bad("both Transfer-Encoding and Content-Length");
      return ReadChunked(body);
    }
    if (ContainsToken(head.Get("Transfer-Encoding"), "chunked")) return ReadChunked(body);
  } else if (length) {
    if (*length > kMaxBody) return Status::ResourceExhausted("body larger than 64 MiB");
    return ReadExactly(static_cast<size_t>(*length), body);
  }
  if (is_request) return Status::OK();  // a request without a length has no body
  // A response without a length ends when the server closes.
  *until_close = true;
  for (;;) {
    body->append(buf_, pos_, std::string::npos);
    pos_ = buf_.size();
    if (body->size() > kMaxBody) return Status::ResourceExhausted("body larger than 64 MiB");
    Status st = Fill();
    if (st.code() == StatusCode::kNotFound) return Status::OK();
    MR_RETURN_IF_ERROR(st);
  }
}

Status Wire::Write(std::string_view head_bytes, std::string_view body) {
  iovec iov[2] = {{const_cast<char*>(head_bytes.data()), head_bytes.size()},
                  {const_cast<char*>(body.data()), body.size()}};
  int first = 0, count = body.empty() ? 1 : 2;
  while (first < count) {
    ssize_t n = ::writev(fd_, iov + first, count - first);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("send", errno);
    }
    size_t left = static_cast<size_t>(n);
    while (first < count && left >= iov[first].iov_len) left -= iov[first++].iov_len;
    if (first < count) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return Status::OK();
}

}  // namespace modelreg::net
