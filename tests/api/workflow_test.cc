// The approval workflow (docs/api.md) over real HTTP.
#include <SQLiteCpp/SQLiteCpp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "api/api_util.h"

using namespace modelreg;
using namespace modelreg::testing;
using nlohmann::json;

namespace {

struct Registry {
  ServerProcess server;
  TempDir t;
  std::string admin, trainer, alice, bob, carol;
  Registry() {
    admin = server.admin_token();
    trainer = server.CreateToken("trainer", "trainer");
    alice = server.CreateToken("alice", "approver");
    bob = server.CreateToken("bob", "approver");
    carol = server.CreateToken("carol", "approver");
  }
  // Registers version N of `model` (by the trainer) with the given metrics.
  int64_t Register(const std::string& model, const std::map<std::string, double>& metrics, bool dirty_code = false,
                   bool digests = true) {
    static int n = 0;
    std::string dir = t / ("b" + std::to_string(++n));
    WriteFile(dir + "/m.bin", "model " + std::to_string(n));
    LineageRecord l;
    l.model = model;
    l.metrics = metrics;
    l.code = CodeRef{"https://git.example.com/x.git", std::string(40, 'a'), "main", dirty_code, ""};
    l.data.push_back(DatasetRef{"train", "s3://x", digests ? std::optional<Digest>(Digest::Of("d")) : std::nullopt});
    auto r = Client(server, trainer)->Register(model, dir, l);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return r->version["version"].get<int64_t>();
  }
  httplib::Result Stage(const std::string& token, const std::string& model, int64_t v, const std::string& to,
                        const std::string& override_reason = "") {
    json body = {{"to", to}};
    if (!override_reason.empty()) body["override"] = override_reason;
    return Http(server.url(), token)
        .Post("/api/v1/models/" + model + "/versions/" + std::to_string(v) + "/stage", body.dump());
  }
  httplib::Result Approve(const std::string& token, const std::string& model, int64_t v) {
    return Http(server.url(), token)
        .Post("/api/v1/models/" + model + "/versions/" + std::to_string(v) + "/approvals", "{}");
  }
  httplib::Result Rollback(const std::string& token, const std::string& model, const std::string& reason = "bad") {
    return Http(server.url(), token).Post("/api/v1/models/" + model + "/rollback", json{{"reason", reason}}.dump());
  }
  void SetPolicy(const json& p) {
    auto r = Http(server.url(), admin).Put("/api/v1/models/churn/policy", p.dump(), "application/json");
    REQUIRE(r);
    INFO(r->body);
    REQUIRE(r->status == 200);
  }
  std::string StageOf(const std::string& model, int64_t v) {
    auto r = Http(server.url(), admin).Get("/api/v1/models/" + model + "/versions/" + std::to_string(v));
    return json::parse(r->body)["stage"];
  }
  // Promotes through staging with one approval by alice.
  void Promote(const std::string& model, int64_t v) {
    REQUIRE(Stage(trainer, model, v, "staging")->status == 200);
    REQUIRE(Approve(alice, model, v)->status == 201);
    auto r = Stage(bob, model, v, "production");
    INFO(r->body);
    REQUIRE(r->status == 200);
  }
};

}  // namespace

TEST_CASE("separation of duties: registrant cannot approve, N distinct approvals, duplicates count once") {
  Registry reg;
  // The admin registers (and so may not approve) this one.
  WriteFile(reg.t / "own/m.bin", "own");
  REQUIRE(Client(reg.server, reg.admin)->Register("churn", reg.t / "own", Lineage("churn")).ok());
  auto self = reg.Approve(reg.admin, "churn", 1);
  REQUIRE(self);
  CHECK(self->status == 403);
  CHECK(ErrorMessage(self).find("cannot approve") != std::string::npos);

  reg.SetPolicy({{"approvals", 2}});
  int64_t v = reg.Register("churn", {{"auc", 0.9}});
  REQUIRE(reg.Stage(reg.trainer, "churn", v, "staging")->status == 200);
  CHECK(reg.Approve(reg.alice, "churn", v)->status == 201);
  CHECK(reg.Approve(reg.alice, "churn", v)->status == 200);  // again: counted once
  auto blocked = reg.Stage(reg.bob, "churn", v, "production");
  REQUIRE(blocked);
  CHECK(blocked->status == 422);
  CHECK(blocked->body.find("approvals: 1 of 2") != std::string::npos);
  CHECK(reg.Approve(reg.bob, "churn", v)->status == 201);
  auto ok = reg.Stage(reg.carol, "churn", v, "production");
  REQUIRE(ok);
  INFO(ok->body);
  CHECK(ok->status == 200);
  CHECK(reg.StageOf("churn", v) == "production");
}

TEST_CASE("stage rules: trainer stages only its own, rejection is final, production needs staging") {
  Registry reg;
  int64_t v1 = reg.Register("churn", {{"auc", 0.9}});
  std::string other = reg.server.CreateToken("trainer2", "trainer");
  CHECK(reg.Stage(other, "churn", v1, "staging")->status == 403);
  CHECK(reg.Stage(reg.trainer, "churn", v1, "production")->status == 403);
  auto not_staged = reg.Stage(reg.admin, "churn", v1, "production");
  CHECK(not_staged->status == 422);
  CHECK(ErrorMessage(not_staged).find("staging first") != std::string::npos);
  auto no_reason = Http(reg.server.url(), reg.alice).Post("/api/v1/models/churn/versions/1/reject", "{}");
  CHECK(no_reason->status == 400);
  auto rej =
      Http(reg.server.url(), reg.alice).Post("/api/v1/models/churn/versions/1/reject", R"({"reason":"leaks labels"})");
  REQUIRE(rej->status == 200);
  CHECK(reg.Stage(reg.trainer, "churn", v1, "staging")->status == 422);
  CHECK(reg.Approve(reg.alice, "churn", v1)->status == 422);
  auto again = reg.Stage(reg.admin, "churn", v1, "production", "I insist");
  CHECK(again->status == 422);
  CHECK(ErrorMessage(again).find("rejection is final") != std::string::npos);
  // Production cannot be rejected directly.
  int64_t v2 = reg.Register("churn", {{"auc", 0.9}});
  reg.Promote("churn", v2);
  auto rp = Http(reg.server.url(), reg.alice).Post("/api/v1/models/churn/versions/2/reject", R"({"reason":"x"})");
  CHECK(rp->status == 422);
  CHECK(Http(reg.server.url(), reg.alice).Post("/api/v1/models/churn/versions/2/archive", "{}")->status == 200);
  CHECK(reg.StageOf("churn", v2) == "archived");
}

TEST_CASE("policy gates: each kind passes and fails, 422 lists every failure, admin override recorded") {
  Registry reg;
  int64_t base = reg.Register("churn", {{"auc", 0.90}, {"logloss", 0.20}});
  reg.Promote("churn", base);
  reg.SetPolicy({{"approvals", 1},
                 {"gates", {"auc >= 0.85", "logloss <= production", "accuracy > 0.5"}},
                 {"require_clean_code", true},
                 {"require_data_digests", true}});
  // Fails everything: low auc, worse logloss, no accuracy, dirty code, no data digest.
  int64_t bad = reg.Register("churn", {{"auc", 0.80}, {"logloss", 0.30}}, /*dirty=*/true, /*digests=*/false);
  REQUIRE(reg.Stage(reg.trainer, "churn", bad, "staging")->status == 200);
  auto r = reg.Stage(reg.bob, "churn", bad, "production");
  REQUIRE(r);
  CHECK(r->status == 422);
  CHECK(ErrorCode(r) == "FAILED_PRECONDITION");
  auto details = json::parse(r->body)["error"]["details"];
  INFO(r->body);
  REQUIRE(details.size() == 6);
  std::string all = details.dump();
  CHECK(all.find("approvals: 0 of 1") != std::string::npos);
  CHECK(all.find("auc >= 0.85: actual 0.8") != std::string::npos);
  CHECK(all.find("logloss <= production: actual 0.3 vs production 0.2") != std::string::npos);
  CHECK(all.find("no metric 'accuracy'") != std::string::npos);
  CHECK(all.find("dirty") != std::string::npos);
  CHECK(all.find("dataset 'train' has no digest") != std::string::npos);
  CHECK(reg.StageOf("churn", base) == "production");

  // Override: not for approvers, recorded for the admin.
  CHECK(reg.Stage(reg.bob, "churn", bad, "production", "urgent")->status == 403);
  auto ov = reg.Stage(reg.admin, "churn", bad, "production", "incident 42");
  REQUIRE(ov);
  INFO(ov->body);
  CHECK(ov->status == 200);
  CHECK(json::parse(ov->body)["overridden_gates"].size() == 6);
  auto log = Http(reg.server.url(), reg.admin).Get("/api/v1/audit/events?model=churn");
  CHECK(log->body.find("incident 42") != std::string::npos);
  CHECK(log->body.find("failed_gates") != std::string::npos);
  // The stage history names it an override, not an ordinary change.
  auto hist = json::parse(Http(reg.server.url(), reg.admin).Get("/api/v1/models/churn/history")->body)["history"];
  REQUIRE(!hist.empty());
  CHECK(hist.back()["version"] == bad);
  CHECK(hist.back()["kind"] == "override");
  CHECK(hist.back()["reason"] == "incident 42");
  CHECK(hist[hist.size() - 2]["kind"] == "stage");  // the version it replaced was archived normally

  // All gates passing.
  int64_t good = reg.Register("churn", {{"auc", 0.95}, {"logloss", 0.10}, {"accuracy", 0.9}});
  reg.Promote("churn", good);
  CHECK(reg.StageOf("churn", good) == "production");
  CHECK(reg.StageOf("churn", bad) == "archived");
  auto shown = Http(reg.server.url(), reg.trainer).Get("/api/v1/models/churn/policy");
  CHECK(json::parse(shown->body)["gates"][1] == "logloss <= production");
  CHECK(Http(reg.server.url(), reg.admin)
            .Put("/api/v1/models/churn/policy", R"({"gates":["auc >>= 1"]})", "application/json")
            ->status == 400);
  CHECK(Http(reg.server.url(), reg.alice)
            .Put("/api/v1/models/churn/policy", R"({"approvals":0})", "application/json")
            ->status == 403);
}

TEST_CASE("rollback walks back through production history, twice in a row") {
  Registry reg;
  int64_t v1 = reg.Register("churn", {{"auc", 0.9}});
  int64_t v2 = reg.Register("churn", {{"auc", 0.9}});
  int64_t v3 = reg.Register("churn", {{"auc", 0.9}});
  reg.SetPolicy({{"approvals", 1}});
  CHECK(reg.Rollback(reg.alice, "churn")->status == 422);  // nothing in production
  reg.Promote("churn", v1);
  CHECK(reg.Rollback(reg.alice, "churn")->status == 422);  // nothing earlier
  reg.Promote("churn", v2);
  reg.Promote("churn", v3);
  CHECK(reg.Rollback(reg.trainer, "churn")->status == 403);
  CHECK(reg.Rollback(reg.alice, "churn", "")->status == 400);
  auto r1 = reg.Rollback(reg.alice, "churn");
  REQUIRE(r1->status == 200);
  CHECK(json::parse(r1->body)["restored"]["version"] == v2);
  CHECK(reg.StageOf("churn", v2) == "production");
  CHECK(reg.StageOf("churn", v3) == "archived");
  auto r2 = reg.Rollback(reg.alice, "churn");
  REQUIRE(r2->status == 200);
  CHECK(json::parse(r2->body)["restored"]["version"] == v1);
  CHECK(reg.StageOf("churn", v1) == "production");
  CHECK(reg.Rollback(reg.alice, "churn")->status == 422);
  // Promote v3 again, then roll back: v1 again.
  REQUIRE(reg.Stage(reg.trainer, "churn", v3, "staging")->status == 200);
  REQUIRE(reg.Stage(reg.bob, "churn", v3, "production")->status == 200);
  auto r3 = reg.Rollback(reg.alice, "churn");
  CHECK(json::parse(r3->body)["restored"]["version"] == v1);
  auto hist = Http(reg.server.url(), reg.admin).Get("/api/v1/models/churn/history");
  CHECK(json::parse(hist->body)["history"].size() > 6);
}

TEST_CASE("concurrency: two processes promote different versions 200 times, always one production", "[sqlite]") {
  Registry reg;
  int64_t va = reg.Register("churn", {{"auc", 0.9}});
  int64_t vb = reg.Register("churn", {{"auc", 0.9}});
  reg.SetPolicy({{"approvals", 1}});
  for (int64_t v : {va, vb}) REQUIRE(reg.Approve(reg.alice, "churn", v)->status == 201);
  constexpr int kRounds = 200;
  auto worker = [&](int64_t v) -> int {
    Http h(reg.server.url(), reg.bob);
    return PromoteRepeatedly(h, v, kRounds);
  };
  pid_t kids[2];
  int64_t versions[2] = {va, vb};
  for (int i = 0; i < 2; ++i) {
    kids[i] = fork();
    if (kids[i] == 0) _exit(worker(versions[i]));
  }
  // Observe the invariant while they run.
  size_t observations = 0, violations = 0;
  SQLite::Database db(reg.server.data_dir() + "/registry.db", SQLite::OPEN_READONLY);
  db.setBusyTimeout(5000);
  int status[2] = {-1, -1}, finished = 0;
  while (finished < 2) {
    int n = db.execAndGet("SELECT COUNT(*) FROM versions WHERE stage = 'production'").getInt();
    ++observations;
    if (n > 1) ++violations;
    for (int i = 0; i < 2; ++i)
      if (status[i] == -1 && waitpid(kids[i], &status[i], WNOHANG) == kids[i]) ++finished;
  }
  for (int i = 0; i < 2; ++i) CHECK((WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 0));
  INFO("observations: " << observations);
  CHECK(violations == 0);
  CHECK(db.execAndGet("SELECT COUNT(*) FROM versions WHERE stage = 'production'").getInt() == 1);

  // Replaying the audit log gives the same history and the same end state.
  Http h(reg.server.url(), reg.admin);
  int64_t after = 0, production = 0, promotions = 0;
  for (;;) {
    auto page =
        json::parse(h.Get("/api/v1/audit/events?model=churn&limit=1000&after_seq=" + std::to_string(after))->body);
    for (const auto& e : page["events"])
      if (e["action"] == "promote" && e["details"]["to"] == "production") {
        if (e["details"].contains("replaced")) CHECK(e["details"]["replaced"] == production);
        production = e["version"];
        ++promotions;
      }
    if (!page.contains("next_after_seq")) break;
    after = page["next_after_seq"];
  }
  CHECK(promotions == 2 * kRounds);
  CHECK(reg.StageOf("churn", production) == "production");
  auto verify = json::parse(h.Get("/api/v1/audit/verify")->body);
  CHECK(verify["ok"] == true);
}

TEST_CASE("audit checkpoint: signed for readers of the audit log, and checked parameters") {
  Registry reg;
  Http admin(reg.server.url(), reg.admin);
  auto cp = admin.Get("/api/v1/audit/checkpoint");
  REQUIRE(cp->status == 200);
  auto envelope = json::parse(cp->body);
  CHECK(envelope["payloadType"] == "application/vnd.modelreg.audit-checkpoint.v1+json");
  CHECK(envelope["signatures"].size() == 1);
  CHECK(Http(reg.server.url(), reg.trainer).Get("/api/v1/audit/checkpoint")->status == 403);
  CHECK(Http(reg.server.url(), "").Get("/api/v1/audit/checkpoint")->status == 401);

  auto head = json::parse(admin.Get("/api/v1/audit/verify")->body);
  const std::string hash = head["head_hash"];
  const std::string n = std::to_string(head["checked"].get<int64_t>());
  auto same = json::parse(admin.Get("/api/v1/audit/verify?checkpoint_count=" + n + "&checkpoint_hash=" + hash)->body);
  CHECK(same["ok"] == true);
  auto beyond = json::parse(admin
                                .Get("/api/v1/audit/verify?checkpoint_count=" +
                                     std::to_string(head["checked"].get<int64_t>() + 5) + "&checkpoint_hash=" + hash)
                                ->body);
  CHECK(beyond["ok"] == false);
  CHECK(beyond["problem"].get<std::string>().find("removed from its end") != std::string::npos);
  for (const std::string& q :
       {"checkpoint_count=abc&checkpoint_hash=" + hash, "checkpoint_count=-1&checkpoint_hash=" + hash,
        "checkpoint_count=" + n + "&checkpoint_hash=XYZ", "checkpoint_count=" + n,
        "checkpoint_count=" + n + "&checkpoint_hash=" + hash + "&checkpoint_time=noon"}) {
    INFO(q);
    auto r = admin.Get("/api/v1/audit/verify?" + q);
    CHECK(r->status == 400);
  }
}

TEST_CASE("model list: latest and production version and the time of the last change") {
  Registry reg;
  Http admin(reg.server.url(), reg.admin);
  reg.Register("churn", {{"auc", 0.9}});
  auto model = [&] {
    auto models = json::parse(admin.Get("/api/v1/models")->body)["models"];
    REQUIRE(models.size() == 1);
    return models[0];
  };
  auto first = model();
  CHECK(first["latest_version"] == 1);
  CHECK(first["production_version"].is_null());
  CHECK(first["last_change"] >= first["created_at"]);            // ISO times compare as text
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // ISO times are to the second
  reg.Register("churn", {{"auc", 0.91}});
  auto second = model();
  CHECK(second["latest_version"] == 2);
  CHECK(second["last_change"] > first["last_change"]);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  REQUIRE(reg.Stage(reg.trainer, "churn", 1, "staging")->status == 200);
  auto third = model();
  CHECK(third["last_change"] > second["last_change"]);  // a stage change counts
  // The version list carries each version's metrics (one request for a table).
  auto versions = json::parse(admin.Get("/api/v1/models/churn/versions")->body)["versions"];
  REQUIRE(versions.size() == 2);
  CHECK(versions[0]["metrics"] == json{{"auc", 0.9}});
  CHECK(versions[1]["metrics"] == json{{"auc", 0.91}});
}
