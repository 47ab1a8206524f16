// ApiServer: the registry's HTTP(S) front door. Owns the cpp-httplib server,
// the route table (api/routes.cc), request ids, JSON logs and metrics.
//
// Lifecycle: Bind() (returns the port, so ":0" works for tests), then Run()
// blocks until Stop() is called from any thread (e.g. the SIGTERM watcher).
// In-flight requests finish before Run() returns.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "service/registry_service.h"

namespace modelreg::api {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 64;  // each keep-alive connection holds a worker
  size_t max_json_body = 5 << 20;
  int read_timeout_s = 60;
  int keep_alive_max = 100000;
  std::string tls_cert;
  std::string tls_key;
};

class ApiServer {
 public:
  ApiServer(RegistryService* svc, ServerOptions options);
  ~ApiServer();
  Result<int> Bind();
  Status Run();
  void Stop();
  std::string url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace modelreg::api
