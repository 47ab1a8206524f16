// Rollouts end to end (docs/rollouts.md): the registry, a real agent in
// proxy mode, real model servers (tests/e2e/fixtures/tag_server.py, whose
// knobs.json makes a version fail a share of requests or answer slower),
// and clients. The registry judges the agents' counts and aborts a worse
// candidate by itself; clients never see a failed request meanwhile.
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/ports.h"
#include "support/server_process.h"
#include "support/wait.h"

using namespace modelreg::testing;
using nlohmann::json;

namespace {

const std::string kTagServer = std::string(MODELREG_SOURCE_DIR) + "/tests/e2e/fixtures/tag_server.py";

struct Fleet {
  TempDir t;
  int registry_port = FixedLoopbackPort(PortBand::kProxyRegistry);
  ServerProcess server{t / "data", {"--listen", "127.0.0.1:" + std::to_string(registry_port)}};
  std::map<std::string, std::string> env;
  std::string agent_token;
  std::vector<std::unique_ptr<Process>> agents;
  std::vector<int> ports;

  Fleet() {
    env = server.Env(server.admin_token());
    WriteFile(t / "key.pem", Modelreg({"key", "export"}, env).out);
    agent_token = server.CreateToken("rollout-agents", "agent");
  }
  void Mr(const std::vector<std::string>& a) {
    auto r = Modelreg(a, env);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  // A version tagged `tag`, with knobs.json (tag_server.py) when given.
  void Register(const std::string& tag, const json& knobs = nullptr) {
    WriteFile(t / ("src-" + tag + "/d/f0"), tag + " model");
    if (!knobs.is_null()) WriteFile(t / ("src-" + tag + "/knobs.json"), knobs.dump());
    Mr({"register", "churn", t / ("src-" + tag)});
  }
  // Version 1 ("a") in production, version 2 (`tag`, `knobs`) in staging.
  void TwoVersions(const std::string& tag, const json& knobs) {
    Register("a");
    Mr({"policy", "set", "churn", "--approvals", "0"});
    Mr({"promote", "churn", "1", "--to", "staging"});
    Mr({"promote", "churn", "1", "--to", "production"});
    Register(tag, knobs);
    Mr({"promote", "churn", "2", "--to", "staging"});
  }
  // Agent i (0-based) in proxy mode on a port of its own.
  void StartAgent(size_t i) {
    // Each agent's port from a band of its own: two picks from one band
    // before either is bound could be the same port.
    while (ports.size() <= i)
      ports.push_back(FixedLoopbackPort(ports.empty() ? PortBand::kProxyListen : PortBand::kAgentRegistry));
    while (agents.size() <= i) agents.emplace_back();
    const std::string id = "rollout-" + std::to_string(i);
    auto argv = AgentCommand(server.url(), agent_token, t / ("root-" + id), t / "key.pem", id);
    argv.insert(argv.end(), {"--exec", "/usr/bin/python3 " + kTagServer + " {dir} {port}", "--listen",
                             "127.0.0.1:" + std::to_string(ports[i]), "--health-timeout", "20"});
    agents[i] = std::make_unique<Process>(argv, t / (id + ".log"));
  }
  json Status() {
    auto r = Modelreg({"rollout", "status", "churn", "--json"}, env);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out);
  }
};

struct Answer {
  int status = 0;
  std::string body, arm, version, fallback;
};

Answer Ask(httplib::Client& c, const std::string& key = "") {
  httplib::Headers h;
  if (!key.empty()) h.emplace("X-User", key);
  auto r = c.Get("/predict", h);
  Answer a;
  if (!r) return a;
  a.status = r->status;
  a.body = r->body;
  a.arm = r->get_header_value("X-Model-Arm");
  a.version = r->get_header_value("X-Model-Version");
  a.fallback = r->get_header_value("X-Model-Fallback");
  return a;
}

// Clients on `port` (4 threads, keep-alive) until `done` or `limit`
// requests; counts what they got.
struct Load {
  std::atomic<int64_t> sent{0}, failed{0}, candidate{0}, fallbacks{0};
  void Run(int port, const std::function<bool()>& done, int64_t limit) {
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int k = 0; k < 4; ++k)
      threads.emplace_back([&] {
        httplib::Client c("127.0.0.1", port);
        c.set_keep_alive(true);
        c.set_read_timeout(30, 0);
        while (!stop && sent < limit) {
          Answer a = Ask(c);
          ++sent;
          if (a.status != 200) ++failed;
          if (a.arm == "candidate") ++candidate;
          if (!a.fallback.empty()) ++fallbacks;
        }
      });
    while (!stop && sent < limit) {
      if (done()) stop = true;
      else std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    stop = true;
    for (auto& th : threads) th.join();
  }
};

bool Serves(Fleet& f, size_t i, const std::string& body) {
  httplib::Client c("127.0.0.1", f.ports[i]);
  c.set_connection_timeout(1, 0);
  return Ask(c).body == body;
}

// One agent serving version 1 and a 50 % canary of version 2 (its model
// server answering per `knobs`), under load until the rollout ends (or
// 40 000 requests); its status then.
json CanaryUntilEnded(Fleet& f, const json& knobs, Load& load) {
  f.TwoVersions("b", knobs);
  f.StartAgent(0);
  REQUIRE(WaitFor([&] { return Serves(f, 0, "a"); }, 60));
  f.Mr({"rollout", "start", "churn", "2", "--canary", "50"});
  // The agent runs both arms once it has the release.
  REQUIRE(WaitFor(
      [&] {
        httplib::Client c("127.0.0.1", f.ports[0]);
        for (int i = 0; i < 20; ++i)
          if (Ask(c).arm == "candidate") return true;
        return false;
      },
      60));
  load.Run(
      f.ports[0], [&] { return f.Status()["rollout"]["state"] != "active"; }, 40000);
  return f.Status();
}

}  // namespace

TEST_CASE("rollout e2e: a canary answering 500 to 5 % of requests is aborted by the registry, no client fails") {
  Fleet f;
  Load load;
  const json st = CanaryUntilEnded(f, {{"error_rate", 0.05}, {"seed", 7}}, load);
  INFO(st.dump());
  CHECK(st["rollout"]["state"] == "aborted");
  CHECK(st["rollout"]["ended_by"] == "judge");
  CHECK(st["verdict"]["decision"] == "abort_errors");
  CHECK(load.failed == 0);    // the baseline answered for every failing candidate request
  CHECK(load.fallbacks > 0);  // ... marked as such
  // Traffic is back on the baseline on the agent.
  REQUIRE(WaitFor([&] {
    httplib::Client c("127.0.0.1", f.ports[0]);
    for (int i = 0; i < 50; ++i) {
      Answer a = Ask(c);
      if (a.status != 200 || a.version != "1" || a.arm == "candidate") return false;
    }
    return true;
  }));
  auto log = Modelreg({"audit", "log", "--model", "churn", "--json"}, f.env);
  CHECK(log.out.find("rollout.abort") != std::string::npos);
}

TEST_CASE("rollout e2e: a canary 20 ms slower is aborted on latency") {
  Fleet f;
  Load load;
  const json st = CanaryUntilEnded(f, {{"delay_ms", 20}}, load);
  INFO(st.dump());
  CHECK(st["rollout"]["state"] == "aborted");
  CHECK(st["verdict"]["decision"] == "abort_latency");
  CHECK(load.failed == 0);
}

TEST_CASE(
    "rollout e2e: an identical candidate (A/A) is not aborted, keys stick to their arm on two agents and "
    "after a restart, and raising the share only moves keys to the candidate") {
  Fleet f;
  f.TwoVersions("b", nullptr);
  f.StartAgent(0);
  f.StartAgent(1);
  REQUIRE(WaitFor([&] { return Serves(f, 0, "a") && Serves(f, 1, "a"); }, 60));
  f.Mr({"rollout", "start", "churn", "2", "--canary", "30", "--steps", "60,100", "--key-header", "X-User"});
  auto arms_of = [&](size_t i) {
    std::map<std::string, std::string> out;
    httplib::Client c("127.0.0.1", f.ports[i]);
    for (int k = 0; k < 200; ++k) {
      Answer a = Ask(c, "user-" + std::to_string(k));
      if (a.status != 200) return std::map<std::string, std::string>{};  // not serving (yet)
      out["user-" + std::to_string(k)] = a.arm + "/" + a.body;
    }
    return out;
  };
  auto on_candidate = [](const std::map<std::string, std::string>& m) {
    size_t n = 0;
    for (const auto& [k, v] : m) n += v == "candidate/b";
    return n;
  };
  // Both agents have the rollout: some keys on each arm.
  REQUIRE(WaitFor([&] {
    auto a = arms_of(0);
    auto b = arms_of(1);
    return on_candidate(a) > 0 && on_candidate(b) > 0;
  }));
  const auto first = arms_of(0);
  CHECK(arms_of(1) == first);
  CHECK(on_candidate(first) > 30);
  CHECK(on_candidate(first) < 100);

  // A/A: identical answers and errors on both arms; plenty of traffic, no abort.
  Load load;
  load.Run(
      f.ports[0], [] { return false; }, 3000);
  CHECK(load.failed == 0);
  REQUIRE(WaitFor([&] { return f.Status()["arms"]["candidate"]["requests"].get<int64_t>() >= 800; }));
  CHECK(f.Status()["rollout"]["state"] == "active");
  CHECK(f.Status()["verdict"]["decision"] == "continue");

  // A restarted agent puts every key where it was.
  f.agents[0]->Signal(SIGTERM);
  REQUIRE(f.agents[0]->Wait(60) == 0);
  f.StartAgent(0);
  REQUIRE(WaitFor([&] { return on_candidate(arms_of(0)) > 0; }, 60));
  CHECK(arms_of(0) == first);

  // 30 % -> 60 %: keys on the candidate stay there, some others join them.
  f.Mr({"rollout", "advance", "churn"});
  REQUIRE(WaitFor([&] { return on_candidate(arms_of(0)) > on_candidate(first); }));
  const auto second = arms_of(0);
  for (const auto& [k, v] : first)
    if (v == "candidate/b") CHECK(second.at(k) == "candidate/b");
  CHECK(f.Status()["rollout"]["state"] == "active");
  f.Mr({"rollout", "finish", "churn"});
  REQUIRE(WaitFor([&] { return Serves(f, 0, "b") && Serves(f, 1, "b"); }));
  // The finish's two stage changes match its audit event (fsck cross-checks them).
  auto fsck = Modelreg({"admin", "fsck", "--data", f.t / "data"}, f.env);
  INFO(fsck.out + fsck.err);
  CHECK(fsck.exit_code == 0);
}

TEST_CASE("rollout e2e: shadow never changes what clients receive, and its comparisons are counted") {
  Fleet f;
  f.TwoVersions("b", nullptr);
  auto env = f.env;
  env["MODELREG_TOKEN"] = f.server.CreateToken("alice", "approver");
  auto approved = Modelreg({"approve", "churn", "2"}, env);
  REQUIRE(approved.exit_code == 0);
  f.StartAgent(0);
  REQUIRE(WaitFor([&] { return Serves(f, 0, "a"); }, 60));
  f.Mr({"rollout", "start", "churn", "2", "--shadow"});
  // Requests until the agent reports shadow comparisons (it has both arms).
  REQUIRE(WaitFor([&] { return (Serves(f, 0, "a"), f.Status()["shadow"]["compared"].get<int64_t>() > 0); }));
  httplib::Client c("127.0.0.1", f.ports[0]);
  for (int i = 0; i < 300; ++i) {
    Answer a = Ask(c);
    REQUIRE(a.status == 200);
    REQUIRE(a.body == "a");
    REQUIRE(a.arm != "candidate");
  }
  REQUIRE(WaitFor([&] { return f.Status()["shadow"]["compared"].get<int64_t>() >= 200; }));
  const json st = f.Status();
  INFO(st.dump());
  CHECK(st["shadow"]["differ"].get<int64_t>() >= 200);  // the candidate answers "b"
  CHECK(st["shadow"]["equal"] == 0);
  CHECK(st["rollout"]["state"] == "active");
}

TEST_CASE("rollout e2e: --horizon sets the judge's planned horizon, and status shows it") {
  Fleet f;
  f.TwoVersions("b", nullptr);
  auto bad = Modelreg({"rollout", "start", "churn", "2", "--canary", "5", "--horizon", "500"}, f.env);
  CHECK(bad.exit_code == 1);  // the registry's 400
  CHECK(bad.err.find("--horizon") != std::string::npos);
  bad = Modelreg({"rollout", "start", "churn", "2", "--canary", "5", "--horizon", "lots"}, f.env);
  CHECK(bad.exit_code == 2);  // not a number: a usage error before asking the registry
  f.Mr({"rollout", "start", "churn", "2", "--canary", "5", "--horizon", "40000"});
  CHECK(f.Status()["rollout"]["horizon_requests"] == 40000);
  auto text = Modelreg({"rollout", "status", "churn"}, f.env);
  REQUIRE(text.exit_code == 0);
  CHECK(text.out.find("planned horizon 40000 requests per step (looks at 10000, 20000, 40000)") != std::string::npos);
  f.Mr({"rollout", "abort", "churn", "--reason", "again without a horizon"});
  f.Mr({"rollout", "start", "churn", "2", "--canary", "5", "--horizon", "0"});
  text = Modelreg({"rollout", "status", "churn"}, f.env);
  CHECK(text.out.find("always-valid test only") != std::string::npos);
}
