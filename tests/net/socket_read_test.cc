// Unit tests for net/socket_read (large reads of a known length, plain and
// TLS) and net/tls_session (finding OpenSSL's session for a socket), over
// real socket pairs with a real TLS handshake.
#include "net/socket_read.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "net/tls_session.h"
#include "support/temp_dir.h"

namespace modelreg {
namespace {

std::string Pattern(size_t n, unsigned seed) { return testing::RandomBytes(n, seed); }

// Reads `n` bytes of `conn` into a string, lending at most `piece` bytes at a time.
Status ReadAll(const Connection& conn, uint64_t n, std::string* out, size_t piece = 1 << 20, int timeout_ms = 5000) {
  std::vector<char> buf(piece);
  return ReadConnectionInto(
      conn, n, timeout_ms, [&]() -> Result<std::pair<char*, size_t>> { return std::make_pair(buf.data(), buf.size()); },
      [&](size_t got) {
        out->append(buf.data(), got);
        return Status::OK();
      });
}

struct SocketPair {
  int fd[2] = {-1, -1};
  SocketPair() { REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd) == 0); }
  ~SocketPair() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  void CloseServer() {
    ::close(fd[1]);
    fd[1] = -1;
  }
};

// A TLS session on each end of a socket pair: the server's on a thread of
// its own (Serve), the client's on the test's thread, with its handshakes
// tracked by net/tls_session.
class TlsPair {
 public:
  TlsPair() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    REQUIRE(key);
    X509* cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("test"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
    sctx_ = SSL_CTX_new(TLS_server_method());
    REQUIRE(SSL_CTX_use_certificate(sctx_, cert) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey(sctx_, key) == 1);
    X509_free(cert);
    EVP_PKEY_free(key);
    cctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(cctx_, SSL_VERIFY_NONE, nullptr);
    net::TrackTlsSessions(cctx_);
    server_ = SSL_new(sctx_);
    SSL_set_fd(server_, sp_.fd[1]);
    client_ = SSL_new(cctx_);
    SSL_set_fd(client_, sp_.fd[0]);
    std::thread accept([&] { accepted_ = SSL_accept(server_) == 1; });
    const bool connected = SSL_connect(client_) == 1;
    accept.join();
    REQUIRE(connected);
    REQUIRE(accepted_);
  }
  ~TlsPair() {
    if (thread_.joinable()) thread_.join();
    SSL_free(client_);
    SSL_free(server_);
    SSL_CTX_free(cctx_);
    SSL_CTX_free(sctx_);
  }
  Connection client() const { return Connection{sp_.fd[0], client_}; }
  int client_fd() const { return sp_.fd[0]; }
  SSL* client_ssl() const { return client_; }
  // Runs `f(server SSL)` on the server's thread.
  template <typename F>
  void Serve(F f) {
    if (thread_.joinable()) thread_.join();
    thread_ = std::thread([this, f] { f(server_); });
  }
  void WaitServer() { thread_.join(); }
  void CloseServer() { sp_.CloseServer(); }

 private:
  SocketPair sp_;
  SSL_CTX* sctx_ = nullptr;
  SSL_CTX* cctx_ = nullptr;
  SSL* server_ = nullptr;
  SSL* client_ = nullptr;
  bool accepted_ = false;
  std::thread thread_;
};

void WriteAll(SSL* ssl, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    size_t n = 0;
    if (SSL_write_ex(ssl, s.data() + done, s.size() - done, &n) != 1) return;
    done += n;
  }
}

}  // namespace

TEST_CASE("socket read: plain - exactly n bytes in the lent pieces and a close part way is Unavailable") {
  SocketPair sp;
  const std::string data = Pattern(3 << 20, 1);
  std::thread writer([&] {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(sp.fd[1], data.data() + done, data.size() - done);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
    (void)!::write(sp.fd[1], "next", 4);
  });
  std::string got;
  REQUIRE(ReadAll(Connection{sp.fd[0]}, data.size(), &got, 100 << 10).ok());
  writer.join();
  CHECK(got == data);
  char next[4];
  CHECK(::read(sp.fd[0], next, 4) == 4);  // nothing past n was taken
  CHECK(std::string(next, 4) == "next");
  CHECK_FALSE(TlsHoldsMore(Connection{sp.fd[0]}));

  CHECK(::write(sp.fd[1], "abc", 3) == 3);
  sp.CloseServer();
  got.clear();
  Status st = ReadAll(Connection{sp.fd[0]}, 10, &got);
  CHECK(st.code() == StatusCode::kUnavailable);
  CHECK_THAT(st.message(), Catch::Contains("connection closed after 3 of 10 bytes"));
}

TEST_CASE("socket read: TLS - exactly n bytes after the first small read and the session goes on as before") {
  TlsPair tls;
  const std::string body = Pattern((3 << 20) + 12345, 2);
  tls.Serve([&](SSL* s) { WriteAll(s, body); });
  // What cpp-httplib does first: one small read, leaving the rest of the
  // record decrypted inside OpenSSL.
  char first[100];
  size_t n = 0;
  REQUIRE(SSL_read_ex(tls.client_ssl(), first, sizeof first, &n) == 1);
  std::string got(first, n);
  REQUIRE(ReadAll(tls.client(), body.size() - n, &got, 256 << 10).ok());
  tls.WaitServer();
  CHECK(got == body);
  CHECK_FALSE(TlsHoldsMore(tls.client()));
  // The socket is blocking again and read-ahead is off: cpp-httplib's own
  // reads (a poll, then SSL_read) see the next message.
  CHECK((::fcntl(tls.client_fd(), F_GETFL) & O_NONBLOCK) == 0);
  CHECK(SSL_get_read_ahead(tls.client_ssl()) == 0);
  tls.Serve([](SSL* s) { WriteAll(s, "next answer"); });
  char next[64];
  REQUIRE(SSL_read_ex(tls.client_ssl(), next, sizeof next, &n) == 1);
  CHECK(std::string(next, n) == "next answer");
}

TEST_CASE("socket read: TLS bytes past n are either reported held by OpenSSL or left in the socket") {
  // 16 KiB + 10: the last record is small, and the one read-ahead read
  // (OpenSSL 3's buffer holds a full record and a few hundred bytes more)
  // takes the pipelined record too. The others end on a full record.
  const size_t size = GENERATE(size_t{(16 << 10) + 10}, size_t{100 << 10}, size_t{1000});
  TlsPair tls;
  const std::string body = Pattern(size, 3);  // fits the socket pair's buffers
  tls.Serve([&](SSL* s) {
    WriteAll(s, body);
    WriteAll(s, "pipelined");
  });
  tls.WaitServer();  // both are in the socket before the read starts
  std::string got;
  REQUIRE(ReadAll(tls.client(), body.size(), &got).ok());
  CHECK(got == body);
  // Read-ahead may have taken the next record into OpenSSL, where a poll of
  // the socket (cpp-httplib's next read) would not see it: reported then.
  pollfd p{tls.client_fd(), POLLIN, 0};
  const bool in_socket = ::poll(&p, 1, 0) == 1;
  INFO("body " << size << " bytes; held by OpenSSL: " << TlsHoldsMore(tls.client())
               << ", in the socket: " << in_socket);
  CHECK((TlsHoldsMore(tls.client()) || in_socket));
  if (size == (16 << 10) + 10) CHECK(TlsHoldsMore(tls.client()));
  char next[64];
  size_t n = 0;
  REQUIRE(SSL_read_ex(tls.client_ssl(), next, sizeof next, &n) == 1);
  CHECK(std::string(next, n) == "pipelined");
}

TEST_CASE("socket read: TLS peer gone part way or silent or a commit error") {
  SECTION("closed part way") {
    TlsPair tls;
    tls.Serve([&](SSL* s) { WriteAll(s, Pattern(5000, 4)); });
    tls.WaitServer();
    tls.CloseServer();  // no close_notify: the peer died
    std::string got;
    Status st = ReadAll(tls.client(), 10000, &got);
    CHECK(st.code() == StatusCode::kUnavailable);
    CHECK_THAT(st.message(), Catch::Contains("after 5000 of 10000 bytes"));
    CHECK(got.size() == 5000);
  }
  SECTION("silent") {
    TlsPair tls;
    std::string got;
    Status st = ReadAll(tls.client(), 10, &got, 1 << 20, 200);
    CHECK(st.code() == StatusCode::kUnavailable);
    CHECK_THAT(st.message(), Catch::Contains("no data for"));
  }
  SECTION("commit error") {
    TlsPair tls;
    tls.Serve([&](SSL* s) { WriteAll(s, Pattern(100000, 5)); });
    std::vector<char> buf(1 << 20);
    Status st = ReadConnectionInto(
        tls.client(), 100000, 5000,
        [&]() -> Result<std::pair<char*, size_t>> { return std::make_pair(buf.data(), buf.size()); },
        [](size_t) { return Status::ResourceExhausted("disk full"); });
    CHECK(st.code() == StatusCode::kResourceExhausted);
    CHECK((::fcntl(tls.client_fd(), F_GETFL) & O_NONBLOCK) == 0);
  }
}

TEST_CASE("tls session: found for its socket on the thread that shook hands and nowhere else") {
  TlsPair tls;
  CHECK(net::TlsSessionOn(tls.client_fd()) == tls.client_ssl());
  CHECK(net::TlsSessionOn(tls.client_fd() + 1000) == nullptr);
  CHECK(net::TlsSessionOn(-1) == nullptr);
  ssl_st* elsewhere = tls.client_ssl();
  std::thread([&] { elsewhere = net::TlsSessionOn(tls.client_fd()); }).join();
  CHECK(elsewhere == nullptr);
  // A later handshake on this thread, on another socket, replaces it.
  TlsPair second;
  CHECK(net::TlsSessionOn(second.client_fd()) == second.client_ssl());
  CHECK(net::TlsSessionOn(tls.client_fd()) == nullptr);
}

}  // namespace modelreg
