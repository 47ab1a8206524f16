// serve's settings from the environment and a config file (docs/cli.md
// "serve settings"), /readyz without a token, and /metrics for Prometheus:
// scraped without a token from --metrics-allow ranges, with build, process,
// stage and agent metrics (docs/operations.md "Metrics").
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "api_util.h"
#include "support/process.h"
#include "support/server_process.h"
#include "support/temp_dir.h"
#include "support/wait.h"

using namespace modelreg::testing;
using nlohmann::json;

namespace {

// The serve log's "settings" line, or null.
json SettingsLine(const std::string& log) {
  size_t pos = 0;
  while (pos < log.size()) {
    size_t end = log.find('\n', pos);
    std::string line = log.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? log.size() : end + 1;
    auto j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("msg", "") == "settings") return j;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("serve settings: flags win over the environment, which wins over --config, and the log says which") {
  TempDir t;
  const std::string conf = t / "serve.conf";
  WriteFile(conf,
            "# modelreg serve settings\n"
            "\n"
            "threads = 7\n"
            "metrics-allow = \"127.0.0.1, ::1\"\n"
            "webhook-timeout = 4\n"
            "no-webhooks = false\n");
  ServerProcess server(t / "data", {"--config", conf, "--webhook-timeout", "2"}, {"env", "MODELREG_THREADS=5"});
  json settings;
  REQUIRE(WaitFor([&] { return !(settings = SettingsLine(server.log())).is_null(); }));
  // --write-mode: the test harness sets MODELREG_WRITE_MODE (support/server_process.cc)
  CHECK(settings["from_environment"] == json::array({"--threads", "--write-mode"}));
  // threads: from the environment; webhook-timeout: the flag; no-webhooks = false: the file
  CHECK(settings["from_config"] == json::array({"--metrics-allow", "--no-webhooks"}));
  CHECK(settings["config"] == conf);

  // metrics-allow from the file took effect: loopback scrapes without a token.
  Http anon(server.url(), "");
  auto m = anon.Get("/metrics");
  REQUIRE(m);
  CHECK(m->status == 200);
  CHECK(m->body.find("modelreg_build_info{version=\"") != std::string::npos);
  CHECK(m->body.find("\nprocess_open_fds ") != std::string::npos);
  CHECK(m->body.find("\nprocess_resident_memory_bytes ") != std::string::npos);
  CHECK(m->body.find("\nprocess_start_time_seconds ") != std::string::npos);
  CHECK(m->body.find("modelreg_versions{stage=\"production\"} 0") != std::string::npos);
  CHECK(m->body.find("modelreg_agents{state=\"silent\"} 0") != std::string::npos);
  // ... and nothing else: the API still needs a token.
  CHECK(anon.Get("/api/v1/models")->status == 401);
}

TEST_CASE("serve settings: a bad config line, an unknown name, a bad boolean or range are usage errors") {
  TempDir t;
  const std::string conf = t / "serve.conf";
  auto serve = [&](const std::string& text, std::vector<std::string> extra = {},
                   std::map<std::string, std::string> env = {}) {
    WriteFile(conf, text);
    std::vector<std::string> args = {"serve", "--data", t / "data", "--listen", "127.0.0.1:0", "--config", conf};
    args.insert(args.end(), extra.begin(), extra.end());
    return Modelreg(args, env);
  };
  auto r = serve("threads = 4\nlisten 127.0.0.1:0\n");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(conf + ":2: want 'name = value'") != std::string::npos);
  r = serve("colour = blue\n");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(conf + ":1: unknown setting 'colour'") != std::string::npos);
  r = serve("no-webhooks = maybe\n");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("no-webhooks: want true or false") != std::string::npos);
  r = serve("threads = 4\nthreads = 5\n");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("threads is set twice") != std::string::npos);
  r = serve("", {}, {{"MODELREG_NO_WEBHOOKS", "perhaps"}});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("MODELREG_NO_WEBHOOKS: want true or false, got 'perhaps'") != std::string::npos);
  r = serve("", {"--metrics-allow", "10.0.0.0/33"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("prefix longer than 32 bits") != std::string::npos);
  r = serve("metrics-allow = 10.0.0.0/8, not-an-address\n");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("'not-an-address': not an IPv4 or IPv6 address") != std::string::npos);
  r = Modelreg({"serve", "--data", t / "data", "--config", t / "missing.conf"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("missing.conf: cannot read it") != std::string::npos);
}

TEST_CASE("/readyz answers probes without a token and /metrics outside --metrics-allow needs one") {
  TempDir t;
  ServerProcess server(t / "data", {"--metrics-allow", "10.0.0.0/8"});
  Http anon(server.url(), "");
  auto r = anon.Get("/readyz");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(json::parse(r->body) == json{{"status", "ready"}});
  // Loopback is not in 10.0.0.0/8.
  auto m = anon.Get("/metrics");
  REQUIRE(m);
  CHECK(m->status == 401);
  Http admin(server.url(), server.admin_token());
  m = admin.Get("/metrics");
  REQUIRE(m);
  CHECK(m->status == 200);
  CHECK(m->body.find("process_cpu_seconds_total ") != std::string::npos);
  CHECK(m->body.find("modelreg_versions{stage=\"none\"} 0") != std::string::npos);
}

TEST_CASE("/metrics: agents by state, each agent's heartbeat age, and promtool accepts the whole exposition") {
  TempDir t;
  ServerProcess server(t / "data");
  WriteFile(t / "b/f.txt", "weights");
  auto reg = Modelreg({"register", "churn", t / "b"}, server.Env(server.admin_token()));
  INFO(reg.err);
  REQUIRE(reg.exit_code == 0);
  Http agent(server.url(), server.CreateToken("agent-1", "agent"));
  for (const std::string id : {"edge-1", "edge-2"}) {
    auto r =
        agent.Post("/api/v1/agents/" + id + "/status",
                   json{{"model", "churn"}, {"state", id == "edge-1" ? "serving" : "failed"}, {"version", 1}}.dump());
    REQUIRE(r);
    REQUIRE(r->status == 204);
  }
  Http admin(server.url(), server.admin_token());
  auto m = admin.Get("/metrics");
  REQUIRE(m);
  REQUIRE(m->status == 200);
  INFO(m->body);
  CHECK(m->body.find("\nmodelreg_agents{state=\"serving\"} 1\n") != std::string::npos);
  CHECK(m->body.find("\nmodelreg_agents{state=\"failed\"} 1\n") != std::string::npos);
  CHECK(m->body.find("\nmodelreg_agents{state=\"silent\"} 0\n") != std::string::npos);
  CHECK(m->body.find("\nmodelreg_versions{stage=\"none\"} 1\n") != std::string::npos);
  for (const std::string id : {"edge-1", "edge-2"}) {
    const std::string key = "\nmodelreg_agent_heartbeat_age_seconds{agent=\"" + id + "\",model=\"churn\"} ";
    const size_t at = m->body.find(key);
    REQUIRE(at != std::string::npos);
    const double age = std::stod(m->body.substr(at + key.size()));
    CHECK(age >= 0);
    CHECK(age < 600);  // reported moments ago (generous: a loaded machine)
  }
  // The exposition format as Prometheus parses it: names, HELP/TYPE, labels.
  auto check = Run({"promtool", "check", "metrics"}, {}, m->body);
  INFO(check.out << check.err);
  CHECK(check.exit_code == 0);
}
