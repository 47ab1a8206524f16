#include "net/webhook_post.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "core/utf8_text.h"
#include "core/webhook_signature.h"
#include "net/address_class.h"

namespace modelreg::net {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxUrl = 2048;

bool HasHeader(const std::vector<std::pair<std::string, std::string>>& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const auto& h) {
    return h.first.size() == name.size() &&
           std::equal(h.first.begin(), h.first.end(), name.begin(), [](char a, char b) {
             return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           });
  });
}

Status BadUrl(const std::string& why) { return Status::InvalidArgument("webhook URL " + why); }

// Text from the network, fit for a one-line log message.
std::string Printable(std::string_view s, size_t max = 200) {
  std::string out;
  for (char c : s.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > max) out += "...";
  return out;
}

// Cuts the attempt's connection when the deadline passes: shuts down (a
// duplicate of) its socket, which ends any read, write or TLS handshake
// cpp-httplib is blocked in. The duplicate is ours, so its number cannot
// be reused by another connection while we may still shut it down.
class Deadline {
 public:
  explicit Deadline(Clock::time_point at) : at_(at), thread_([this] { Run(); }) {}
  ~Deadline() {
    {
      std::lock_guard<std::mutex> l(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (watch_ >= 0) ::close(watch_);
  }
  // The socket of the connection now being made (cpp-httplib's
  // set_socket_options hands it over before connecting).
  void Watch(int fd) {
    std::lock_guard<std::mutex> l(mu_);
    if (watch_ >= 0) ::close(watch_);
    watch_ = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  }
  bool fired() const {
    std::lock_guard<std::mutex> l(mu_);
    return fired_;
  }
  Clock::duration remaining() const { return at_ - Clock::now(); }

 private:
  void Run() {
    std::unique_lock<std::mutex> l(mu_);
    while (!done_) {
      if (Clock::now() < at_) {
        cv_.wait_until(l, at_);
        continue;
      }
      fired_ = true;
      // Again and again: a connect still under way cannot be shut down
      // yet (it ends by its own timeout, the same deadline).
      if (watch_ >= 0) ::shutdown(watch_, SHUT_RDWR);
      cv_.wait_for(l, std::chrono::milliseconds(10));
    }
  }

  const Clock::time_point at_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int watch_ = -1;
  bool fired_ = false;
  bool done_ = false;
  std::thread thread_;
};

// A file holding the webhook's CA certificates while an attempt runs:
// cpp-httplib verifies against a file, and only its certificates (a
// certificate store handed to it would get the system's CAs added).
class CaFile {
 public:
  Status Write(std::string_view pem) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "modelreg-webhook-ca-XXXXXX").string();
    const int fd = ::mkstemp(tmpl.data());
    if (fd < 0) return Status::FromErrno("create a file for the webhook's CA certificates", errno);
    path_ = tmpl;
    const bool ok = ::write(fd, pem.data(), pem.size()) == static_cast<ssize_t>(pem.size());
    ::close(fd);
    return ok ? Status::OK() : Status::Internal("cannot write the webhook's CA certificates to " + path_);
  }
  ~CaFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string HostHeader(const WebhookUrl& u) {
  std::string h = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  if (u.port != (u.https ? 443 : 80)) h += ":" + std::to_string(u.port);
  return h;
}

std::string Ms(Clock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

}  // namespace

Result<WebhookUrl> ParseWebhookUrl(std::string_view url) {
  if (url.size() > kMaxUrl) return BadUrl("is longer than " + std::to_string(kMaxUrl) + " characters");
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return BadUrl("\"" + Printable(url) + "\" has a space, control or non-ASCII character (percent-encode it)");
  if (url.find('#') != std::string_view::npos) return BadUrl("\"" + std::string(url) + "\" has a #fragment");
  WebhookUrl u;
  const size_t colon = url.find("://");
  std::string scheme(url.substr(0, colon == std::string_view::npos ? 0 : colon));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  if (scheme == "https") u.https = true;
  else if (scheme != "http") return BadUrl("\"" + std::string(url) + "\" must start with http:// or https://");
  std::string_view rest = url.substr(colon + 3);
  const size_t end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, end);
  u.target = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
  if (u.target[0] == '?') u.target = "/" + u.target;
  if (authority.find('@') != std::string_view::npos)
    return BadUrl("\"" + std::string(url) + "\" has credentials (user@host): not allowed, use the webhook's secret");
  std::string_view port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return BadUrl("\"" + std::string(url) + "\" has a [ without ]");
    u.host = std::string(authority.substr(1, close - 1));
    in6_addr a6{};
    if (::inet_pton(AF_INET6, u.host.c_str(), &a6) != 1)
      return BadUrl("\"" + std::string(url) + "\": [" + u.host + "] is not an IPv6 address");
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') return BadUrl("\"" + std::string(url) + "\" has text after ]");
    if (!after.empty()) port = after.substr(1);
    if (after == ":") return BadUrl("\"" + std::string(url) + "\" has an empty port");
  } else {
    const size_t c = authority.find(':');
    u.host = std::string(authority.substr(0, c));
    if (c != std::string_view::npos) {
      port = authority.substr(c + 1);
      if (port.empty()) return BadUrl("\"" + std::string(url) + "\" has an empty port");
    }
    for (char ch : u.host)
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '.' && ch != '_')
        return BadUrl("\"" + std::string(url) + "\": host \"" + u.host + "\" is not a host name or address");
  }
  if (u.host.empty()) return BadUrl("\"" + std::string(url) + "\" has no host");
  if (port.empty()) {
    u.port = u.https ? 443 : 80;
  } else {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos)
      return BadUrl("\"" + std::string(url) + "\": port \"" + std::string(port) + "\" is not a number");
    u.port = std::stoi(std::string(port));
    if (u.port < 1 || u.port > 65535) return BadUrl("\"" + std::string(url) + "\": port is not 1..65535");
  }
  return u;
}

Status CheckWebhookCa(std::string_view pem) {
  if (pem.empty()) return Status::OK();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  int certs = 0;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_free(x);
    ++certs;
  }
  ERR_clear_error();  // the read that ended the loop
  // Every PEM block must have been a certificate (a key, say, is not).
  size_t blocks = 0;
  for (size_t at = pem.find("-----BEGIN "); at != std::string_view::npos; at = pem.find("-----BEGIN ", at + 1))
    ++blocks;
  if (certs == 0 || blocks != static_cast<size_t>(certs))
    return Status::InvalidArgument("the webhook's CA is not PEM certificates (-----BEGIN CERTIFICATE----- ...)");
  return Status::OK();
}

WebhookAnswer PostWebhook(const WebhookTarget& target, std::string_view body,
                          const std::vector<std::pair<std::string, std::string>>& headers) {
  const Clock::time_point start = Clock::now();
  WebhookAnswer a;
  auto finish = [&](std::string error, bool retryable) {
    a.error = std::move(error);
    // Text any database column takes: valid UTF-8, no NUL bytes.
    std::replace(a.body_excerpt.begin(), a.body_excerpt.end(), '\0', '\x7f');
    a.body_excerpt = Utf8Prefix(a.body_excerpt, kWebhookExcerptMax);
    a.retryable = a.error.empty() || retryable;
    a.elapsed_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    return a;
  };

  auto url = ParseWebhookUrl(target.url);
  if (!url.ok()) return finish(url.status().message(), false);
  if (Status ca = CheckWebhookCa(target.ca_pem); !ca.ok()) return finish(ca.message(), false);
  auto addresses = ResolveWebhookHost(url->host, url->port, target.allow_private);
  if (!addresses.ok())
    return finish(addresses.status().message(), addresses.status().code() != StatusCode::kPermissionDenied);
  CaFile ca;
  if (url->https && !target.ca_pem.empty())
    if (Status st = ca.Write(target.ca_pem); !st.ok()) return finish(st.message(), true);

  Deadline deadline(start + target.timeout);
  std::string location;
  httplib::Error error = httplib::Error::Success;
  long verify_result = X509_V_OK;
  std::string tried;
  for (const ResolvedAddress& address : *addresses) {
    const Clock::duration left = deadline.remaining();
    if (left <= Clock::duration::zero()) break;
    std::unique_ptr<httplib::ClientImpl> http;
    httplib::SSLClient* tls = nullptr;
    if (url->https) {
      auto c = std::make_unique<httplib::SSLClient>(url->host, url->port);
      tls = c.get();
      if (!ca.path().empty()) c->set_ca_cert_path(ca.path().c_str());
      c->enable_server_certificate_verification(true);
      http = std::move(c);
    } else {
      http = std::make_unique<httplib::ClientImpl>(url->host, url->port);
    }
    // Pinned: cpp-httplib connects to this address, and names the host in
    // SNI, the certificate check and the Host header.
    http->set_hostname_addr_map({{url->host, address.ip}});
    http->set_socket_options([&](int fd) { deadline.Watch(fd); });
    http->set_follow_location(false);
    http->set_keep_alive(false);
    // cpp-httplib's own timeouts (per connect, read, write) are only a
    // backstop, later than the deadline, which cuts the attempt as a whole.
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(left).count() + 1000000;
    http->set_connection_timeout(us / 1000000, us % 1000000);
    http->set_read_timeout(us / 1000000, us % 1000000);
    http->set_write_timeout(us / 1000000, us % 1000000);

    httplib::Request req;
    req.method = "POST";
    req.path = url->target;
    req.headers.emplace("Host", HostHeader(*url));
    for (const auto& [k, v] : headers) req.headers.emplace(k, v);
    if (!HasHeader(headers, "Content-Type")) req.headers.emplace("Content-Type", "application/json");
    if (!HasHeader(headers, "User-Agent")) req.headers.emplace("User-Agent", kWebhookUserAgent);
    req.body.assign(body.data(), body.size());
    a.status = 0;
    a.body_excerpt.clear();
    req.response_handler = [&](const httplib::Response& res) {
      a.status = res.status;
      location = res.get_header_value("Location");
      return true;
    };
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
      const size_t room = kWebhookExcerptMax - a.body_excerpt.size();
      a.body_excerpt.append(data, std::min(n, room));
      return n <= room;  // past the excerpt: stop reading (the status is known)
    };
    httplib::Response res;
    error = httplib::Error::Success;
    const bool sent = http->send(req, res, error);
    if (tls) verify_result = tls->get_openssl_verify_result();
    tried += (tried.empty() ? "" : ", ") + address.ip;
    if (sent || a.status != 0) break;
    // Another address only if this one could not be connected to at all.
    if (error != httplib::Error::Connection || deadline.fired()) break;
  }

  const std::string where = url->host + ":" + std::to_string(url->port);
  // An answer whose status arrived counts by its status, even if the
  // deadline then cut its body.
  if (a.status == 0 && (deadline.fired() || deadline.remaining() <= Clock::duration::zero()))
    return finish("no answer from " + where + " within the " + Ms(target.timeout) +
                      " timeout (connecting, sending and answering together)",
                  true);
  if (a.status == 0) {
    switch (error) {
      case httplib::Error::Connection:
        return finish("could not connect to " + where + " (" + tried + "): refused or unreachable", true);
      case httplib::Error::ConnectionTimeout:
        return finish("connecting to " + where + " timed out", true);
      case httplib::Error::SSLConnection:
        return finish("TLS handshake with " + where + " failed", true);
      case httplib::Error::SSLLoadingCerts:
        return finish("cannot load the CA certificates to verify " + where + " with", true);
      case httplib::Error::SSLServerVerification:
        return finish(
            "the TLS certificate of " + where + " is not trusted: " +
                (verify_result != X509_V_OK ? std::string(X509_verify_cert_error_string(verify_result))
                                            : "it is not for the host name " + url->host) +
                (target.ca_pem.empty() ? " (verified with the system's CAs)" : " (verified with the webhook's CA)"),
            true);
      case httplib::Error::Write:
        return finish("the connection to " + where + " broke while sending the delivery", true);
      default:
        return finish("no HTTP answer from " + where + " (" + httplib::to_string(error) + ")", true);
    }
  }
  if (a.status >= 200 && a.status < 300) return finish("", true);
  if (a.status >= 300 && a.status < 400)
    return finish("answered " + std::to_string(a.status) + " redirecting to \"" + Printable(location) +
                      "\": redirects are not followed (configure the final URL)",
                  true);
  if (a.status == 410) return finish("answered 410 Gone: the receiver says this endpoint is gone for good", false);
  return finish("answered " + std::to_string(a.status), true);
}

}  // namespace modelreg::net
