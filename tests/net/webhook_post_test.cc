// Tests of registry/net/webhook_post.h against real receivers on loopback:
// cpp-httplib servers (plain and TLS, with certificates made here), a
// socket that never answers and one that trickles its answer.
#include "net/webhook_post.h"

#include <httplib.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <string>
#include <thread>

#include "core/utf8_text.h"
#include "core/webhook_signature.h"
#include "support/wait.h"

namespace modelreg::net {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// A self-signed certificate for `names` (subjectAltName, e.g.
// "DNS:localhost,IP:127.0.0.1"), its key, and its PEM text.
struct Cert {
  X509* x509 = nullptr;
  EVP_PKEY* key = nullptr;
  std::string pem;
  explicit Cert(const char* names) {
    key = EVP_EC_gen("P-256");
    REQUIRE(key);
    x509 = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x509), 1);
    X509_gmtime_adj(X509_getm_notBefore(x509), -60);
    X509_gmtime_adj(X509_getm_notAfter(x509), 3600);
    X509_set_pubkey(x509, key);
    X509_NAME* name = X509_get_subject_name(x509);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("webhook test"), -1, -1,
                               0);
    X509_set_issuer_name(x509, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x509, x509, nullptr, nullptr, 0);
    X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, names);
    REQUIRE(san);
    X509_add_ext(x509, san, -1);
    X509_EXTENSION_free(san);
    X509_EXTENSION* bc = X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(x509, bc, -1);
    X509_EXTENSION_free(bc);
    REQUIRE(X509_sign(x509, key, EVP_sha256()) > 0);
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x509);
    char* data = nullptr;
    const long n = BIO_get_mem_data(b, &data);
    pem.assign(data, n);
    BIO_free(b);
  }
  ~Cert() {
    X509_free(x509);
    EVP_PKEY_free(key);
  }
};

// A cpp-httplib receiver on 127.0.0.1 (plain, or TLS with `cert`) whose
// POST /hook answers with `handler`; records what it got.
class Receiver {
 public:
  explicit Receiver(httplib::Server::Handler handler, const Cert* cert = nullptr) {
    if (cert) server_ = std::make_unique<httplib::SSLServer>(cert->x509, cert->key);
    else server_ = std::make_unique<httplib::Server>();
    server_->Post("/hook", [this, handler](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> l(mu_);
        last_ = req;
        ++count_;
      }
      handler(req, res);
    });
    port_ = server_->bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    // stop() before the server runs would not stop it.
    REQUIRE(testing::WaitFor([&] { return server_->is_running(); }));
  }
  ~Receiver() {
    server_->stop();
    thread_.join();
  }
  int port() const { return port_; }
  int count() const {
    std::lock_guard<std::mutex> l(mu_);
    return count_;
  }
  httplib::Request last() const {
    std::lock_guard<std::mutex> l(mu_);
    return last_;
  }

 private:
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mu_;
  httplib::Request last_;
  int count_ = 0;
};

// A listening socket on 127.0.0.1 that never accepts: connections complete
// (the kernel's backlog) and the request is sent, but no answer ever comes.
struct Silent {
  int fd = -1, port = 0;
  Silent() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 8) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
  }
  ~Silent() { ::close(fd); }
};

// Accepts one connection and sends an answer's head one header line at a
// time, a line every 20 ms, never finishing: each read gets data, so only a
// deadline on the whole attempt ends it.
struct Trickle {
  Silent listener;
  std::atomic<bool> stop{false};
  std::thread thread;
  Trickle() {
    thread = std::thread([this] {
      pollfd p{listener.fd, POLLIN, 0};
      while (!stop && ::poll(&p, 1, 20) <= 0) {}
      if (stop) return;
      const int c = ::accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) return;
      std::string head = "HTTP/1.1 200 OK\r\n";
      while (!stop && ::send(c, head.data(), head.size(), MSG_NOSIGNAL) > 0) {
        head = "X-Slow: 1\r\n";
        pollfd none{-1, 0, 0};
        ::poll(&none, 1, 20);
      }
      ::close(c);
    });
  }
  ~Trickle() {
    stop = true;
    thread.join();
  }
};

std::string Url(int port, const char* scheme = "http", const char* host = "127.0.0.1") {
  return std::string(scheme) + "://" + host + ":" + std::to_string(port) + "/hook";
}

WebhookTarget Target(std::string url, bool allow_private = true) {
  WebhookTarget t;
  t.url = std::move(url);
  t.allow_private = allow_private;
  t.timeout = std::chrono::milliseconds(10000);
  return t;
}

const Headers kSigned = {{kWebhookDeliveryIdHeader, "42"},
                         {kWebhookTimestampHeader, "1796558400"},
                         {kWebhookSignatureHeader, SignWebhook("s", "42", 1796558400, "{\"id\":42}")}};

TEST_CASE("webhook post: a 2xx is delivered, with the body and headers as given") {
  Receiver r([](const httplib::Request&, httplib::Response& res) { res.set_content("thanks", "text/plain"); });
  const WebhookAnswer a = PostWebhook(Target(Url(r.port()) + "?team=ml"), "{\"id\":42}", kSigned);
  CHECK(a.delivered());
  CHECK(a.error.empty());
  CHECK(a.status == 200);
  CHECK(a.body_excerpt == "thanks");
  CHECK(a.elapsed_ms > 0);
  const httplib::Request got = r.last();
  CHECK(got.body == "{\"id\":42}");
  CHECK(got.get_param_value("team") == "ml");
  CHECK(got.get_header_value("Content-Type") == "application/json");
  CHECK(got.get_header_value("User-Agent") == "modelreg-webhook/1");
  CHECK(got.get_header_value("X-Modelreg-Delivery-Id") == "42");
  CHECK(got.get_header_value("Host") == "127.0.0.1:" + std::to_string(r.port()));
  CHECK(VerifyWebhook("s", got.get_header_value("X-Modelreg-Delivery-Id"), got.get_header_value("X-Modelreg-Timestamp"),
                      got.get_header_value("X-Modelreg-Signature"), got.body, 1796558400)
            .ok());
}

TEST_CASE("webhook post: a 500 is a retryable failure, a 410 a final one, a 4xx retryable") {
  int answer = 500;
  Receiver r([&](const httplib::Request&, httplib::Response& res) {
    res.status = answer;
    res.set_content("{\"error\":\"down\"}", "application/json");
  });
  WebhookAnswer a = PostWebhook(Target(Url(r.port())), "{}", {});
  CHECK_FALSE(a.delivered());
  CHECK(a.status == 500);
  CHECK(a.error == "answered 500");
  CHECK(a.retryable);
  CHECK(a.body_excerpt == "{\"error\":\"down\"}");
  answer = 410;
  a = PostWebhook(Target(Url(r.port())), "{}", {});
  CHECK(a.status == 410);
  CHECK(a.error.find("Gone") != std::string::npos);
  CHECK_FALSE(a.retryable);
  answer = 401;
  a = PostWebhook(Target(Url(r.port())), "{}", {});
  CHECK(a.status == 401);
  CHECK(a.retryable);
}

TEST_CASE("webhook post: a redirect is not followed") {
  Receiver target([](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
  Receiver r([&](const httplib::Request&, httplib::Response& res) { res.set_redirect(Url(target.port())); });
  const WebhookAnswer a = PostWebhook(Target(Url(r.port())), "{}", {});
  CHECK(a.status == 302);
  CHECK_FALSE(a.delivered());
  CHECK(a.error.find("redirects are not followed") != std::string::npos);
  CHECK(a.error.find(Url(target.port())) != std::string::npos);
  CHECK(target.count() == 0);
}

TEST_CASE("webhook post: a receiver that never answers is cut at the timeout") {
  Silent s;
  WebhookTarget t = Target(Url(s.port));
  t.timeout = std::chrono::milliseconds(300);
  const WebhookAnswer a = PostWebhook(t, "{}", {});
  CHECK(a.status == 0);
  CHECK(a.error.find("within the 300 ms timeout") != std::string::npos);
  CHECK(a.retryable);
  CHECK(a.elapsed_ms >= 290);
  CHECK(a.elapsed_ms < 300 + 2000);  // generous margin for a loaded machine; no answer would mean 10 s+
}

TEST_CASE("webhook post: a TLS handshake that never completes is cut at the timeout") {
  Silent s;
  WebhookTarget t = Target(Url(s.port, "https"));
  t.timeout = std::chrono::milliseconds(300);
  const WebhookAnswer a = PostWebhook(t, "{}", {});
  CHECK(a.status == 0);
  CHECK(a.error.find("within the 300 ms timeout") != std::string::npos);
  CHECK(a.elapsed_ms < 300 + 2000);
}

TEST_CASE("webhook post: the timeout bounds the whole attempt, also against an answer that trickles") {
  Trickle slow;
  WebhookTarget t = Target(Url(slow.listener.port));
  t.timeout = std::chrono::milliseconds(400);
  const WebhookAnswer a = PostWebhook(t, "{}", {});
  CHECK_FALSE(a.delivered());
  CHECK(a.error.find("timeout") != std::string::npos);
  CHECK(a.elapsed_ms < 400 + 2000);
}

TEST_CASE("webhook post: loopback is refused unless private addresses are allowed, and not retried") {
  Receiver r([](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
  const WebhookAnswer a = PostWebhook(Target(Url(r.port()), /*allow_private=*/false), "{}", {});
  CHECK(a.status == 0);
  CHECK(a.error.find("loopback") != std::string::npos);
  CHECK(a.error.find("serve --webhooks-allow-private") != std::string::npos);
  CHECK_FALSE(a.retryable);
  CHECK(r.count() == 0);
  CHECK(PostWebhook(Target(Url(r.port(), "http", "localhost"), false), "{}", {}).error.find("loopback") !=
        std::string::npos);
}

TEST_CASE("webhook post: an answer's body is read only up to the excerpt") {
  Receiver r([](const httplib::Request&, httplib::Response& res) {
    const uint64_t huge = uint64_t{1} << 32;  // never sent whole: the client stops reading
    res.set_content_provider(huge, "application/octet-stream", [](size_t, size_t, httplib::DataSink& sink) {
      static const std::string chunk(64 << 10, 'x');
      return sink.write(chunk.data(), chunk.size());
    });
  });
  const WebhookAnswer a = PostWebhook(Target(Url(r.port())), "{}", {});
  CHECK(a.delivered());
  CHECK(a.status == 200);
  CHECK(a.body_excerpt.size() == kWebhookExcerptMax);
  CHECK(a.elapsed_ms < 10000);
}

TEST_CASE("webhook post: the excerpt is valid UTF-8 without NUL, whatever the receiver sent") {
  std::string answer("\xff\0ok ", 5);
  while (answer.size() < 6000) answer += "\xc3\xa9";  // é, cut somewhere by the 4 KiB limit
  Receiver r([&](const httplib::Request&, httplib::Response& res) { res.set_content(answer, "text/plain"); });
  const WebhookAnswer a = PostWebhook(Target(Url(r.port())), "{}", {});
  CHECK(a.delivered());
  CHECK(a.body_excerpt.size() <= kWebhookExcerptMax);
  CHECK(a.body_excerpt.size() > kWebhookExcerptMax - 4);
  CHECK(IsValidUtf8(a.body_excerpt));
  CHECK(a.body_excerpt.find('\0') == std::string::npos);
  CHECK(a.body_excerpt.rfind("\xef\xbf\xbd\x7fok \xc3\xa9", 0) == 0);
}

TEST_CASE("webhook post: https with the webhook's CA is verified for the URL's host") {
  const Cert cert("DNS:localhost,IP:127.0.0.1");
  const Cert other("DNS:localhost,IP:127.0.0.1");
  Receiver r([](const httplib::Request&, httplib::Response& res) { res.set_content("tls ok", "text/plain"); }, &cert);
  WebhookTarget t = Target(Url(r.port(), "https"));
  t.ca_pem = cert.pem;
  WebhookAnswer a = PostWebhook(t, "{}", kSigned);
  CHECK(a.error == "");
  CHECK(a.body_excerpt == "tls ok");

  // By name: SNI and the check use "localhost" while the connection goes
  // to a checked address (::1 first, if localhost names it, is refused by
  // the receiver and the next address is tried).
  t.url = Url(r.port(), "https", "localhost");
  a = PostWebhook(t, "{}", {});
  CHECK(a.error == "");

  t.url = Url(r.port(), "https");
  t.ca_pem = other.pem;
  a = PostWebhook(t, "{}", {});
  CHECK(a.status == 0);
  CHECK(a.error.find("not trusted") != std::string::npos);
  CHECK(a.error.find("webhook's CA") != std::string::npos);

  t.ca_pem = "";  // the system's CAs do not know a self-signed certificate
  a = PostWebhook(t, "{}", {});
  CHECK(a.error.find("not trusted") != std::string::npos);
  CHECK(a.error.find("system's CAs") != std::string::npos);
  CHECK(r.count() == 2);
}

TEST_CASE("webhook post: a certificate for another host name is refused") {
  const Cert cert("DNS:receiver.example");
  Receiver r([](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); }, &cert);
  WebhookTarget t = Target(Url(r.port(), "https"));
  t.ca_pem = cert.pem;
  const WebhookAnswer a = PostWebhook(t, "{}", {});
  CHECK(a.status == 0);
  CHECK(a.error.find("not trusted") != std::string::npos);
  CHECK(r.count() == 0);
}

TEST_CASE("webhook post: URLs and CAs that cannot work are refused, not retried") {
  const std::pair<const char*, const char*> bad[] = {
      {"ftp://example.com/hook", "http:// or https://"},
      {"example.com/hook", "http:// or https://"},
      {"https://user:pw@example.com/hook", "credentials"},
      {"https://example.com/hook#frag", "fragment"},
      {"https://exa mple.com/", "space"},
      {"https://example.com:0/", "1..65535"},
      {"https://example.com:99999/", "1..65535"},
      {"https://example.com:/", "empty port"},
      {"https://example.com:8x/", "not a number"},
      {"https:///hook", "no host"},
      {"https://[::1/hook", "without ]"},
      {"https://[example]/hook", "not an IPv6 address"},
      {"https://ex%61mple.com/", "not a host name"},
  };
  for (const auto& [url, why] : bad) {
    INFO(url);
    const WebhookAnswer a = PostWebhook(Target(url), "{}", {});
    CHECK(a.error.find(why) != std::string::npos);
    CHECK_FALSE(a.retryable);
    CHECK(ParseWebhookUrl(url).status().code() == StatusCode::kInvalidArgument);
  }
  auto u = ParseWebhookUrl("HTTPS://[2001:db8::1]:8443?x=1");
  REQUIRE(u.ok());
  CHECK(u->https);
  CHECK(u->host == "2001:db8::1");
  CHECK(u->port == 8443);
  CHECK(u->target == "/?x=1");
  u = ParseWebhookUrl("http://hooks.example.com");
  REQUIRE(u.ok());
  CHECK(u->port == 80);
  CHECK(u->target == "/");

  WebhookTarget t = Target("https://127.0.0.1:1/hook");
  t.ca_pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";
  const WebhookAnswer a = PostWebhook(t, "{}", {});
  CHECK(a.error.find("not PEM certificates") != std::string::npos);
  CHECK_FALSE(a.retryable);
  CHECK(CheckWebhookCa("").ok());
  CHECK(CheckWebhookCa(Cert("DNS:a").pem + Cert("DNS:b").pem).ok());
  CHECK_FALSE(CheckWebhookCa("hello").ok());
}

TEST_CASE("webhook post: cpp-httplib connects to the pinned address, never resolving the name again") {
  // What PostWebhook's defence against DNS rebinding rests on: with the
  // host mapped to the checked address, the name itself is not looked up
  // (this one could not be), yet it is what the Host header carries.
  Receiver r([](const httplib::Request&, httplib::Response& res) { res.set_content("pinned", "text/plain"); });
  httplib::ClientImpl c("pinned.invalid", r.port());
  c.set_hostname_addr_map({{"pinned.invalid", "127.0.0.1"}});
  auto res = c.Post("/hook", "{}", "application/json");
  REQUIRE(res);
  CHECK(res->body == "pinned");
  CHECK(r.last().get_header_value("Host") == "pinned.invalid:" + std::to_string(r.port()));
}

TEST_CASE("webhook post: a closed port is a retryable connection failure") {
  int port = 0;
  {
    Silent s;
    port = s.port;
  }
  const WebhookAnswer a = PostWebhook(Target(Url(port)), "{}", {});
  CHECK(a.status == 0);
  CHECK(a.error.find("could not connect") != std::string::npos);
  CHECK(a.retryable);
}

}  // namespace
}  // namespace modelreg::net
