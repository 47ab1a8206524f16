// Certificates for TLS tests, made with the openssl command as an operator
// would: a private CA, a server certificate it signed for 127.0.0.1 and
// localhost, and an unrelated self-signed certificate (a CA the server's
// certificate does not chain to). EC P-256 keys, valid for two days.
// A failing openssl run fails the calling test (Catch2 REQUIRE).
#pragma once

#include <string>

namespace modelreg::testing {

struct TestCerts {
  std::string ca_pem, ca_key;          // the CA (subject: the given name)
  std::string server_pem, server_key;  // CN=127.0.0.1, SAN IP:127.0.0.1, DNS:localhost
  std::string other_pem, other_key;    // CN=other, self-signed
};

// Writes ca.pem, ca.key, server.pem, server.key, other.pem, other.key (and
// the files openssl needs on the way) into `dir`, which must exist.
TestCerts MakeTestCerts(const std::string& dir, const std::string& ca_name = "modelreg test CA");

}  // namespace modelreg::testing
