// The inside of RegistryClient, shared by its three source files:
// registry_client.cc (connection, JSON calls), register_ops.cc (uploads and
// Register) and pull_ops.cc (downloads and Pull). Not for other users.
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "client/registry_client.h"
#include "net/http_error.h"
#include "net/tls_session.h"

namespace modelreg {
namespace client_internal {

constexpr size_t kIoBuffer = 1 << 20;

// Percent-escapes what a URL path or query value must not hold raw.
std::string UrlEscape(const std::string& s);
// Sleeps before retry `attempt` (0-based): 100 ms doubling to 5 s, with jitter.
void Backoff(int attempt);

// Runs `call` (returning a Status or a Result) until it gives anything but
// UNAVAILABLE (unreachable, or a 502/503 from a proxy), at most `retries`
// more times, with Backoff between: for requests that only ask.
template <typename F>
auto RetryUnavailable(int retries, F&& call) -> decltype(call()) {
  for (int attempt = 0;; ++attempt) {
    auto r = call();
    if (r.ok() || r.status().code() != StatusCode::kUnavailable || attempt >= retries) return r;
    Backoff(attempt);
  }
}

}  // namespace client_internal

struct RegistryClient::Impl {
  ClientOptions opts;
  std::unique_ptr<httplib::Client> http;
  // The socket of http's current connection (set on every connect), for
  // reading large bodies directly (net/socket_read.h).
  std::atomic<int> socket_fd{-1};
  bool plain_http() const { return opts.url.rfind("http://", 0) == 0; }
  // http's current connection, to read from directly while http is reading
  // an answer on this thread; fd -1 if it cannot be found.
  Connection Current() const { return net::ConnectionOn(socket_fd, !plain_http()); }

  httplib::Headers Auth() const {
    httplib::Headers h;
    if (!opts.token.empty()) h.emplace("Authorization", "Bearer " + opts.token);
    return h;
  }

  // A transport failure (no HTTP answer) is Unavailable: worth a retry.
  Status FromResult(const httplib::Result& r, const std::string& what) const {
    if (!r) return net::TransportFailure(static_cast<int>(r.error()), opts.url, what);
    return FromResponse(r->status, r->body, what);
  }

  static Status FromResponse(int status, const std::string& body, const std::string& what) {
    return net::StatusFromHttpAnswer(status, body, what);
  }

  // A kept-alive connection the server has closed fails the next request
  // without an answer; one immediate retry on a fresh connection fixes that.
  template <typename F>
  httplib::Result Once(F&& f) {
    auto r = f();
    if (!r && r.error() != httplib::Error::SSLServerVerification) r = f();
    return r;
  }

  // Blob bytes sent or received, for a progress display.
  void Moved(uint64_t n) const {
    if (opts.progress) opts.progress->bytes.fetch_add(n, std::memory_order_relaxed);
  }

  Result<nlohmann::json> ParseJson(const std::string& body, const std::string& what) const {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) return Status::Internal(what + ": registry answered invalid JSON");
    return j;
  }
};

}  // namespace modelreg
