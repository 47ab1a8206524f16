// The whole path a user sets up from docs/events.md: `modelreg webhook
// create` with a secret file, examples/webhooks/receiver.py verifying what
// the real server sends, and its command run when a version reaches
// production through the CLI.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "support/process.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
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
