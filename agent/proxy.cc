#include "proxy.h"

#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <chrono>
#include <functional>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/digest.h"
#include "core/file_util.h"
#include "core/request_id.h"
#include "spool.h"

namespace modelreg::agent {
namespace {

using Clock = std::chrono::steady_clock;

int FreeLoopbackPort() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(s);
  return port;
}

std::string Substitute(std::string cmd, const std::string& key, const std::string& value) {
  for (size_t pos; (pos = cmd.find(key)) != std::string::npos;) cmd.replace(pos, key.size(), value);
  return cmd;
}

}  // namespace

struct Proxy::Backend {
  pid_t pid = -1;
  int port = 0;
  CurrentVersion version;
  std::atomic<int> inflight{0};
  std::atomic<bool> dead{false};
};

Proxy::Proxy(Options o) : o_(std::move(o)) {}

Proxy::~Proxy() { Stop(); }

Status Proxy::Start() {
  server_ = std::make_unique<httplib::Server>();
  server_->new_task_queue = [] { return new httplib::ThreadPool(32); };
  server_->set_keep_alive_max_count(100000);
  server_->set_tcp_nodelay(true);
  auto forward = [this](const httplib::Request& req, httplib::Response& res) {
    const std::string rid = RequestIdOrNew(req.get_header_value("X-Request-Id"));
    res.set_header("X-Request-Id", rid);
    std::shared_ptr<Backend> b;
    {
      std::lock_guard<std::mutex> l(mu_);
      b = current_;
      if (b && !b->dead) ++b->inflight;  // under mu_: a drain cannot miss it
    }
    if (!b || b->dead) {
      res.status = 503;
      res.set_header("Retry-After", "1");
      res.set_content(R"({"error":{"code":"UNAVAILABLE","message":"no model server is up; retry shortly"}})",
                      "application/json");
      return;
    }
    thread_local std::unique_ptr<httplib::Client> client;
    thread_local int client_port = 0;
    if (!client || client_port != b->port) {
      client = std::make_unique<httplib::Client>("127.0.0.1", b->port);
      client->set_tcp_nodelay(true);
      client->set_keep_alive(true);
      client->set_read_timeout(60, 0);
      client_port = b->port;
    }
    httplib::Headers h;
    for (const auto& [k, v] : req.headers)
      if (k != "Host" && k != "Content-Length" && k != "Connection") h.emplace(k, v);
    h.emplace("X-Request-Id", rid);
    httplib::Result r = req.method == "GET"    ? client->Get(req.target, h)
                        : req.method == "POST" ? client->Post(req.target, h, req.body, req.get_header_value("Content-Type"))
                        : req.method == "PUT"  ? client->Put(req.target, h, req.body, req.get_header_value("Content-Type"))
                                               : client->Delete(req.target, h);
    if (!r) {
      client.reset();
      res.status = 503;
      res.set_content(R"({"error":{"code":"UNAVAILABLE","message":"the model server did not answer"}})",
                      "application/json");
    } else {
      res.status = r->status;
      for (const auto& [k, v] : r->headers)
        if (k != "Content-Length" && k != "Transfer-Encoding" && k != "Connection" && k != "Keep-Alive")
          res.set_header(k, v);
      res.body = r->body;
      if (!res.has_header("Content-Type")) res.set_header("Content-Type", "application/octet-stream");
    }
    res.set_header("X-Model-Version", std::to_string(b->version.version));
    res.set_header("X-Model-Digest", b->version.digest);
    if (r && spool_) {
      // Spooled before the response leaves: nothing answered goes unrecorded.
      nlohmann::json d = {{"request_id", rid},
                          {"model", o_.model},
                          {"version", b->version.version},
                          {"digest", b->version.digest},
                          {"agent_id", o_.id},
                          {"at_ms", NowMs()},
                          {"input_sha256", Digest::Of(req.body).hex()}};
      if (o_.record_output) d["output"] = res.body.substr(0, 64 << 10);
      spool_->Append(d.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    --b->inflight;
  };
  server_->Get(".*", forward);
  server_->Post(".*", forward);
  server_->Put(".*", forward);
  server_->Delete(".*", forward);
  auto colon = o_.listen.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("--listen wants HOST:PORT");
  std::string host = o_.listen.substr(0, colon);
  int port = std::atoi(o_.listen.substr(colon + 1).c_str());
  if (!server_->bind_to_port(host, port)) return Status::Unavailable("cannot listen on " + o_.listen);
  serve_thread_ = std::thread([this] { server_->listen_after_bind(); });
  monitor_thread_ = std::thread([this] { Monitor(); });
  return Status::OK();
}

Result<std::shared_ptr<Proxy::Backend>> Proxy::Launch(const CurrentVersion& v) {
  auto b = std::make_shared<Backend>();
  b->port = FreeLoopbackPort();
  b->version = v;
  // `exec`: the model server itself is our child (signals reach it directly).
  std::string cmd = "exec " + Substitute(Substitute(o_.exec, "{dir}", v.dir), "{port}", std::to_string(b->port));
  b->pid = fork();
  if (b->pid < 0) return Status::FromErrno("fork", errno);
  if (b->pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // an agent killed with -9 takes its model servers along
    int fd = ::open((o_.root + "/model-server.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    setenv("MODEL_DIR", v.dir.c_str(), 1);
    setenv("MODEL_VERSION", std::to_string(v.version).c_str(), 1);
    setenv("MODEL_DIGEST", v.digest.c_str(), 1);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return b;
}

Status Proxy::WaitHealthy(Backend& b) {
  std::string path = !o_.health.empty() && o_.health[0] == '/' ? o_.health : "/healthz";
  httplib::Client c("127.0.0.1", b.port);
  c.set_connection_timeout(0, 200000);
  c.set_read_timeout(5, 0);
  auto deadline = Clock::now() + std::chrono::duration<double>(o_.health_timeout_s);
  while (Clock::now() < deadline) {
    int st = 0;
    if (waitpid(b.pid, &st, WNOHANG) == b.pid) {
      b.dead = true;
      return Status::FailedPrecondition("model server exited during start-up (see " + o_.root + "/model-server.log)");
    }
    auto r = c.Get(path);
    if (r && r->status >= 200 && r->status < 300) return Status::OK();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::FailedPrecondition("model server not healthy on " + path + " within " +
                                    std::to_string(static_cast<int>(o_.health_timeout_s)) + " s");
}

void Proxy::Retire(std::shared_ptr<Backend> b) {
  if (!b) return;
  // Drain: let in-flight requests finish (bounded), then stop.
  auto deadline = Clock::now() + std::chrono::seconds(30);
  while (b->inflight > 0 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  kill(-b->pid, SIGTERM);
  auto kill_at = Clock::now() + std::chrono::seconds(10);
  int st = 0;
  while (waitpid(b->pid, &st, WNOHANG) == 0) {
    if (Clock::now() > kill_at) {
      kill(-b->pid, SIGKILL);
      waitpid(b->pid, &st, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Status Proxy::SwapTo(const CurrentVersion& v) {
  MR_ASSIGN_OR_RETURN(auto b, Launch(v));
  Status st = WaitHealthy(*b);
  if (!st.ok()) {
    Retire(b);
    return st;
  }
  std::shared_ptr<Backend> old;
  {
    std::lock_guard<std::mutex> l(mu_);
    old = current_;
    current_ = b;
  }
  Retire(old);
  return Status::OK();
}

void Proxy::Monitor() {
  double backoff = 0.2;
  while (!stopping_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::shared_ptr<Backend> b;
    {
      std::lock_guard<std::mutex> l(mu_);
      b = current_;
    }
    if (!b) continue;
    int st = 0;
    if (!b->dead && waitpid(b->pid, &st, WNOHANG) != b->pid) {
      backoff = 0.2;
      continue;
    }
    b->dead = true;
    if (stopping_) return;
    if (on_event_) on_event_("model server of version " + std::to_string(b->version.version) + " died; restarting");
    std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
    backoff = std::min(backoff * 2, 10.0);
    auto nb = Launch(b->version);
    if (!nb.ok() || !WaitHealthy(**nb).ok()) {
      if (nb.ok()) Retire(*nb);
      continue;
    }
    bool installed = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (current_ == b) {
        current_ = *nb;
        installed = true;
      }
    }
    if (!installed) Retire(*nb);  // a swap replaced it meanwhile
  }
}

void Proxy::Stop() {
  if (stopping_.exchange(true)) return;
  if (server_) server_->stop();
  if (serve_thread_.joinable()) serve_thread_.join();
  if (monitor_thread_.joinable()) monitor_thread_.join();
  std::shared_ptr<Backend> b;
  {
    std::lock_guard<std::mutex> l(mu_);
    b = current_;
    current_.reset();
  }
  if (b && !b->dead) Retire(b);
}

}  // namespace modelreg::agent
