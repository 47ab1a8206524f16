#include "api/server.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <regex>
#include <thread>

#include "api/connections.h"
#include "api/handler.h"
#include "api/json_codec.h"
#include "api/metrics.h"
#include "core/file_util.h"
#include "core/request_id.h"
#include "net/address.h"
#include "net/tls_session.h"

namespace modelreg::api {
namespace {

using Clock = std::chrono::steady_clock;

// Per-request facts for the access log. httplib serves a request start to
// finish on one worker thread, so thread_local is per request.
struct RequestInfo {
  Clock::time_point start;
  std::string id;
  std::string route = "unmatched";
  std::string actor;
  std::string error;  // the error as the server knows it, before redaction
};
thread_local RequestInfo t_req;

std::string BearerToken(const httplib::Request& req) {
  std::string h = req.get_header_value("Authorization");
  if (h.rfind("Bearer ", 0) == 0) return h.substr(7);
  return "";
}

// `text` with the directory `prefix` (ending in '/') written as "<data>/".
std::string Redact(std::string text, const std::string& prefix) {
  if (prefix.empty()) return text;
  for (size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at + 7))
    text.replace(at, prefix.size(), "<data>/");
  return text;
}

}  // namespace

struct ApiServer::Impl {
  RegistryService* svc;
  ServerOptions opts;
  std::unique_ptr<httplib::Server> server;
  int port = 0;
  ConnectionTracker connections;
  std::string data_prefix;  // the absolute data directory with a trailing '/', or empty

  // A client learns what failed, not where the server keeps its files.
  void WriteError(httplib::Response& res, const Status& st) {
    t_req.error = st.message();
    std::vector<std::string> details;
    for (const auto& d : st.details()) details.push_back(Redact(d, data_prefix));
    const Status shown(st.code(), Redact(st.message(), data_prefix), details);
    res.status = HttpStatusFor(st.code());
    if (st.code() == StatusCode::kUnauthenticated) res.set_header("WWW-Authenticate", "Bearer realm=\"modelreg\"");
    if (st.code() == StatusCode::kUnavailable) res.set_header("Retry-After", "5");
    res.set_content(ErrorJson(shown).dump(), "application/json");
  }

  void Dispatch(const Route& route, const httplib::Request& req, httplib::Response& res,
                const httplib::ContentReader* reader) {
    t_req.route = route.name;
    Ctx ctx{req, res, reader, *svc, Principal{}, opts.max_json_body, opts.tls_cert.empty(), opts.read_timeout_s, {}};
    // cpp-httplib applies a parsed Range to every routed response, JSON
    // errors included, and miscounts one that starts past the end. Take it
    // away: the blob downloads answer it themselves (net/byte_range.h). The
    // request is httplib's own non-const object, lent to us as const.
    ctx.ranges.swap(const_cast<httplib::Request&>(req).ranges);
    Status st;
    if (route.authenticated) {
      // Authenticate before touching the body.
      auto p = svc->Authenticate(BearerToken(req));
      if (!p.ok()) st = p.status();
      else {
        ctx.principal = *p;
        t_req.actor = p->name;
        if (!route.any_of.empty()) {
          bool allowed = false;
          for (Action a : route.any_of) allowed = allowed || RoleAllows(p->role, a);
          if (!allowed) st = Authorize(*p, route.any_of.front());
        }
        // Every /api/v1/models/{m}/... route: the token's model scope first.
        static constexpr std::string_view kModelRoute = "/api/v1/models/([^/]+)";
        if (st.ok() && std::string_view(route.pattern).substr(0, kModelRoute.size()) == kModelRoute &&
            !p->CanSeeModel(req.matches[1].str()))
          st = Status::PermissionDenied("token '" + p->name + "' is limited to models other than '" +
                                        req.matches[1].str() + "'");
      }
    }
    if (st.ok()) {
      try {
        st = route.fn(ctx);
      } catch (const std::exception& e) {
        st = Status::Internal(std::string("unexpected error: ") + e.what());
      }
    }
    if (!st.ok()) WriteError(res, st);
  }

  void Log(const httplib::Request& req, const httplib::Response& res) {
    double secs = std::chrono::duration<double>(Clock::now() - t_req.start).count();
    RecordRequest(t_req.route, req.method, res.status, secs);
    nlohmann::json j = {{"ts", IsoTime(NowMs())},
                        {"level", res.status >= 500 ? "error" : "info"},
                        {"msg", "request"},
                        {"request_id", t_req.id},
                        {"method", req.method},
                        {"path", req.path},
                        {"route", t_req.route},
                        {"status", res.status},
                        {"ms", secs * 1000.0},
                        {"remote", req.remote_addr}};
    if (!t_req.actor.empty()) j["actor"] = t_req.actor;
    if (!t_req.error.empty()) {
      j["error"] = t_req.error;
    } else if (res.status >= 400 && !res.body.empty()) {
      auto e = nlohmann::json::parse(res.body, nullptr, false);
      if (!e.is_discarded() && e.contains("error")) j["error"] = e["error"]["message"];
    }
    std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    fwrite(line.data(), 1, line.size(), stderr);
  }
};

ApiServer::ApiServer(RegistryService* svc, ServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->svc = svc;
  impl_->opts = options;
  if (!options.data_dir.empty() && options.data_dir.front() == '/')
    impl_->data_prefix = options.data_dir.back() == '/' ? options.data_dir : options.data_dir + "/";
}

ApiServer::~ApiServer() = default;

Result<int> ApiServer::Bind() {
  auto& o = impl_->opts;
  if (!o.tls_cert.empty() || !o.tls_key.empty()) {
    if (o.tls_cert.empty() || o.tls_key.empty())
      return Status::InvalidArgument("--tls-cert and --tls-key go together");
    auto s = std::make_unique<httplib::SSLServer>(o.tls_cert.c_str(), o.tls_key.c_str());
    if (!s->is_valid())
      return Status::InvalidArgument("cannot load TLS certificate '" + o.tls_cert + "' or key '" +
                                     o.tls_key + "'");
    net::TrackTlsSessions(s->ssl_context());  // for large bodies (api/socket_body)
    impl_->server = std::move(s);
  } else {
    impl_->server = std::make_unique<httplib::Server>();
  }
  auto& srv = *impl_->server;
  int threads = o.threads;
  srv.new_task_queue = [this, threads] {
    return new WorkerPool(threads, [this](size_t waiting) {
      impl_->connections.ShutIdle(ConnectionTracker::Idle::kReclaimable, waiting);
    });
  };
  srv.set_keep_alive_max_count(o.keep_alive_max);
  srv.set_socket_options(net::SetListenSocketOptions);  // no SO_REUSEPORT: see net/address.h
  srv.set_tcp_nodelay(true);  // headers and body go out in separate writes
  srv.set_keep_alive_timeout(30);
  srv.set_read_timeout(o.read_timeout_s, 0);
  srv.set_write_timeout(o.read_timeout_s, 0);
  srv.set_payload_max_length(std::numeric_limits<size_t>::max());  // limits are per route

  srv.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    impl_->connections.Begin(req);
    t_req = RequestInfo{Clock::now(), "", "unmatched", "", ""};
    std::string rid = req.get_header_value("X-Request-Id");
    t_req.id = RequestIdOrNew(rid);
    res.set_header("X-Request-Id", t_req.id);
    return httplib::Server::HandlerResponse::Unhandled;
  });
  srv.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    impl_->Log(req, res);
    impl_->connections.End(req);
  });
  srv.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    Status st = res.status == 404   ? Status::NotFound("no route for " + req.method + " " + req.path)
                : res.status == 413 ? Status::ResourceExhausted("request body too large")
                : res.status == 400 ? Status::InvalidArgument("malformed HTTP request")
                : res.status == 414 ? Status::InvalidArgument("request line longer than " +
                                                              std::to_string(CPPHTTPLIB_REQUEST_URI_MAX_LENGTH) +
                                                              " bytes")
                : res.status == 416 ? Status::OutOfRange("Range header not understood: give bytes=START-END, "
                                                         "bytes=START- or bytes=-COUNT")
                                    : Status(StatusCode::kInternal, "HTTP error " + std::to_string(res.status));
    int code = res.status;
    res.set_content(ErrorJson(st).dump(), "application/json");
    res.status = code;
  });

  for (const Route& r : Routes()) {
    const Route* rp = &r;
    std::string m = r.method;
    auto plain = [this, rp](const httplib::Request& req, httplib::Response& res) {
      impl_->Dispatch(*rp, req, res, nullptr);
    };
    auto with_reader = [this, rp](const httplib::Request& req, httplib::Response& res,
                                  const httplib::ContentReader& reader) {
      impl_->Dispatch(*rp, req, res, &reader);
    };
    if (m == "GET") srv.Get(r.pattern, plain);
    else if (m == "DELETE") srv.Delete(r.pattern, plain);
    else if (m == "POST") srv.Post(r.pattern, with_reader);
    else if (m == "PUT") srv.Put(r.pattern, with_reader);
    else if (m == "PATCH") srv.Patch(r.pattern, with_reader);
  }

  int port = o.port == 0 ? srv.bind_to_any_port(o.host) : (srv.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port <= 0)
    return Status::Unavailable("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " +
                               net::BindFailureReason(o.host, o.port));
  impl_->port = port;
  impl_->connections.set_port(port);
  return port;
}

Status ApiServer::Run() {
  if (!impl_->server) return Status::FailedPrecondition("Bind() first");
  if (!impl_->server->listen_after_bind()) return Status::Internal("server stopped with an error");
  return Status::OK();
}

size_t ApiServer::Stop() {
  if (!impl_->server) return 0;
  // Long polls for a release answer "unchanged" now; idle keep-alive
  // connections are closed (api/connections.h); requests in progress are
  // answered, or cut after the drain (an upload keeps what arrived, and
  // clients resume uploads and downloads).
  impl_->svc->StopWaiting();
  impl_->server->stop();
  auto& conns = impl_->connections;
  conns.ShutIdle(ConnectionTracker::Idle::kAll);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(impl_->opts.drain_s);
  while (conns.active() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const size_t cut = conns.active();
  if (cut > 0) conns.ShutAll();
  return cut;
}

std::string ApiServer::url() const {
  bool tls = !impl_->opts.tls_cert.empty();
  std::string host = impl_->opts.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(tls ? "https" : "http") + "://" + host + ":" + std::to_string(impl_->port);
}

}  // namespace modelreg::api
