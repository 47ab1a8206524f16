#include "net/tls_session.h"

#include <openssl/ssl.h>

namespace modelreg::net {
namespace {

thread_local SSL* t_session = nullptr;
thread_local int t_fd = -1;

void OnInfo(const SSL* ssl, int where, int /*ret*/) {
  if (!(where & SSL_CB_HANDSHAKE_DONE)) return;
  t_session = const_cast<SSL*>(ssl);
  t_fd = SSL_get_fd(ssl);
}

}  // namespace

void TrackTlsSessions(SSL_CTX* ctx) {
  if (!ctx) return;
  SSL_CTX_set_info_callback(ctx, OnInfo);
}

SSL* TlsSessionOn(int fd) { return fd >= 0 && fd == t_fd ? t_session : nullptr; }

Connection ConnectionOn(int fd, bool tls) {
  Connection c{fd, tls ? TlsSessionOn(fd) : nullptr};
  if (tls && !c.tls) c.fd = -1;
  return c;
}

}  // namespace modelreg::net
