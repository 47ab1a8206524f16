// modelreg-agent against a real registry: swaps, refusals, crashes, offline.
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/digest.h"
#include "support/forwarder.h"
#include "support/ports.h"
#include "support/server_process.h"
#include "support/tcp_relay.h"
#include "support/wait.h"

using namespace modelreg;
using namespace modelreg::testing;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

struct Fleet {
  std::unique_ptr<ServerProcess> server;
  TempDir t;
  std::string agent_token;
  std::map<std::string, std::string> admin_env;
  int port = 0;

  explicit Fleet(bool fixed_port = false) {
    std::vector<std::string> flags;
    if (fixed_port) {
      // A restarted registry must come back on the same address.
      port = FixedLoopbackPort(PortBand::kAgentRegistry);
      flags = {"--listen", "127.0.0.1:" + std::to_string(port)};
    }
    server = std::make_unique<ServerProcess>(t / "data", flags);
    admin_env = server->Env(server->admin_token());
    agent_token = server->CreateToken("agent-1", "agent");
    REQUIRE(Modelreg({"key", "export"}, admin_env).exit_code == 0);
    WriteFile(t / "key.pem", Modelreg({"key", "export"}, admin_env).out);
  }
  // Version 1 ("v1") released with no approval needed, and an agent started
  // with `flags` and serving it.
  std::unique_ptr<Process> ServeFirstVersion(const std::vector<std::string>& flags) {
    Register("v1");
    Mr({"policy", "set", "churn", "--approvals", "0"});
    Release(1);
    auto agent = StartAgent(flags);
    REQUIRE(WaitFor([&] { return Agent().value("state", "") == "serving"; }));
    return agent;
  }
  void Mr(const std::vector<std::string>& args) {
    auto r = Modelreg(args, admin_env);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
  // Registers a version whose files hold `tag`; returns its number.
  int Register(const std::string& tag, int files = 3) {
    std::string dir = t / ("src-" + tag);
    for (int i = 0; i < files; ++i) WriteFile(dir + "/d/f" + std::to_string(i), tag + " file " + std::to_string(i));
    auto r = Modelreg({"register", "churn", dir, "--json"}, admin_env);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out)["version"];
  }
  // Registers a version whose d/f0 says "big" beside d/weights.bin, `bytes`
  // random bytes from `seed`: a download that takes a while.
  void RegisterBig(uint64_t bytes, int seed) {
    WriteRandomFile(t / "src-big/d/weights.bin", bytes, seed);
    WriteFile(t / "src-big/d/f0", "big file 0");
    Mr({"register", "churn", t / "src-big"});
  }
  void Release(int v) {
    Mr({"promote", "churn", std::to_string(v), "--to", "staging"});
    Mr({"promote", "churn", std::to_string(v), "--to", "production"});
  }
  // The agent's command line (agent-1 into t/root, trusting t/key.pem) on
  // `registry`, then `extra`.
  std::vector<std::string> AgentArgv(const std::string& registry, const std::vector<std::string>& extra = {}) {
    auto argv = AgentCommand(registry, agent_token, t / "root", t / "key.pem", "agent-1");
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }
  std::unique_ptr<Process> StartAgent(const std::vector<std::string>& extra = {}, const std::string& key = "") {
    auto argv = AgentCommand(server->url(), agent_token, t / "root", key.empty() ? t / "key.pem" : key, "agent-1");
    argv.insert(argv.end(), {"--max-backoff", "1"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<Process>(argv, t / "agent.log");
  }
  std::string CurrentTag() {
    std::error_code ec;
    auto target = fs::read_symlink(t / "root/current", ec);
    if (ec) return "";
    try {
      std::string s = ReadFile((t / "root/") + target.string() + "/d/f0");
      return s.substr(0, s.find(' '));
    } catch (...) { return ""; }
  }
  // Polls `cond` until it holds or `seconds` pass. The deadline only
  // matters when the test fails: generous, for a loaded 2-core machine.
  bool WaitFor(const std::function<bool()>& cond, double seconds = 60) {
    return modelreg::testing::WaitFor(cond, seconds, std::chrono::milliseconds(20));
  }
  json Agent() {
    auto r = Modelreg({"agents", "--json"}, admin_env);
    auto agents = json::parse(r.out)["agents"];
    return agents.empty() ? json::object() : agents[0];
  }
  std::string Log() { return ReadFile(t / "agent.log"); }
  // The text of the file at `path` once it holds `lines` whole lines; ""
  // if it does not by the deadline. A hook's shell creates its output file
  // (`>`, `>>`) before it writes the line: existing says nothing yet.
  std::string WaitForLines(const std::string& path, size_t lines, double seconds = 60) {
    std::string text;
    const bool done = WaitFor(
        [&] {
          std::error_code ec;
          if (!fs::exists(path, ec)) return false;
          text = ReadFile(path);
          return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) >= lines;
        },
        seconds);
    return done ? text : "";
  }
};

}  // namespace

TEST_CASE("agent follows promotions and rollbacks, current never points at a partial version") {
  Fleet f;
  f.Register("v1");
  f.Register("v2");
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  auto agent = f.StartAgent({"--on-swap", "echo $MODEL_VERSION $MODEL_DIGEST >> " + (f.t / "hook.log")});
  REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v1"; }));

  // A reader checks every file of `current` against its version while 20 swaps happen.
  std::atomic<bool> stop{false};
  std::atomic<long> reads{0}, bad{0};
  std::thread reader([&] {
    while (!stop) {
      std::error_code ec;
      auto target = fs::read_symlink(f.t / "root/current", ec);
      if (ec) {
        ++bad;
        continue;
      }
      std::string dir = (f.t / "root/") + target.string();
      std::string tag;
      for (int i = 0; i < 3; ++i) {
        std::string s;
        try {
          s = ReadFile(dir + "/d/f" + std::to_string(i));
        } catch (...) {
          ++bad;
          break;
        }
        std::string t = s.substr(0, s.find(' '));
        if (i == 0) tag = t;
        if (t != tag || s != tag + " file " + std::to_string(i)) ++bad;
      }
      ++reads;
    }
  });
  for (int i = 0; i < 10; ++i) {
    f.Release(2);
    REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v2"; }));
    f.Mr({"rollback", "churn", "--reason", "swap " + std::to_string(i)});
    REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v1"; }));
  }
  stop = true;
  reader.join();
  INFO("reads: " << reads << " bad: " << bad);
  CHECK(reads > 100);
  CHECK(bad == 0);
  CHECK(f.WaitFor([&] { return f.Agent().value("state", "") == "serving" && f.Agent()["version"] == 1; }));
  std::string hooks = f.WaitForLines(f.t / "hook.log", 21);
  CHECK(std::count(hooks.begin(), hooks.end(), '\n') == 21);
  // Version directories are read-only.
  auto target = fs::read_symlink(f.t / "root/current");
  bool writable = (fs::status((f.t / "root/") + target.string() + "/d/f0").permissions() & fs::perms::owner_write) !=
                  fs::perms::none;
  CHECK_FALSE(writable);
}

TEST_CASE("agent refuses a corrupted blob, a foreign key, and a replayed older release") {
  Fleet f;
  f.Register("v1");
  f.Register("v2");
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);

  SECTION("blob corrupted on the server's disk, same size: keeps v1, reports it, applies v2 once repaired") {
    auto agent = f.StartAgent();
    REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v1"; }));
    Digest d = Digest::Of("v2 file 1");
    std::string blob = f.server->data_dir() + "/blobs/sha256/" + d.shard() + "/" + d.hex();
    fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
    WriteFile(blob, "v2 file X");
    f.Release(2);
    REQUIRE(f.WaitFor([&] { return f.Agent().value("state", "") == "failed"; }));
    CHECK(f.Agent()["last_error"].get<std::string>().find("hashes to") != std::string::npos);
    CHECK(f.Agent()["version"] == 1);
    CHECK(f.CurrentTag() == "v1");
    // Damage, not a bad release: retried, so the same release applies once
    // the operator repairs the store and registers the bundle again.
    REQUIRE(f.WaitFor([&] { return f.Log().find("the registry's copy is damaged") != std::string::npos; }));
    CHECK(Modelreg({"admin", "fsck", "--data", f.server->data_dir(), "--repair"}).exit_code == 1);
    auto again = Modelreg({"register", "churn", f.t / "src-v2", "--json"}, f.admin_env);
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v2"; }));
    REQUIRE(f.WaitFor([&] { return f.Agent().value("state", "") == "serving"; }));
  }
  SECTION("blob truncated on the server's disk: reported as damaged, retried, applied once repaired") {
    auto agent = f.StartAgent();
    REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v1"; }));
    Digest d = Digest::Of("v2 file 1");
    std::string blob = f.server->data_dir() + "/blobs/sha256/" + d.shard() + "/" + d.hex();
    fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
    WriteFile(blob, "v2");  // shorter than registered: the registry refuses to serve it (DATA_LOSS)
    f.Release(2);
    REQUIRE(f.WaitFor([&] { return f.Agent().value("state", "") == "failed"; }));
    const std::string err = f.Agent()["last_error"];
    INFO(err);
    CHECK(err.find("version 2 not applied") != std::string::npos);
    CHECK(err.find(d.str()) != std::string::npos);
    CHECK(err.find("fsck") != std::string::npos);
    CHECK(f.CurrentTag() == "v1");
    REQUIRE(f.WaitFor([&] { return f.Log().find("the registry's copy is damaged") != std::string::npos; }));
    CHECK(f.Log().find("registry unreachable") == std::string::npos);
    // The operator repairs the store and registers the bundle again; the
    // same release (no new promotion) is then applied.
    auto repair = Modelreg({"admin", "fsck", "--data", f.server->data_dir(), "--repair"});
    CHECK(repair.exit_code == 1);
    auto again = Modelreg({"register", "churn", f.t / "src-v2", "--json"}, f.admin_env);
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(json::parse(again.out)["version"] == 2);
    REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v2"; }));
    REQUIRE(f.WaitFor([&] { return f.Agent().value("state", "") == "serving"; }));
    CHECK(f.Agent()["version"] == 2);
  }
  SECTION("a large blob (one GET) truncated on the server's disk: reported as damaged, not as unreachable") {
    auto agent = f.StartAgent();
    REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v1"; }));
    const std::string big(5 << 20, 'B');
    WriteFile(f.t / "src-v3/d/f0", "v3 file 0");
    WriteFile(f.t / "src-v3/big.bin", big);
    auto r = Modelreg({"register", "churn", f.t / "src-v3", "--json"}, f.admin_env);
    REQUIRE(r.exit_code == 0);
    REQUIRE(json::parse(r.out)["version"] == 3);
    Digest d = Digest::Of(big);
    std::string blob = f.server->data_dir() + "/blobs/sha256/" + d.shard() + "/" + d.hex();
    fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
    fs::resize_file(blob, 1 << 20);
    f.Release(3);
    REQUIRE(f.WaitFor([&] { return f.Agent().value("state", "") == "failed"; }));
    const std::string err = f.Agent()["last_error"];
    INFO(err);
    CHECK(err.find("version 3 not applied") != std::string::npos);
    CHECK(err.find("registered as 5242880") != std::string::npos);
    CHECK(f.CurrentTag() == "v1");
    CHECK(f.Log().find("registry unreachable") == std::string::npos);
  }
  SECTION("release signed by another key: refused, nothing served") {
    TempDir other;
    WriteFile(other / "openssl.sh", "");
    auto r = Run({"openssl", "genpkey", "-algorithm", "ed25519", "-out", other / "k.pem"});
    REQUIRE(r.exit_code == 0);
    auto pub = Run({"openssl", "pkey", "-in", other / "k.pem", "-pubout", "-out", other / "pub.pem"});
    REQUIRE(pub.exit_code == 0);
    auto agent = f.StartAgent({}, other / "pub.pem");
    REQUIRE(f.WaitFor([&] { return f.Agent().value("state", "") == "failed"; }));
    CHECK(f.Agent()["last_error"].get<std::string>().find("no signature") != std::string::npos);
    CHECK_FALSE(fs::exists(f.t / "root/current"));
  }
  SECTION("a replayed older release (lower seq) is refused") {
    // A proxy in front of the registry that can replay an old release.
    httplib::Client upstream(f.server->url());
    upstream.set_bearer_token_auth(f.agent_token);
    auto old = upstream.Get("/api/v1/models/churn/release?stage=production");
    REQUIRE(old);
    REQUIRE(old->status == 200);
    std::atomic<bool> replay{false};
    httplib::Server proxy;
    auto forward = Forwarder(f.server->url());
    proxy.Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
      if (replay && req.path.find("/release") != std::string::npos) {
        res.status = 200;
        res.set_header("ETag", "\"1\"");
        res.set_content(old->body, "application/json");
        return;
      }
      forward(req, res);
    });
    proxy.Post(".*", forward);
    int pport = proxy.bind_to_any_port("127.0.0.1");
    std::thread pt([&] { proxy.listen_after_bind(); });
    Process agent(f.AgentArgv("http://127.0.0.1:" + std::to_string(pport)), f.t / "agent.log");
    REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v1"; }));
    f.Release(2);
    REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v2"; }));
    replay = true;
    REQUIRE(f.WaitFor([&] { return f.Log().find("replayed release") != std::string::npos; }));
    CHECK(f.CurrentTag() == "v2");
    proxy.stop();
    pt.join();
  }
}

TEST_CASE("health check failing after swap: swapped back, failed reported, digest not retried") {
  Fleet f;
  f.Register("v1");
  f.Register("v2");
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  // Healthy unless the served version is v2.
  std::string health = "! grep -q v2 \"$MODEL_DIR/d/f0\"";
  auto agent = f.StartAgent({"--health", health, "--on-swap", "echo $MODEL_VERSION >> " + (f.t / "hook.log")});
  REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v1"; }));
  f.Release(2);
  REQUIRE(f.WaitFor([&] { return f.Agent().value("state", "") == "failed"; }));
  CHECK(f.CurrentTag() == "v1");
  CHECK(f.Agent()["version"] == 1);
  CHECK(f.Agent()["last_error"].get<std::string>().find("swapped back") != std::string::npos);
  CHECK(f.WaitForLines(f.t / "hook.log", 3) == "1\n2\n1\n");  // v2 tried once, then back to v1
  std::this_thread::sleep_for(std::chrono::seconds(3));       // several poll intervals: never retried
  CHECK(ReadFile(f.t / "hook.log") == "1\n2\n1\n");
}

TEST_CASE("agent restarted while the registry is down serves the last verified version") {
  Fleet f;
  f.Register("v1");
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  {
    auto agent = f.StartAgent();
    REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v1"; }));
    agent->Signal(SIGTERM);
    CHECK(agent->Wait(10) == 0);
  }
  f.server->Kill();
  auto agent = f.StartAgent({"--on-swap", "echo $MODEL_VERSION > " + (f.t / "loaded")});
  CHECK(f.WaitForLines(f.t / "loaded", 1) == "1\n");
  CHECK(f.CurrentTag() == "v1");
  REQUIRE(f.WaitFor([&] { return f.Log().find("registry unreachable") != std::string::npos; }));
  CHECK(agent->running());
}

TEST_CASE("agent stops at once on SIGTERM, even in a long poll or a download") {
  Fleet f;
  f.Register("v1");
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  auto stop_time = [](Process& agent) {
    const auto t0 = std::chrono::steady_clock::now();
    agent.Signal(SIGTERM);
    const int rc = agent.Wait(60);
    CHECK(rc == 0);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  SECTION("in a long poll of 30 s") {
    auto agent = f.StartAgent({"--interval", "30"});
    REQUIRE(f.WaitFor([&] { return f.Agent().value("state", "") == "serving"; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // into the poll
    CHECK(stop_time(*agent) < 5);
    CHECK(f.Log().find("registry unreachable") == std::string::npos);  // stopping is not an outage
  }
  SECTION("in a download, which the next start resumes") {
    f.RegisterBig(40ull << 20, 12);
    // Through a slow network (about 6 MB/s), so that the download still
    // runs when the agent is stopped.
    SlowBlobRelay relay(f.server->url(), 64 << 10, std::chrono::milliseconds(10));
    Process agent({MODELREG_AGENT_BIN, "--registry", relay.url(), "--token", f.agent_token, "--model", "churn",
                   "--root", f.t / "root", "--trust-key", f.t / "key.pem", "--id", "agent-1", "--interval", "30"},
                  f.t / "agent.log");
    REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v1"; }));
    Digest big = HashFile(f.t / "src-big/d/weights.bin")->digest;
    const std::string partial = f.t / ("root/cache/partial/" + big.hex());
    f.Release(2);
    REQUIRE(f.WaitFor([&] { return fs::exists(partial) && fs::file_size(partial) > (4ull << 20); }, 60));
    CHECK(stop_time(agent) < 5);
    CHECK(f.CurrentTag() == "v1");
    REQUIRE(fs::exists(partial));
    const uint64_t kept = fs::file_size(partial);
    CHECK(kept < (40ull << 20));
    auto again = f.StartAgent({"--interval", "30"});
    const bool resumed = f.WaitFor([&] { return f.CurrentTag() == "big"; }, 60);
    if (!resumed) {
      UNSCOPED_INFO("both agents' log:\n" << f.Log());
      UNSCOPED_INFO("state.json: " << ReadFile(f.t / "root/state.json"));
    }
    REQUIRE(resumed);
    // Counted over both runs: each byte once, the stopped run's included.
    const uint64_t downloaded = json::parse(ReadFile(f.t / "root/state.json"))["bytes_downloaded"];
    CHECK(downloaded < (40ull << 20) + (1 << 20));
    CHECK(downloaded >= (40ull << 20));
  }
}

TEST_CASE("agent resumes a download from a kept partial of any length, aligned or not") {
  Fleet f;
  f.RegisterBig(40ull << 20, 13);
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  const std::string src = ReadFile(f.t / "src-big/d/weights.bin");
  const Digest big = Digest::Of(src);
  for (uint64_t kept : {uint64_t{1}, uint64_t{4095}, uint64_t{4097}, uint64_t{65537}, uint64_t{5000001},
                        uint64_t{(40ull << 20) - 1}, uint64_t{40ull << 20}}) {
    INFO("kept " << kept);
    fs::remove_all(f.t / "root");
    WriteFile(f.t / ("root/cache/partial/" + big.hex()), src.substr(0, kept));
    auto r = Run({MODELREG_AGENT_BIN, "--registry", f.server->url(), "--token", f.agent_token, "--model", "churn",
                  "--root", f.t / "root", "--trust-key", f.t / "key.pem", "--id", "agent-1", "--once"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(f.CurrentTag() == "big");
    CHECK(ReadFile(f.t / "root/current/d/weights.bin") == src);
    const uint64_t downloaded = json::parse(ReadFile(f.t / "root/state.json"))["bytes_downloaded"];
    CHECK(downloaded == (40ull << 20) - kept + 10);  // the rest, and f0
  }
  SECTION("kept bytes that are wrong: the blob is downloaded once more whole, the registry not blamed") {
    std::string wrong = src.substr(0, 5000001);
    wrong[4096] ^= 1;
    fs::remove_all(f.t / "root");
    WriteFile(f.t / ("root/cache/partial/" + big.hex()), wrong);
    auto r = Run({MODELREG_AGENT_BIN, "--registry", f.server->url(), "--token", f.agent_token, "--model", "churn",
                  "--root", f.t / "root", "--trust-key", f.t / "key.pem", "--id", "agent-1", "--once"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.find("damaged") == std::string::npos);
    CHECK(ReadFile(f.t / "root/current/d/weights.bin") == src);
    const uint64_t downloaded = json::parse(ReadFile(f.t / "root/state.json"))["bytes_downloaded"];
    CHECK(downloaded == (40ull << 20) - 5000001 + (40ull << 20) + 10);  // the rest, then all again
  }
}

TEST_CASE("agent whose disk is full keeps serving, says so, and applies the release once there is room") {
  Fleet f;
  f.Register("v1");
  f.RegisterBig(40ull << 20, 15);
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  {
    // A file-size limit stands for a full disk (EFBIG, like ENOSPC).
    Process agent({"prlimit", "--fsize=8000000", MODELREG_AGENT_BIN, "--registry", f.server->url(), "--token",
                   f.agent_token, "--model", "churn", "--root", f.t / "root", "--trust-key", f.t / "key.pem", "--id",
                   "agent-1", "--interval", "1"},
                  f.t / "agent.log");
    REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v1"; }));
    f.Release(2);
    auto tries = [&] {
      const std::string log = f.Log();
      size_t n = 0;
      for (size_t at = log.find("disk is full"); at != std::string::npos; at = log.find("disk is full", at + 1)) ++n;
      return n;
    };
    const bool retried = f.WaitFor([&] { return tries() >= 2; });
    INFO(f.Log());
    REQUIRE(retried);  // tried again at the next interval
    CHECK(f.CurrentTag() == "v1");
    const json a = f.Agent();
    CHECK(a.value("state", "") == "failed");
    CHECK(a.value("last_error", "").find("disk is full") != std::string::npos);
    CHECK(f.Log().find("registry unreachable") == std::string::npos);
    CHECK(f.Log().find("refused") == std::string::npos);
    agent.Signal(SIGTERM);
    CHECK(agent.Wait(10) == 0);
  }
  const Digest big = HashFile(f.t / "src-big/d/weights.bin")->digest;
  CHECK(fs::file_size(f.t / ("root/cache/partial/" + big.hex())) == 8000000);
  auto downloaded = [&]() -> uint64_t { return json::parse(ReadFile(f.t / "root/state.json"))["bytes_downloaded"]; };
  const uint64_t before = downloaded();
  // Room again: the same root applies the release (nothing was refused).
  auto agent = f.StartAgent();
  REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "big"; }));
  CHECK(downloaded() - before == (40ull << 20) - 8000000);  // the kept 8 MB were not downloaded again
}

TEST_CASE("agent whose disk fails to write back keeps serving, retries, and never refuses the release") {
  Fleet f;
  f.Register("v1");
  f.RegisterBig(40ull << 20, 16);
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  {
    auto healthy = f.StartAgent();
    REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v1"; }));
    healthy->Signal(SIGTERM);
    REQUIRE(healthy->Wait(10) == 0);
  }
  {
    // From now on fsync of downloaded blobs fails with EIO
    // (support/fault_fdatasync.cc).
    Process agent({"env", "LD_PRELOAD=" MODELREG_FAULT_FDATASYNC_LIB, "MODELREG_FAULT_FSYNC=/cache/partial/",
                   MODELREG_AGENT_BIN, "--registry", f.server->url(), "--token", f.agent_token, "--model", "churn",
                   "--root", f.t / "root", "--trust-key", f.t / "key.pem", "--id", "agent-1", "--interval", "1"},
                  f.t / "agent.log");
    f.Release(2);
    auto tries = [&] {
      const std::string log = f.Log();
      size_t n = 0;
      for (size_t at = log.find("Input/output error"); at != std::string::npos;
           at = log.find("Input/output error", at + 1))
        ++n;
      return n;
    };
    const bool retried = f.WaitFor([&] { return tries() >= 2; });
    INFO(f.Log());
    REQUIRE(retried);
    CHECK(f.CurrentTag() == "v1");
    CHECK(f.Agent().value("last_error", "").find("the agent's disk: fsync") != std::string::npos);
    CHECK(f.Log().find("refused") == std::string::npos);
    CHECK(f.Log().find("registry unreachable") == std::string::npos);
    agent.Signal(SIGTERM);
    CHECK(agent.Wait(10) == 0);
  }
  // The disk works again: the same root applies the release (nothing in
  // state.json holds it back).
  CHECK(json::parse(ReadFile(f.t / "root/state.json")).value("failed_digest", "") == "");
  auto agent = f.StartAgent();
  REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "big"; }));
  CHECK(f.WaitFor([&] { return f.Agent().value("state", "") == "serving"; }));
}

TEST_CASE("agents beyond the registry's long-poll capacity poll once an --interval, not in a loop") {
  Fleet f;
  f.Register("v1");
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  // The registry holds 2 long polls; the third agent's polls are answered
  // at once.
  f.server->Stop();
  f.server = std::make_unique<ServerProcess>(f.t / "data", std::vector<std::string>{"--max-long-polls", "2"});
  std::vector<std::unique_ptr<Process>> agents;
  for (int i = 0; i < 3; ++i) {
    const std::string id = "agent-" + std::to_string(i);
    agents.push_back(std::make_unique<Process>(
        std::vector<std::string>{MODELREG_AGENT_BIN, "--registry", f.server->url(), "--token", f.agent_token, "--model",
                                 "churn", "--root", f.t / ("root-" + id), "--trust-key", f.t / "key.pem", "--id", id,
                                 "--interval", "2"},
        f.t / (id + ".log")));
  }
  const bool all_serving = f.WaitFor([&] {
    for (int i = 0; i < 3; ++i)
      if (!fs::exists(f.t / ("root-agent-" + std::to_string(i) + "/current"))) return false;
    return true;
  });
  if (!all_serving) {
    for (int i = 0; i < 3; ++i)
      UNSCOPED_INFO("agent-" << i << ":\n" << ReadFile(f.t / ("agent-" + std::to_string(i) + ".log")));
    UNSCOPED_INFO("registry:\n" << f.server->log());
  }
  REQUIRE(all_serving);
  const size_t before = f.server->RouteCount("release.get", 0);
  std::this_thread::sleep_for(std::chrono::seconds(4));
  const size_t polls = f.server->RouteCount("release.get", 0) - before;
  INFO(polls << " polls in 4 s");
  CHECK(polls <= 3 * 4);  // about one per agent every 2 s; a loop makes thousands
}

TEST_CASE("a kept-alive connection dropped just as the agent reuses it is retried at once, not taken for an outage") {
  // A registry closes idle kept-alive connections (after 30 s, or to make
  // room when every worker is taken); one closed just as the agent sends on
  // it fails without an answer. Through this relay every reuse fails so.
  Fleet f;
  f.Register("v1");
  f.Register("v2");
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  TcpRelay relay(PortOf(f.server->url()), TcpRelay::Fault::kOneRequest);
  Process agent(f.AgentArgv(relay.url()), f.t / "agent.log");
  REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v1"; }));
  f.Release(2);
  REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v2"; }));
  // Polls and reports go on, each reuse failing once: however slow they are.
  INFO(f.Log());
  CHECK(f.WaitFor([&] { return relay.faults() >= 4; }));
  // Its report after the swap may still be on its way (through the relay).
  CHECK(f.WaitFor([&] { return f.Agent().value("state", "") == "serving"; }));
  CHECK(f.Log().find("unreachable") == std::string::npos);
}

TEST_CASE("a download cut by a connection reset is an outage retried from where it broke, not a refused version") {
  Fleet f;
  f.Register("v1");
  f.RegisterBig(40ull << 20, 14);
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  // The first answer past 12 MiB (the big blob's download) is cut by an RST.
  TcpRelay relay(PortOf(f.server->url()), TcpRelay::Fault::kResetOnce, 12 << 20);
  Process agent(f.AgentArgv(relay.url(), {"--max-backoff", "1"}), f.t / "agent.log");
  REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v1"; }));
  f.Release(2);
  const bool applied = f.WaitFor([&] { return f.CurrentTag() == "big"; });
  INFO(f.Log());
  REQUIRE(applied);
  CHECK(relay.faults() == 1);
  // Retried within the download (net/blob_download.h's policy), so the
  // agent never had to report the registry unreachable.
  CHECK(f.Log().find("refused") == std::string::npos);
  const uint64_t downloaded = json::parse(ReadFile(f.t / "root/state.json"))["bytes_downloaded"];
  CHECK(downloaded < (40ull << 20) + (1 << 20));  // resumed, not started over
}

TEST_CASE("a download resumed from a server that ignores Range starts the blob over, not a refused version") {
  Fleet f;
  f.Register("v1");
  f.RegisterBig(40ull << 20, 16);
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  // agent -> (Range renamed) -> (first answer past 12 MiB reset) -> registry
  TcpRelay reset(PortOf(f.server->url()), TcpRelay::Fault::kResetOnce, 12 << 20);
  TcpRelay no_range(PortOf(reset.url()), TcpRelay::Fault::kIgnoreRange);
  Process agent(f.AgentArgv(no_range.url(), {"--max-backoff", "1"}), f.t / "agent.log");
  REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v1"; }));
  f.Release(2);
  const bool applied = f.WaitFor([&] { return f.CurrentTag() == "big"; });
  INFO(f.Log());
  REQUIRE(applied);
  CHECK(reset.faults() == 1);
  CHECK(no_range.faults() >= 1);
  CHECK(f.Log().find("refused") == std::string::npos);
  CHECK(ReadFile(f.t / "root/current/d/weights.bin") == ReadFile(f.t / "src-big/d/weights.bin"));
}

TEST_CASE("registry killed during a 300 MB download: agent keeps serving, then resumes") {
  Fleet f(/*fixed_port=*/true);
  f.Register("v1");
  f.RegisterBig(300ull << 20, 11);
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  auto agent = f.StartAgent();
  REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "v1"; }));
  // Hashed before the release: hashing 300 MB here takes as long as the
  // agent's whole download, which then could end before the kill.
  Digest big = HashFile(f.t / "src-big/d/weights.bin")->digest;
  std::string partial = f.t / ("root/cache/partial/" + big.hex());
  f.Release(2);
  REQUIRE(f.WaitFor([&] { return fs::exists(partial) && fs::file_size(partial) > (40ull << 20); }, 60));
  f.server->Kill();
  uint64_t kept = fs::file_size(partial);
  CHECK(kept < (300ull << 20));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(f.CurrentTag() == "v1");
  CHECK(agent->running());
  f.server->Start();
  REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "big"; }, 120));
  auto state = json::parse(ReadFile(f.t / "root/state.json"));
  uint64_t total = state["bytes_downloaded"];
  INFO("downloaded in all: " << total << ", kept before the crash: " << kept);
  // Everything once: v1's three small files and v2's 300 MB (+ f0), not twice.
  CHECK(total <= (300ull << 20) + (2 << 20));
  CHECK(total >= (300ull << 20));
}

TEST_CASE("a new version that changes one 10 MB file of a ~1 GB bundle downloads about 10 MB") {
  Fleet f;
  for (int i = 0; i < 100; ++i) WriteRandomFile(f.t / ("src-a/d/part" + std::to_string(i)), 10ull << 20, 100 + i);
  WriteFile(f.t / "src-a/d/f0", "a file 0");
  REQUIRE(Modelreg({"register", "churn", f.t / "src-a"}, f.admin_env).exit_code == 0);
  fs::rename(f.t / "src-a", f.t / "src-b");
  WriteRandomFile(f.t / "src-b/d/part7", 10ull << 20, 999);
  WriteFile(f.t / "src-b/d/f0", "b file 0");
  REQUIRE(Modelreg({"register", "churn", f.t / "src-b"}, f.admin_env).exit_code == 0);
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  auto agent = f.StartAgent();
  REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "a"; }, 120));
  uint64_t before = json::parse(ReadFile(f.t / "root/state.json"))["bytes_downloaded"];
  CHECK(before >= (1000ull << 20));
  f.Release(2);
  REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "b"; }, 60));
  uint64_t delta = json::parse(ReadFile(f.t / "root/state.json"))["bytes_downloaded"].get<uint64_t>() - before;
  INFO("second version downloaded " << delta << " bytes");
  CHECK(delta >= (10ull << 20));
  CHECK(delta <= (10ull << 20) + 4096);
}

namespace {

bool SameFiles(const std::string& src, const std::string& dst, int files) {
  for (int i = 0; i < files; ++i) {
    const std::string rel = "/d/f" + std::to_string(i);
    if (ReadFile(src + rel) != ReadFile(dst + rel)) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("agent fetches a 2 000-file version in one request, or from an older registry one GET each") {
  Fleet f;
  size_t gets_before = 0;
  auto release = [&](int files) {
    f.Register("many", files);
    f.Mr({"policy", "set", "churn", "--approvals", "0"});
    f.Release(1);
    gets_before = f.server->RouteCount("models.blob", 0);
  };

  SECTION("one blobs/fetch request, every file verified and materialized") {
    release(2000);
    auto agent = f.StartAgent();
    REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "many"; }, 60));
    CHECK(SameFiles(f.t / "src-many", f.t / "root/current", 2000));
    CHECK(f.server->RouteCount("models.blobs_fetch", 1) == 1);
    CHECK(f.server->RouteCount("models.blob", gets_before) == gets_before);
    uint64_t got = json::parse(ReadFile(f.t / "root/state.json"))["bytes_downloaded"];
    CHECK(got > 2000 * 12);  // "many file N": 11-14 bytes each
    CHECK(got < 2000 * 15);
  }
  // The agent talks to a relay in front of the registry that forwards
  // everything but blobs/fetch, which `on_fetch` answers.
  std::vector<size_t> asked;  // digests per fetch
  auto via_relay = [&](int files, const std::function<void(const httplib::Request&, httplib::Response&)>& on_fetch) {
    release(files);
    httplib::Server relay;
    auto forward = Forwarder(f.server->url());
    relay.Get(".*", forward);
    relay.Post(".*", [&](const httplib::Request& req, httplib::Response& res) {
      if (req.path.find("/blobs/fetch") == std::string::npos) return forward(req, res);
      asked.push_back(json::parse(req.body)["digests"].size());
      on_fetch(req, res);
    });
    int port = relay.bind_to_any_port("127.0.0.1");
    std::thread serving([&] { relay.listen_after_bind(); });
    Process agent(f.AgentArgv("http://127.0.0.1:" + std::to_string(port), {"--max-backoff", "1"}), f.t / "agent.log");
    CHECK(f.WaitFor([&] { return f.CurrentTag() == "many"; }, 60));
    CHECK(SameFiles(f.t / "src-many", f.t / "root/current", files));
    relay.stop();
    serving.join();
  };

  SECTION("a registry that answers 404 to blobs/fetch: the agent falls back to GETs") {
    via_relay(40, [](const httplib::Request&, httplib::Response& res) {  // each GET'd blob is fsync'ed alone: slow
      res.status = 404;
      res.set_content(R"({"error":{"code":"NOT_FOUND","message":"no such route"}})", "application/json");
    });
    CHECK(asked == std::vector<size_t>{40});
    CHECK(f.server->RouteCount("models.blob", gets_before + 40) == gets_before + 40);
  }
  SECTION("an answer cut off mid-way: the blobs checked are kept, the next try asks for the rest") {
    auto forward = Forwarder(f.server->url());
    via_relay(2000, [&](const httplib::Request& req, httplib::Response& res) {
      forward(req, res);
      if (asked.size() > 1) return;
      auto body = std::make_shared<std::string>(std::move(res.body));
      res.body.clear();
      res.set_content_provider(body->size(), "application/octet-stream",
                               [body](size_t offset, size_t, httplib::DataSink& sink) {
                                 const size_t cut = 10000;         // about 750 blobs of 13 bytes
                                 if (offset >= cut) return false;  // drop the connection
                                 return sink.write(body->data() + offset, cut - offset);
                               });
    });
    REQUIRE(asked.size() == 2);
    CHECK(asked[0] == 2000);
    CHECK(asked[1] < 2000 - 500);
    CHECK(asked[1] > 0);
    // Nothing kept was fetched again: at most the one blob cut in half.
    uint64_t got = json::parse(ReadFile(f.t / "root/state.json"))["bytes_downloaded"];
    uint64_t all = 0;
    for (int i = 0; i < 2000; ++i) all += ("many file " + std::to_string(i)).size();
    CHECK(got >= all);
    CHECK(got <= all + 20);
  }
}

TEST_CASE("agent keeps the last --keep versions and collects the rest") {
  Fleet f;
  for (const char* tag : {"k1", "k2", "k3", "k4"}) f.Register(tag);
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  auto agent = f.StartAgent({"--keep", "2"});
  REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "k1"; }));
  for (int v = 2; v <= 4; ++v) {
    f.Release(v);
    REQUIRE(f.WaitFor([&] { return f.CurrentTag() == "k" + std::to_string(v); }));
    REQUIRE(f.WaitFor([&] { return f.Agent().value("state", "") == "serving" && f.Agent()["version"] == v; }));
  }
  size_t dirs = 0;
  for (const auto& e : fs::directory_iterator(f.t / "root/versions"))
    if (e.is_directory()) ++dirs;
  CHECK(dirs == 2);
  // Cache blobs of collected versions are gone: 2 versions x 3 files.
  size_t blobs = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(f.t / "root/cache/blobs")) ++blobs;
  CHECK(blobs == 6);
  CHECK(f.CurrentTag() == "k4");
}

TEST_CASE("a first version that fails its health check is not left as current") {
  Fleet f;
  f.Register("v1");
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  auto agent = f.StartAgent({"--health", "false"});
  REQUIRE(f.WaitFor([&] { return f.Agent().value("state", "") == "failed"; }));
  CHECK_FALSE(fs::exists(f.t / "root/current"));
  // Restarted, it does not serve the failed version from disk either.
  agent->Signal(SIGTERM);
  agent->Wait(10);
  CHECK_FALSE(fs::is_symlink(f.t / "root/current"));
}

TEST_CASE("modelreg agents marks an agent that stopped reporting as silent") {
  Fleet f;
  auto agent = f.ServeFirstVersion({"--interval", "0.5"});
  auto live = Modelreg({"agents"}, f.admin_env);
  CHECK(live.out.find("(silent)") == std::string::npos);
  agent->Signal(SIGKILL);  // no last report: the registry only sees the silence
  agent->Wait(10);
  // Silent after three heartbeats (1.5 s) without a report.
  REQUIRE(f.WaitFor([&] { return f.Agent().value("silent", false); }));
  auto silent = Modelreg({"agents"}, f.admin_env);
  INFO(silent.out);
  CHECK(silent.out.find("serving (silent)") != std::string::npos);
}

TEST_CASE("an agent stopped with SIGTERM reports itself offline") {
  Fleet f;
  auto agent = f.ServeFirstVersion({"--interval", "0.5"});
  agent->Signal(SIGTERM);
  CHECK(agent->Wait(30) == 0);
  const json a = f.Agent();
  INFO(a.dump());
  CHECK(a.value("state", "") == "offline");  // before: still "serving", until it went silent
}

TEST_CASE("agent keeps its heartbeat while a release takes longer than three heartbeats") {
  // The swap hook of version 2 takes 4 s; the agent's heartbeat is 0.5 s, so
  // the registry calls it silent after 1.5 s without a report. The main loop
  // is busy in the hook all that time: the heartbeat thread must report.
  Fleet f;
  f.Register("v1");
  f.Register("v2");
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  const std::string started = f.t / "hook-started";
  auto agent = f.StartAgent(
      {"--interval", "0.5", "--on-swap", "if [ $MODEL_VERSION = 2 ]; then touch " + started + "; sleep 4; fi"});
  REQUIRE(f.WaitFor([&] { return f.Agent().value("state", "") == "serving" && f.Agent()["version"] == 1; }));
  f.Release(2);
  REQUIRE(f.WaitFor([&] { return fs::exists(started); }));
  const auto hook_start = Clock::now();
  int checks = 0;
  while (Clock::now() - hook_start < std::chrono::milliseconds(3500)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    json a = f.Agent();
    INFO(a.dump());
    CHECK_FALSE(a.value("silent", true));
    CHECK(a.value("heartbeat_age_s", 99.0) < 1.5);
    ++checks;
  }
  CHECK(checks >= 10);
  REQUIRE(f.WaitFor([&] { return f.Agent().value("state", "") == "serving" && f.Agent()["version"] == 2; }));
}

TEST_CASE("agent refuses a registry URL or a --listen it cannot use, with exit 2 and what to give instead") {
  TempDir t;
  auto agent = [&](const std::string& url) {
    return Run({MODELREG_AGENT_BIN, "--registry", url, "--token", "mr_x", "--model", "churn", "--root",
                t.path() + "/root", "--trust-key", t.path() + "/key.pem"});
  };
  auto no_scheme = agent("127.0.0.1:8080");
  CHECK(no_scheme.exit_code == 2);
  CHECK(no_scheme.err.find("must start with http:// or https://") != std::string::npos);
  auto prefixed = agent("http://127.0.0.1:8080/modelreg/");
  CHECK(prefixed.exit_code == 2);
  CHECK(prefixed.err.find("has a path ('/modelreg')") != std::string::npos);
  auto bad_listen =
      Run({MODELREG_AGENT_BIN, "--registry", "http://127.0.0.1:8080", "--token", "mr_x", "--model", "churn", "--root",
           t.path() + "/root", "--trust-key", t.path() + "/key.pem", "--exec", "true", "--listen", "127.0.0.1:80a"});
  CHECK(bad_listen.exit_code == 2);
  CHECK(bad_listen.err.find("the port must be a number from 0 to 65535") != std::string::npos);
  // Numbers are read whole ("64M" of spool was 64 bytes), and a token with a
  // character that would break its header is refused.
  auto with = [&](std::vector<std::string> extra, const std::string& token = "mr_x") {
    std::vector<std::string> argv = {
        MODELREG_AGENT_BIN, "--registry",  "http://127.0.0.1:8080", "--token", token, "--model", "churn", "--root",
        t.path() + "/root", "--trust-key", t.path() + "/key.pem"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return Run(argv);
  };
  for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{{"--keep", "3x"},
                                                                                    {"--keep", "0"},
                                                                                    {"--interval", "10 s"},
                                                                                    {"--interval", "0"},
                                                                                    {"--spool-max", "64X"},
                                                                                    {"--max-connections", "many"},
                                                                                    {"--health-timeout", "-5"}}) {
    auto r = with({flag, value});
    INFO(flag << " " << value << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(flag + " wants ") != std::string::npos);
  }
  auto injected = with({}, "mr_x\r\nX-Evil: 1");
  CHECK(injected.exit_code == 2);
  CHECK(injected.err.find("--token has a space, control or non-ASCII character inside") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(t.path() + "/root"));  // refused before touching anything
}

TEST_CASE("agent with nothing released says why once, and --once exits 1 with nothing to serve") {
  Fleet f;
  auto once = [&](const std::string& model) {
    return Run({MODELREG_AGENT_BIN, "--registry", f.server->url(), "--token", f.agent_token, "--model", model, "--root",
                f.t / ("root-" + model), "--trust-key", f.t / "key.pem", "--once"});
  };
  auto typo = once("chrun");  // no such model
  CHECK(typo.exit_code == 1);
  CHECK(typo.err.find("nothing to serve yet") != std::string::npos);
  CHECK(typo.err.find("model 'chrun' not found") != std::string::npos);
  f.Register("v1");
  auto unreleased = once("churn");  // a model with no production version
  CHECK(unreleased.exit_code == 1);
  CHECK(unreleased.err.find("model 'churn' has no version in production") != std::string::npos);
  // A following agent logs it once, not at every poll, and then follows.
  auto agent = f.StartAgent();
  REQUIRE(f.WaitFor(
      [&] { return fs::exists(f.t / "agent.log") && f.Log().find("nothing to serve yet") != std::string::npos; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // two more polls (--interval 1)
  const std::string log = f.Log();
  CHECK(log.find("nothing to serve yet") == log.rfind("nothing to serve yet"));
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Release(1);
  CHECK(f.WaitFor([&] { return f.CurrentTag() == "v1"; }));
  CHECK(once("churn").exit_code == 0);
  // --stage takes the two stages that have releases.
  auto bogus = Run({MODELREG_AGENT_BIN, "--registry", f.server->url(), "--token", f.agent_token, "--model", "churn",
                    "--stage", "prod", "--root", f.t / "root-x", "--trust-key", f.t / "key.pem", "--once"});
  CHECK(bogus.exit_code == 2);
  CHECK(bogus.err.find("--stage is production or staging, not 'prod'") != std::string::npos);
  CHECK_FALSE(fs::exists(f.t / "root-x"));
}
