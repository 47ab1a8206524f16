// Rollouts over REST (docs/rollouts.md): the rules for starting one, the
// signed release carrying it, steps, abort, finish, and the judge acting on
// agents' reported counts. Runs on SQLite and PostgreSQL. The agents'
// side (two arms, shadow, fallbacks) is tested with real model servers in
// tests/agent and tests/e2e/rollout_test.cc.
#include <catch2/catch.hpp>
#include <random>

#include "api/api_util.h"
#include "auth/signing.h"
#include "core/rollout_judge.h"

using namespace modelreg;
using namespace modelreg::testing;
using nlohmann::json;

namespace {

struct Rollouts {
  ServerProcess server;
  TempDir t;
  std::string admin, trainer, alice, bob, agent;
  Rollouts() {
    admin = server.admin_token();
    trainer = server.CreateToken("trainer", "trainer");
    alice = server.CreateToken("alice", "approver");
    bob = server.CreateToken("bob", "approver");
    agent = server.CreateToken("agent-1", "agent");
  }
  int64_t Register(const std::string& model) {
    static int n = 0;
    std::string dir = t / ("b" + std::to_string(++n));
    WriteFile(dir + "/m.bin", "model " + std::to_string(n));
    LineageRecord l = Lineage(model);
    auto r = Client(server, trainer)->Register(model, dir, l);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return r->version["version"].get<int64_t>();
  }
  httplib::Result Post(const std::string& token, const std::string& path, const json& body) {
    return Http(server.url(), token).Post(path, body.dump());
  }
  void Ok(const httplib::Result& r, int status = 200) {
    REQUIRE(r);
    INFO(r->body);
    REQUIRE(r->status == status);
  }
  void Approve(int64_t v, const std::string& model = "churn") {
    Ok(Post(alice, "/api/v1/models/" + model + "/versions/" + std::to_string(v) + "/approvals", json::object()), 201);
  }
  void Stage(int64_t v, const std::string& to, const std::string& model = "churn") {
    Ok(Post(bob, "/api/v1/models/" + model + "/versions/" + std::to_string(v) + "/stage", {{"to", to}}));
  }
  // Version 1 in production, version 2 approved and in staging.
  void TwoVersions() {
    REQUIRE(Register("churn") == 1);
    Approve(1);
    Stage(1, "staging");
    Stage(1, "production");
    REQUIRE(Register("churn") == 2);
    Approve(2);
    Stage(2, "staging");
  }
  httplib::Result Start(const json& body, const std::string& token = "") {
    return Post(token.empty() ? bob : token, "/api/v1/models/churn/rollout", body);
  }
  json Status() {
    auto r = Http(server.url(), bob).Get("/api/v1/models/churn/rollout");
    Ok(r);
    return json::parse(r->body);
  }
  // The production release's predicate, verified with the registry's key.
  json Release() {
    auto r = Http(server.url(), agent).Get("/api/v1/models/churn/release?stage=production");
    Ok(r);
    auto key = Http(server.url(), admin).Get("/api/v1/keys");
    Ok(key);
    auto vk = VerifyKey::FromPem(json::parse(key->body)["keys"][0]["pem"].get<std::string>());
    REQUIRE(vk.ok());
    auto payload = OpenDsse(**vk, r->body, kInTotoPayloadType);
    REQUIRE(payload.ok());
    return json::parse(*payload)["predicate"];
  }
  // An agent's report with counts for rollout `id`, step `step`.
  httplib::Result Report(const std::string& agent_id, const json& rollout) {
    json body = {{"host", "h"},  {"model", "churn"}, {"stage", "production"}, {"state", "serving"},
                 {"digest", ""}, {"heartbeat_s", 1}, {"rollout", rollout}};
    return Post(agent, "/api/v1/agents/" + agent_id + "/status", body);
  }
};

json Arm(int64_t requests, int64_t errors, double latency_ms = 0) {
  json j = {{"requests", requests}, {"errors", errors}};
  if (latency_ms > 0) {
    std::vector<int64_t> b;
    for (int64_t i = 0; i < requests; ++i) AddLatencySample(b, latency_ms * (0.9 + 0.2 * (i % 10) / 10.0));
    j["latency_buckets"] = b;
  }
  return j;
}

json Counts(int64_t id, int step, const std::string& run, const json& baseline, const json& candidate) {
  return {{"id", id}, {"step", step}, {"run", run}, {"arms", {{"baseline", baseline}, {"candidate", candidate}}}};
}

}  // namespace

TEST_CASE("rollouts: bad requests get clear 4xx errors and change nothing") {
  Rollouts f;
  REQUIRE(f.Register("churn") == 1);
  // No production version yet: nothing to compare with.
  auto r = f.Start({{"version", "1"}, {"mode", "canary"}, {"steps_pct", {5}}});
  REQUIRE(r->status == 422);
  CHECK(ErrorMessage(r).find("no production version") != std::string::npos);
  f.Approve(1);
  f.Stage(1, "staging");
  f.Stage(1, "production");
  REQUIRE(f.Register("churn") == 2);  // not approved, not staged

  r = f.Start({{"version", "9"}, {"mode", "canary"}, {"steps_pct", {5}}});
  CHECK(r->status == 404);
  r = f.Start({{"version", "2"}, {"mode", "canary"}, {"steps_pct", {0}}});
  CHECK(r->status == 400);
  r = f.Start({{"version", "2"}, {"mode", "canary"}, {"steps_pct", {101}}});
  CHECK(r->status == 400);
  r = f.Start({{"version", "2"}, {"mode", "canary"}, {"steps_pct", {"5", "5"}}});
  CHECK(r->status == 400);
  r = f.Start({{"version", "2"}, {"mode", "canary"}, {"steps_pct", {12.345}}});
  CHECK(r->status == 400);
  r = f.Start({{"version", "2"}, {"mode", "blue-green"}, {"weight_pct", 5}});
  CHECK(r->status == 400);
  CHECK(ErrorMessage(r).find("shadow, canary or ab") != std::string::npos);
  r = f.Start({{"version", "2"}, {"mode", "canary"}});
  CHECK(r->status == 400);
  r = f.Start({{"version", "2"}, {"mode", "canary"}, {"weight_pct", 5}, {"key_header", "Connection"}});
  CHECK(r->status == 400);
  r = f.Start({{"version", "2"}, {"mode", "canary"}, {"weight_pct", 5}, {"auto_advance", true}});
  CHECK(r->status == 400);
  CHECK(ErrorMessage(r).find("--step-every") != std::string::npos);
  r = f.Start({{"version", "1"}, {"mode", "canary"}, {"weight_pct", 5}});
  CHECK(r->status == 422);  // the candidate is production already
  // A canary needs what promotion needs: version 2 is neither staged nor approved.
  r = f.Start({{"version", "2"}, {"mode", "canary"}, {"weight_pct", 5}});
  CHECK(r->status == 422);
  // Shadow needs approval.
  r = f.Start({{"version", "2"}, {"mode", "shadow"}});
  CHECK(r->status == 422);
  CHECK(ErrorMessage(r).find("approval") != std::string::npos);
  // Approvers and admins only.
  r = f.Start({{"version", "2"}, {"mode", "shadow"}}, f.trainer);
  CHECK(r->status == 403);

  f.Approve(2);
  r = f.Start({{"version", "2"}, {"mode", "canary"}, {"weight_pct", 5}});
  CHECK(r->status == 422);  // approved but not in staging
  CHECK(ErrorMessage(r).find("staging") != std::string::npos);
  f.Stage(2, "staging");
  r = f.Start({{"version", "2"}, {"mode", "canary"}, {"weight_pct", 5}});
  f.Ok(r, 201);
  // A second rollout of the model: 409.
  REQUIRE(f.Register("churn") == 3);
  f.Approve(3);
  f.Stage(3, "staging");
  r = f.Start({{"version", "3"}, {"mode", "ab"}, {"weight_pct", 50}});
  CHECK(r->status == 409);
  CHECK(ErrorMessage(r).find("already has rollout") != std::string::npos);
  // Production cannot change under a rollout.
  r = f.Post(f.bob, "/api/v1/models/churn/versions/3/stage", {{"to", "production"}});
  CHECK(r->status == 422);
  CHECK(ErrorMessage(r).find("rollout") != std::string::npos);
  r = f.Post(f.bob, "/api/v1/models/churn/rollback", {{"reason", "x"}});
  CHECK(r->status == 422);
  r = f.Post(f.bob, "/api/v1/models/churn/versions/2/archive", json::object());
  CHECK(r->status == 422);
  r = f.Post(f.bob, "/api/v1/models/churn/rollout/abort", json::object());
  CHECK(r->status == 400);  // a reason is required
  r = f.Post(f.bob, "/api/v1/models/churn/rollout/advance", json::object());
  CHECK(r->status == 422);  // one step only: finish it
  auto st = f.Status();
  CHECK(st["rollout"]["state"] == "active");
  CHECK(st["rollout"]["weight_pct"] == 5.0);
}

TEST_CASE("rollouts: the signed release carries the rollout, and steps, abort and finish change it") {
  Rollouts f;
  f.TwoVersions();
  const json before = f.Release();
  CHECK_FALSE(before.contains("rollout"));
  auto r = f.Start({{"version", "2"}, {"mode", "canary"}, {"steps_pct", {5, 25, 100}}, {"key_header", "X-User"}});
  f.Ok(r, 201);
  const int64_t id = json::parse(r->body)["rollout"]["id"];
  json rel = f.Release();
  CHECK(rel["seq"].get<int64_t>() > before["seq"].get<int64_t>());
  CHECK(rel["version"] == 1);  // production still answers the rest
  REQUIRE(rel.contains("rollout"));
  const json& o = rel["rollout"];
  CHECK(o["id"] == id);
  CHECK(o["mode"] == "canary");
  CHECK(o["weight_bp"] == 500);
  CHECK(o["step"] == 0);
  CHECK(o["key_header"] == "X-User");
  CHECK(o["salt"].get<std::string>().size() == 32);
  CHECK(o["baseline"]["version"] == 1);
  CHECK(o["baseline"]["digest"] == rel["digest"]);
  CHECK(o["candidate"]["version"] == 2);

  f.Ok(f.Post(f.bob, "/api/v1/models/churn/rollout/advance", json::object()));
  json rel2 = f.Release();
  CHECK(rel2["seq"].get<int64_t>() > rel["seq"].get<int64_t>());
  CHECK(rel2["rollout"]["weight_bp"] == 2500);
  CHECK(rel2["rollout"]["step"] == 1);
  CHECK(rel2["rollout"]["salt"] == o["salt"]);  // the same keys stay on the candidate

  SECTION("abort: back to the baseline alone, recorded with its reason") {
    auto a = f.Post(f.bob, "/api/v1/models/churn/rollout/abort", {{"reason", "looks off"}});
    f.Ok(a);
    json rel3 = f.Release();
    CHECK(rel3["seq"].get<int64_t>() > rel2["seq"].get<int64_t>());
    CHECK_FALSE(rel3.contains("rollout"));
    CHECK(rel3["version"] == 1);
    auto st = f.Status();
    CHECK(st["rollout"]["state"] == "aborted");
    CHECK(st["rollout"]["reason"] == "looks off");
    auto log = Http(f.server.url(), f.admin).Get("/api/v1/audit/events?model=churn");
    CHECK(log->body.find("rollout.abort") != std::string::npos);
    // Production may change again.
    f.Stage(2, "production");
  }
  SECTION("finish: the candidate is production, the baseline archived, in one change") {
    f.Ok(f.Post(f.bob, "/api/v1/models/churn/rollout/advance", json::object()));
    f.Ok(f.Post(f.bob, "/api/v1/models/churn/rollout/finish", json::object()));
    json rel3 = f.Release();
    CHECK_FALSE(rel3.contains("rollout"));
    CHECK(rel3["version"] == 2);
    auto v1 = json::parse(Http(f.server.url(), f.bob).Get("/api/v1/models/churn/versions/1")->body);
    CHECK(v1["stage"] == "archived");
    auto hist = Http(f.server.url(), f.bob).Get("/api/v1/models/churn/history");
    CHECK(hist->body.find("\"rollout\"") != std::string::npos);
    // Rollback after a finished rollout goes back to version 1.
    f.Ok(f.Post(f.bob, "/api/v1/models/churn/rollback", {{"reason", "regret"}}));
    CHECK(f.Release()["version"] == 1);
  }
}

TEST_CASE("rollouts: a candidate with significantly more errors is aborted by the judge, an A/A one never") {
  Rollouts f;
  f.TwoVersions();
  auto r = f.Start({{"version", "2"}, {"mode", "canary"}, {"weight_pct", 50}});
  f.Ok(r, 201);
  const int64_t id = json::parse(r->body)["rollout"]["id"];
  const int64_t seq = f.Release()["seq"];

  SECTION("A/A: the same error rate reported many times, by two agents, never aborts") {
    for (int i = 1; i <= 40; ++i) {
      f.Ok(f.Report("a1", Counts(id, 0, "r1", Arm(100 * i, i, 2), Arm(100 * i, i, 2))), 204);
      f.Ok(f.Report("a2", Counts(id, 0, "r2", Arm(90 * i, i, 2), Arm(95 * i, i, 2))), 204);
    }
    auto st = f.Status();
    CHECK(st["rollout"]["state"] == "active");
    CHECK(st["arms"]["baseline"]["requests"] == 4000 + 3600);
    CHECK(st["arms"]["candidate"]["requests"] == 4000 + 3800);
    CHECK(st["reporters"] == 2);
    CHECK(st["verdict"]["decision"] == "continue");
    CHECK(f.Release()["seq"] == seq);
    // Ended by a person, it keeps the verdict it ended with.
    f.Ok(f.Post(f.bob, "/api/v1/models/churn/rollout/abort", {{"reason", "enough"}}));
    auto ended = f.Status();
    CHECK(ended["rollout"]["state"] == "aborted");
    CHECK(ended["verdict"]["decision"] == "continue");
    CHECK(ended["arms"]["candidate"]["requests"] == 4000 + 3800);
  }
  SECTION("5 % errors against none: aborted, the release back to the baseline, the numbers in the audit log") {
    int64_t n = 0;
    for (int i = 1; i <= 20 && f.Status()["rollout"]["state"] == "active"; ++i) {
      n = 100 * i;
      f.Ok(f.Report("a1", Counts(id, 0, "r1", Arm(n, 0, 2), Arm(n, n / 20, 2))), 204);
    }
    auto st = f.Status();
    CHECK(st["rollout"]["state"] == "aborted");
    CHECK(st["rollout"]["ended_by"] == "judge");
    CHECK(st["verdict"]["decision"] == "abort_errors");
    CHECK(n <= 1000);
    json rel = f.Release();
    CHECK_FALSE(rel.contains("rollout"));
    CHECK(rel["seq"].get<int64_t>() > seq);
    auto log = json::parse(Http(f.server.url(), f.admin).Get("/api/v1/audit/events?model=churn")->body);
    bool found = false;
    for (const auto& e : log["events"])
      if (e["action"] == "rollout.abort") {
        found = true;
        CHECK(e["actor"] == "judge");
        CHECK(e["details"]["automatic"] == true);
        CHECK(e["details"]["verdict"]["decision"] == "abort_errors");
        CHECK(e["details"]["counts"]["candidate"]["errors"].get<int64_t>() > 0);
      }
    CHECK(found);
    // Later counts of the ended rollout are kept, not judged again.
    f.Ok(f.Report("a1", Counts(id, 0, "r1", Arm(5000, 0), Arm(5000, 2000))), 204);
  }
  SECTION("20 ms slower: aborted on latency") {
    for (int i = 1; i <= 20 && f.Status()["rollout"]["state"] == "active"; ++i)
      f.Ok(f.Report("a1", Counts(id, 0, "r1", Arm(50 * i, 0, 3), Arm(50 * i, 0, 23))), 204);
    auto st = f.Status();
    CHECK(st["rollout"]["state"] == "aborted");
    CHECK(st["verdict"]["decision"] == "abort_latency");
  }
  SECTION("too few requests: no verdict yet, whatever the rates") {
    f.Ok(f.Report("a1", Counts(id, 0, "r1", Arm(50, 0), Arm(50, 25))), 204);
    CHECK(f.Status()["rollout"]["state"] == "active");
  }
  SECTION("bad counts are refused") {
    auto bad = f.Report("a1", Counts(id, 0, "r1", Arm(10, 11), Arm(10, 0)));
    CHECK(bad->status == 400);
    bad = f.Report("a1", Counts(id + 100, 0, "r1", Arm(10, 1), Arm(10, 0)));
    CHECK(bad->status == 404);
    bad = f.Report("a1",
                   {{"id", id}, {"step", 0}, {"run", "r"}, {"arms", {{"baseline", {{"latency_buckets", {1, 2}}}}}}});
    CHECK(bad->status == 400);
    bad = f.Report("a1", {{"id", id}, {"step", 7}, {"run", "r"}});
    CHECK(bad->status == 400);
  }
}

TEST_CASE("rollouts: --auto-advance steps and finishes by itself while the judge sees no regression") {
  Rollouts f;
  f.TwoVersions();
  auto r = f.Start(
      {{"version", "2"}, {"mode", "canary"}, {"steps_pct", {10, 100}}, {"step_every_s", 0.2}, {"auto_advance", true}});
  f.Ok(r, 201);
  const int64_t id = json::parse(r->body)["rollout"]["id"];
  // Reports drive it: each step runs at least 0.2 s.
  for (int i = 0; i < 400 && f.Status()["rollout"]["state"] == "active"; ++i) {
    const int step = f.Status()["rollout"]["step"];
    f.Ok(f.Report("a1", Counts(id, step, "r1", Arm(10 * i, 0), Arm(10 * i, 0))), 204);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto st = f.Status();
  CHECK(st["rollout"]["state"] == "finished");
  CHECK(st["rollout"]["ended_by"] == "judge");
  CHECK(f.Release()["version"] == 2);
}

TEST_CASE("rollouts: shadow needs approval only, finishing it promotes nothing, events name each change") {
  Rollouts f;
  f.TwoVersions();
  REQUIRE(f.Register("churn") == 3);
  f.Approve(3);  // approved, not staged: enough for a shadow
  auto r = f.Start({{"version", "3"}, {"mode", "shadow"}});
  f.Ok(r, 201);
  json rel = f.Release();
  CHECK(rel["rollout"]["mode"] == "shadow");
  CHECK(rel["rollout"]["weight_bp"] == 0);
  // The shadow's candidate may move to staging meanwhile.
  f.Stage(3, "staging");
  auto rep = f.Report(
      "a1", {{"id", rel["rollout"]["id"]},
             {"step", 0},
             {"run", "r1"},
             {"arms", {{"baseline", Arm(100, 0)}, {"candidate", Arm(100, 0)}}},
             {"shadow", {{"compared", 100}, {"equal", 90}, {"differ", 4}, {"dropped", 1}, {"max_abs_diff", 0.25}}}});
  f.Ok(rep, 204);
  auto st = f.Status();
  CHECK(st["shadow"]["compared"] == 100);
  CHECK(st["shadow"]["numeric_diff"] == 6);
  CHECK(st["shadow"]["agreement"] == 0.9);
  f.Ok(f.Post(f.bob, "/api/v1/models/churn/rollout/finish", json::object()));
  CHECK(f.Release()["version"] == 1);
  auto events = json::parse(Http(f.server.url(), f.admin).Get("/api/v1/events?limit=1000")->body)["events"];
  std::vector<std::string> types;
  for (const auto& e : events)
    if (e["type"].get<std::string>().rfind("rollout.", 0) == 0) types.push_back(e["type"]);
  CHECK(types == std::vector<std::string>{"rollout.started", "rollout.finished"});
}

TEST_CASE(
    "rollouts: horizon_requests sets the judge's planned horizon, and its last look aborts what the always-valid "
    "test alone lets pass") {
  Rollouts f;
  f.TwoVersions();
  // Bad values: 400 naming the setting, nothing started.
  for (const json& bad : {json(-1), json(500), json(int64_t{2000000000}), json("20000"), json(2.5)}) {
    auto r = f.Start({{"version", "2"}, {"mode", "canary"}, {"weight_pct", 50}, {"horizon_requests", bad}});
    INFO(bad.dump());
    CHECK(r->status == 400);
    CHECK((ErrorMessage(r).find("horizon") != std::string::npos));
  }
  // The default is 20 000 requests per step.
  auto d = f.Start({{"version", "2"}, {"mode", "canary"}, {"weight_pct", 50}});
  f.Ok(d, 201);
  CHECK(json::parse(d->body)["rollout"]["horizon_requests"] == 20000);
  f.Ok(f.Post(f.bob, "/api/v1/models/churn/rollout/abort", {{"reason", "restart with a horizon"}}));

  // 50 % canary, horizon 4 000: looks at 1 000, 2 000 and 4 000 total
  // requests. At 3 000 looks 1 and 2 fire together (no regression); at
  // 4 000 the candidate has 44 errors against 20 (exact p 0.0018 <= level
  // 0.0038, mixture log e 3.1 < 5.3 < 7.4).
  SECTION("horizon 4000: aborted at the last look, which the verdict and the audit event name") {
    auto r = f.Start({{"version", "2"}, {"mode", "canary"}, {"weight_pct", 50}, {"horizon_requests", 4000}});
    f.Ok(r, 201);
    const json ro = json::parse(r->body)["rollout"];
    CHECK(ro["horizon_requests"] == 4000);
    const int64_t id = ro["id"];
    f.Ok(f.Report("a1", Counts(id, 0, "r1", Arm(1500, 15), Arm(1500, 15))), 204);
    auto st = f.Status();
    CHECK(st["rollout"]["state"] == "active");
    REQUIRE(st.contains("last_look"));
    CHECK(st["last_look"]["look"] == 2);
    CHECK(st["last_look"]["requests"] == 3000);
    CHECK(st["last_look"]["decision"] == "continue");
    CHECK(st["verdict"]["decision"] == "continue");
    CHECK_FALSE(st["verdict"].contains("error_look"));  // nothing new fires on the same counts
    f.Ok(f.Report("a1", Counts(id, 0, "r1", Arm(2000, 20), Arm(2000, 44))), 204);
    st = f.Status();
    CHECK(st["rollout"]["state"] == "aborted");
    CHECK(st["rollout"]["ended_by"] == "judge");
    CHECK(st["verdict"]["decision"] == "abort_errors");
    CHECK(st["verdict"]["error_look"] == 3);
    CHECK(st["verdict"]["error_look_requests"] == 4000);
    CHECK(st["verdict"]["error_look_p"].get<double>() <= st["verdict"]["error_look_level"].get<double>());
    CHECK(st["verdict"]["horizon_requests"] == 4000);
    CHECK(st["last_look"]["look"] == 3);
    auto log = json::parse(Http(f.server.url(), f.admin).Get("/api/v1/audit/events?model=churn")->body);
    bool found = false;
    for (const auto& e : log["events"])
      if (e["action"] == "rollout.abort" && e["actor"] == "judge") {
        found = true;
        CHECK(e["details"]["verdict"]["error_look"] == 3);
      }
    CHECK(found);
  }
  SECTION("horizon 0: the same counts are not aborted (always-valid test alone)") {
    auto r = f.Start({{"version", "2"}, {"mode", "canary"}, {"weight_pct", 50}, {"horizon_requests", 0}});
    f.Ok(r, 201);
    const int64_t id = json::parse(r->body)["rollout"]["id"];
    CHECK(json::parse(r->body)["rollout"]["horizon_requests"] == 0);
    f.Ok(f.Report("a1", Counts(id, 0, "r1", Arm(1500, 15), Arm(1500, 15))), 204);
    f.Ok(f.Report("a1", Counts(id, 0, "r1", Arm(2000, 20), Arm(2000, 44))), 204);
    auto st = f.Status();
    CHECK(st["rollout"]["state"] == "active");
    CHECK(st["verdict"]["decision"] == "continue");
    CHECK_FALSE(st.contains("last_look"));
  }
}
