// examples/ha run on loopback: three replicas on one PostgreSQL database and
// one OCI registry, behind haproxy with the example's own configuration;
// trainers register and an approver promotes through haproxy while agents
// follow production, a second trainer registers another model at the same
// time, and one replica is killed with SIGKILL mid-load. Runs
// in the PostgreSQL run only ([postgres]).
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "api/api_util.h"
#include "support/oci_registry.h"
#include "support/pg_test_db.h"

namespace modelreg::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kHaproxy = "/usr/sbin/haproxy";

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

void ReplaceAll(std::string* s, const std::string& from, const std::string& to) {
  for (size_t at = s->find(from); at != std::string::npos; at = s->find(from, at + to.size()))
    s->replace(at, from.size(), to);
}

// haproxy with examples/ha/haproxy.cfg, its addresses moved to free ports.
struct Haproxy {
  std::unique_ptr<Process> proc;
  std::string url;
  Haproxy(const TempDir& t, const std::vector<std::string>& replica_urls) {
    for (int attempt = 0; attempt < 3 && !proc; ++attempt) {
      std::string cfg = ReadFile(MODELREG_SOURCE_DIR "/examples/ha/haproxy.cfg");
      const int port = FreePort();
      ReplaceAll(&cfg, "127.0.0.1:8080", "127.0.0.1:" + std::to_string(port));
      for (int i = 0; i < 3; ++i)
        ReplaceAll(&cfg, "127.0.0.1:808" + std::to_string(i + 1),
                   replica_urls[i].substr(std::string("http://").size()));
      const std::string path = t / "haproxy.cfg";
      WriteFile(path, cfg);
      auto p = std::make_unique<Process>(std::vector<std::string>{kHaproxy, "-db", "-f", path}, t / "haproxy.log");
      url = "http://127.0.0.1:" + std::to_string(port);
      const auto deadline = Clock::now() + std::chrono::seconds(30);
      while (Clock::now() < deadline && p->running()) {
        auto r = Http(url, "").Get("/healthz");
        if (r && r->status == 200) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      if (p->running()) proc = std::move(p);
    }
    REQUIRE(proc);
  }
};

std::unique_ptr<RegistryClient> ClientAt(const std::string& url, const std::string& token) {
  ClientOptions o;
  o.url = url;
  o.token = token;
  auto c = RegistryClient::Create(o);
  if (!c.ok()) throw std::runtime_error(c.status().ToString());
  return std::move(c).value();
}

TEST_CASE("ha: 3 replicas behind haproxy, one killed mid-load: no register lost, agents follow, one production",
          "[postgres]") {
  REQUIRE(OciRegistry::Available());
  REQUIRE(fs::exists(kHaproxy));
  const std::string db = NewTestDatabase();
  OciRegistry oci;
  TempDir t;
  const std::string key = t / "release.key";
  REQUIRE(Run({"openssl", "genpkey", "-algorithm", "ed25519", "-out", key}).exit_code == 0);
  std::vector<std::unique_ptr<ServerProcess>> replicas;
  std::vector<std::string> urls;
  for (int i = 0; i < 3; ++i) {
    replicas.push_back(std::make_unique<ServerProcess>(
        t / ("r" + std::to_string(i)),
        std::vector<std::string>{"--db", db, "--release-key", key, "--blobs", oci.blobs_url()}));
    urls.push_back(replicas.back()->url());
  }
  Haproxy lb(t, urls);
  const std::string admin = replicas[0]->admin_token();
  Http lb_admin(lb.url, admin);
  auto token = [&](const std::string& name, const std::string& role) {
    auto r = lb_admin.Post("/api/v1/tokens", json{{"name", name}, {"role", role}}.dump());
    REQUIRE(r);
    REQUIRE(r->status == 201);
    return json::parse(r->body)["token"].get<std::string>();
  };
  const std::string trainer = token("trainer", "trainer"), alice = token("alice", "approver"),
                    fleet = token("fleet", "agent");
  const std::map<std::string, std::string> admin_env = {{"MODELREG_URL", lb.url}, {"MODELREG_TOKEN", admin}};
  WriteFile(t / "key.pem", Modelreg({"key", "export"}, admin_env).out);

  // Version 1 in production before the agents start.
  constexpr int kVersions = 5;
  std::vector<std::string> payloads;
  auto bundle = [&](int n) {
    const std::string dir = t / ("b" + std::to_string(n));
    payloads.push_back(std::string(24 << 20, static_cast<char>('a' + n)) + std::to_string(n));
    WriteFile(dir + "/model.bin", payloads.back());
    WriteFile(dir + "/meta.json", "{\"n\":" + std::to_string(n) + "}");
    return dir;
  };
  auto register_version = [&](int n) -> Status {
    LineageRecord l;
    l.model = "churn";
    l.metrics = {{"auc", 0.9}};
    auto r = ClientAt(lb.url, trainer)->Register("churn", bundle(n), l);
    return r.status();
  };
  auto promote = [&](int n) {
    const std::string base = "/api/v1/models/churn/versions/" + std::to_string(n);
    // Through haproxy, retried as a client would while a replica dies.
    for (const auto& [path, body, tok] : std::vector<std::tuple<std::string, std::string, std::string>>{
             {base + "/approvals", "{}", alice},
             {base + "/stage", R"({"to":"staging"})", admin},
             {base + "/stage", R"({"to":"production"})", admin}}) {
      int status = 0;
      for (int attempt = 0; attempt < 20 && status / 100 != 2; ++attempt) {
        auto r = Http(lb.url, tok).Post(path, body);
        status = r ? r->status : 0;
        if (status == 409 || status == 422) break;  // already done by a retried request
      }
      INFO(path << " " << body);
      CHECK((status / 100 == 2 || status == 409 || status == 422));
    }
  };
  REQUIRE(register_version(1).ok());
  promote(1);

  std::vector<std::unique_ptr<Process>> agents;
  for (int i = 0; i < 2; ++i) {
    const std::string root = t / ("agent" + std::to_string(i));
    agents.push_back(std::make_unique<Process>(
        std::vector<std::string>{MODELREG_AGENT_BIN, "--registry", lb.url, "--token", fleet, "--model", "churn",
                                 "--root", root, "--trust-key", t / "key.pem", "--id", "agent-" + std::to_string(i),
                                 "--interval", "1", "--max-backoff", "1"},
        root + ".log"));
  }

  // Load: the trainer registers the remaining versions while a replica is
  // killed during the first of them; each is then promoted.
  // A second trainer registers another model at the same time, through the
  // same haproxy: concurrent writers on every replica while one dies.
  const std::string trainer2 = token("trainer2", "trainer");
  constexpr int kOther = 4;
  std::vector<Status> other_results(kOther);
  std::thread other([&] {
    for (int n = 1; n <= kOther; ++n) {
      const std::string dir = t / ("f" + std::to_string(n));
      WriteFile(dir + "/model.bin", std::string(3 << 20, static_cast<char>('k' + n)) + std::to_string(n));
      LineageRecord l;
      l.model = "fraud";
      l.metrics = {{"auc", 0.8}};
      other_results[n - 1] = ClientAt(lb.url, trainer2)->Register("fraud", dir, l).status();
    }
  });
  std::atomic<bool> killed{false};
  std::thread killer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    replicas[1]->Kill();
    killed = true;
  });
  for (int n = 2; n <= kVersions; ++n) {
    Status st = register_version(n);
    INFO("register " << n << ": " << st.ToString());
    CHECK(st.ok());
    if (n == 2) killer.join();
    promote(n);
  }
  if (killer.joinable()) killer.join();
  REQUIRE(killed);
  other.join();
  for (int n = 1; n <= kOther; ++n) {
    INFO("fraud register " << n << ": " << other_results[n - 1].ToString());
    CHECK(other_results[n - 1].ok());
  }
  auto fraud = json::parse(lb_admin.Get("/api/v1/models/fraud/versions")->body);
  CHECK((fraud.is_array() ? fraud : fraud["versions"]).size() == kOther);

  // Every version is registered once, exactly one is in production: the last.
  auto vs = json::parse(lb_admin.Get("/api/v1/models/churn/versions")->body);
  const auto& list = vs.is_array() ? vs : vs["versions"];
  CHECK(list.size() == kVersions);
  int production = 0;
  for (const auto& v : list)
    if (v.value("stage", "") == "production") {
      ++production;
      CHECK(v["version"] == kVersions);
    }
  CHECK(production == 1);
  // Both agents end on it (no swap missed), its bytes whole.
  for (int i = 0; i < 2; ++i) {
    const std::string root = t / ("agent" + std::to_string(i));
    const std::string file = root + "/current/model.bin";
    bool on_last = false;
    const auto deadline = Clock::now() + std::chrono::seconds(120);
    while (!on_last && Clock::now() < deadline) {
      std::error_code ec;
      on_last = fs::file_size(file, ec) == payloads.back().size() && !ec && ReadFile(file) == payloads.back();
      if (!on_last) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    INFO("agent " << i << " log:\n" << ReadFile(root + ".log"));
    CHECK(on_last);
  }
  // One chain, verified through the surviving replicas.
  for (int i : {0, 2}) {
    auto verify = json::parse(Http(urls[i], admin).Get("/api/v1/audit/verify")->body);
    INFO(verify.dump());
    CHECK(verify["ok"] == true);
  }
}

}  // namespace
}  // namespace modelreg::testing
