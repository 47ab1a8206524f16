// ApiServer: the registry's HTTP(S) front door. Owns the HTTP server (net/http_server.h),
// the route table (api/routes.cc), request ids, JSON logs and metrics.
//
// Lifecycle: Bind() (returns the port, so ":0" works for tests), then Run()
// blocks until Stop() is called from any thread (e.g. the SIGTERM watcher).
// Stop() lets requests in progress finish for up to `drain_s`, then cuts
// the rest; Run() returns when all have ended.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/webhook_worker.h"
#include "core/status.h"
#include "net/cidr.h"
#include "service/registry_service.h"

namespace modelreg::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 64;  // workers: a request holds one while it is served
  // Release long polls held at once (parked: no worker each); past it a
  // poll is answered at once (docs/agent.md).
  size_t max_long_polls = 16000;
  size_t max_json_body = 5 << 20;
  int read_timeout_s = 60;
  int keep_alive_max = 100000;
  double drain_s = 10;  // Stop(): how long requests in progress may take
  std::string tls_cert;
  std::string tls_key;
  // Error answers name files under it as "<data>/…"; the log keeps the path.
  std::string data_dir;
  // Webhook deliveries (docs/events.md): a worker runs while Run() does.
  WebhookOptions webhooks;
  // Peers in these ranges may GET /metrics without a token (serve
  // --metrics-allow; docs/operations.md "Metrics"). Empty: a token is needed.
  std::vector<net::Cidr> metrics_allow;
};

class ApiServer {
 public:
  ApiServer(RegistryService* svc, ServerOptions options);
  ~ApiServer();
  Result<int> Bind();
  Status Run();
  // Returns how many requests were still running after the drain and cut.
  size_t Stop();
  std::string url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace modelreg::api
