// Several `modelreg serve` replicas on one PostgreSQL database (docs/
// operations.md "Replicas"): promotions racing on different replicas, one
// audit chain, monotonic release seqs, revocations and promotions seen by
// every replica. Runs in the PostgreSQL run only ([postgres]).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "api/api_util.h"
#include "support/oci_registry.h"
#include "support/pg_test_db.h"

namespace modelreg::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Replicas {
  TempDir t;
  std::string db, key;
  std::vector<std::unique_ptr<ServerProcess>> servers;
  std::string admin;

  explicit Replicas(int n) {
    REQUIRE(TestPostgresCluster());
    db = NewTestDatabase();
    key = t / "release.key";
    REQUIRE(Run({"openssl", "genpkey", "-algorithm", "ed25519", "-out", key}).exit_code == 0);
    for (int i = 0; i < n; ++i)
      servers.push_back(std::make_unique<ServerProcess>(t / ("r" + std::to_string(i)),
                                                        std::vector<std::string>{"--db", db, "--release-key", key}));
    // The first replica on the empty database created the admin token;
    // the others found tokens and created none.
    admin = servers[0]->admin_token();
    REQUIRE(!admin.empty());
    for (int i = 1; i < n; ++i) CHECK(servers[i]->admin_token().empty());
  }
  ServerProcess& operator[](int i) { return *servers[i]; }
  std::string Token(int via, const std::string& name, const std::string& role) {
    auto r = Http(servers[via]->url(), admin).Post("/api/v1/tokens", json{{"name", name}, {"role", role}}.dump());
    REQUIRE(r);
    REQUIRE(r->status == 201);
    return json::parse(r->body)["token"].get<std::string>();
  }
  int64_t Register(int via, const std::string& trainer, const std::string& model, int n) {
    std::string dir = t / ("b" + std::to_string(n));
    WriteFile(dir + "/m.bin", "model " + std::to_string(n));
    LineageRecord l;
    l.model = model;
    l.metrics = {{"auc", 0.9}};
    auto r = Client(*servers[via], trainer)->Register(model, dir, l);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return r->version["version"].get<int64_t>();
  }
};

int64_t SeqOf(const httplib::Result& r) {
  if (!r || r->status != 200) return -1;
  return json::parse(r->body).value("seq", int64_t{-1});
}

TEST_CASE("replicas: promotions racing on two replicas keep one production, one audit chain, monotonic seqs",
          "[postgres]") {
  Replicas reg(3);
  const std::string trainer = reg.Token(0, "trainer", "trainer");
  const std::string alice = reg.Token(1, "alice", "approver");
  const std::string bob = reg.Token(2, "bob", "approver");
  const int64_t va = reg.Register(0, trainer, "churn", 1);
  const int64_t vb = reg.Register(1, trainer, "churn", 2);
  REQUIRE(Http(reg[0].url(), reg.admin)
              .Put("/api/v1/models/churn/policy", json{{"approvals", 1}}.dump(), "application/json")
              ->status == 200);
  for (int64_t v : {va, vb})
    REQUIRE(Http(reg[1].url(), alice)
                .Post("/api/v1/models/churn/versions/" + std::to_string(v) + "/approvals", "{}")
                ->status == 201);

  constexpr int kRounds = 60;
  auto worker = [&](int replica, int64_t v) -> int {
    Http h(reg[replica].url(), bob);
    return PromoteRepeatedly(h, v, kRounds);
  };
  pid_t kids[2];
  const int64_t versions[2] = {va, vb};
  for (int i = 0; i < 2; ++i) {
    kids[i] = fork();
    if (kids[i] == 0) _exit(worker(i, versions[i]));  // replica 0 and replica 1
  }
  // Meanwhile the third replica's release seq never goes back, and it
  // never shows two production versions.
  Http watch(reg[2].url(), reg.admin);
  int64_t last_seq = 0;
  size_t observations = 0, backwards = 0, two_production = 0;
  int status[2] = {-1, -1}, finished = 0;
  while (finished < 2) {
    const int64_t seq = SeqOf(watch.Get("/api/v1/models/churn/release"));
    if (seq >= 0) {
      if (seq < last_seq) ++backwards;
      last_seq = std::max(last_seq, seq);
    }
    auto vs = watch.Get("/api/v1/models/churn/versions");
    if (vs && vs->status == 200) {
      auto j = json::parse(vs->body);
      const auto& list = j.is_array() ? j : j["versions"];
      int prod = 0;
      for (const auto& v : list) prod += v.value("stage", "") == "production";
      if (prod > 1) ++two_production;
      ++observations;
    }
    for (int i = 0; i < 2; ++i)
      if (status[i] == -1 && waitpid(kids[i], &status[i], WNOHANG) == kids[i]) ++finished;
  }
  for (int i = 0; i < 2; ++i) CHECK((WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 0));
  INFO("observations: " << observations);
  CHECK(observations > 0);
  CHECK(backwards == 0);
  CHECK(two_production == 0);

  // Every replica verifies the same chain, with every promotion in it.
  std::string head;
  for (int i = 0; i < 3; ++i) {
    auto verify = json::parse(Http(reg[i].url(), reg.admin).Get("/api/v1/audit/verify")->body);
    INFO(verify.dump());
    CHECK(verify["ok"] == true);
    if (i == 0) head = verify.value("head", verify.value("head_hash", ""));
    else CHECK(verify.value("head", verify.value("head_hash", "")) == head);
  }
  int64_t after = 0, promotions = 0;
  for (;;) {
    auto page = json::parse(Http(reg[2].url(), reg.admin)
                                .Get("/api/v1/audit/events?model=churn&limit=1000&after_seq=" + std::to_string(after))
                                ->body);
    for (const auto& e : page["events"])
      if (e["action"] == "promote" && e["details"]["to"] == "production") ++promotions;
    if (!page.contains("next_after_seq")) break;
    after = page["next_after_seq"];
  }
  CHECK(promotions == 2 * kRounds);
  // All replicas sign with the one key.
  const std::string k0 = Http(reg[0].url(), reg.admin).Get("/api/v1/keys")->body;
  CHECK(Http(reg[2].url(), reg.admin).Get("/api/v1/keys")->body == k0);
}

TEST_CASE("replicas: a token revoked through one replica is refused by another within 1 s", "[postgres]") {
  Replicas reg(2);
  const std::string tok = reg.Token(0, "ci", "auditor");
  Http on_b(reg[1].url(), tok);
  REQUIRE(on_b.Get("/api/v1/models")->status == 200);  // known (and cached) on B
  // From the revocation's answer (committed) to B refusing the token.
  REQUIRE(Http(reg[0].url(), reg.admin).Delete("/api/v1/tokens/ci")->status / 100 == 2);
  const auto t0 = Clock::now();
  int status = 200;
  while (Clock::now() - t0 < std::chrono::seconds(5)) {
    status = on_b.Get("/api/v1/models")->status;
    if (status == 401) break;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  INFO("refused after " << ms << " ms");
  CHECK(status == 401);
  CHECK(ms <= 1000);
}

TEST_CASE("replicas: a long poll on one replica learns of a promotion made on another at once", "[postgres]") {
  Replicas reg(2);
  const std::string trainer = reg.Token(0, "trainer", "trainer");
  const std::string agent = reg.Token(0, "fleet", "agent");
  std::vector<int64_t> vs;
  for (int i = 1; i <= 2; ++i) vs.push_back(reg.Register(0, trainer, "churn", i));
  Http admin(reg[0].url(), reg.admin);
  REQUIRE(admin.Put("/api/v1/models/churn/policy", json{{"approvals", 0}}.dump(), "application/json")->status == 200);
  auto promote = [&](int64_t v) {
    const std::string base = "/api/v1/models/churn/versions/" + std::to_string(v) + "/stage";
    admin.Post(base, R"({"to":"staging"})");
    auto r = admin.Post(base, R"({"to":"production"})");
    REQUIRE(r);
    REQUIRE(r->status == 200);
  };
  promote(vs[0]);
  std::vector<int64_t> delays;
  for (int round = 0; round < 10; ++round) {
    Http poll(reg[1].url(), agent);
    auto cur = poll.Get("/api/v1/models/churn/release");
    REQUIRE(cur->status == 200);
    const std::string etag = cur->get_header_value("ETag");
    Clock::time_point promoted{}, answered{};
    std::thread waiter([&] {
      auto r = poll.Get("/api/v1/models/churn/release?wait=30", {{"If-None-Match", etag}});
      answered = Clock::now();
      CHECK(r);
      if (r) CHECK(r->status == 200);
    });
    // Give the poll time to be parked: a poll that arrives after the
    // promotion answers at once, which only makes the delay smaller.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    promote(vs[(round + 1) % 2]);
    promoted = Clock::now();
    waiter.join();
    delays.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(answered - promoted).count());
  }
  std::sort(delays.begin(), delays.end());
  const int64_t p50 = delays[delays.size() / 2];
  INFO("promotion on A to long poll answered on B, p50 " << p50 << " ms, max " << delays.back() << " ms");
  // Notified, not polled: the fallback re-reads every second, so a p50
  // far below it shows the notification arrived (bench/ measures the
  // figure itself; a loaded machine must not fail this test).
  CHECK(p50 < 500);
}

}  // namespace
}  // namespace modelreg::testing

namespace modelreg::testing {
namespace {

// A cluster of the test's own, to stop and start under a running server.
struct OwnCluster {
  TempDir t;
  std::string dir = t / "pg";
  std::string url;
  OwnCluster() {
    // The server may run as `nobody` (pg_cluster.sh): it must reach DIR.
    std::filesystem::permissions(t.path(), std::filesystem::perms::owner_all | std::filesystem::perms::group_exec |
                                               std::filesystem::perms::others_exec);
    auto r = Run({MODELREG_SOURCE_DIR "/scripts/pg_cluster.sh", "start", dir});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    url = ReadFile(dir + "/url");
    while (!url.empty() && url.back() == '\n') url.pop_back();
  }
  ~OwnCluster() { Run({MODELREG_SOURCE_DIR "/scripts/pg_cluster.sh", "stop", dir}); }
  void Halt() { REQUIRE(Run({MODELREG_SOURCE_DIR "/scripts/pg_cluster.sh", "halt", dir}).exit_code == 0); }
  void Resume() { REQUIRE(Run({MODELREG_SOURCE_DIR "/scripts/pg_cluster.sh", "resume", dir}).exit_code == 0); }
};

TEST_CASE("PostgreSQL down: 503 with Retry-After, readyz fails, and the replica reconnects by itself", "[postgres]") {
  OwnCluster pg;
  TempDir t;
  ServerProcess server(t / "data", {"--db", pg.url});
  Http h(server.url(), server.admin_token());
  REQUIRE(h.Get("/api/v1/models")->status == 200);
  REQUIRE(h.Get("/readyz")->status == 200);

  pg.Halt();
  // Cached credentials live at most 1 s; after that every request needs
  // the database.
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  auto r = h.Get("/api/v1/models");
  while (r && r->status == 200 && Clock::now() < deadline) r = h.Get("/api/v1/models");
  REQUIRE(r);
  CHECK(r->status == 503);
  CHECK(r->has_header("Retry-After"));
  CHECK(json::parse(r->body)["error"]["message"].get<std::string>().find("PostgreSQL") != std::string::npos);
  CHECK(h.Get("/readyz")->status == 503);
  // Without a token (a probe): 503 naming nothing; the log has the cause.
  auto probe = Http(server.url(), "").Get("/readyz");
  REQUIRE(probe);
  CHECK(probe->status == 503);
  CHECK(probe->body == R"({"status":"not ready"})");
  CHECK(probe->has_header("Retry-After"));
  CHECK(server.log().find("\"note\":\"") != std::string::npos);
  CHECK(h.Post("/api/v1/tokens", json{{"name", "x"}, {"role", "auditor"}}.dump())->status == 503);

  pg.Resume();
  int status = 0;
  const auto back = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < back) {
    status = h.Get("/api/v1/models")->status;
    if (status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(status == 200);
  CHECK(h.Get("/readyz")->status == 200);
  // Writes too, on new connections, without a restart.
  CHECK(h.Post("/api/v1/tokens", json{{"name", "after"}, {"role", "auditor"}}.dump())->status == 201);
}

TEST_CASE("a replica given another release key than the database's is refused", "[postgres]") {
  Replicas reg(1);
  TempDir t;
  const std::string other = t / "other.key";
  REQUIRE(Run({"openssl", "genpkey", "-algorithm", "ed25519", "-out", other}).exit_code == 0);
  auto r = Modelreg({"serve", "--data", t / "r", "--listen", "127.0.0.1:0", "--db", reg.db, "--release-key", other});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("give every replica the same --release-key") != std::string::npos);
  // A password in the URL is refused before anything is tried.
  auto pw = Modelreg(
      {"serve", "--data", t / "p", "--listen", "127.0.0.1:0", "--db", "postgresql://modelreg:secret@127.0.0.1:1/x"});
  CHECK(pw.exit_code != 0);
  CHECK(pw.err.find("holds a password") != std::string::npos);
  CHECK((pw.out + pw.err).find("secret") == std::string::npos);
}

TEST_CASE("admin migrate: a single-node registry into PostgreSQL and an OCI registry, chain unchanged, re-runnable",
          "[postgres]") {
  REQUIRE(OciRegistry::Available());
  const std::string target_db = NewTestDatabase();
  OciRegistry oci;
  TempDir t;
  const std::string src_dir = t / "src";
  // The source is a plain single-node registry: SQLite, local blobs.
  const std::string pg_env = std::getenv("MODELREG_TEST_PG_URL_FILE");
  ::unsetenv("MODELREG_TEST_PG_URL_FILE");
  auto src = std::make_unique<ServerProcess>(src_dir);
  ::setenv("MODELREG_TEST_PG_URL_FILE", pg_env.c_str(), 1);
  REQUIRE_FALSE(std::filesystem::exists(src_dir + "/replica.json"));
  const std::string trainer = src->CreateToken("trainer", "trainer");
  const std::string alice = src->CreateToken("alice", "approver");
  const std::string agent = src->CreateToken("fleet", "agent");
  std::vector<std::string> payloads;
  for (int i = 1; i <= 2; ++i) {
    std::string dir = t / ("b" + std::to_string(i));
    payloads.push_back(std::string(3 << 20, static_cast<char>('a' + i)) + std::to_string(i));
    WriteFile(dir + "/model.bin", payloads.back());
    WriteFile(dir + "/small.txt", "small " + std::to_string(i));
    LineageRecord l;
    l.model = "churn";
    l.metrics = {{"auc", 0.9}};
    REQUIRE(Client(*src, trainer)->Register("churn", dir, l).ok());
  }
  Http admin(src->url(), src->admin_token());
  REQUIRE(Http(src->url(), alice).Post("/api/v1/models/churn/versions/2/approvals", "{}")->status == 201);
  REQUIRE(admin.Post("/api/v1/models/churn/versions/2/stage", R"({"to":"staging"})")->status == 200);
  REQUIRE(admin.Post("/api/v1/models/churn/versions/2/stage", R"({"to":"production"})")->status == 200);
  json batch = {{"decisions", json::array()}};
  const std::string digest2 = json::parse(admin.Get("/api/v1/models/churn/versions/2")->body)["digest"];
  for (int i = 0; i < 10; ++i)
    batch["decisions"].push_back({{"request_id", "req-" + std::to_string(i)},
                                  {"model", "churn"},
                                  {"version", 2},
                                  {"digest", digest2},
                                  {"agent_id", "web-1"},
                                  {"at_ms", 1790000000000},
                                  {"input_sha256", Digest::Of("in" + std::to_string(i)).hex()}});
  REQUIRE(Http(src->url(), agent).Post("/api/v1/decisions", batch.dump())->status / 100 == 2);
  const json before = json::parse(admin.Get("/api/v1/audit/verify")->body);
  REQUIRE(before["ok"] == true);
  REQUIRE(src->Stop() == 0);

  auto migrate = [&] {
    return Modelreg(
        {"admin", "migrate", "--from-data", src_dir, "--db", target_db, "--blobs", oci.blobs_url(), "--json"});
  };
  auto first = migrate();
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  const json r1 = json::parse(first.out);
  CHECK(r1["blobs_copied"].get<int>() >= 6);  // 2 x (2 files, config, manifest)
  CHECK(r1["rows_added"]["decisions"] == 10);
  // Run again (as after an interruption): nothing left to copy, nothing doubled.
  auto second = migrate();
  INFO(second.err);
  REQUIRE(second.exit_code == 0);
  const json r2 = json::parse(second.out);
  CHECK(r2["blobs_copied"] == 0);
  for (const auto& [table, n] : r2["rows_added"].items()) {
    INFO(table);
    CHECK(n == 0);
  }

  // A replica on the target answers as the source did, signing with its key.
  ServerProcess replica(
      t / "replica", {"--db", target_db, "--release-key", src_dir + "/keys/release.key", "--blobs", oci.blobs_url()});
  CHECK(replica.admin_token().empty());  // the tokens came along
  Http radmin(replica.url(), src->admin_token());
  const json after = json::parse(radmin.Get("/api/v1/audit/verify")->body);
  CHECK(after["ok"] == true);
  CHECK(after.dump() == before.dump());
  CHECK(json::parse(radmin.Get("/api/v1/models/churn/versions/production")->body)["version"] == 2);
  CHECK(radmin.Get("/api/v1/decisions/req-3")->status == 200);
  const std::string pulled = t / "pulled";
  REQUIRE(Client(replica, src->admin_token())->Pull("churn", "1", pulled).ok());
  CHECK(ReadFile(pulled + "/model.bin") == payloads[0]);
  // fsck on the target: every blob fetched from the OCI registry and hashed.
  auto fsck = Modelreg({"admin", "fsck", "--data", t / "replica", "--blobs", oci.blobs_url()});
  INFO(fsck.out << fsck.err);
  CHECK(fsck.exit_code == 0);
  // New rows get ids past the copied ones.
  CHECK(radmin.Post("/api/v1/tokens", json{{"name", "after"}, {"role", "auditor"}}.dump())->status == 201);
}

TEST_CASE("replicas: one upload's chunks go through three replicas on one OCI registry, and it is finished on one",
          "[postgres]") {
  REQUIRE(OciRegistry::Available());
  REQUIRE(TestPostgresCluster());
  OciRegistry oci;
  TempDir t;
  const std::string db = NewTestDatabase();
  const std::string key = t / "release.key";
  REQUIRE(Run({"openssl", "genpkey", "-algorithm", "ed25519", "-out", key}).exit_code == 0);
  std::vector<std::unique_ptr<ServerProcess>> r;
  for (int i = 0; i < 3; ++i)
    r.push_back(std::make_unique<ServerProcess>(
        t / ("r" + std::to_string(i)),
        std::vector<std::string>{"--db", db, "--release-key", key, "--blobs", oci.blobs_url()}));
  const std::string admin = r[0]->admin_token();
  auto tok = Http(r[0]->url(), admin).Post("/api/v1/tokens", json{{"name", "tr"}, {"role", "trainer"}}.dump());
  REQUIRE(tok);
  REQUIRE(tok->status == 201);
  const std::string trainer = json::parse(tok->body)["token"];
  std::vector<Http> via;
  for (auto& s : r) via.emplace_back(s->url(), trainer);

  std::string bytes(3 * 1024 * 1024 + 11, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 131) ^ (i >> 9));
  const size_t a = 1024 * 1024 + 5, b = 2 * 1024 * 1024 + 7;
  auto open = via[0].Post("/api/v1/blobs/uploads", "", "application/octet-stream");
  REQUIRE(open);
  INFO(open->body);
  REQUIRE(open->status / 100 == 2);
  const std::string path = "/api/v1/blobs/uploads/" + json::parse(open->body)["upload"].get<std::string>();
  auto range = [](size_t from, size_t to) {
    return httplib::Headers{{"Content-Range", std::to_string(from) + "-" + std::to_string(to - 1)}};
  };
  auto p0 = via[0].Patch(path, bytes.substr(0, a), range(0, a));
  REQUIRE(p0);
  CHECK(p0->status == 202);
  // Another replica knows where the session is, refuses a wrong offset, and takes the next chunk.
  auto s1 = via[1].Get(path);
  REQUIRE(s1);
  CHECK(s1->status == 204);
  CHECK(s1->get_header_value("Upload-Offset") == std::to_string(a));
  auto wrong = via[1].Patch(path, bytes.substr(0, 10), range(0, 10));
  REQUIRE(wrong);
  CHECK(wrong->status == 416);
  auto p1 = via[1].Patch(path, bytes.substr(a, b - a), range(a, b));
  REQUIRE(p1);
  CHECK(p1->status == 202);
  // The third takes the last bytes with the digest and finishes it (reading it
  // back from the registry and hashing it: it saw only part of the bytes).
  const std::string digest = Digest::Of(bytes).str();
  auto done =
      via[2].Put(path + "?digest=" + digest, bytes.substr(b), "application/octet-stream", range(b, bytes.size()));
  REQUIRE(done);
  INFO(done->body);
  CHECK(done->status == 201);
  CHECK(done->get_header_value("Docker-Content-Digest") == digest);
  auto got = via[0].Get("/api/v1/blobs/" + digest);
  REQUIRE(got);
  CHECK(got->status == 200);
  CHECK(got->body == bytes);
  CHECK(via[1].Get(path)->status == 404);  // the session is over on every replica
}

}  // namespace
}  // namespace modelreg::testing
