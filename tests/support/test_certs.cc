#include "support/test_certs.h"

#include <catch2/catch.hpp>
#include <vector>

#include "support/process.h"
#include "support/temp_dir.h"

namespace modelreg::testing {
namespace {

void OpenSsl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = Run(argv);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

}  // namespace

TestCerts MakeTestCerts(const std::string& dir, const std::string& ca_name) {
  const auto at = [&](const char* name) { return dir + "/" + name; };
  TestCerts c{at("ca.pem"), at("ca.key"), at("server.pem"), at("server.key"), at("other.pem"), at("other.key")};
  const std::vector<std::string> ec_key = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
  auto req = [&](std::vector<std::string> args) {
    args.insert(args.begin() + 1, ec_key.begin(), ec_key.end());
    OpenSsl(args);
  };
  req({"req", "-x509", "-keyout", c.ca_key, "-out", c.ca_pem, "-days", "2", "-subj", "/CN=" + ca_name});
  req({"req", "-keyout", c.server_key, "-out", at("server.csr"), "-subj", "/CN=127.0.0.1"});
  WriteFile(at("server-ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  OpenSsl({"x509", "-req", "-in", at("server.csr"), "-CA", c.ca_pem, "-CAkey", c.ca_key, "-CAcreateserial", "-out",
           c.server_pem, "-days", "2", "-extfile", at("server-ext.cnf")});
  req({"req", "-x509", "-keyout", c.other_key, "-out", c.other_pem, "-days", "2", "-subj", "/CN=other"});
  return c;
}

}  // namespace modelreg::testing
