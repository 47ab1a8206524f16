#include "client/registry_client.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

#include "client/api_path.h"
#include "client/client_impl.h"
#include "net/address.h"

namespace modelreg {
namespace client_internal {

std::string UrlEscape(const std::string& s) { return UrlComponent(s); }

void Backoff(int attempt) {
  static thread_local std::mt19937 rng{std::random_device{}()};
  int base = std::min(100 << std::min(attempt, 6), 5000);
  std::uniform_int_distribution<int> jitter(0, base / 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(base + jitter(rng)));
}

}  // namespace client_internal

RegistryClient::RegistryClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RegistryClient::~RegistryClient() = default;

Result<std::unique_ptr<RegistryClient>> RegistryClient::Create(ClientOptions options) {
  MR_ASSIGN_OR_RETURN(options.url, net::NormalizeRegistryUrl(std::move(options.url)));
  auto impl = std::make_unique<Impl>();
  impl->opts = options;
  impl->http = std::make_unique<httplib::Client>(options.url);
  if (!impl->http->is_valid()) return Status::InvalidArgument("bad registry URL '" + options.url + "'");
  if (!options.ca_file.empty()) {
    if (::access(options.ca_file.c_str(), R_OK) != 0)
      return Status::InvalidArgument("cannot read CA file '" + options.ca_file + "'");
    impl->http->set_ca_cert_path(options.ca_file.c_str());
  }
  impl->http->enable_server_certificate_verification(true);
  impl->http->set_keep_alive(true);
  impl->http->set_tcp_nodelay(true);
  impl->http->set_connection_timeout(10, 0);
  impl->http->set_read_timeout(options.timeout_s, 0);
  impl->http->set_write_timeout(options.timeout_s, 0);
  Impl* raw = impl.get();
  impl->http->set_socket_options([raw](int fd) { raw->socket_fd = fd; });
  net::TrackTlsSessions(impl->http->ssl_context());  // null for http://
  return std::unique_ptr<RegistryClient>(new RegistryClient(std::move(impl)));
}

Result<nlohmann::json> RegistryClient::GetJson(const std::string& path) {
  auto r = impl_->Once([&] { return impl_->http->Get(path, impl_->Auth()); });
  MR_RETURN_IF_ERROR(impl_->FromResult(r, "GET " + path));
  return impl_->ParseJson(r->body, "GET " + path);
}

Result<nlohmann::json> RegistryClient::SendJson(const std::string& method, const std::string& path,
                                                const nlohmann::json& body) {
  std::string b = body.dump();
  httplib::Result r = impl_->Once([&] {
    return method == "POST"  ? impl_->http->Post(path, impl_->Auth(), b, "application/json")
           : method == "PUT" ? impl_->http->Put(path, impl_->Auth(), b, "application/json")
                             : impl_->http->Patch(path, impl_->Auth(), b, "application/json");
  });
  MR_RETURN_IF_ERROR(impl_->FromResult(r, method + " " + path));
  if (r->body.empty()) return nlohmann::json::object();
  return impl_->ParseJson(r->body, method + " " + path);
}

Status RegistryClient::Delete(const std::string& path) {
  auto r = impl_->Once([&] { return impl_->http->Delete(path, impl_->Auth()); });
  return impl_->FromResult(r, "DELETE " + path);
}

}  // namespace modelreg
