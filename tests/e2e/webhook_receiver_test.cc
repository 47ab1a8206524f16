// The whole path a user sets up from docs/events.md: `modelreg webhook
// create` with a secret file, examples/webhooks/receiver.py verifying what
// the real server sends, and its command run when a version reaches
// production through the CLI.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/process.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/test_certs.h"
#include "support/wait.h"

using namespace modelreg::testing;

namespace {

std::string TextOf(const std::string& path) { return std::filesystem::exists(path) ? ReadFile(path) : ""; }

}  // namespace

TEST_CASE("webhooks end to end: a promotion to production runs the example receiver's smoke test") {
  TempDir t;
  WriteFile(t / "hook.secret", "a-secret-of-at-least-16-bytes\n");
  const std::string ran = t / "smoke.txt";
  const std::string dir = std::string(MODELREG_SOURCE_DIR) + "/examples/webhooks";
  Process receiver(
      {"/usr/bin/python3", dir + "/receiver.py", "--listen", "127.0.0.1:0", "--secret-file", t / "hook.secret",
       "--on-production", "echo \"smoke test of $MODELREG_MODEL version $MODELREG_VERSION\" >> '" + ran + "'", "--log",
       t / "events.jsonl"},
      t / "receiver.log");
  std::string url;
  REQUIRE(WaitFor([&] {
    const std::string log = TextOf(t / "receiver.log");
    const size_t at = log.find("listening on ");
    const size_t nl = log.find('\n', at);
    if (at == std::string::npos || nl == std::string::npos) return false;
    url = log.substr(at + 13, nl - at - 13) + "/hooks/modelreg";
    return true;
  }));

  ServerProcess server("", {"--webhooks-allow-private"});
  auto env = server.Env(server.admin_token());
  auto created = Modelreg({"webhook", "create", "--name", "smoke", "--url", url, "--events", "stage.changed",
                           "--models", "churn*", "--secret-file", t / "hook.secret"},
                          env);
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
  WriteFile(t / "b/model.bin", "weights");
  REQUIRE(Modelreg({"register", "churn", t / "b"}, env).exit_code == 0);
  REQUIRE(Modelreg({"policy", "set", "churn", "--approvals", "0"}, env).exit_code == 0);
  REQUIRE(Modelreg({"promote", "churn", "1", "--to", "staging"}, env).exit_code == 0);
  REQUIRE(Modelreg({"promote", "churn", "1", "--to", "production"}, env).exit_code == 0);
  // The receiver verified both deliveries (a bad signature gets 401 and is
  // retried, never logged) and ran its command for the production one only.
  REQUIRE(WaitFor([&] { return TextOf(ran) == "smoke test of churn version 1\n"; }, 60));
  REQUIRE(WaitFor([&] {
    auto d = Modelreg({"webhook", "deliveries", "smoke", "--json"}, env);
    return d.exit_code == 0 && d.out.find("\"pending\"") == std::string::npos &&
           d.out.find("\"delivered\"") != std::string::npos;
  }));
  const std::string log = TextOf(t / "events.jsonl");
  CHECK(log.find("\"to\": \"staging\"") != std::string::npos);
  CHECK(log.find("\"to\": \"production\"") != std::string::npos);
  // `modelreg events` shows the same changes to anyone who may read churn.
  auto events = Modelreg({"events"}, env);
  CHECK(events.out.find("stage.changed  churn v1  by admin") != std::string::npos);
}

TEST_CASE("webhooks end to end: an https receiver is verified against the webhook's own CA") {
  TempDir t;
  const TestCerts certs = MakeTestCerts(t.path(), "receiver CA");

  httplib::SSLServer rx(certs.server_pem.c_str(), certs.server_key.c_str());
  std::mutex mu;
  std::vector<std::string> got;
  rx.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> l(mu);
    got.push_back(req.get_header_value("X-Modelreg-Event"));
    res.set_content("ok", "text/plain");
  });
  const int port = rx.bind_to_any_port("127.0.0.1");
  REQUIRE(port > 0);
  std::thread serving([&] { rx.listen_after_bind(); });
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/hook";

  ServerProcess server("", {"--webhooks-allow-private"});
  auto env = server.Env(server.admin_token());
  auto ok = Modelreg(
      {"webhook", "create", "--name", "tls", "--url", url, "--events", "model_version.created", "--ca", certs.ca_pem},
      env);
  INFO(ok.err);
  REQUIRE(ok.exit_code == 0);
  REQUIRE(Modelreg({"webhook", "create", "--name", "wrong-ca", "--url", url, "--events", "model_version.created",
                    "--ca", certs.other_pem},
                   env)
              .exit_code == 0);
  WriteFile(t / "b/model.bin", "weights");
  REQUIRE(Modelreg({"register", "churn", t / "b"}, env).exit_code == 0);
  CHECK(WaitFor([&] {
    std::lock_guard<std::mutex> l(mu);
    return got.size() == 1;
  }));
  // The other CA does not vouch for the receiver: not delivered, retried,
  // and the delivery log says why.
  CHECK(WaitFor([&] {
    auto d = Modelreg({"webhook", "deliveries", "wrong-ca", "--json"}, env);
    return d.out.find("\"pending\"") != std::string::npos && d.out.find("certificate") != std::string::npos;
  }));
  auto test = Modelreg({"webhook", "test", "wrong-ca"}, env);
  CHECK(test.exit_code == 6);
  CHECK(test.out.find("not delivered") != std::string::npos);
  rx.stop();
  serving.join();
  std::lock_guard<std::mutex> l(mu);
  CHECK(got == std::vector<std::string>{"model_version.created"});
}
