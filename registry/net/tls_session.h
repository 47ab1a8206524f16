// Finding OpenSSL's session for a TLS connection that cpp-httplib holds,
// so that a large body can be read through it in large reads
// (net/socket_read.h). cpp-httplib does not hand out the SSL object; it
// does hand out its SSL_CTX, and OpenSSL reports each finished handshake to
// the context's info callback, on the thread that ran it. The client, the
// agent and the server all run a connection's handshake and its requests on
// one thread, so "the last handshake this thread finished, if it was on this
// socket" is the session of the connection in hand.
//
// The lookup compares socket numbers only, never touching a session that
// may be gone: while the connection in hand is open no other connection
// can have its number, so a match is that connection's own handshake.
#pragma once

#include "net/socket_read.h"

struct ssl_st;      // OpenSSL's SSL
struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace modelreg::net {

// Records the handshakes of `ctx`'s connections (sets its info callback).
void TrackTlsSessions(ssl_ctx_st* ctx);

// The session whose handshake this thread finished last, if it runs on
// socket `fd`; null otherwise (the caller then reads through cpp-httplib).
ssl_st* TlsSessionOn(int fd);

// Socket `fd` as a Connection to read from directly: under TLS with its
// session; fd -1 if there is no socket or (TLS) no session found for it.
Connection ConnectionOn(int fd, bool tls);

}  // namespace modelreg::net
