// The proxy's data path: one thread per client connection, forwarding each
// request on that thread's keep-alive connection to the current model
// server and tagging and recording the answer (docs/agent.md).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/digest.h"
#include "core/records.h"
#include "core/request_id.h"
#include "core/utf8_text.h"
#include "net/http_wire.h"
#include "proxy_backend.h"
#include "spool.h"

namespace modelreg::agent {

using net::HttpHead;
using net::IsHopByHop;
using net::Wire;

namespace {

void TuneSocket(int fd, int timeout_s) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{timeout_s, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    TuneSocket(fd, 60);
    return fd;
  }
  if (fd >= 0) ::close(fd);
  return -1;
}

std::string ErrorBody(const char* code, const std::string& message) {
  return nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
}

// The request as sent to the model server: hop-by-hop headers dropped, the
// request id set, the body re-framed with Content-Length.
std::string BackendRequest(const HttpHead& req, const std::string& rid, size_t body_size) {
  std::string out = req.method + " " + req.target + " HTTP/1.1\r\n";
  // Expect: 100-continue was answered to the client (the body comes whole).
  for (const auto& [k, v] : req.headers)
    if (!IsHopByHop(k) && strcasecmp(k.c_str(), "X-Request-Id") != 0 && strcasecmp(k.c_str(), "Expect") != 0)
      out += k + ": " + v + "\r\n";
  out += "X-Request-Id: " + rid + "\r\n";
  if (body_size > 0 || req.Has("Content-Length") || req.Has("Transfer-Encoding"))
    out += "Content-Length: " + std::to_string(body_size) + "\r\n";
  out += "\r\n";
  return out;
}

}  // namespace

// One client connection: requests in order, each forwarded on this
// thread's keep-alive connection to the current model server.
void Proxy::ServeConnection(int fd) {
  TuneSocket(fd, 60);  // a keep-alive client idle this long is let go
  Wire client(fd);
  int backend_fd = -1, backend_port = 0;
  auto drop_backend = [&] {
    if (backend_fd >= 0) ::close(backend_fd);
    backend_fd = -1;
  };
  HttpHead req;
  std::string body;
  while (!stopping_) {
    SetServing(fd, false);
    Status st = client.ReadHead(true, &req);
    if (st.code() == StatusCode::kNotFound || st.code() == StatusCode::kUnavailable) break;  // closed or idle
    SetServing(fd, true);
    const std::string rid = RequestIdOrNew(st.ok() ? req.Get("X-Request-Id") : "");
    auto reply = [&](int status, const std::string& reason, const std::string& extra, std::string_view payload,
                     bool keep) {
      std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n" + extra +
                         "X-Request-Id: " + rid + "\r\nContent-Length: " + std::to_string(payload.size()) + "\r\n" +
                         (keep ? "" : "Connection: close\r\n") + "\r\n";
      return client.Write(head, payload).ok() && keep;
    };
    bool until_close = false;
    if (st.ok() && req.Has("Expect")) {
      // A client that waits for "100 Continue" before its body (curl does
      // for bodies over 1 MiB) gets it here; the model server gets the body
      // with the request and no Expect. Any other expectation: 417.
      if (strcasecmp(req.Get("Expect").c_str(), "100-continue") != 0) {
        reply(417, "Expectation Failed", "Content-Type: application/json\r\n",
              ErrorBody("INVALID_ARGUMENT", "only 'Expect: 100-continue' is understood"), false);
        break;
      }
      // Not for a body that will be refused anyway (ReadBody answers why).
      std::optional<uint64_t> length;
      const bool acceptable = net::DeclaredLength(req, &length).ok() && length.value_or(0) <= net::kMaxBody;
      if (acceptable && req.version == "HTTP/1.1" && !client.HasBuffered())
        st = client.Write("HTTP/1.1 100 Continue\r\n\r\n", {});
    }
    if (st.ok()) st = client.ReadBody(req, true, "", &body, &until_close);
    if (!st.ok()) {  // malformed or oversized: say so and close
      const bool big = st.code() == StatusCode::kResourceExhausted;
      reply(big ? 413 : 400, big ? "Payload Too Large" : "Bad Request", "Content-Type: application/json\r\n",
            ErrorBody(big ? "RESOURCE_EXHAUSTED" : "INVALID_ARGUMENT", st.message()), false);
      break;
    }
    const bool keep = req.KeepAlive() && !stopping_;  // a stopping proxy answers, then closes
    std::shared_ptr<Backend> b;
    {
      std::lock_guard<std::mutex> l(mu_);
      b = current_;
      if (b && !b->dead) ++b->inflight;  // under mu_: a drain cannot miss it
    }
    if (!b || b->dead) {
      if (!reply(503, "Service Unavailable", "Retry-After: 1\r\nContent-Type: application/json\r\n",
                 ErrorBody("UNAVAILABLE", "no model server is up; retry shortly"), keep))
        break;
      continue;
    }
    if (backend_port != b->port) drop_backend();
    // Send, then read the answer. A kept-alive backend connection may have
    // been closed by the model server meanwhile: then, and only when not a
    // byte of an answer came, retry once on a new connection.
    const std::string out = BackendRequest(req, rid, body.size());
    HttpHead resp;
    std::string resp_body;
    bool ok = false, resp_until_close = false;
    for (int attempt = 0; attempt < 2 && !ok; ++attempt) {
      const bool reused = backend_fd >= 0;
      if (backend_fd < 0) {
        backend_fd = ConnectLoopback(b->port);
        backend_port = b->port;
      }
      if (backend_fd < 0) break;
      Wire backend(backend_fd);
      Status sent = backend.Write(out, body);
      Status got = sent.ok() ? backend.ReadHead(false, &resp) : sent;
      // Interim answers (100 Continue, 103 Early Hints) come before the
      // real one: skip them (RFC 9110 §15.2).
      while (got.ok() && resp.status >= 100 && resp.status < 200 && resp.status != 101)
        got = backend.ReadHead(false, &resp);
      if (got.ok()) got = backend.ReadBody(resp, false, req.method, &resp_body, &resp_until_close);
      if (got.ok()) {
        ok = true;
        if (resp_until_close || !resp.KeepAlive() || backend.HasBuffered()) drop_backend();
        break;
      }
      drop_backend();
      if (!reused || (sent.ok() && got.code() != StatusCode::kNotFound)) break;
    }
    if (!ok) {
      --b->inflight;
      if (!reply(503, "Service Unavailable", "Content-Type: application/json\r\n",
                 ErrorBody("UNAVAILABLE", "the model server did not answer"), keep))
        break;
      continue;
    }
    std::string head = "HTTP/1.1 " + std::to_string(resp.status) + " " + resp.reason + "\r\n";
    for (const auto& [k, v] : resp.headers)
      if (!IsHopByHop(k) && strcasecmp(k.c_str(), "X-Request-Id") != 0 && strncasecmp(k.c_str(), "X-Model-", 8) != 0)
        head += k + ": " + v + "\r\n";
    head += "X-Request-Id: " + rid + "\r\nX-Model-Version: " + std::to_string(b->version.version) +
            "\r\nX-Model-Digest: " + b->version.digest + "\r\n";
    if (req.method == "HEAD" && resp.Has("Content-Length")) head += "Content-Length: " + resp.Get("Content-Length") + "\r\n";
    else if (resp.status >= 200 && resp.status != 204 && resp.status != 304)
      head += "Content-Length: " + std::to_string(resp_body.size()) + "\r\n";
    if (!keep) head += "Connection: close\r\n";
    head += "\r\n";
    if (spool_) {
      // Spooled before the response leaves: nothing answered goes unrecorded.
      nlohmann::json d = {{"request_id", rid},
                          {"model", o_.model},
                          {"version", b->version.version},
                          {"digest", b->version.digest},
                          {"agent_id", o_.id},
                          {"at_ms", NowMs()},
                          {"input_sha256", Digest::Of(body).hex()}};
      // Cut at a character, after replacing bytes that are not UTF-8: the
      // registry refuses an output over its limit (and with it the batch).
      if (o_.record_output) d["output"] = Utf8Prefix(resp_body, kMaxDecisionOutputBytes);
      spool_->Append(d.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    --b->inflight;
    if (!client.Write(head, req.method == "HEAD" ? std::string_view() : std::string_view(resp_body)).ok() || !keep)
      break;
  }
  drop_backend();
}


}  // namespace modelreg::agent
