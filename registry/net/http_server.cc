#include "net/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "net/address.h"

namespace modelreg::net {

using Clock = std::chrono::steady_clock;

struct ServerConn {
  int fd = -1;
  SSL* ssl = nullptr;
  bool handshaken = false;
  std::string in;  // received and not yet consumed, from `pos`
  size_t pos = 0;
  std::string peer_ip;
  int peer_port = 0;
  Clock::time_point deadline;
  bool head_started = false;  // a byte of the next head has arrived
  int served = 0;
  // Answered and half-closed: what the client still sends is read and
  // dropped (by the reactor) until it closes, or the time or byte bound.
  bool lingering = false;
  uint64_t lingered = 0;
  // The request parked on this connection (net/http_server.h), until it
  // is answered or the client goes.
  std::shared_ptr<ParkedRequest> park;

  size_t buffered() const { return in.size() - pos; }
  void Compact() {
    if (pos == 0) return;
    in.erase(0, pos);
    pos = 0;
  }
};

namespace {

enum class HeadScan { kIncomplete, kComplete, kTooLarge, kBareLf, kNotHttp };

// Whether a whole request head is buffered from `pos` (blank lines before
// it are skipped, RFC 9112 §2.2). *start and *end bound its text.
HeadScan ScanHead(const ServerConn& c, size_t* start, size_t* end) {
  size_t p = c.pos;
  while (c.in.size() - p >= 2 && c.in[p] == '\r' && c.in[p + 1] == '\n') p += 2;
  // A request starts with its method: a first byte that cannot start one
  // (a TLS handshake sent to a plain-HTTP port, 0x16) is refused at once,
  // so the client learns now rather than when the head timeout passes.
  if (c.in.size() > p && c.in[p] != '\r' && !IsTokenChar(static_cast<unsigned char>(c.in[p])))
    return HeadScan::kNotHttp;
  const size_t e = c.in.find("\r\n\r\n", p);
  const size_t lf = c.in.find("\n\n", p);
  if (lf != std::string::npos && (e == std::string::npos || lf < e)) return HeadScan::kBareLf;
  if (e == std::string::npos) {
    if (c.in.size() - p > kMaxHead) return HeadScan::kTooLarge;
    return HeadScan::kIncomplete;
  }
  if (e - p > kMaxHead) return HeadScan::kTooLarge;
  *start = p;
  *end = e;
  return HeadScan::kComplete;
}

// One non-blocking read: > 0 bytes, 0 the peer closed, -1 nothing now
// (wait for POLLIN), -2 (TLS) wait for POLLOUT, -3 an error.
ssize_t RecvSome(ServerConn& c, char* buf, size_t n) {
  if (!c.ssl) {
    for (;;) {
      ssize_t r = ::recv(c.fd, buf, n, 0);
      if (r >= 0) return r;
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK ? -1 : -3;
    }
  }
  size_t got = 0;
  ERR_clear_error();
  if (SSL_read_ex(c.ssl, buf, n, &got) == 1) return static_cast<ssize_t>(got);
  switch (SSL_get_error(c.ssl, 0)) {
    case SSL_ERROR_WANT_READ:
      return -1;
    case SSL_ERROR_WANT_WRITE:
      return -2;
    case SSL_ERROR_ZERO_RETURN:
      return 0;
    default:
      ERR_clear_error();
      return -3;
  }
}

bool WaitFd(int fd, short events, int timeout_ms) {
  for (;;) {
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, timeout_ms);
    if (r > 0) return true;
    if (r < 0 && errno == EINTR) continue;
    return false;
  }
}

// Reads at least one byte into c.in (blocking up to `timeout_ms`).
Status RecvMore(ServerConn& c, int timeout_ms) {
  if (c.pos == c.in.size()) {
    c.in.clear();
    c.pos = 0;
  }
  char buf[64 << 10];
  for (;;) {
    ssize_t r = RecvSome(c, buf, sizeof buf);
    if (r > 0) {
      c.in.append(buf, static_cast<size_t>(r));
      return Status::OK();
    }
    if (r == 0) return Status::Unavailable("the client closed the connection");
    if (r == -3) return Status::Unavailable("the connection failed");
    if (!WaitFd(c.fd, r == -2 ? POLLOUT : POLLIN, timeout_ms))
      return Status::Unavailable("no data for " + std::to_string(timeout_ms / 1000) + " s");
  }
}

bool SendAll(ServerConn& c, const char* data, size_t n, int timeout_ms) {
  while (n > 0) {
    if (c.ssl) {
      size_t done = 0;
      ERR_clear_error();
      if (SSL_write_ex(c.ssl, data, n, &done) == 1) {
        data += done;
        n -= done;
        continue;
      }
      const int e = SSL_get_error(c.ssl, 0);
      ERR_clear_error();
      if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) return false;
      if (!WaitFd(c.fd, e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, timeout_ms)) return false;
      continue;
    }
    ssize_t r = ::send(c.fd, data, n, MSG_NOSIGNAL);
    if (r > 0) {
      data += r;
      n -= static_cast<size_t>(r);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!WaitFd(c.fd, POLLOUT, timeout_ms)) return false;
      continue;
    }
    return false;
  }
  return true;
}

// Plain TCP only: `n` bytes of `fd` from `offset` with sendfile(2).
bool SendFileAll(ServerConn& c, int fd, uint64_t offset, size_t n, int timeout_ms) {
  off_t off = static_cast<off_t>(offset);
  while (n > 0) {
    ssize_t r = ::sendfile(c.fd, fd, &off, n);
    if (r > 0) {
      n -= static_cast<size_t>(r);
      continue;
    }
    if (r == 0) return false;  // the file ended early
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!WaitFd(c.fd, POLLOUT, timeout_ms)) return false;
      continue;
    }
    return false;
  }
  return true;
}

std::string HttpDate() {
  char buf[64];
  std::time_t t = std::time(nullptr);
  std::tm tm;
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

// ---- RequestBody ----

RequestBody::RequestBody(ServerConn* conn, RequestFraming framing, bool expect_continue, int timeout_ms)
    : conn_(conn), framing_(framing), expect_continue_(expect_continue), timeout_ms_(timeout_ms) {
  complete_ = !present();
}

bool RequestBody::present() const {
  return framing_.kind == RequestFraming::kChunked || (framing_.kind == RequestFraming::kLength && framing_.length > 0);
}

bool RequestBody::Fail(std::string why) {
  failed_ = true;
  error_ = std::move(why);
  return false;
}

bool RequestBody::SendContinue() {
  if (!expect_continue_ || continue_sent_) return true;
  continue_sent_ = true;
  static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
  if (!SendAll(*conn_, kContinue, sizeof kContinue - 1, timeout_ms_)) return Fail("the connection failed");
  return true;
}

bool RequestBody::Read(const std::function<bool(const char*, size_t)>& sink) {
  if (complete_) return true;
  if (failed_) return false;
  if (stopped_) return false;
  if (!SendContinue()) return false;
  ServerConn& c = *conn_;
  for (;;) {
    if (c.buffered() == 0) {
      Status st = RecvMore(c, timeout_ms_);
      if (!st.ok())
        return Fail("request body was cut off after " + std::to_string(received_) + " bytes: " + st.message());
    }
    const std::string_view avail(c.in.data() + c.pos, c.buffered());
    if (framing_.kind == RequestFraming::kLength) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(framing_.length - received_, avail.size()));
      c.pos += n;
      received_ += n;
      complete_ = received_ == framing_.length;
      if (!sink(avail.data(), n)) {
        stopped_ = !complete_;
        return false;
      }
      if (complete_) return true;
    } else {
      size_t used = 0;
      bool go_on = true;
      Status st = chunks_.Feed(avail, &used, [&](const char* d, size_t n) {
        received_ += n;
        return go_on = sink(d, n);
      });
      c.pos += used;
      if (!st.ok()) return Fail(st.message());
      complete_ = chunks_.done();
      if (!go_on) {
        stopped_ = !complete_;
        return false;
      }
      if (complete_) return true;
    }
  }
}

Status RequestBody::ReadDirect(const std::function<bool(const char*, size_t)>& sink, const LendFn& space,
                               const CommitFn& commit) {
  if (framing_.kind != RequestFraming::kLength) {
    bool ok = Read(sink);
    if (ok) return Status::OK();
    return failed_ ? Status::Unavailable(error_) : Status::Aborted("stopped by the reader");
  }
  if (complete_) return Status::OK();
  if (failed_) return Status::Unavailable(error_);
  if (!SendContinue()) return Status::Unavailable(error_);
  ServerConn& c = *conn_;
  if (c.buffered() > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(framing_.length - received_, c.buffered()));
    const char* d = c.in.data() + c.pos;
    c.pos += n;
    received_ += n;
    complete_ = received_ == framing_.length;
    if (!sink(d, n)) {
      stopped_ = !complete_;
      return Status::Aborted("stopped by the reader");
    }
    if (complete_) return Status::OK();
  }
  bool stopped = false;
  Status st = ReadConnectionInto(
      Connection{c.fd, c.ssl}, framing_.length - received_, timeout_ms_,
      [&] {
        auto s = space();
        stopped = !s.ok();
        return s;
      },
      [&](size_t n) {
        received_ += n;
        Status s = commit(n);
        stopped = !s.ok();
        return s;
      });
  complete_ = received_ == framing_.length;
  if (stopped) {
    stopped_ = !complete_;
    return st;
  }
  if (!st.ok()) {
    Fail("request body was cut off after " + std::to_string(received_) + " bytes: " + st.message());
    return Status::Unavailable(error_);
  }
  return Status::OK();
}

std::shared_ptr<ParkedRequest> RequestBody::Park(std::chrono::steady_clock::time_point deadline, ParkAnswer answer,
                                                 std::function<void()> gone) {
  if (park_ || !complete_ || failed_ || !make_park_) return nullptr;
  auto p = make_park_();
  if (!p) return nullptr;
  p->deadline_ = deadline;
  p->answer_ = std::move(answer);
  p->gone_ = std::move(gone);
  park_ = p;
  return p;
}

bool ParkedRequest::Wake() { return wake_ && wake_(this); }

bool RequestBody::Drain(uint64_t limit) {
  if (complete_) return true;
  if (failed_) return false;
  stopped_ = false;
  const uint64_t start = received_;
  bool over = false;
  Read([&](const char*, size_t) {
    if (received_ - start > limit) over = true;
    return !over;
  });
  return complete_ && !over;
}

// ---- the server ----

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  HttpServerOptions opts;
  HttpHandler handler;
  RefusalHandler refusal;
  SSL_CTX* tls = nullptr;
  int listen_fd = -1;
  int ep = -1;
  int wake_fd = -1;
  int port = 0;

  mutable std::mutex mu;
  std::unordered_set<ServerConn*> idle;    // the reactor's (guarded by mu)
  std::unordered_set<ServerConn*> busy;    // a worker's (guarded by mu)
  std::deque<ServerConn*> queue;           // waiting for a worker (counted in busy)
  std::unordered_set<ServerConn*> parked;  // a parked request waits (guarded by mu)
  std::atomic<size_t> parked_count{0};     // from Park() to answered or gone
  std::condition_variable work_cv;
  std::atomic<size_t> serving{0};
  std::atomic<bool> stopping{false};
  std::atomic<bool> done{false};
  bool listener_paused = false;  // reactor only
  std::vector<std::thread> workers;

  static constexpr char kListenTag = 0, kWakeTag = 0;

  ~Impl() {
    if (listen_fd >= 0) ::close(listen_fd);
    if (ep >= 0) ::close(ep);
    if (wake_fd >= 0) ::close(wake_fd);
    for (ServerConn* c : idle) Close(c);
    std::vector<ServerConn*> left(parked.begin(), parked.end());
    parked.clear();
    for (ServerConn* c : left) DropParked(c);
    if (tls) SSL_CTX_free(tls);
  }

  // ---- parked requests ----

  // Makes the park of the request `c` is serving (RequestBody::Park).
  std::shared_ptr<ParkedRequest> MakePark(ServerConn* c) {
    if (stopping) return nullptr;
    if (parked_count.fetch_add(1) >= opts.max_parked) {
      parked_count.fetch_sub(1);
      return nullptr;
    }
    auto p = std::make_shared<ParkedRequest>();
    p->conn_ = c;
    std::weak_ptr<Impl> weak = shared_from_this();
    p->wake_ = [weak](ParkedRequest* pr) {
      auto im = weak.lock();
      return im && im->WakeParked(pr);
    };
    return p;
  }

  // Queues the answer of a parked request (any thread).
  bool WakeParked(ParkedRequest* p) {
    {
      std::lock_guard<std::mutex> l(mu);
      if (p->woken_ || p->ended_) return false;
      p->woken_ = true;
      ServerConn* c = p->conn_;
      // Not parked yet: the worker that parks it sees woken_ and queues it.
      if (!parked.erase(c)) return true;
      epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, nullptr);
      busy.insert(c);
      queue.push_back(c);
    }
    work_cv.notify_one();
    return true;
  }

  // After the worker's handler parked the request of `c`: the reactor
  // watches the connection for the client's going (only), unless the
  // answer was asked for already.
  void Park(ServerConn* c) {
    bool now = false;
    {
      std::lock_guard<std::mutex> l(mu);
      ParkedRequest& p = *c->park;
      now = p.woken_ || stopping;
      if (!now) {
        epoll_event ev{};
        ev.events = EPOLLRDHUP;  // not EPOLLIN: what is pipelined stays unread
        ev.data.ptr = c;
        now = epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0;
      }
      if (now) {
        p.woken_ = true;
        queue.push_back(c);  // still in busy
      } else {
        busy.erase(c);
        parked.insert(c);
        c->deadline = p.deadline_;
      }
    }
    if (now) work_cv.notify_one();
  }

  // The client of a parked request went away (or the server ends): `gone`,
  // and the connection is closed. `c` is out of every set already.
  void DropParked(ServerConn* c) {
    std::shared_ptr<ParkedRequest> p = std::move(c->park);
    if (p) {
      {
        std::lock_guard<std::mutex> l(mu);
        p->ended_ = true;
      }
      try {
        if (p->gone_) p->gone_();
      } catch (...) {}
      parked_count.fetch_sub(1);
    }
    Close(c);
  }

  // Queues the answers of parked requests whose deadline passed (all of
  // them when stopping). Under mu.
  // Queues the parked requests whose time is up; returns how many.
  size_t WakeLateParked(Clock::time_point now) {
    std::vector<ServerConn*> late;
    for (ServerConn* c : parked)
      if (stopping || now >= c->deadline) late.push_back(c);
    for (ServerConn* c : late) {
      parked.erase(c);
      epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, nullptr);
      c->park->woken_ = true;
      busy.insert(c);
      queue.push_back(c);
    }
    return late.size();
  }

  void Close(ServerConn* c) {
    if (c->ssl) SSL_free(c->ssl);
    if (c->fd >= 0) ::close(c->fd);
    delete c;
  }

  void Wake() {
    uint64_t one = 1;
    (void)!::write(wake_fd, &one, sizeof one);
  }

  // ---- reactor ----

  void Accept() {
    for (;;) {
      sockaddr_storage peer{};
      socklen_t len = sizeof peer;
      int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors: stop taking connections for a tick
          // (level-triggered, the listener would spin).
          epoll_event ev{};
          ev.data.ptr = const_cast<char*>(&kListenTag);
          epoll_ctl(ep, EPOLL_CTL_MOD, listen_fd, &ev);
          listener_paused = true;
        }
        return;
      }
      {
        std::lock_guard<std::mutex> l(mu);
        if (idle.size() + busy.size() + parked.size() >= opts.max_connections) {
          ::close(fd);
          continue;
        }
      }
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto* c = new ServerConn;
      c->fd = fd;
      char ip[INET6_ADDRSTRLEN] = {};
      if (peer.ss_family == AF_INET) {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&peer);
        inet_ntop(AF_INET, &v4->sin_addr, ip, sizeof ip);
        c->peer_port = ntohs(v4->sin_port);
      } else if (peer.ss_family == AF_INET6) {
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&peer);
        inet_ntop(AF_INET6, &v6->sin6_addr, ip, sizeof ip);
        c->peer_port = ntohs(v6->sin6_port);
      }
      c->peer_ip = ip;
      if (tls) {
        c->ssl = SSL_new(tls);
        if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
          Close(c);
          continue;
        }
        SSL_set_accept_state(c->ssl);
      }
      // The whole handshake and first head must come within the head timeout.
      c->deadline = Clock::now() + std::chrono::seconds(opts.head_timeout_s);
      c->head_started = true;
      Watch(c, EPOLLIN);
    }
  }

  // Puts `c` in the reactor's care.
  void Watch(ServerConn* c, uint32_t events) {
    std::lock_guard<std::mutex> l(mu);
    idle.insert(c);
    epoll_event ev{};
    ev.events = events | EPOLLRDHUP;
    ev.data.ptr = c;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
      idle.erase(c);
      Close(c);
    }
  }

  // Takes `c` out of the reactor (under mu); false if it is not there.
  bool Unwatch(ServerConn* c) {
    if (!idle.erase(c)) return false;
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, nullptr);
    return true;
  }

  void CloseIdle(ServerConn* c) {
    {
      std::lock_guard<std::mutex> l(mu);
      if (!Unwatch(c)) return;
    }
    Close(c);
  }

  void HandOff(ServerConn* c) {
    {
      std::lock_guard<std::mutex> l(mu);
      if (!Unwatch(c)) return;
      busy.insert(c);
      queue.push_back(c);
    }
    work_cv.notify_one();
  }

  void OnEvent(ServerConn* c, uint32_t events) {
    {
      std::lock_guard<std::mutex> l(mu);
      if (parked.count(c)) {
        // Only the client's going is watched; an EPOLLIN alone is an old
        // event from before the connection was handed off.
        if (!(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) return;
        parked.erase(c);
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, nullptr);
      } else if (!idle.count(c)) {
        return;  // an old event of a connection handed off since
      }
    }
    if (c->park) {
      DropParked(c);
      return;
    }
    if (c->lingering) {
      OnLingerEvent(c);
      return;
    }
    if (c->ssl && !c->handshaken) {
      ERR_clear_error();
      int r = SSL_accept(c->ssl);
      if (r != 1) {
        int e = SSL_get_error(c->ssl, r);
        ERR_clear_error();
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
          epoll_event ev{};
          ev.events = (e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT) | EPOLLRDHUP;
          ev.data.ptr = c;
          epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
          return;
        }
        CloseIdle(c);  // a failed handshake: nothing to answer in HTTP
        return;
      }
      c->handshaken = true;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.ptr = c;
      epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    }
    char buf[16 << 10];
    for (;;) {
      ssize_t r = RecvSome(*c, buf, sizeof buf);
      if (r > 0) {
        if (!c->head_started) {
          c->head_started = true;
          c->deadline = Clock::now() + std::chrono::seconds(opts.head_timeout_s);
        }
        c->in.append(buf, static_cast<size_t>(r));
        if (c->buffered() > kMaxHead + 4) break;
        continue;
      }
      if (r == 0 || r == -3) {  // closed or failed: if it left a whole head, answer it anyway
        size_t s, e;
        if (ScanHead(*c, &s, &e) == HeadScan::kIncomplete) {
          CloseIdle(c);
          return;
        }
      }
      break;
    }
    (void)events;
    size_t s, e;
    if (ScanHead(*c, &s, &e) != HeadScan::kIncomplete) HandOff(c);
  }

  // Closes connections whose time is up: 408 for a head begun and not
  // ended, silently for an idle keep-alive.
  void Expire() {
    const auto now = Clock::now();
    std::vector<ServerConn*> late;
    size_t queued = 0;
    {
      std::lock_guard<std::mutex> l(mu);
      for (ServerConn* c : idle)
        if (now >= c->deadline) late.push_back(c);
      for (ServerConn* c : late) Unwatch(c);
      for (ServerConn* c : late)
        if (!c->lingering && c->buffered() > 0) {  // a head begun: say why (a worker writes it)
          busy.insert(c);
          queue.push_back(c);
          ++queued;
        }
    }
    for (ServerConn* c : late)
      if (c->lingering || c->buffered() == 0) Close(c);
    {
      std::lock_guard<std::mutex> l(mu);
      queued += WakeLateParked(now);
    }
    // Only when something was queued: this runs every 100 ms, and waking
    // every idle worker each time (64 by default) was ~640 context switches
    // a second on an idle server, each one able to delay a request's thread
    // on a small machine (bench/README.md "Agent proxy").
    if (queued == 1) work_cv.notify_one();
    if (queued > 1) work_cv.notify_all();
    if (listener_paused) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = const_cast<char*>(&kListenTag);
      epoll_ctl(ep, EPOLL_CTL_MOD, listen_fd, &ev);
      listener_paused = false;
    }
  }

  void CloseAllIdle() {
    std::vector<ServerConn*> all;
    {
      std::lock_guard<std::mutex> l(mu);
      all.assign(idle.begin(), idle.end());
      for (ServerConn* c : all) Unwatch(c);
      WakeLateParked(Clock::now());  // stopping: every parked request is answered now
    }
    work_cv.notify_all();
    for (ServerConn* c : all) Close(c);
  }

  // The reactor's end: parked requests not answered by now are dropped.
  void DropAllParked() {
    std::vector<ServerConn*> all;
    {
      std::lock_guard<std::mutex> l(mu);
      all.assign(parked.begin(), parked.end());
      for (ServerConn* c : all) epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, nullptr);
      parked.clear();
    }
    for (ServerConn* c : all) DropParked(c);
  }

  void Reactor() {
    epoll_event evs[256];
    auto next_expire = Clock::now();
    bool closed_listener = false;
    while (!done) {
      int n = epoll_wait(ep, evs, 256, 100);
      if (stopping && !closed_listener) {
        epoll_ctl(ep, EPOLL_CTL_DEL, listen_fd, nullptr);
        ::close(listen_fd);
        listen_fd = -1;
        closed_listener = true;
      }
      for (int i = 0; i < n; ++i) {
        void* p = evs[i].data.ptr;
        if (p == &kWakeTag) {
          uint64_t v;
          (void)!::read(wake_fd, &v, sizeof v);
        } else if (p == &kListenTag) {
          if (!stopping) Accept();
        } else {
          OnEvent(static_cast<ServerConn*>(p), evs[i].events);
        }
      }
      if (stopping) CloseAllIdle();
      if (Clock::now() >= next_expire) {
        Expire();
        next_expire = Clock::now() + std::chrono::milliseconds(100);
      }
    }
    CloseAllIdle();
    DropAllParked();
  }

  // ---- workers ----

  void Worker() {
    for (;;) {
      ServerConn* c = nullptr;
      {
        std::unique_lock<std::mutex> l(mu);
        work_cv.wait(l, [&] { return done || !queue.empty(); });
        if (queue.empty()) return;
        c = queue.front();
        queue.pop_front();
      }
      const Served served = Serve(c);
      if (served == Served::kParked) {
        Park(c);  // the reactor's, or queued again: not touched here any more
        continue;
      }
      const bool keep = served == Served::kKeep;
      {
        std::lock_guard<std::mutex> l(mu);
        busy.erase(c);
      }
      if (c->lingering && !stopping) {
        StartLinger(c);
        continue;
      }
      if (!keep || stopping) {
        Close(c);
        continue;
      }
      // Serve returned with no whole head buffered; a part of one stays in
      // c->in, and the reactor adds to it (bytes already in the socket wake
      // epoll at once). `c` is the reactor's from here on: not touched again.
      c->deadline = Clock::now() + std::chrono::seconds(c->head_started ? opts.head_timeout_s : opts.keep_alive_s);
      Watch(c, EPOLLIN);
    }
  }

  // Writes a refusal of the server's own; the connection then lingers.
  void Refuse(ServerConn* c, const ServerRequest& req, int status, const std::string& message) {
    ServerResponse res;
    res.status = status;
    refusal(req, HeadRefusal{status, message}, res);
    WriteResponse(c, req, res, false, false);
    c->lingering = true;
  }

  // Half-closes `c` and gives it to the reactor, which reads and drops what
  // the client still sends (for up to kLingerTime and kLingerBytes), so that
  // a client that writes its whole body before it reads (most do) reads our
  // answer instead of a reset caused by unread bytes. No worker waits.
  static constexpr auto kLingerTime = std::chrono::seconds(5);
  static constexpr uint64_t kLingerBytes = 4ull << 30;
  void StartLinger(ServerConn* c) {
    if (c->ssl) SSL_shutdown(c->ssl);
    ::shutdown(c->fd, SHUT_WR);
    c->lingering = true;
    c->lingered = 0;
    c->deadline = Clock::now() + kLingerTime;
    Watch(c, EPOLLIN);
  }

  void OnLingerEvent(ServerConn* c) {
    char buf[64 << 10];
    for (;;) {
      ssize_t r = ::recv(c->fd, buf, sizeof buf, 0);
      if (r > 0) {
        c->lingered += static_cast<uint64_t>(r);
        if (c->lingered > kLingerBytes) break;
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      break;  // closed or failed
    }
    CloseIdle(c);
  }

  bool WriteResponse(ServerConn* c, const ServerRequest& req, ServerResponse& res, bool keep, bool http10) {
    const int timeout_ms = opts.io_timeout_s * 1000;
    const bool no_body = res.status < 200 || res.status == 204 || res.status == 304;
    const uint64_t length = res.provider ? res.content_length.value_or(0) : res.body.size();
    std::string head = "HTTP/1.1 " + std::to_string(res.status) + " " + ReasonPhrase(res.status) + "\r\n";
    for (const auto& [k, v] : res.headers) {
      if (IEquals(k, "Content-Length") || IEquals(k, "Transfer-Encoding") || IEquals(k, "Connection")) continue;
      // A value is never allowed to end the field early.
      std::string value = v;
      for (char& ch : value)
        if (ch == '\r' || ch == '\n' || ch == '\0') ch = ' ';
      head += k + ": " + value + "\r\n";
    }
    if (!no_body) head += "Content-Length: " + std::to_string(length) + "\r\n";
    // A 304 has no body; clients that do not know it (cpp-httplib 0.11)
    // would read one until the connection closes without this.
    if (res.status == 304) head += "Content-Length: 0\r\n";
    if (!keep) head += "Connection: close\r\n";
    else if (http10) head += "Connection: keep-alive\r\n";
    head += "Date: " + HttpDate() + "\r\n\r\n";
    const bool send_body = !no_body && req.method != "HEAD";
    if (!send_body || res.provider) {
      if (!SendAll(*c, head.data(), head.size(), timeout_ms)) return false;
    } else if (res.body.size() <= (64 << 10)) {
      head += res.body;
      return SendAll(*c, head.data(), head.size(), timeout_ms);
    } else {
      return SendAll(*c, head.data(), head.size(), timeout_ms) &&
             SendAll(*c, res.body.data(), res.body.size(), timeout_ms);
    }
    if (!send_body) return true;
    uint64_t offset = 0;
    bool sink_ok = true;
    DataSink sink;
    sink.write = [&](const char* d, size_t n) {
      if (!sink_ok) return false;
      n = static_cast<size_t>(std::min<uint64_t>(n, length - offset));
      sink_ok = SendAll(*c, d, n, timeout_ms);
      if (sink_ok) offset += n;
      return sink_ok;
    };
    if (!c->ssl)
      sink.send_file = [&](int fd, uint64_t file_offset, size_t n) {
        if (!sink_ok) return false;
        n = static_cast<size_t>(std::min<uint64_t>(n, length - offset));
        sink_ok = SendFileAll(*c, fd, file_offset, n, timeout_ms);
        if (sink_ok) offset += n;
        return sink_ok;
      };
    while (offset < length) {
      const uint64_t before = offset;
      bool ok = false;
      try {
        ok = res.provider(static_cast<size_t>(offset), static_cast<size_t>(length - offset), sink);
      } catch (...) { ok = false; }
      if (!ok || !sink_ok || offset == before) return false;  // the promised length cannot be kept: close
    }
    return true;
  }

  enum class Served { kClose, kKeep, kParked };

  // Answers the parked request of `c` (its wake-up came). True: go on
  // with the connection.
  bool AnswerParked(ServerConn* c) {
    std::shared_ptr<ParkedRequest> p = std::move(c->park);
    ++serving;
    bool keep = p->keep_ && !stopping;
    try {
      p->answer_(p->req_, p->res_);
    } catch (...) {
      p->res_ = ServerResponse{};
      p->res_.status = 500;
      refusal(p->req_, HeadRefusal{500, "internal error"}, p->res_);
      keep = false;
    }
    const bool written = WriteResponse(c, p->req_, p->res_, keep, p->http10_);
    --serving;
    {
      std::lock_guard<std::mutex> l(mu);
      p->ended_ = true;
    }
    parked_count.fetch_sub(1);
    if (!written || !keep) return false;
    AfterAnswer(c);
    return true;
  }

  // After an answer on a kept connection: takes what is buffered for the
  // next request (a head's worth at most).
  void AfterAnswer(ServerConn* c) {
    c->Compact();
    // Under TLS, records already inside OpenSSL are invisible to epoll:
    // take their plaintext now.
    if (c->ssl && SSL_has_pending(c->ssl)) {
      char buf[16 << 10];
      while (c->buffered() <= kMaxHead + 4) {
        ssize_t r = RecvSome(*c, buf, sizeof buf);
        if (r <= 0) break;
        c->in.append(buf, static_cast<size_t>(r));
      }
    }
    // A client that keeps its connection busy (an agent polling, a
    // benchmark) usually sends its next request within a millisecond:
    // wait that long here, while no connection is waiting for a worker,
    // rather than hand the connection to the reactor and back.
    // Only a head's worth is taken here, like the reactor does: the body
    // is the handler's to read (straight into its buffers, or not at all).
    if (c->buffered() == 0 && QueueEmpty() && WaitFd(c->fd, POLLIN, kNextRequestGraceMs)) {
      char buf[16 << 10];
      while (c->buffered() <= kMaxHead + 4) {
        ssize_t r = RecvSome(*c, buf, sizeof buf);
        if (r <= 0) break;
        c->in.append(buf, static_cast<size_t>(r));
      }
    }
    if (c->buffered() > 0 && !c->head_started) {
      c->head_started = true;
      c->deadline = Clock::now() + std::chrono::seconds(opts.head_timeout_s);
    }
  }

  // Serves requests on `c` while whole heads are buffered (first the
  // answer of its parked request, if it is back for that). kKeep: hand the
  // connection back to the reactor; kParked: a handler parked its request.
  Served Serve(ServerConn* c) {
    const int timeout_ms = opts.io_timeout_s * 1000;
    if (c->park && !AnswerParked(c)) return Served::kClose;
    for (;;) {
      size_t start = 0, end = 0;
      const HeadScan scan = ScanHead(*c, &start, &end);
      ServerRequest req;
      req.remote_addr = c->peer_ip;
      req.remote_port = c->peer_port;
      if (scan == HeadScan::kIncomplete) {
        // The reactor's timeout on a begun head (not the deadline of the
        // request just answered, e.g. a parked one's: nothing has begun).
        if (c->buffered() > 0 && Clock::now() >= c->deadline) {
          Refuse(c, req, 408,
                 "the request head did not arrive whole within " + std::to_string(opts.head_timeout_s) + " s");
          return Served::kClose;
        }
        return Served::kKeep;
      }
      if (scan == HeadScan::kTooLarge) {
        Refuse(c, req, 431, "request head larger than " + std::to_string(kMaxHead >> 10) + " KiB");
        return Served::kClose;
      }
      if (scan == HeadScan::kNotHttp) {
        Refuse(c, req, 400,
               c->in[c->pos] == '\x16' ? "this port speaks plain HTTP, not TLS: use an http:// URL"
                                       : "this is not an HTTP request: it must start with a method such as GET");
        return Served::kClose;
      }
      if (scan == HeadScan::kBareLf) {
        Refuse(c, req, 400, "header lines must end in CRLF, not a bare LF");
        return Served::kClose;
      }
      HttpHead head;
      Status parsed = ParseHead(std::string_view(c->in).substr(start, end - start), true, &head);
      c->pos = end + 4;
      c->head_started = false;
      if (!parsed.ok()) {
        if (head.version.rfind("HTTP/", 0) == 0 && head.version != "HTTP/1.1" && head.version != "HTTP/1.0")
          Refuse(c, req, 505, "HTTP version '" + head.version.substr(0, 20) + "' is not supported (HTTP/1.1 is)");
        else Refuse(c, req, 400, parsed.message());
        return Served::kClose;
      }
      RequestFraming framing;
      if (auto why = CheckRequestHead(head, &req, &framing)) {
        Refuse(c, req, why->status, why->message);
        return Served::kClose;
      }
      bool expect = false;
      if (req.has_header("Expect")) {
        if (!IEquals(req.get_header_value("Expect"), "100-continue")) {
          Refuse(c, req, 417, "Expect '" + req.get_header_value("Expect") + "' is not supported");
          return Served::kClose;
        }
        expect = req.version == "HTTP/1.1";
      }
      const bool http10 = req.version == "HTTP/1.0";
      bool keep = head.KeepAlive() && !stopping && ++c->served < opts.keep_alive_max;
      RequestBody body(c, framing, expect, timeout_ms);
      body.make_park_ = [this, c] { return MakePark(c); };
      ServerResponse res;
      ++serving;
      bool threw = false;
      try {
        handler(req, res, body);
      } catch (...) { threw = true; }
      if (body.park_ && !threw) {  // answered later (AnswerParked)
        ParkedRequest& p = *body.park_;
        p.req_ = std::move(req);
        p.res_ = std::move(res);
        p.keep_ = keep;
        p.http10_ = http10;
        c->park = std::move(body.park_);
        --serving;
        return Served::kParked;
      }
      if (body.park_) {  // parked, then threw: the park is dropped
        std::shared_ptr<ParkedRequest> p = std::move(body.park_);
        {
          std::lock_guard<std::mutex> l(mu);
          p->ended_ = true;
        }
        try {
          if (p->gone_) p->gone_();
        } catch (...) {}
        parked_count.fetch_sub(1);
      }
      if (threw) {
        res = ServerResponse{};
        res.status = 500;
        refusal(req, HeadRefusal{500, "internal error"}, res);
        keep = false;
      }
      // The rest of a body the handler did not read: dropped after the
      // answer when it is small enough, else the connection closes.
      bool drain = false;
      if (!body.complete()) {
        const bool unknown_rest = framing.kind == RequestFraming::kChunked;
        const uint64_t rest = unknown_rest ? 0 : framing.length - body.received();
        if (body.failed() || (expect && !body.continue_sent_) || (!unknown_rest && rest > opts.max_drain)) keep = false;
        else drain = keep;
        if (!drain) keep = false;
      }
      if (stopping) keep = false;
      const bool written = WriteResponse(c, req, res, keep, http10);
      --serving;
      if (!written) return Served::kClose;
      if (!keep) {
        c->lingering = !body.complete();
        return Served::kClose;
      }
      if (drain && !body.Drain(opts.max_drain)) return Served::kClose;
      AfterAnswer(c);
    }
  }

  static constexpr int kNextRequestGraceMs = 2;
  bool QueueEmpty() {
    std::lock_guard<std::mutex> l(mu);
    return queue.empty();
  }
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler, RefusalHandler refusal)
    : impl_(std::make_shared<Impl>()) {
  impl_->opts = std::move(options);
  impl_->handler = std::move(handler);
  impl_->refusal = std::move(refusal);
}

HttpServer::~HttpServer() {
  if (impl_->ep >= 0 && !impl_->done) Stop(0);
}

Result<int> HttpServer::Bind() {
  auto& im = *impl_;
  auto& o = im.opts;
  signal(SIGPIPE, SIG_IGN);
  // Each connection is a descriptor: take what the hard limit allows.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (!o.tls_cert.empty() || !o.tls_key.empty()) {
    if (o.tls_cert.empty() || o.tls_key.empty()) return Status::InvalidArgument("--tls-cert and --tls-key go together");
    im.tls = SSL_CTX_new(TLS_server_method());
    if (!im.tls) return Status::Internal("cannot create a TLS context");
    SSL_CTX_set_min_proto_version(im.tls, TLS1_2_VERSION);
    SSL_CTX_set_read_ahead(im.tls, 1);
    SSL_CTX_set_mode(im.tls, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_use_certificate_chain_file(im.tls, o.tls_cert.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(im.tls, o.tls_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(im.tls) != 1) {
      ERR_clear_error();
      return Status::InvalidArgument("cannot load TLS certificate '" + o.tls_cert + "' or key '" + o.tls_key + "'");
    }
  }
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  const std::string port_text = std::to_string(o.port);
  if (getaddrinfo(o.host.empty() ? nullptr : o.host.c_str(), port_text.c_str(), &hints, &res) != 0 || !res)
    return Status::Unavailable("cannot listen on " + o.host + ":" + port_text + ": " +
                               BindFailureReason(o.host, o.port));
  int fd = -1;
  int err = 0;
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    SetListenSocketOptions(fd);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) break;
    err = errno;
    ::close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    (void)err;
    return Status::Unavailable("cannot listen on " + o.host + ":" + port_text + ": " +
                               BindFailureReason(o.host, o.port));
  }
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  im.port = local.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port)
                                        : ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
  im.listen_fd = fd;
  im.ep = epoll_create1(EPOLL_CLOEXEC);
  im.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = const_cast<char*>(&Impl::kListenTag);
  epoll_ctl(im.ep, EPOLL_CTL_ADD, fd, &ev);
  ev.data.ptr = const_cast<char*>(&Impl::kWakeTag);
  epoll_ctl(im.ep, EPOLL_CTL_ADD, im.wake_fd, &ev);
  return im.port;
}

Status HttpServer::Run() {
  auto& im = *impl_;
  if (im.ep < 0) return Status::FailedPrecondition("Bind() first");
  for (int i = 0; i < std::max(1, im.opts.workers); ++i) im.workers.emplace_back([&im] { im.Worker(); });
  im.Reactor();
  im.work_cv.notify_all();
  for (auto& t : im.workers) t.join();
  im.workers.clear();
  return Status::OK();
}

size_t HttpServer::Stop(double drain_s) {
  auto& im = *impl_;
  if (im.ep < 0) return 0;
  im.stopping = true;
  im.Wake();
  const auto deadline = Clock::now() + std::chrono::duration<double>(drain_s);
  auto busy = [&] {
    std::lock_guard<std::mutex> l(im.mu);
    return im.busy.size() + im.parked.size();
  };
  while (busy() > 0 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  size_t cut = 0;
  {
    std::lock_guard<std::mutex> l(im.mu);
    cut = im.busy.size();
    for (ServerConn* c : im.busy) ::shutdown(c->fd, SHUT_RDWR);
  }
  im.done = true;
  im.Wake();
  im.work_cv.notify_all();
  return cut;
}

size_t HttpServer::active() const { return impl_->serving; }

size_t HttpServer::connections() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return impl_->idle.size() + impl_->busy.size() + impl_->parked.size();
}

size_t HttpServer::parked() const { return impl_->parked_count; }

}  // namespace modelreg::net
