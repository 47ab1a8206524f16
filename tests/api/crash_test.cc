// Crashes and restarts: kill -9 of the server or the client mid-upload.
#include <SQLiteCpp/SQLiteCpp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "api/api_util.h"
#include "support/ports.h"

using namespace modelreg;
using namespace modelreg::testing;
namespace fs = std::filesystem;

namespace {

uint64_t UploadBytesOnDisk(const std::string& data_dir) {
  uint64_t n = 0;
  for (const auto& e : fs::directory_iterator(data_dir + "/uploads"))
    if (e.is_regular_file()) n += e.file_size();
  return n;
}

void WaitForUploadBytes(const std::string& data_dir, uint64_t at_least, Process& client) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (UploadBytesOnDisk(data_dir) < at_least) {
    REQUIRE(client.running());
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// A client that keeps its connection between requests, as an agent does.
std::unique_ptr<httplib::Client> KeepAliveClient(const ServerProcess& server) {
  auto c = std::make_unique<httplib::Client>(server.url());
  c->set_keep_alive(true);
  c->set_bearer_token_auth(server.admin_token());
  c->set_read_timeout(120, 0);
  return c;
}

// Registers model m version 1 and releases it to production.
void ReleaseFirstVersion(const ServerProcess& server, const TempDir& t) {
  auto env = server.Env(server.admin_token());
  WriteFile(t / "b/f.txt", "x");
  REQUIRE(Modelreg({"register", "m", t / "b"}, env).exit_code == 0);
  REQUIRE(Modelreg({"policy", "set", "m", "--approvals", "0"}, env).exit_code == 0);
  REQUIRE(Modelreg({"promote", "m", "1", "--to", "staging"}, env).exit_code == 0);
  REQUIRE(Modelreg({"promote", "m", "1", "--to", "production"}, env).exit_code == 0);
}

}  // namespace

TEST_CASE("kill -9 of the server during a 200 MB upload: nothing visible, db intact, upload resumes", "[sqlite]") {
  TempDir t;
  const uint64_t size = 200ull << 20;
  WriteRandomFile(t / "b/weights.bin", size, 7);
  const Digest digest = HashFile(t / "b/weights.bin")->digest;
  int port = FixedLoopbackPort(PortBand::kCrashRegistry);
  std::string data = t / "data";
  auto server =
      std::make_unique<ServerProcess>(data, std::vector<std::string>{"--listen", "127.0.0.1:" + std::to_string(port)});
  Process client({MODELREG_BIN, "register", "big", t / "b", "--json"}, t / "client.log",
                 {{"MODELREG_URL", server->url()},
                  {"MODELREG_TOKEN", server->admin_token()},
                  {"MODELREG_CACHE_DIR", t / "cache"}});
  WaitForUploadBytes(data, 40ull << 20, client);
  server->Kill();
  uint64_t kept = UploadBytesOnDisk(data);
  INFO("bytes kept on disk after kill: " << kept);
  CHECK(kept > 0);
  CHECK(kept < size);
  // No blob became visible, and the database is sound.
  CHECK_FALSE(fs::exists(data + "/blobs/sha256/" + digest.shard() + "/" + digest.hex()));
  {
    SQLite::Database db(data + "/registry.db", SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
    CHECK(db.execAndGet("SELECT COUNT(*) FROM versions").getInt() == 0);
  }
  // Restart on the same port; the client is retrying with backoff.
  server->Start();
  int rc = client.Wait(120);
  INFO(ReadFile(t / "client.log"));
  REQUIRE(rc == 0);
  Http h(server->url(), server->admin_token());
  uint64_t after_restart = MetricValue(h, "modelreg_blob_bytes_received_total");
  INFO("bytes received after restart: " << after_restart);
  CHECK(after_restart <= size - kept + (1 << 20));
  auto c = Client(*server, server->admin_token());
  auto pulled = c->Pull("big", "1", t / "pulled");
  REQUIRE(pulled.ok());
  std::string why;
  CHECK(SameTree(t / "b", t / "pulled", &why));
}

TEST_CASE("kill -9 of the server mid-pull: the pull resumes with Range and is byte-identical") {
  TempDir t;
  const uint64_t size = 300ull << 20;
  WriteRandomFile(t / "b/weights.bin", size, 11);
  int port = FixedLoopbackPort(PortBand::kCrashRegistry);
  std::string data = t / "data";
  auto server =
      std::make_unique<ServerProcess>(data, std::vector<std::string>{"--listen", "127.0.0.1:" + std::to_string(port)});
  {
    auto c = Client(*server, server->admin_token());
    REQUIRE(c->Register("big", t / "b", Lineage("big")).ok());
  }
  Http h(server->url(), server->admin_token());
  const uint64_t sent_before = MetricValue(h, "modelreg_blob_bytes_sent_total");
  Process client({MODELREG_BIN, "pull", "big", "1", t / "pulled"}, t / "client.log",
                 {{"MODELREG_URL", server->url()}, {"MODELREG_TOKEN", server->admin_token()}});
  // Kill the server once part of the blob went out (large bodies are read
  // straight from the socket by the client: this is its cut-off path).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (MetricValue(h, "modelreg_blob_bytes_sent_total") < sent_before + (40ull << 20)) {
    REQUIRE(client.running());
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  server->Kill();
  CHECK_FALSE(fs::exists(t / "pulled"));  // nothing half-written under DEST
  server->Start();
  int rc = client.Wait(120);
  INFO(ReadFile(t / "client.log"));
  REQUIRE(rc == 0);
  std::string why;
  CHECK(SameTree(t / "b", t / "pulled", &why));
  Http after(server->url(), server->admin_token());
  INFO("bytes sent after the restart: " << MetricValue(after, "modelreg_blob_bytes_sent_total"));
  CHECK(MetricValue(after, "modelreg_blob_bytes_sent_total") < size);  // resumed with Range, not from the start
}

TEST_CASE("kill -9 of the client mid-upload: the next register resumes the session") {
  TempDir t;
  const uint64_t size = 200ull << 20;
  WriteRandomFile(t / "b/weights.bin", size, 8);
  ServerProcess server;
  std::map<std::string, std::string> env = {
      {"MODELREG_URL", server.url()}, {"MODELREG_TOKEN", server.admin_token()}, {"MODELREG_CACHE_DIR", t / "cache"}};
  {
    Process client({MODELREG_BIN, "register", "big", t / "b"}, t / "client1.log", env);
    WaitForUploadBytes(server.data_dir(), 60ull << 20, client);
    client.Signal(SIGKILL);
    client.Wait(10);
  }
  Http h(server.url(), server.admin_token());
  // Wait until the server has flushed what it received from the dead client.
  uint64_t received = 0;
  for (int i = 0; i < 100; ++i) {
    received = MetricValue(h, "modelreg_blob_bytes_received_total");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (received == MetricValue(h, "modelreg_blob_bytes_received_total")) break;
  }
  uint64_t kept = UploadBytesOnDisk(server.data_dir());
  CHECK(kept >= (60ull << 20));
  auto r = Modelreg({"register", "big", t / "b", "--json"}, env);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  uint64_t total = MetricValue(h, "modelreg_blob_bytes_received_total");
  INFO("received before: " << received << " total: " << total << " kept: " << kept);
  // The second run sent only what was missing.
  CHECK(total - received <= size - kept + (1 << 20));
  CHECK(UploadBytesOnDisk(server.data_dir()) == 0);
}

TEST_CASE("SIGTERM stops cleanly, one server per data dir, newer database refused", "[sqlite]") {
  TempDir t;
  std::string data = t / "data";
  auto server = std::make_unique<ServerProcess>(data);
  auto second = Modelreg({"serve", "--data", data, "--listen", "127.0.0.1:0"});
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("another modelreg serve") != std::string::npos);
  CHECK(server->Stop() == 0);
  CHECK_FALSE(fs::exists(data + "/serve.url"));
  {
    SQLite::Database db(data + "/registry.db", SQLite::OPEN_READWRITE);
    db.exec("UPDATE schema_version SET version = 999");
  }
  auto newer = Modelreg({"serve", "--data", data, "--listen", "127.0.0.1:0"});
  CHECK(newer.exit_code == 1);
  CHECK(newer.err.find("newer") != std::string::npos);
}

TEST_CASE("SIGTERM answers a long poll and closes idle keep-alive connections at once") {
  TempDir t;
  ServerProcess server;
  ReleaseFirstVersion(server, t);
  auto client = [&] { return KeepAliveClient(server); };
  // A client that made a request and keeps its connection open.
  auto idle = client();
  REQUIRE(idle->Get("/api/v1/models")->status == 200);
  // An agent's long poll for a change of release, on a connection already
  // accepted (the first request), waiting up to 60 s.
  auto poller = client();
  auto first = poller->Get("/api/v1/models/m/release");
  REQUIRE(first->status == 200);
  const std::string etag = first->get_header_value("ETag");
  int polled = 0;
  std::thread poll([&] {
    auto r = poller->Get("/api/v1/models/m/release?wait=60", {{"If-None-Match", etag}});
    polled = r ? r->status : -1;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto t0 = std::chrono::steady_clock::now();
  // Before, httplib waited out the keep-alive (30 s) and the poll its 60 s.
  const int rc = server.Stop();
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  poll.join();
  CHECK(rc == 0);
  CHECK(took < 10);
  CHECK(polled == 304);  // unchanged: the agent keeps its version and polls again
}

TEST_CASE("clients idle in keep-alive on every worker do not lock others out, nor do long polls") {
  TempDir t;
  ServerProcess server("", {"--threads", "4", "--max-long-polls", "7"});
  auto env = server.Env(server.admin_token());
  auto client = [&] { return KeepAliveClient(server); };
  auto timed = [&](const std::vector<std::string>& args) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = Modelreg(args, env);
    CHECK(r.exit_code == 0);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  // Four clients that made a request each, one after the other, and keep
  // their connection. Idle connections wait in the server's reactor, not on
  // a worker: another client is served at once (with cpp-httplib's server,
  // after the 30 s keep-alive timeout), and the four stay open.
  {
    std::vector<int> raw;
    for (int i = 0; i < 4; ++i) {
      raw.push_back(ConnectLoopback(PortOf(server.url())));
      const std::string get = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
      REQUIRE(send(raw.back(), get.data(), get.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(get.size()));
      char buf[512];
      REQUIRE(recv(raw.back(), buf, sizeof buf, 0) > 0);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      while (recv(raw.back(), buf, sizeof buf, MSG_DONTWAIT) > 0) {  // the rest of the answer
      }
    }
    CHECK(timed({"models"}) < 5);
    char c;
    for (int i = 0; i < 4; ++i) {
      CHECK(recv(raw[i], &c, 1, MSG_DONTWAIT) == -1);  // still open, nothing to read
      CHECK(errno == EAGAIN);
    }
    for (int fd : raw) close(fd);
  }
  // The same with HTTP clients: the four are served again, on new
  // connections where theirs was closed.
  std::vector<std::unique_ptr<httplib::Client>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(client());
    REQUIRE(idle.back()->Get("/api/v1/models")->status == 200);
  }
  CHECK(timed({"models"}) < 5);
  for (auto& c : idle) {
    auto r = c->Get("/api/v1/models");
    REQUIRE(r);
    CHECK(r->status == 200);
  }
  // Long polls hold no worker (they wait parked in the reactor): eight
  // agents wait for a change of release on four workers and other requests
  // still get through; past --max-long-polls (7) the eighth is answered at
  // once.
  ReleaseFirstVersion(server, t);
  const std::string etag = idle[0]->Get("/api/v1/models/m/release")->get_header_value("ETag");
  for (int i = 0; i < 4; ++i) idle.push_back(client());
  std::atomic<int> answered{0}, changed{0};
  std::mutex mu;
  std::set<std::string> envelopes;  // the new release as each woken poll got it
  std::vector<std::thread> polls;
  for (int i = 0; i < 8; ++i)
    polls.emplace_back([&, i] {
      auto r = idle[i]->Get("/api/v1/models/m/release?wait=30", {{"If-None-Match", etag}});
      if (r && r->status == 304) ++answered;
      if (r && r->status == 200) {
        ++changed;
        std::lock_guard<std::mutex> l(mu);
        envelopes.insert(r->body);
      }
    });
  const auto answered_by = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (answered == 0 && std::chrono::steady_clock::now() < answered_by)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(answered == 1);
  CHECK(timed({"models"}) < 5);
  // A promotion wakes the seven that wait.
  WriteFile(t / "b/f.txt", "y");
  REQUIRE(Modelreg({"register", "m", t / "b"}, env).exit_code == 0);
  REQUIRE(Modelreg({"promote", "m", "2", "--to", "staging"}, env).exit_code == 0);
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(Modelreg({"promote", "m", "2", "--to", "production"}, env).exit_code == 0);
  for (auto& p : polls) p.join();
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 5);
  CHECK(answered == 1);
  CHECK(changed == 7);           // the others got the new release,
  CHECK(envelopes.size() == 1);  // signed once for all (the same issued_at and signature)
}

TEST_CASE("connections that send nothing hold no worker and are closed after the head timeout") {
  ServerProcess server("", {"--threads", "4"});
  std::vector<int> silent;
  for (int i = 0; i < 8; ++i) silent.push_back(ConnectLoopback(PortOf(server.url())));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto t0 = std::chrono::steady_clock::now();
  auto r = Modelreg({"models"}, server.Env(server.admin_token()));
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(r.exit_code == 0);
  CHECK(took < 4);  // cpp-httplib's server: a worker each, 5 s of grace before another was served
  // Closed, without an answer, when the head timeout (10 s) passes.
  for (int fd : silent) {
    pollfd p{fd, POLLIN, 0};
    REQUIRE(poll(&p, 1, 30000) == 1);
    char c;
    CHECK(recv(fd, &c, 1, 0) == 0);
    close(fd);
  }
}

TEST_CASE("operational endpoints: request ids, readyz, metrics, JSON logs, 404 shape") {
  ServerProcess server;
  Http h(server.url(), server.admin_token());
  auto r = h.Get("/readyz", {{"X-Request-Id", "trace-abc-123"}});
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("X-Request-Id") == "trace-abc-123");
  auto gen = h.Get("/api/v1/models");
  CHECK(gen->get_header_value("X-Request-Id").size() == 36);  // a UUIDv7 (core/request_id.h)
  auto nf = h.Get("/api/v1/nothing-here");
  REQUIRE(nf);
  CHECK(nf->status == 404);
  CHECK(ErrorCode(nf) == "NOT_FOUND");
  // Requests the HTTP layer refuses before any route runs get the same JSON
  // error shape, with a fitting code.
  auto long_uri = h.Get("/api/v1/models/" + std::string(10000, 'a'));
  REQUIRE(long_uri);
  CHECK(long_uri->status == 414);
  CHECK(ErrorCode(long_uri) == "INVALID_ARGUMENT");
  CHECK(long_uri->body.find("request line longer than") != std::string::npos);
  // Metrics and the access log are written just after each response is
  // sent, so poll briefly.
  std::string metrics, log;
  for (int i = 0; i < 100; ++i) {
    metrics = h.Get("/metrics")->body;
    log = server.log();
    if (metrics.find("route=\"readyz\"") != std::string::npos && log.find("trace-abc-123") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(metrics.find("modelreg_http_requests_total{route=\"readyz\",method=\"GET\",status=\"200\"} 1") !=
        std::string::npos);
  CHECK(metrics.find("modelreg_http_request_duration_seconds_bucket") != std::string::npos);
  CHECK(log.find("\"request_id\":\"trace-abc-123\"") != std::string::npos);
  for (size_t pos = 0, next; (next = log.find('\n', pos)) != std::string::npos; pos = next + 1) {
    auto line = nlohmann::json::parse(log.substr(pos, next - pos), nullptr, false);
    CHECK_FALSE(line.is_discarded());
    // One time format in every line, the access log's and the server's own: ISO 8601.
    if (!line.is_discarded()) CHECK(line["ts"].is_string());
  }
}
