#include "api/server.h"

#include <chrono>
#include <cstdio>
#include <regex>

#include "api/handler.h"
#include "api/json_codec.h"
#include "api/metrics.h"
#include "api/oci.h"
#include "core/file_util.h"
#include "core/request_id.h"
#include "core/utf8_text.h"
#include "net/byte_range.h"
#include "net/http_server.h"

namespace modelreg::api {
namespace {

using Clock = std::chrono::steady_clock;

// Per-request facts for the access log. A request is served start to
// finish on one worker thread, so thread_local is per request (a parked
// request carries its own copy to the worker that answers it).
struct RequestInfo {
  Clock::time_point start;
  std::string id;
  std::string route = "unmatched";
  std::string actor;
  std::string error;  // the error as the server knows it, before redaction
  bool oci = false;   // a /v2/ request: errors in the OCI envelope
  OciRequestInfo oci_info;
  std::string log_note;  // Ctx::log_note of the handler
};
thread_local RequestInfo t_req;

std::string BearerToken(const Request& req) {
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

struct CompiledRoute {
  const Route* route;
  std::regex re;
};

}  // namespace

struct ApiServer::Impl {
  RegistryService* svc;
  ServerOptions opts;
  std::unique_ptr<net::HttpServer> server;
  int port = 0;
  std::string data_prefix;  // the absolute data directory with a trailing '/', or empty
  std::vector<CompiledRoute> routes;

  void Begin(const Request& req, Response& res) {
    t_req =
        RequestInfo{Clock::now(), RequestIdOrNew(req.get_header_value("X-Request-Id")), "unmatched", "", "", false, {}};
    res.set_header("X-Request-Id", t_req.id);
  }

  // A client learns what failed, not where the server keeps its files nor
  // what an internal error said (the log has both).
  void WriteError(Response& res, const Status& st) {
    t_req.error = st.message();
    std::vector<std::string> details;
    for (const auto& d : st.details()) details.push_back(Redact(d, data_prefix));
    const Status shown(st.code(), Redact(st.message(), data_prefix), details);
    if (st.code() == StatusCode::kUnavailable) res.set_header("Retry-After", "5");
    if (t_req.oci) {
      const OciRequestInfo& o = t_req.oci_info;
      WriteOciError(res, OciCodeFor(shown, o.codes, o.code), shown, t_req.id);
      if (o.http_status) res.status = o.http_status;
      if (res.status == 401)
        res.set_header("WWW-Authenticate", o.challenge.empty() ? "Basic realm=\"modelreg\"" : o.challenge);
      return;
    }
    res.status = HttpStatusFor(st.code());
    if (st.code() == StatusCode::kUnauthenticated) res.set_header("WWW-Authenticate", "Bearer realm=\"modelreg\"");
    res.set_content(JsonText(ErrorJson(shown)), "application/json");
  }

  Status Authorize(const Route& route, const Request& req, Ctx& ctx) {
    auto p = svc->Authenticate(BearerToken(req));
    if (!p.ok()) return p.status();
    ctx.principal = *p;
    t_req.actor = p->name;
    if (!route.any_of.empty()) {
      bool allowed = false;
      for (Action a : route.any_of) allowed = allowed || RoleAllows(p->role, a);
      if (!allowed) return modelreg::Authorize(*p, route.any_of.front());
    }
    // Every /api/v1/models/{m}/... route: the token's model scope first.
    static constexpr std::string_view kModelRoute = "/api/v1/models/([^/]+)";
    if (std::string_view(route.pattern).substr(0, kModelRoute.size()) == kModelRoute && !p->CanSeeModel(ctx.Arg(1)))
      return Status::PermissionDenied("token '" + p->name + "' is limited to models other than '" + ctx.Arg(1) + "'");
    return Status::OK();
  }

  void Serve(Request& req, Response& res, net::RequestBody& body) {
    Begin(req, res);
    Status st;
    // What an exception says stays in the log: the client gets the request id.
    std::string thrown;
    try {
      st = Route(req, res, body);
    } catch (const std::exception& e) { thrown = std::string("unexpected exception: ") + e.what(); } catch (...) {
      thrown = "unexpected exception of unknown type";
    }
    if (!thrown.empty()) st = Status::Internal("internal error; the server's log has it under request id " + t_req.id);
    if (!st.ok()) WriteError(res, st);
    if (!thrown.empty()) t_req.error = thrown;
    if (body.parked()) return;  // logged when answered (Park)
    Log(req, res);
  }

  std::shared_ptr<net::ParkedRequest> Park(net::RequestBody& body, Clock::time_point deadline,
                                           std::function<Status(Response&)> answer, std::function<void()> gone) {
    return body.Park(
        deadline,
        [this, info = t_req, answer = std::move(answer)](const Request& req, Response& res) {
          t_req = info;
          Status st;
          try {
            st = answer(res);
          } catch (const std::exception& e) {
            t_req.error = std::string("unexpected exception: ") + e.what();
            st = Status::Internal("internal error; the server's log has it under request id " + t_req.id);
          }
          if (!st.ok()) {
            const std::string error = t_req.error;
            WriteError(res, st);
            if (!error.empty()) t_req.error = error;
          }
          Log(req, res);
        },
        std::move(gone));
  }

  Ctx NewCtx(Request& req, Response& res, net::RequestBody& body) {
    Ctx ctx{req, res,   body, *svc, Principal{}, opts.max_json_body, opts.tls_cert.empty(), opts.read_timeout_s,
            {},  false, {}};
    if (req.has_header("Range")) ctx.range_unreadable = !net::ParseRange(req.get_header_value("Range"), &ctx.ranges);
    ctx.webhooks = &opts.webhooks;
    return ctx;
  }

  Status Route(Request& req, Response& res, net::RequestBody& body) {
    if (IsOciPath(req.raw_path)) {
      t_req.oci = true;
      t_req.route = t_req.oci_info.route;
      Ctx ctx = NewCtx(req, res, body);
      Status st = ServeOci(ctx, &t_req.oci_info);
      t_req.route = t_req.oci_info.route;
      t_req.actor = t_req.oci_info.actor;
      return st;
    }
    const std::string method = req.method == "HEAD" ? "GET" : req.method;
    const CompiledRoute* found = nullptr;
    bool other_method = false;
    std::smatch m;
    for (const auto& cr : routes) {
      if (!std::regex_match(req.raw_path, m, cr.re)) continue;
      if (method != cr.route->method) {
        other_method = true;
        continue;
      }
      found = &cr;
      break;
    }
    if (!found) {
      if (other_method) {
        res.set_header("Allow", AllowedMethods(req.raw_path));
        WriteError(res, Status::InvalidArgument("method " + req.method + " is not allowed on " + req.path));
        res.status = 405;
        return Status::OK();
      }
      return Status::NotFound("no route for " + req.method + " " + req.path);
    }
    req.captures.clear();
    for (const auto& sub : m) {  // the whole path decoded, so each part of it decodes too
      auto decoded = net::PercentDecode(sub.str(), false);
      if (!decoded) return Status::InvalidArgument("bad percent-encoding in the path");
      req.captures.push_back(std::move(*decoded));
    }
    const struct Route& route = *found->route;
    t_req.route = route.name;
    Ctx ctx = NewCtx(req, res, body);
    ctx.park = [this, &body](Clock::time_point deadline, std::function<Status(Response&)> answer,
                             std::function<void()> gone) {
      return Park(body, deadline, std::move(answer), std::move(gone));
    };
    if (ScrapeWithoutToken(route, req)) {
      // serve --metrics-allow: a scraper in an allowed range reads what an
      // auditor's token for every model would.
      ctx.principal = Principal{"metrics-scrape", Role::kAuditor, {}};
      t_req.actor = ctx.principal.name;
    } else if (route.authenticated) {
      MR_RETURN_IF_ERROR(Authorize(route, req, ctx));  // before touching the body
    }
    // Every name the registry stores is UTF-8 (and PostgreSQL refuses to
    // compare with anything else): a path naming something in other bytes
    // names nothing, whichever database is behind.
    for (size_t i = 1; i < req.captures.size(); ++i)
      if (!IsValidUtf8(req.captures[i])) return Status::NotFound("nothing is named by bytes that are not UTF-8");
    Status st = route.fn(ctx);
    t_req.log_note = std::move(ctx.log_note);
    return st;
  }

  bool ScrapeWithoutToken(const struct Route& route, const Request& req) const {
    return !opts.metrics_allow.empty() && std::string_view(route.name) == "metrics" &&
           req.get_header_value("Authorization").empty() && net::CidrMatch(opts.metrics_allow, req.remote_addr);
  }

  std::string AllowedMethods(const std::string& path) {
    std::string allow;
    for (const auto& cr : routes) {
      if (!std::regex_match(path, cr.re)) continue;
      std::string m = cr.route->method;
      if (m == "GET") m = "GET, HEAD";
      if (allow.find(m) == std::string::npos) allow += (allow.empty() ? "" : ", ") + m;
    }
    return allow;
  }

  // The server's own refusals (framing, limits, timeouts): the same JSON
  // error shape, with a request id, and a log line.
  void Refuse(const Request& req, const net::HeadRefusal& why, Response& res) {
    Begin(req, res);
    t_req.route = "refused";
    const StatusCode code = why.status == 413 || why.status == 431 ? StatusCode::kResourceExhausted
                            : why.status >= 500 && why.status != 505 && why.status != 501
                                ? StatusCode::kInternal
                                : StatusCode::kInvalidArgument;
    Status st(code, why.message);
    if (IsOciPath(req.raw_path.empty() ? req.path : req.raw_path)) {
      t_req.error = why.message;
      const Status shown =
          why.status == 500 ? Status::Internal("internal error; the server's log has it under request id " + t_req.id)
                            : st;
      res.set_content(OciErrorText(OciCodeForHttpStatus(why.status), shown, t_req.id), "application/json");
      res.set_header("Docker-Distribution-API-Version", "registry/2.0");
    } else if (why.status == 500) {
      WriteError(res, Status::Internal(why.message));
    } else {
      t_req.error = why.message;
      res.set_content(JsonText(ErrorJson(st)), "application/json");
    }
    res.status = why.status;
    Log(req, res);
  }

  void Log(const Request& req, const Response& res) {
    double secs = std::chrono::duration<double>(Clock::now() - t_req.start).count();
    RecordRequest(t_req.route, req.method.empty() ? "-" : req.method, res.status, secs);
    nlohmann::json j = {{"ts", IsoTime(NowMs())}, {"level", res.status >= 500 ? "error" : "info"},
                        {"msg", "request"},       {"request_id", t_req.id},
                        {"method", req.method},   {"path", req.path.empty() ? req.target : req.path},
                        {"route", t_req.route},   {"status", res.status},
                        {"ms", secs * 1000.0},    {"remote", req.remote_addr}};
    if (!t_req.actor.empty()) j["actor"] = t_req.actor;
    if (!t_req.error.empty()) j["error"] = t_req.error;
    if (!t_req.log_note.empty()) j["note"] = t_req.log_note;
    std::string line = JsonText(j) + "\n";
    fwrite(line.data(), 1, line.size(), stderr);
  }
};

ApiServer::ApiServer(RegistryService* svc, ServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->svc = svc;
  impl_->opts = options;
  if (!options.data_dir.empty() && options.data_dir.front() == '/')
    impl_->data_prefix = options.data_dir.back() == '/' ? options.data_dir : options.data_dir + "/";
  for (const Route& r : Routes()) impl_->routes.push_back({&r, std::regex(r.pattern)});
}

ApiServer::~ApiServer() = default;

Result<int> ApiServer::Bind() {
  auto& o = impl_->opts;
  net::HttpServerOptions ho;
  ho.host = o.host;
  ho.port = o.port;
  ho.workers = o.threads;
  ho.io_timeout_s = o.read_timeout_s;
  ho.keep_alive_max = o.keep_alive_max;
  ho.max_parked = o.max_long_polls;
  ho.tls_cert = o.tls_cert;
  ho.tls_key = o.tls_key;
  impl_->server = std::make_unique<net::HttpServer>(
      ho, [this](Request& req, Response& res, net::RequestBody& body) { impl_->Serve(req, res, body); },
      [this](const Request& req, const net::HeadRefusal& why, Response& res) { impl_->Refuse(req, why, res); });
  MR_ASSIGN_OR_RETURN(int port, impl_->server->Bind());
  impl_->port = port;
  return port;
}

Status ApiServer::Run() {
  if (!impl_->server) return Status::FailedPrecondition("Bind() first");
  std::unique_ptr<WebhookWorker> worker;
  if (impl_->opts.webhooks.enabled) {
    // SQLite: this is the only process delivering from this database, so
    // what a killed one had leased is due now.
    (void)impl_->svc->ReleaseWebhookLeases();
    worker = std::make_unique<WebhookWorker>(impl_->svc, impl_->opts.webhooks);
  }
  return impl_->server->Run();
}

size_t ApiServer::Stop() {
  if (!impl_->server) return 0;
  // Long polls for a release are answered now; idle keep-alive
  // connections are closed; requests in progress are answered, or cut
  // after the drain (an upload keeps what arrived, and clients resume
  // uploads and downloads).
  impl_->svc->StopWaiting();
  return impl_->server->Stop(impl_->opts.drain_s);
}

std::string ApiServer::url() const {
  bool tls = !impl_->opts.tls_cert.empty();
  std::string host = impl_->opts.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(tls ? "https" : "http") + "://" + host + ":" + std::to_string(impl_->port);
}

}  // namespace modelreg::api
