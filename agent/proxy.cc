#include "proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>

#include "core/file_util.h"
#include "monitoring.h"
#include "net/address.h"
#include "proxy_backend.h"

namespace modelreg::agent {
namespace {

using Clock = std::chrono::steady_clock;

// A port on 127.0.0.1 that was free a moment ago, for the next model server
// (which binds it itself; were it taken meanwhile, its health check fails
// and the launch is reported like any other failed start).
Result<int> FreeLoopbackPort() {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return Status::FromErrno("socket for a model server's port", errno);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
    return Status::FromErrno("find a free port on 127.0.0.1 for a model server", errno);
  return static_cast<int>(ntohs(a.sin_port));
}

std::string Substitute(std::string cmd, const std::string& key, const std::string& value) {
  for (size_t pos; (pos = cmd.find(key)) != std::string::npos;) cmd.replace(pos, key.size(), value);
  return cmd;
}

}  // namespace

Proxy::Proxy(Options o) : o_(std::move(o)) {
  // --model-connections default: the model server runs on this host, and
  // beyond a few requests per core more at once only interleave there.
  if (o_.model_connections == 0) o_.model_connections = std::max(8u, 4 * std::thread::hardware_concurrency());
}

Proxy::~Proxy() { Stop(); }

Status Proxy::Start() {
  MR_ASSIGN_OR_RETURN(auto where, net::ParseListenAddress(o_.listen));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(where.port));
  if (inet_pton(AF_INET, where.host == "localhost" ? "127.0.0.1" : where.host.c_str(), &a.sin_addr) != 1)
    return Status::InvalidArgument("--listen wants an IPv4 HOST:PORT, not " + o_.listen);
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) return Status::Unavailable("cannot listen on " + o_.listen + ": socket: " + strerror(errno));
  net::SetListenSocketOptions(listen_fd_);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(listen_fd_, 1024) != 0)
    return Status::Unavailable("cannot listen on " + o_.listen + ": " + strerror(errno));
  socklen_t len = sizeof a;
  if (getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    return Status::FromErrno("the port " + o_.listen + " is bound to", errno);
  port_ = ntohs(a.sin_port);
  for (int i = 0; i < kShadowWorkers; ++i) shadow_workers_.emplace_back([this] { ShadowLoop(); });
  serve_thread_ = std::thread([this] { AcceptLoop(); });
  monitor_thread_ = std::thread([this] { Monitor(); });
  return Status::OK();
}

void Proxy::AcceptLoop() {
  while (!stopping_) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (stopping_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // EMFILE and the like: back off
      continue;
    }
    std::lock_guard<std::mutex> l(conns_mu_);
    if (stopping_) {
      ::close(fd);
      continue;
    }
    if (conns_.size() >= o_.max_connections) {
      // At the bound: end the connection idle the longest (its thread sees
      // end of input and exits), or refuse this one if all are serving.
      auto oldest = conns_.end();
      for (auto it = conns_.begin(); it != conns_.end(); ++it)
        if (!it->second.serving && !it->second.shut &&
            (oldest == conns_.end() || it->second.idle_since < oldest->second.idle_since))
          oldest = it;
      if (oldest == conns_.end()) {
        ::close(fd);
        continue;
      }
      ::shutdown(oldest->first, SHUT_RD);
      oldest->second.shut = true;
    }
    conns_.emplace(fd, Conn{});
    std::thread([this, fd] {
      ServeConnection(fd);
      std::lock_guard<std::mutex> l(conns_mu_);
      conns_.erase(fd);
      ::close(fd);
      conns_cv_.notify_all();
    }).detach();
  }
}

Result<std::shared_ptr<Proxy::Backend>> Proxy::Launch(const CurrentVersion& v) {
  auto b = std::make_shared<Backend>(o_.model_connections);
  MR_ASSIGN_OR_RETURN(b->port, FreeLoopbackPort());
  b->version = v;
  if (monitoring_) b->monitor = monitoring_->For(v);
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
  if (b->dead) return;  // already reaped (Monitor)
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

Result<std::shared_ptr<Proxy::Backend>> Proxy::StartHealthy(const CurrentVersion& v) {
  MR_ASSIGN_OR_RETURN(auto b, Launch(v));
  Status st = WaitHealthy(*b);
  if (!st.ok()) {
    Retire(b);
    return st;
  }
  return b;
}

Status Proxy::SwapTo(const CurrentVersion& v) {
  std::shared_ptr<Backend> old, cand;
  {
    // A rollout ends: finished (the candidate becomes the only arm, as it
    // runs) or aborted (the baseline stays).
    std::lock_guard<std::mutex> l(mu_);
    if (candidate_ && !candidate_->dead && candidate_->version.digest == v.digest) {
      old = current_;
      current_ = candidate_;
      candidate_.reset();
      route_.reset();
    } else if (current_ && !current_->dead && current_->version.digest == v.digest && (candidate_ || route_)) {
      cand = candidate_;
      candidate_.reset();
      route_.reset();
    }
  }
  if (old || cand) {
    Retire(old);
    Retire(cand);
    return Status::OK();
  }
  MR_ASSIGN_OR_RETURN(auto b, StartHealthy(v));
  {
    std::lock_guard<std::mutex> l(mu_);
    old = current_;
    cand = candidate_;
    current_ = b;
    candidate_.reset();
    route_.reset();
  }
  Retire(old);
  Retire(cand);
  return Status::OK();
}

Status Proxy::SetRollout(const CurrentVersion& candidate, const RolloutSpec& spec) {
  bool running = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!current_ || current_->version.digest != spec.baseline_digest)
      return Status::FailedPrecondition("the rollout's baseline (version " + std::to_string(spec.baseline_version) +
                                        ") is not the version served");
    running = candidate_ && !candidate_->dead && candidate_->version.digest == candidate.digest;
  }
  std::shared_ptr<Backend> b, old;
  if (!running) {
    auto started = StartHealthy(candidate);
    if (!started.ok()) {
      EndRollout();  // the baseline alone
      return started.status().WithContext("candidate version " + std::to_string(candidate.version));
    }
    b = *started;
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    if (b) {
      old = candidate_;
      candidate_ = b;
    }
    auto route = std::make_shared<Route>();
    route->spec = spec;
    // Counts restart per (rollout id, step); a repeated release keeps them.
    if (route_ && route_->spec.id == spec.id && route_->spec.step == spec.step && !b) route->counts = route_->counts;
    else route->counts = std::make_shared<RolloutCounts>(spec.id, spec.step, spec.mode);
    route_ = route;
  }
  Retire(old);
  return Status::OK();
}

void Proxy::EndRollout() {
  std::shared_ptr<Backend> cand;
  {
    std::lock_guard<std::mutex> l(mu_);
    cand = candidate_;
    candidate_.reset();
    route_.reset();
  }
  Retire(cand);
}

bool Proxy::rollout_active() {
  std::lock_guard<std::mutex> l(mu_);
  return route_ != nullptr;
}

std::string Proxy::RolloutReportJson() {
  std::shared_ptr<Route> r;
  {
    std::lock_guard<std::mutex> l(mu_);
    r = route_;
  }
  return r ? r->counts->ReportJson(ProcessRunId()) : "";
}

void Proxy::RestartIfDead(std::shared_ptr<Backend> Proxy::*slot, double* backoff) {
  std::shared_ptr<Backend> b;
  {
    std::lock_guard<std::mutex> l(mu_);
    b = this->*slot;
  }
  if (!b) return;
  int st = 0;
  if (!b->dead && waitpid(b->pid, &st, WNOHANG) != b->pid) {
    *backoff = 0.2;
    return;
  }
  b->dead = true;
  if (stopping_) return;
  if (on_event_) on_event_("model server of version " + std::to_string(b->version.version) + " died; restarting");
  std::this_thread::sleep_for(std::chrono::duration<double>(*backoff));
  *backoff = std::min(*backoff * 2, 10.0);
  auto nb = Launch(b->version);
  if (!nb.ok() || !WaitHealthy(**nb).ok()) {
    if (nb.ok()) Retire(*nb);
    return;
  }
  bool installed = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (this->*slot == b) {
      this->*slot = *nb;
      installed = true;
    }
  }
  if (!installed) Retire(*nb);  // a swap replaced it meanwhile
}

void Proxy::Monitor() {
  double backoff = 0.2, candidate_backoff = 0.2;
  while (!stopping_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    RestartIfDead(&Proxy::current_, &backoff);
    if (stopping_) return;
    RestartIfDead(&Proxy::candidate_, &candidate_backoff);
  }
}

void Proxy::SetServing(int fd, bool serving) {
  std::lock_guard<std::mutex> l(conns_mu_);
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  it->second.serving = serving;
  if (!serving) it->second.idle_since = std::chrono::steady_clock::now();
  // A connection that goes idle while stopping ends: its loop checks stopping_.
}

void Proxy::Stop() {
  if (stopping_.exchange(true)) return;
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
  if (serve_thread_.joinable()) serve_thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  {
    // Connections waiting for a request end now; requests in progress are
    // answered (with Connection: close) for up to kStopDrain, then cut.
    std::unique_lock<std::mutex> l(conns_mu_);
    for (const auto& [fd, c] : conns_)
      if (!c.serving) ::shutdown(fd, SHUT_RD);
    if (!conns_cv_.wait_for(l, kStopDrain, [&] { return conns_.empty(); })) {
      for (const auto& [fd, c] : conns_) ::shutdown(fd, SHUT_RDWR);
      conns_cv_.wait_for(l, std::chrono::seconds(10), [&] { return conns_.empty(); });
    }
  }
  if (monitor_thread_.joinable()) monitor_thread_.join();
  {
    std::lock_guard<std::mutex> l(shadow_mu_);
    shadow_queue_.clear();  // copies not sent yet are not sent
  }
  shadow_cv_.notify_all();
  for (auto& t : shadow_workers_) t.join();
  shadow_workers_.clear();
  std::shared_ptr<Backend> b, cand;
  {
    std::lock_guard<std::mutex> l(mu_);
    b = current_;
    cand = candidate_;
    current_.reset();
    candidate_.reset();
    route_.reset();
  }
  if (b && !b->dead) Retire(b);
  if (cand && !cand->dead) Retire(cand);
}

}  // namespace modelreg::agent
