// The proxy's data path: one thread per client connection, forwarding each
// request on a keep-alive connection from the pool of the model server of
// its arm (at most --model-connections at once, in arrival order),
// falling back when that fails, tagging and recording the answer, and
// queueing shadow copies (docs/agent.md).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/digest.h"
#include "core/records.h"
#include "core/request_features.h"
#include "core/request_id.h"
#include "core/utf8_text.h"
#include "net/http_wire.h"
#include "proxy_backend.h"
#include "spool.h"

namespace modelreg::agent {

using net::HttpHead;
using net::IsHopByHop;
using net::Wire;

// An answer to the client: the head (status line and headers, with the
// blank line) and the body.
struct ProxyReply {
  std::string head;
  std::string body;
};

namespace {

using Reply = ProxyReply;

using Clock = std::chrono::steady_clock;

void TuneSocket(int fd, double timeout_s) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{static_cast<time_t>(timeout_s),
             static_cast<suseconds_t>((timeout_s - static_cast<time_t>(timeout_s)) * 1e6)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int ConnectLoopback(int port, double timeout_s) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    TuneSocket(fd, timeout_s);
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

// An answer of the proxy's own, with a JSON error body.
Reply ErrorReply(int status, const std::string& reason, const std::string& extra, const char* code,
                 const std::string& message, const std::string& rid, bool keep) {
  Reply r;
  r.body = ErrorBody(code, message);
  r.head = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n" + extra +
           "Content-Type: application/json\r\nX-Request-Id: " + rid +
           "\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\n" + (keep ? "" : "Connection: close\r\n") +
           "\r\n";
  return r;
}

// Reads the body of `req` (whose head `head_st` says how it read),
// answering "Expect: 100-continue" first. An error says what to answer
// (the connection then closes): 417 if *expectation_failed (an Expect
// other than 100-continue), else 413 for RESOURCE_EXHAUSTED, 400 for the
// rest.
Status ReadRequestBody(Wire& client, Status head_st, const HttpHead& req, std::string* body, bool* expectation_failed) {
  MR_RETURN_IF_ERROR(head_st);
  if (req.Has("Expect")) {
    // A client that waits for "100 Continue" before its body (curl does
    // for bodies over 1 MiB) gets it here; the model server gets the body
    // with the request and no Expect. Any other expectation: 417.
    if (strcasecmp(req.Get("Expect").c_str(), "100-continue") != 0) {
      *expectation_failed = true;
      return Status::InvalidArgument("only 'Expect: 100-continue' is understood");
    }
    // Not for a body that will be refused anyway (ReadBody answers why).
    std::optional<uint64_t> length;
    const bool acceptable = net::DeclaredLength(req, &length).ok() && length.value_or(0) <= net::kMaxBody;
    if (acceptable && req.version == "HTTP/1.1" && !client.HasBuffered())
      MR_RETURN_IF_ERROR(client.Write("HTTP/1.1 100 Continue\r\n\r\n", {}));
  }
  bool until_close = false;
  return client.ReadBody(req, true, "", body, &until_close);
}

Reply BadRequestReply(const Status& st, bool expectation_failed, const std::string& rid) {
  if (expectation_failed)
    return ErrorReply(417, "Expectation Failed", "", "INVALID_ARGUMENT", st.message(), rid, false);
  const bool big = st.code() == StatusCode::kResourceExhausted;
  return ErrorReply(big ? 413 : 400, big ? "Payload Too Large" : "Bad Request", "",
                    big ? "RESOURCE_EXHAUSTED" : "INVALID_ARGUMENT", st.message(), rid, false);
}

// The model server's answer as the client gets it: hop-by-hop headers
// dropped, tagged with the request id and the version that answered,
// re-framed with Content-Length.
std::string TaggedHead(const HttpHead& req, const HttpHead& resp, size_t body_size, const std::string& rid,
                       const CurrentVersion& v, const std::string& extra, bool keep) {
  std::string head = "HTTP/1.1 " + std::to_string(resp.status) + " " + resp.reason + "\r\n";
  for (const auto& [k, val] : resp.headers)
    if (!IsHopByHop(k) && strcasecmp(k.c_str(), "X-Request-Id") != 0 && strncasecmp(k.c_str(), "X-Model-", 8) != 0)
      head += k + ": " + val + "\r\n";
  head += "X-Request-Id: " + rid + "\r\n";
  if (!v.digest.empty())  // empty: a static fallback with no version ever up
    head += "X-Model-Version: " + std::to_string(v.version) + "\r\nX-Model-Digest: " + v.digest + "\r\n";
  head += extra;
  if (req.method == "HEAD" && resp.Has("Content-Length"))
    head += "Content-Length: " + resp.Get("Content-Length") + "\r\n";
  else if (resp.status >= 200 && resp.status != 204 && resp.status != 304)
    head += "Content-Length: " + std::to_string(body_size) + "\r\n";
  if (!keep) head += "Connection: close\r\n";
  head += "\r\n";
  return head;
}

}  // namespace

// A request in flight on a backend: counted from Acquire until the guard
// goes, so that a drain (Retire) waits for it on every path.
class Proxy::InflightGuard {
 public:
  explicit InflightGuard(std::shared_ptr<Backend> b) : b_(std::move(b)) {}
  ~InflightGuard() {
    if (b_) --b_->inflight;
  }
  InflightGuard(const InflightGuard&) = delete;
  InflightGuard& operator=(const InflightGuard&) = delete;
  Backend* get() const { return b_.get(); }

 private:
  std::shared_ptr<Backend> b_;
};

// The arm chosen for a request, and its backend (counted in flight: the
// guard releases it).
struct Proxy::Pick {
  std::shared_ptr<Route> route;  // null: no rollout
  Arm arm = Arm::kBaseline;
  std::shared_ptr<Backend> b;
};

Proxy::Pick Proxy::Acquire(const HttpHead& req, const std::string& rid) {
  Pick p;
  std::lock_guard<std::mutex> l(mu_);
  p.route = route_;
  if (p.route && p.route->spec.mode != RolloutMode::kShadow) {
    const RolloutSpec& s = p.route->spec;
    const std::string key = s.key_header.empty() ? std::string() : req.Get(s.key_header);
    p.arm = ArmFor(s.salt, key.empty() ? rid : key, s.weight_bp);
  }
  const auto& b = p.arm == Arm::kCandidate ? candidate_ : current_;
  if (b) {
    ++b->inflight;  // under mu_: a drain cannot miss it
    p.b = b;
  }
  return p;
}

std::shared_ptr<Proxy::Backend> Proxy::AcquireArm(Arm arm) {
  std::lock_guard<std::mutex> l(mu_);
  const auto& b = arm == Arm::kCandidate ? candidate_ : current_;
  if (!b || b->dead) return nullptr;
  ++b->inflight;
  return b;
}

ConnectionPool::~ConnectionPool() {
  for (int fd : idle_) ::close(fd);
}

bool ConnectionPool::Lease(Clock::time_point deadline, int* fd) {
  std::unique_lock<std::mutex> l(mu_);
  if (waiters_.empty() && leased_ < max_) {
    ++leased_;
    *fd = -1;
    if (!idle_.empty()) {  // the most recently used: the warmest
      *fd = idle_.back();
      idle_.pop_back();
    }
    return true;
  }
  Waiter w;
  waiters_.push_back(&w);
  if (!w.cv.wait_until(l, deadline, [&] { return w.granted; })) {
    waiters_.erase(std::find(waiters_.begin(), waiters_.end(), &w));
    return false;
  }
  *fd = w.fd;
  return true;
}

void ConnectionPool::Return(int fd) {
  std::lock_guard<std::mutex> l(mu_);
  if (!waiters_.empty()) {  // the slot passes to the first in line
    Waiter* w = waiters_.front();
    waiters_.pop_front();
    w->granted = true;
    w->fd = fd;
    w->cv.notify_one();
    return;
  }
  --leased_;
  if (fd >= 0) idle_.push_back(fd);
}

// Sends `out` and `body` to the model server of `b` on one of its pool's
// connections and reads its answer. A kept-alive connection may have been
// closed by the model server meanwhile: then, and only when not a byte of
// an answer came, retries once on a new connection. False: no answer
// (none, or no connection free within `timeout_s`).
bool Proxy::Exchange(Backend& b, double timeout_s, const std::string& out, const std::string& body,
                     const std::string& method, HttpHead* resp, std::string* resp_body) {
  int fd = -1;
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  if (!b.pool.Lease(deadline, &fd)) return false;
  auto drop = [&] {
    if (fd >= 0) ::close(fd);
    fd = -1;
  };
  bool answered = false;
  for (int attempt = 0; attempt < 2; ++attempt) {
    const bool reused = fd >= 0;
    if (fd < 0) fd = ConnectLoopback(b.port, timeout_s);
    if (fd < 0) break;
    Wire backend(fd);
    bool until_close = false;
    Status sent = backend.Write(out, body);
    Status got = sent.ok() ? backend.ReadHead(false, resp) : sent;
    // Interim answers (100 Continue, 103 Early Hints) come before the
    // real one: skip them (RFC 9110 §15.2).
    while (got.ok() && resp->status >= 100 && resp->status < 200 && resp->status != 101)
      got = backend.ReadHead(false, resp);
    if (got.ok()) got = backend.ReadBody(*resp, false, method, resp_body, &until_close);
    if (got.ok()) {
      if (until_close || !resp->KeepAlive() || backend.HasBuffered()) drop();
      answered = true;
      break;
    }
    drop();
    if (!reused || (sent.ok() && got.code() != StatusCode::kNotFound)) break;
  }
  b.pool.Return(fd);
  return answered;
}

void Proxy::QueueShadow(std::shared_ptr<Backend> candidate, std::shared_ptr<Route> route, const std::string& out,
                        const std::string& body, const std::string& method, int status, const std::string& resp_body) {
  auto job = std::make_unique<ShadowJob>(std::move(candidate));
  {
    std::lock_guard<std::mutex> l(shadow_mu_);
    if (shadow_queue_.size() >= kShadowQueue || stopping_) {
      route->counts->AddShadowDropped();
      return;  // the job's guard releases the candidate
    }
    job->route = std::move(route);
    job->out = out;
    job->body = body;
    job->method = method;
    job->status = status;
    job->resp_body = resp_body;
    shadow_queue_.push_back(std::move(job));
  }
  shadow_cv_.notify_one();
}

void Proxy::ShadowLoop() {
  for (;;) {
    std::unique_ptr<ShadowJob> job;
    {
      std::unique_lock<std::mutex> l(shadow_mu_);
      shadow_cv_.wait(l, [&] { return stopping_ || !shadow_queue_.empty(); });
      if (stopping_) return;
      job = std::move(shadow_queue_.front());
      shadow_queue_.pop_front();
    }
    HttpHead resp;
    std::string resp_body;
    const auto t0 = Clock::now();
    const bool answered = !job->backend->dead &&
                          Exchange(*job->backend, o_.timeout_s, job->out, job->body, job->method, &resp, &resp_body);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    RolloutCounts& counts = *job->route->counts;
    const bool failed = !answered || resp.status >= 500;
    counts.arm(Arm::kCandidate).Add(failed, answered ? ms : -1);
    if (failed) counts.AddShadowCandidateError();
    if (answered) {
      double diff = 0;
      const ShadowOutcome o = CompareOutputs(job->status, job->resp_body, resp.status, resp_body, &diff);
      counts.AddComparison(o, diff);
    }
  }
}

std::optional<ProxyReply> Proxy::MonitorRequest(const std::string& body, const std::string& rid, bool keep,
                                                const Backend& b, std::string_view arm) {
  WindowAccumulator& acc = *b.monitor;
  thread_local RequestTally tally;  // its vectors are reused request after request
  if (body.size() > o_.max_monitor_body) WindowAccumulator::Unreadable(&tally);
  else acc.Evaluate(ParseRequestRows(body, acc.columns()), o_.validate != "off", &tally);
  const bool reject = tally.first.has_value() && o_.validate == "reject";
  acc.Add(arm, tally, reject, NowMs());
  if (!reject) return std::nullopt;
  // The contract of the 400 (docs/agent.md "Monitoring"): what broke which rule where.
  const Violation& v = *tally.first;
  Reply r;
  r.body = nlohmann::json{{"error",
                           {{"code", "schema_violation"},
                            {"message", v.message},
                            {"feature", v.feature},
                            {"rule", SchemaRuleName(v.rule)},
                            {"row", v.row}}}}
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.head = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nX-Request-Id: " + rid +
           "\r\nX-Model-Version: " + std::to_string(b.version.version) + "\r\nX-Model-Digest: " + b.version.digest +
           "\r\n" + (arm.empty() ? "" : "X-Model-Arm: " + std::string(arm) + "\r\n") +
           "Content-Length: " + std::to_string(r.body.size()) + "\r\n" + (keep ? "" : "Connection: close\r\n") + "\r\n";
  return r;
}

void Proxy::MonitorAnswer(const Backend& b, std::string_view arm, int status, const std::string& resp_body) {
  if (!b.monitor->has_output() || status < 200 || status >= 300 || resp_body.size() > o_.max_monitor_body) return;
  b.monitor->AddOutputs(arm, ParseResponseOutputs(resp_body), NowMs());
}

ProxyReply Proxy::Forward(const HttpHead& req, const std::string& body, const std::string& rid, bool keep) {
  Pick p = Acquire(req, rid);
  InflightGuard guard(p.b);
  const Route* route = p.route.get();
  const std::string_view arm = route ? ArmName(p.arm) : "";
  // Requests with a body are monitored (health checks and the like are not).
  const bool monitored = p.b && p.b->monitor && !body.empty();
  if (monitored)
    if (auto refused = MonitorRequest(body, rid, keep, *p.b, arm)) return std::move(*refused);
  const std::string out = BackendRequest(req, rid, body.size());
  HttpHead resp;
  std::string resp_body;
  bool answered = false;
  if (p.b && !p.b->dead) {
    const auto t0 = Clock::now();
    answered = Exchange(*p.b, o_.timeout_s, out, body, req.method, &resp, &resp_body);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (route) route->counts->arm(p.arm).Add(!answered || resp.status >= 500, answered ? ms : -1);
  } else if (route) {
    route->counts->arm(p.arm).Add(true, -1);  // its model server is down
  }
  if (answered && route && route->spec.mode == RolloutMode::kShadow)
    if (auto cand = AcquireArm(Arm::kCandidate))
      QueueShadow(std::move(cand), p.route, out, body, req.method, resp.status, resp_body);
  // The answer of `v`, arm `arm`, as the client gets it (recorded first).
  auto answer = [&](const HttpHead& r, std::string& rbody, const CurrentVersion& v, Arm arm, const char* fallback) {
    std::string extra;
    if (route) extra += std::string("X-Model-Arm: ") + ArmName(arm) + "\r\n";
    if (fallback) extra += std::string("X-Model-Fallback: ") + fallback + "\r\n";
    // Spooled before the response leaves: nothing answered goes unrecorded.
    if (spool_) Record(rid, v, body, rbody, route, arm, fallback);
    Reply reply{TaggedHead(req, r, rbody.size(), rid, v, extra, keep), ""};
    if (req.method != "HEAD") reply.body = std::move(rbody);
    return reply;
  };
  if (answered && resp.status < 500) {
    if (monitored) MonitorAnswer(*p.b, arm, resp.status, resp_body);
    return answer(resp, resp_body, p.b->version, p.arm, nullptr);
  }
  // The serving arm failed this request (no answer, 5xx, --timeout).
  if (o_.fallback == "previous" && route && route->spec.mode != RolloutMode::kShadow) {
    const Arm other = p.arm == Arm::kCandidate ? Arm::kBaseline : Arm::kCandidate;
    InflightGuard o(AcquireArm(other));
    HttpHead oresp;
    std::string obody;
    if (o.get() && Exchange(*o.get(), o_.timeout_s, out, body, req.method, &oresp, &obody) && oresp.status < 500)
      return answer(oresp, obody, o.get()->version, other, "previous");
  }
  if (!o_.fallback_response.empty()) {
    HttpHead fixed;
    fixed.status = 200;
    fixed.reason = "OK";
    fixed.headers.emplace_back("Content-Type", "application/json");
    std::string fbody = o_.fallback_response;
    return answer(fixed, fbody, p.b ? p.b->version : CurrentVersion{}, p.arm, "static");
  }
  if (answered) return answer(resp, resp_body, p.b->version, p.arm, nullptr);  // the 5xx as it came
  if (!p.b || p.b->dead)
    return ErrorReply(503, "Service Unavailable", "Retry-After: 1\r\n", "UNAVAILABLE",
                      "no model server is up; retry shortly", rid, keep);
  return ErrorReply(503, "Service Unavailable", "", "UNAVAILABLE", "the model server did not answer", rid, keep);
}

void Proxy::Record(const std::string& rid, const CurrentVersion& v, const std::string& body,
                   const std::string& resp_body, const Route* route, Arm arm, const char* fallback) {
  if (v.digest.empty()) return;  // no version ever served: nothing to attribute it to
  nlohmann::json d = {{"request_id", rid},
                      {"model", o_.model},
                      {"version", v.version},
                      {"digest", v.digest},
                      {"agent_id", o_.id},
                      {"at_ms", NowMs()},
                      {"input_sha256", Digest::Of(body).hex()}};
  if (route) {
    d["arm"] = ArmName(arm);
    d["rollout_id"] = route->spec.id;
  }
  if (fallback) d["fallback"] = fallback;
  // Cut at a character, after replacing bytes that are not UTF-8: the
  // registry refuses an output over its limit (and with it the batch).
  if (o_.record_output) d["output"] = Utf8Prefix(resp_body, kMaxDecisionOutputBytes);
  spool_->Append(d.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// One client connection: requests in order, each forwarded on a kept-alive
// connection from the pool of the model server that serves it.
void Proxy::ServeConnection(int fd) {
  TuneSocket(fd, 60);  // a keep-alive client idle this long is let go
  Wire client(fd);
  HttpHead req;
  std::string body;
  while (!stopping_) {
    SetServing(fd, false);
    Status st = client.ReadHead(true, &req);
    if (st.code() == StatusCode::kNotFound || st.code() == StatusCode::kUnavailable) break;  // closed or idle
    SetServing(fd, true);
    const std::string rid = RequestIdOrNew(st.ok() ? req.Get("X-Request-Id") : "");
    bool expectation_failed = false;
    st = ReadRequestBody(client, st, req, &body, &expectation_failed);
    if (!st.ok()) {  // malformed or oversized: say so and close
      const Reply r = BadRequestReply(st, expectation_failed, rid);
      (void)client.Write(r.head, r.body);
      break;
    }
    const bool keep = req.KeepAlive() && !stopping_;  // a stopping proxy answers, then closes
    const Reply r = Forward(req, body, rid, keep);
    if (!client.Write(r.head, r.body).ok() || !keep) break;
  }
}

}  // namespace modelreg::agent
