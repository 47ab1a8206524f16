// The registry's HTTP/1.1 server: every socket modelreg serves reads its
// requests through this one strict layer (RFC 9112; the checks are in
// net/http_request.h).
//
// Threads: one reactor (epoll) accepts connections and holds every
// connection that is between requests: just accepted, in keep-alive, or
// sending its head slowly. Only a connection whose request head has fully
// arrived is handed to one of `workers` threads, which reads the body as
// the handler asks, writes the answer, and hands the connection back. So a
// thousand clients that hold half a request line cost no worker and do not
// delay anyone else; they are closed (408) when `head_timeout_s` passes.
// The listen backlog is SOMAXCONN.
//
// Nothing unread is ever parsed as a request. When a handler answers
// before it read the whole body, the rest is read and dropped after the
// answer if it is at most `max_drain` bytes, else the answer says
// "Connection: close" and the connection is closed after a short
// lingering read (so that the client still reads the answer rather than a
// reset). A body whose framing failed (cut off, bad chunk), a request sent
// with "Expect: 100-continue" that was answered without its body, and every
// refusal of the server's own close the connection too. Pipelined requests
// are answered in order.
//
// Parked requests (long polls, docs/http.md): a handler may park a request
// whose body is complete instead of answering it (RequestBody::Park). The
// worker is free at once; the connection waits in the reactor, which reads
// nothing from it (requests pipelined behind it stay unread, and are served
// in order after its answer) and watches only for the client going away.
// The answer comes when ParkedRequest::Wake() is called (from any thread),
// when the park's deadline passes, or when the server stops: a worker then
// calls the park's `answer` with the request and the response the handler
// had started (its headers kept), writes it, and goes on with the
// connection as after any answer. If the client closes (or half-closes)
// the connection first, the park's `gone` is called instead (on the
// reactor thread, or in Stop/the destructor) and the connection is closed.
// Exactly one of `answer` and `gone` is called for each park.
//
// TLS (when `tls_cert` is set): OpenSSL, TLS 1.2 and up; the handshake runs
// in the reactor without blocking.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "net/chunked_decoder.h"
#include "net/http_request.h"
#include "net/socket_read.h"

namespace modelreg::net {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (Bind returns it)
  int workers = 64;
  int io_timeout_s = 60;        // a worker waiting to read or write
  int keep_alive_s = 30;        // between two requests
  int head_timeout_s = 10;      // from a head's first byte to its end
  int keep_alive_max = 100000;  // requests on one connection
  size_t max_connections = 16384;
  size_t max_parked = 16000;  // parked requests at once; Park() refuses past it
  uint64_t max_drain = 256ull << 20;
  std::string tls_cert, tls_key;
};

struct ServerConn;  // internal
class ParkedRequest;

// Fills the answer of a parked request (on a worker). May throw: 500, close.
using ParkAnswer = std::function<void(const ServerRequest& req, ServerResponse& res)>;

// The body of the request in hand, read as the handler asks (never before).
// A request sent with "Expect: 100-continue" gets its "100 Continue" on
// the first read.
class RequestBody {
 public:
  // The framing announces body bytes (Content-Length > 0, or chunked).
  bool present() const;
  const RequestFraming& framing() const { return framing_; }
  // Reads the rest of the body, handing each piece to `sink`. False if
  // `sink` returned false (stopped()), or the body was cut off, timed out or
  // malformed (failed(), error()).
  bool Read(const std::function<bool(const char*, size_t)>& sink);
  // Content-Length bodies: hands `sink` what has already arrived with the
  // head, then reads the rest straight into the buffers `space` lends
  // (net/socket_read.h), committing each read with `commit`. An error of
  // `space` or `commit` is returned as is (stopped()); a connection
  // failure is Unavailable (failed()).
  Status ReadDirect(const std::function<bool(const char*, size_t)>& sink, const LendFn& space, const CommitFn& commit);
  bool complete() const { return complete_; }
  bool failed() const { return failed_; }
  bool stopped() const { return stopped_; }
  const std::string& error() const { return error_; }
  uint64_t received() const { return received_; }  // body bytes read (decoded)

  // Parks the request (see the top of this file): the handler then returns
  // without answering, and `answer` or `gone` is called later. nullptr
  // (nothing parked: answer now) when the body is not complete, the server
  // is stopping, `max_parked` requests are parked already, or this request
  // was parked before.
  std::shared_ptr<ParkedRequest> Park(std::chrono::steady_clock::time_point deadline, ParkAnswer answer,
                                      std::function<void()> gone);
  bool parked() const { return park_ != nullptr; }

 private:
  friend class HttpServer;
  RequestBody(ServerConn* conn, RequestFraming framing, bool expect_continue, int timeout_ms);
  bool SendContinue();
  // Reads and drops the rest, at most `limit` more bytes; true if it ended.
  bool Drain(uint64_t limit);
  bool Fail(std::string why);

  ServerConn* conn_;
  RequestFraming framing_;
  bool expect_continue_;
  bool continue_sent_ = false;
  int timeout_ms_;
  ChunkedDecoder chunks_;
  uint64_t received_ = 0;
  bool complete_ = false, failed_ = false, stopped_ = false;
  std::string error_;
  std::shared_ptr<ParkedRequest> park_;
  std::function<std::shared_ptr<ParkedRequest>()> make_park_;  // set by the server
};

// The handle of a parked request.
class ParkedRequest {
 public:
  // Asks for the answer now (it is written by a worker soon after). Any
  // thread; false if the request was answered, asked for or dropped already.
  bool Wake();

 private:
  friend class HttpServer;
  friend class RequestBody;
  std::function<bool(ParkedRequest*)> wake_;  // the server's, holding it weakly
  ServerConn* conn_ = nullptr;
  std::chrono::steady_clock::time_point deadline_;
  ParkAnswer answer_;
  std::function<void()> gone_;
  ServerRequest req_;
  ServerResponse res_;
  bool keep_ = true, http10_ = false;
  bool woken_ = false, ended_ = false;  // guarded by the server's lock
};

// Serves one request: fills `res`. May throw: the server then answers 500
// and closes the connection (the api layer catches and logs before that).
using HttpHandler = std::function<void(ServerRequest& req, ServerResponse& res, RequestBody& body)>;
// Fills `res` for a refusal of the server's own (bad framing, limits, a head
// that never ended); `req` holds what could be parsed (maybe nothing).
using RefusalHandler = std::function<void(const ServerRequest& req, const HeadRefusal& why, ServerResponse& res)>;

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler, RefusalHandler refusal);
  ~HttpServer();
  // Loads TLS, listens; returns the port.
  Result<int> Bind();
  // Serves until Stop() ends it (from any thread), then returns when every
  // worker has finished.
  Status Run();
  // Stops accepting, closes idle connections at once, lets requests in
  // progress finish for up to `drain_s`, then cuts the rest (shutdown of
  // their sockets). Returns how many were cut.
  size_t Stop(double drain_s);
  // Requests being served now.
  size_t active() const;
  // Connections open now (idle, serving and parked).
  size_t connections() const;
  // Requests parked now (from Park() until answered or gone).
  size_t parked() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace modelreg::net
