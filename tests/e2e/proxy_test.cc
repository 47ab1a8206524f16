// modelreg-agent in proxy mode: blue/green swaps without a failed request.
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/digest.h"
#include "support/ports.h"
#include "support/server_process.h"
#include "support/wait.h"

using namespace modelreg::testing;
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kTagServer = std::string(MODELREG_SOURCE_DIR) + "/tests/e2e/fixtures/tag_server.py";

int FreeRegistryPort() { return FixedLoopbackPort(PortBand::kProxyRegistry); }

struct ProxyFleet {
  TempDir t;
  int registry_port = FreeRegistryPort();
  ServerProcess server{t / "data", {"--listen", "127.0.0.1:" + std::to_string(registry_port)}};
  std::map<std::string, std::string> env;
  int port;
  std::unique_ptr<Process> agent;

  ProxyFleet() {
    env = server.Env(server.admin_token());
    WriteFile(t / "key.pem", Modelreg({"key", "export"}, env).out);
    port = FixedLoopbackPort(PortBand::kProxyListen);
  }
  int Register(const std::string& tag) {
    WriteFile(t / ("src-" + tag + "/d/f0"), tag + " model");
    auto r = Modelreg({"register", "churn", t / ("src-" + tag), "--json"}, env);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out)["version"];
  }
  void Mr(const std::vector<std::string>& a) {
    auto r = Modelreg(a, env);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  void Release(int v) {
    Mr({"promote", "churn", std::to_string(v), "--to", "staging"});
    Mr({"promote", "churn", std::to_string(v), "--to", "production"});
  }
  std::string agent_token;
  std::vector<std::string> extra;
  std::string server_args;  // after tag_server.py's {dir} {port}
  void StartAgent() {
    if (agent_token.empty()) agent_token = server.CreateToken("proxy-agent", "agent");
    auto argv = AgentCommand(server.url(), agent_token, t / "root", t / "key.pem", "proxy-1");
    argv.insert(argv.end(), {"--exec", "/usr/bin/python3 " + kTagServer + " {dir} {port} " + server_args, "--listen",
                             "127.0.0.1:" + std::to_string(port), "--health-timeout", "10"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    agent = std::make_unique<Process>(argv, t / "agent.log");
  }
  std::string Get(std::string* digest = nullptr) {
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(1, 0);
    auto r = c.Get("/predict");
    if (!r || r->status != 200) return "";
    if (digest) *digest = r->get_header_value("X-Model-Digest");
    return r->body;
  }
  // Version 1 ("a") released and served through the agent.
  void ServeFirstVersion() {
    Register("a");
    Mr({"policy", "set", "churn", "--approvals", "0"});
    Release(1);
    StartAgent();
    REQUIRE(WaitFor([&] { return Get() == "a"; }));
  }
  // The deadline only matters when the test fails: generous, for a loaded
  // 2-core machine.
  bool WaitFor(const std::function<bool()>& cond, double seconds = 60) {
    return modelreg::testing::WaitFor(cond, seconds, std::chrono::milliseconds(20));
  }
};

}  // namespace

TEST_CASE("proxy mode: 8 clients, 20 release changes, zero failed requests, responses tagged consistently") {
  ProxyFleet f;
  f.Register("a");
  f.Register("b");
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  f.StartAgent();
  REQUIRE(f.WaitFor([&] { return f.Get() == "a"; }));

  std::atomic<bool> stop{false};
  std::atomic<long> ok{0}, failed{0}, out_of_order{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i)
    clients.emplace_back([&] {
      httplib::Client c("127.0.0.1", f.port);
      c.set_keep_alive(true);
      std::string last_tag;
      int switches = 0;
      while (!stop) {
        auto r = c.Post("/predict", "{\"features\":[1,2,3]}", "application/json");
        if (!r || r->status != 200 || r->get_header_value("X-Model-Digest").empty() ||
            r->get_header_value("X-Request-Id").empty()) {
          ++failed;
          continue;
        }
        // The tag header must name the version that answered.
        const std::string want = r->body == "a" ? "1" : r->body == "b" ? "2" : "?";
        if (r->get_header_value("X-Model-Version") != want) ++out_of_order;
        if (!last_tag.empty() && r->body != last_tag) ++switches;
        last_tag = r->body;
        ++ok;
      }
      // One client cannot see more switches than there were releases.
      if (switches > 20) ++out_of_order;
    });
  // 20 release changes: promote b, roll back to a, ten times.
  for (int i = 0; i < 10; ++i) {
    f.Release(2);
    REQUIRE(f.WaitFor([&] { return f.Get() == "b"; }));
    f.Mr({"rollback", "churn", "--reason", "cycle"});
    REQUIRE(f.WaitFor([&] { return f.Get() == "a"; }));
  }
  stop = true;
  for (auto& t : clients) t.join();
  INFO("ok " << ok << " failed " << failed);
  CHECK(ok > 200);
  CHECK(failed == 0);
  CHECK(out_of_order == 0);
  // Old model servers were stopped: only one python server remains.
  CHECK(f.WaitFor([&] { return Run({"pgrep", "-fc", "python3 " + kTagServer + " " + f.t.path()}).out == "1\n"; }));
}

TEST_CASE("proxy mode: SIGTERM answers the requests in progress and closes idle connections") {
  ProxyFleet f;
  f.server_args = f.t / "slow-started";
  f.ServeFirstVersion();
  // A client between two requests on a kept-alive connection.
  httplib::Client idle("127.0.0.1", f.port);
  idle.set_keep_alive(true);
  REQUIRE(idle.Get("/predict")->status == 200);
  // A request the model server takes 1.5 s to answer.
  int slow_status = 0;
  std::string slow_body, slow_connection;
  std::thread slow([&] {
    httplib::Client c("127.0.0.1", f.port);
    c.set_read_timeout(30, 0);
    auto r = c.Get("/slow");
    if (!r) return;
    slow_status = r->status;
    slow_body = r->body;
    slow_connection = r->get_header_value("Connection");
  });
  // In progress at the model server (a fixed sleep here raced it on a
  // loaded machine: the request could arrive after the SIGTERM).
  REQUIRE(f.WaitFor([&] { return fs::exists(f.t / "slow-started"); }));
  const auto t0 = std::chrono::steady_clock::now();
  f.agent->Signal(SIGTERM);
  CHECK(f.agent->Wait(30) == 0);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  slow.join();
  CHECK(slow_status == 200);  // before: cut at once
  CHECK(slow_body == "a");
  CHECK(slow_connection == "close");
  CHECK(took < 5);
}

TEST_CASE("proxy mode: at --max-connections a new client closes the connection idle the longest") {
  ProxyFleet f;
  f.extra = {"--max-connections", "2"};
  f.ServeFirstVersion();
  // Two kept-alive clients, one after the other, each after one answer.
  std::vector<int> idle;
  for (int i = 0; i < 2; ++i) {
    idle.push_back(ConnectLoopback(f.port));
    const std::string get = "GET /predict HTTP/1.1\r\nHost: x\r\n\r\n";
    REQUIRE(send(idle.back(), get.data(), get.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(get.size()));
    std::string got;
    char buf[512];
    while (got.find("\r\n\r\na") == std::string::npos) {
      ssize_t n = recv(idle.back(), buf, sizeof buf, 0);
      REQUIRE(n > 0);
      got.append(buf, static_cast<size_t>(n));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // A third is served (before: refused at the bound), by closing the first.
  CHECK(f.Get() == "a");
  pollfd closed = {idle[0], POLLIN, 0};
  CHECK(poll(&closed, 1, 30000) == 1);  // its end arrives (at once, unless the machine is loaded)
  char c;
  CHECK(recv(idle[0], &c, 1, MSG_DONTWAIT) == 0);
  CHECK(recv(idle[1], &c, 1, MSG_DONTWAIT) == -1);
  CHECK(errno == EAGAIN);
  for (int fd : idle) close(fd);
}

TEST_CASE("proxy mode: a new version that fails its health check leaves the old one serving") {
  ProxyFleet f;
  f.Register("a");
  f.Register("broken");
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  f.StartAgent();
  REQUIRE(f.WaitFor([&] { return f.Get() == "a"; }));
  f.Release(2);
  REQUIRE(f.WaitFor(
      [&] {
        auto r = Modelreg({"agents", "--json"}, f.env);
        auto a = json::parse(r.out)["agents"];
        return !a.empty() && a[0]["state"] == "failed";
      },
      90));
  CHECK(f.Get() == "a");
}

TEST_CASE("proxy mode: a killed model server is restarted, the gap answers 503, not a hang") {
  ProxyFleet f;
  f.ServeFirstVersion();
  auto before = Run({"pgrep", "-f", "tag_server.py " + f.t.path()});
  REQUIRE(!before.out.empty());
  Run({"pkill", "-9", "-f", "tag_server.py " + f.t.path()});
  // Right after the kill: a clear 503 (or already the restarted server).
  httplib::Client c("127.0.0.1", f.port);
  c.set_read_timeout(5, 0);
  auto r = c.Get("/predict");
  REQUIRE(r);
  CHECK((r->status == 503 || r->status == 200));
  REQUIRE(f.WaitFor([&] { return f.Get() == "a"; }));
  auto after = Run({"pgrep", "-f", "tag_server.py " + f.t.path()});
  CHECK(after.out != before.out);
}

namespace {

// Sends `n` requests with known request ids through the proxy; returns the
// ids that were answered.
std::vector<std::string> SendRequests(ProxyFleet& f, const std::string& prefix, int n) {
  std::vector<std::string> answered;
  httplib::Client c("127.0.0.1", f.port);
  for (int i = 0; i < n; ++i) {
    std::string id = prefix + "-" + std::to_string(i);
    auto r = c.Post("/predict", {{"X-Request-Id", id}}, "{\"x\":" + std::to_string(i) + "}", "application/json");
    if (r && r->status == 200 && r->get_header_value("X-Request-Id") == id) answered.push_back(id);
  }
  return answered;
}

size_t CountStored(ProxyFleet& f, const std::vector<std::string>& ids) {
  httplib::Client c(f.server.url());
  c.set_bearer_token_auth(f.server.admin_token());
  size_t n = 0;
  for (const auto& id : ids) {
    auto r = c.Get("/api/v1/decisions/" + id);
    if (r && r->status == 200) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("decisions: registry down during load, then back: every answered request arrives once") {
  ProxyFleet f;
  f.ServeFirstVersion();
  auto first = SendRequests(f, "up", 100);
  f.server.Kill();
  auto during = SendRequests(f, "down", 300);  // the model keeps serving
  CHECK(during.size() == 300);
  f.server.Start();
  std::vector<std::string> all = first;
  all.insert(all.end(), during.begin(), during.end());
  REQUIRE(f.WaitFor([&] { return CountStored(f, all) == all.size(); }, 60));
  // Nothing twice: the same request id is one row (idempotent ingest), and the
  // digest recorded is the one that answered.
  httplib::Client c(f.server.url());
  c.set_bearer_token_auth(f.server.admin_token());
  auto d = json::parse(c.Get("/api/v1/decisions/down-7")->body);
  CHECK(d["agent_id"] == "proxy-1");
  CHECK(d["version"] == 1);
  CHECK(d["input_sha256"] == modelreg::Digest::Of("{\"x\":7}").hex());
}

TEST_CASE("decisions: outputs past 64 KiB, or not UTF-8, are recorded cut at a character, not lost") {
  // Before, the agent cut the output at 65 536 bytes, inside a character or
  // before JSON's U+FFFD replacements grew it past the registry's limit:
  // the registry refused the output, and with it the whole batch.
  ProxyFleet f;
  f.extra = {"--record-output"};
  f.ServeFirstVersion();
  httplib::Client c("127.0.0.1", f.port);
  std::vector<std::string> ids;
  for (const char* path : {"/wide", "/binary", "/predict"}) {
    const std::string id = std::string("out-") + (path + 1);
    auto r = c.Get(path, {{"X-Request-Id", id}});
    REQUIRE(r);
    REQUIRE(r->status == 200);
    ids.push_back(id);
  }
  REQUIRE(f.WaitFor([&] { return CountStored(f, ids) == ids.size(); }, 60));
  httplib::Client reg(f.server.url());
  reg.set_bearer_token_auth(f.server.admin_token());
  const std::string wide = json::parse(reg.Get("/api/v1/decisions/out-wide")->body)["output"];
  CHECK(wide.size() <= 65536);
  CHECK(wide.size() % 3 == 0);  // whole characters only
  CHECK(wide.substr(0, 3) == "\u20ac");
  const std::string binary = json::parse(reg.Get("/api/v1/decisions/out-binary")->body)["output"];
  CHECK(binary.size() <= 65536);
  CHECK(binary.substr(0, 3) == "\xef\xbf\xbd");
}

TEST_CASE("decisions: agent killed with -9 before shipping loses none") {
  ProxyFleet f;
  f.Register("a");
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  f.server.Kill();  // nothing can be shipped while we send
  f.StartAgent();
  // Offline start: no version yet, so start the registry long enough to get one.
  f.server.Start();
  REQUIRE(f.WaitFor([&] { return f.Get() == "a"; }));
  f.server.Kill();
  auto ids = SendRequests(f, "k9", 200);
  REQUIRE(ids.size() == 200);
  f.agent->Signal(SIGKILL);
  f.agent->Wait(10);
  f.server.Start();
  f.StartAgent();  // restarts, serves from disk, ships the spool
  REQUIRE(f.WaitFor([&] { return CountStored(f, ids) == ids.size(); }, 60));
}

TEST_CASE("decisions: a full spool keeps the model serving and reports what was not recorded") {
  ProxyFleet f;
  f.Register("a");
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  f.extra = {"--spool-max", "4000"};  // room for about a dozen decisions
  f.StartAgent();
  REQUIRE(f.WaitFor([&] { return f.Get() == "a"; }));
  f.server.Kill();
  auto ids = SendRequests(f, "full", 60);
  CHECK(ids.size() == 60);  // every request answered
  f.server.Start();
  REQUIRE(f.WaitFor(
      [&] {
        auto r = Modelreg({"agents", "--json"}, f.env);
        auto a = json::parse(r.out)["agents"];
        return !a.empty() && a[0]["last_error"].get<std::string>().find("decision spool full") != std::string::npos;
      },
      30));
  size_t stored = CountStored(f, ids);
  CHECK(stored > 0);
  CHECK(stored < 60);
  // The fill level is in the agent's state and in the registry's metrics.
  auto agents = json::parse(Modelreg({"agents", "--json"}, f.env).out)["agents"];
  REQUIRE(agents[0].contains("spool"));
  CHECK(agents[0]["spool"]["max_bytes"] == 4000);
  CHECK(agents[0]["spool"]["dropped"].get<int64_t>() > 0);
  httplib::Client c(f.server.url());
  c.set_bearer_token_auth(f.server.admin_token());
  auto m = c.Get("/metrics");
  REQUIRE(m);
  CHECK(m->body.find("modelreg_agent_spool_max_bytes{agent=\"proxy-1\",model=\"churn\"} 4000") != std::string::npos);
  CHECK(m->body.find("modelreg_agent_decisions_dropped{agent=\"proxy-1\",model=\"churn\"} 0") == std::string::npos);
  auto text = Modelreg({"agents"}, f.env).out;
  CHECK(text.find("SPOOL") != std::string::npos);
}

TEST_CASE("decisions: the spool starts over after a restart once all is shipped, losing and repeating none") {
  ProxyFleet f;
  f.ServeFirstVersion();
  auto first = SendRequests(f, "before", 40);
  REQUIRE(f.WaitFor([&] { return CountStored(f, first) == first.size(); }, 30));
  const std::string log = f.t / "root/spool/decisions.log";
  CHECK(fs::file_size(log) > 0);
  f.agent->Signal(SIGTERM);
  REQUIRE(f.agent->Wait(30) == 0);
  f.StartAgent();  // everything was shipped: the log is rotated (started over)
  REQUIRE(f.WaitFor([&] { return f.Get() == "a"; }));
  auto second = SendRequests(f, "after", 40);
  REQUIRE(f.WaitFor([&] { return CountStored(f, second) == second.size(); }, 30));
  CHECK(CountStored(f, first) == first.size());
  // The rotated log holds only what came after the restart, not the 40
  // shipped before it: they cannot be sent again.
  const std::string text = ReadFile(log);
  CHECK(text.find("\"before-") == std::string::npos);
  CHECK(text.find("\"after-0\"") != std::string::npos);
  CHECK(ReadFile(f.t / "root/spool/offset").rfind("0", 0) != 0);  // counting from the new start
}

// Bad requests get a clear answer from the proxy itself and never reach the
// model server: a malformed head is 400, an oversized body 413, both JSON.
TEST_CASE("proxy mode: malformed and oversized requests are refused with a clear error") {
  ProxyFleet f;
  f.ServeFirstVersion();
  auto send = [&](const std::string& bytes) {
    int s = ConnectLoopback(f.port);
    REQUIRE(::send(s, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
    std::string reply;
    char buf[4096];
    for (ssize_t n; (n = recv(s, buf, sizeof buf, 0)) > 0;) reply.append(buf, static_cast<size_t>(n));
    close(s);
    return reply;
  };
  auto bad = send("NOT AN HTTP REQUEST\r\n\r\n");
  CHECK(bad.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(bad.find("INVALID_ARGUMENT") != std::string::npos);
  auto big = send("POST /predict HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n");
  CHECK(big.rfind("HTTP/1.1 413", 0) == 0);
  CHECK(big.find("RESOURCE_EXHAUSTED") != std::string::npos);
  CHECK(f.Get() == "a");  // and the proxy keeps serving
}

TEST_CASE("proxy mode: a --listen port in use stops the agent with the system's reason") {
  ProxyFleet f;
  f.port = f.registry_port;  // the registry listens there
  f.StartAgent();
  CHECK(f.agent->Wait(20) == 1);
  const std::string log = ReadFile(f.t / "agent.log");
  INFO(log);
  CHECK(log.find("cannot listen on 127.0.0.1:" + std::to_string(f.registry_port) + ": Address already in use") !=
        std::string::npos);
  CHECK(Modelreg({"models"}, f.env).exit_code == 0);  // the registry still has its port
}

TEST_CASE("proxy mode: Expect: 100-continue is answered by the proxy, a model server's 1xx answers are skipped") {
  ProxyFleet f;
  f.ServeFirstVersion();
  // The client waits for 100 Continue before its body, as curl does for
  // bodies over 1 MiB (it used to get the model server's 100 as the answer,
  // then wait a minute for the real one).
  int s = ConnectLoopback(f.port);
  timeval tv{5, 0};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string head = "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
  REQUIRE(::send(s, head.data(), head.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(head.size()));
  auto read_some = [&] {
    char buf[4096];
    ssize_t n = recv(s, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  };
  CHECK(read_some() == "HTTP/1.1 100 Continue\r\n\r\n");
  REQUIRE(::send(s, "hello", 5, MSG_NOSIGNAL) == 5);
  std::string answer;
  while (answer.find("\r\n\r\na") == std::string::npos) {
    std::string more = read_some();
    if (more.empty()) break;
    answer += more;
  }
  CHECK(answer.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(answer.find("X-Model-Version: 1") != std::string::npos);
  close(s);
  // A body over the limit gets 413 at once, not a 100 inviting 64 MiB.
  s = ConnectLoopback(f.port);
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const std::string big =
      "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\nExpect: 100-continue\r\n\r\n";
  REQUIRE(::send(s, big.data(), big.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(big.size()));
  CHECK(read_some().rfind("HTTP/1.1 413 ", 0) == 0);
  close(s);
  // Interim answers of the model server are not passed on as the answer.
  httplib::Client c("127.0.0.1", f.port);
  auto early = c.Get("/early");
  REQUIRE(early);
  CHECK(early->status == 200);
  CHECK(early->body == "a");
  CHECK(f.Get() == "a");  // and the kept-alive connections still line up
}

TEST_CASE("proxy mode: --fallback-response answers for a model server that fails, marked static") {
  ProxyFleet f;
  // A version whose model server answers 500 to every prediction
  // (tests/e2e/fixtures/tag_server.py knobs.json).
  WriteFile(f.t / "src-bad/d/f0", "bad model");
  WriteFile(f.t / "src-bad/knobs.json", R"({"error_rate": 1.0})");
  REQUIRE(Modelreg({"register", "churn", f.t / "src-bad"}, f.env).exit_code == 0);
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  WriteFile(f.t / "fallback.json", R"({"probabilities": [0.5], "fallback": true})");
  f.extra = {"--fallback-response", f.t / "fallback.json", "--timeout", "5"};
  f.StartAgent();
  httplib::Client c("127.0.0.1", f.port);
  c.set_connection_timeout(1, 0);
  httplib::Response got;
  REQUIRE(f.WaitFor([&] {
    auto r = c.Post("/predict", "{}", "application/json");
    if (!r || r->status != 200) return false;
    got = *r;
    // Until the model server is up the static answer names no version.
    return r->has_header("X-Model-Version");
  }));
  CHECK(got.body == R"({"probabilities": [0.5], "fallback": true})");
  CHECK(got.get_header_value("X-Model-Fallback") == "static");
  CHECK(got.get_header_value("X-Model-Version") == "1");
  CHECK(got.get_header_value("Content-Type") == "application/json");
  CHECK(got.get_header_value("X-Model-Arm").empty());  // no rollout
}
