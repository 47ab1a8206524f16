// End to end: the auditor's commands (audit decision, audit live, lineage,
// diff, provenance and its verification, also with plain openssl) through
// the real CLI against a real server, and their REST errors.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/digest.h"
#include "support/server_process.h"

using namespace modelreg;
using namespace modelreg::testing;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";

struct Story {
  ServerProcess server;
  TempDir t;
  std::map<std::string, std::string> trainer, approver, auditor, admin;
  std::string agent_token, dataset, v1, v2;

  Story() {
    trainer = server.Env(server.CreateToken("train-job", "trainer"));
    approver = server.Env(server.CreateToken("alice", "approver"));
    auditor = server.Env(server.CreateToken("audit-team", "auditor"));
    admin = server.Env(server.admin_token());
    agent_token = server.CreateToken("fleet", "agent");
    WriteFile(t / "data/train.csv", "x,y\n1,0\n");
    dataset = Digest::Of("x,y\n1,0\n").str();
    WriteFile(t / "m1/model.bin", "weights one");
    WriteFile(t / "m2/model.bin", "weights two");
    WriteFile(t / "m2/README", "fine-tuned");
    v1 = Register(t / "m1", {"--param", "depth=3", "--metric", "auc=0.8"});
    v2 = Register(t / "m2", {"--param", "depth=5", "--metric", "auc=0.9", "--parent", v1});
    Ok(Modelreg({"approve", "churn", "1"}, approver));
    Ok(Modelreg({"promote", "churn", "1", "--to", "staging"}, approver));
    Ok(Modelreg({"promote", "churn", "1", "--to", "production"}, approver));
  }

  std::string Register(const std::string& dir, std::vector<std::string> extra) {
    std::vector<std::string> args = {"register",
                                     "churn",
                                     dir,
                                     "--json",
                                     "--data-path",
                                     "train=" + (t / "data/train.csv"),
                                     "--code-repo",
                                     "https://git.example.com/ds/churn.git",
                                     "--code-commit",
                                     kCommit};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Ok(Modelreg(args, trainer));
    return json::parse(r.out)["digest"];
  }

  static RunResult Ok(RunResult r) {
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r;
  }

  json Json(const std::vector<std::string>& args, const std::map<std::string, std::string>& env) {
    std::vector<std::string> a = args;
    a.push_back("--json");
    return json::parse(Ok(Modelreg(a, env)).out);
  }

  // POST as the agent (its state report or a decision batch).
  void AgentPost(const std::string& path, const json& body) {
    httplib::Client c(server.url());
    c.set_bearer_token_auth(agent_token);
    auto r = c.Post(path, body.dump(), "application/json");
    REQUIRE(r);
    INFO(r->body);
    REQUIRE((r->status == 204 || r->status == 200));
  }

  int HttpStatus(const std::string& path, const std::map<std::string, std::string>& env) {
    httplib::Client c(server.url());
    c.set_bearer_token_auth(env.at("MODELREG_TOKEN"));
    auto r = c.Get(path);
    return r ? r->status : 0;
  }
};

}  // namespace

TEST_CASE("audit decision and audit live through the CLI") {
  Story s;
  s.AgentPost("/api/v1/agents/edge-1/status", {{"host", "edge-1.local"},
                                               {"model", "churn"},
                                               {"version", 1},
                                               {"digest", s.v1},
                                               {"state", "serving"},
                                               {"heartbeat_s", 10}});
  const int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  s.AgentPost("/api/v1/decisions", {{"decisions",
                                     {{{"request_id", "req-42"},
                                       {"model", "churn"},
                                       {"version", 1},
                                       {"digest", s.v1},
                                       {"agent_id", "edge-1"},
                                       {"at_ms", now},
                                       {"input_sha256", std::string(64, 'b')}}}}});

  json d = s.Json({"audit", "decision", "req-42"}, s.auditor);
  CHECK(d["decision"]["agent_id"] == "edge-1");
  CHECK(d["version"]["version"] == 1);
  CHECK(d["version"]["code"]["commit"] == kCommit);
  CHECK(d["version"]["data"][0]["digest"] == s.dataset);
  CHECK(d["version"]["params"]["depth"] == 3);
  CHECK(d["approvals"][0]["approver"] == "alice");
  CHECK(d["promotions"][0]["actor"] == "alice");
  CHECK(d["production_at_time"]["digest"] == s.v1);
  CHECK(d["agent_at_time"]["state"] == "serving");
  auto text = Story::Ok(Modelreg({"audit", "decision", "req-42"}, s.auditor)).out;
  CHECK(text.find("approved:   by alice") != std::string::npos);
  CHECK(text.find("promoted:   by alice") != std::string::npos);
  CHECK(text.find("(this one)") != std::string::npos);
  CHECK(text.find("arm:") == std::string::npos);  // no rollout, no fallback answered it
  CHECK(text.find("fallback:") == std::string::npos);

  // A decision answered during a rollout, by a fallback: audit decision tells which.
  s.AgentPost("/api/v1/decisions", {{"decisions",
                                     {{{"request_id", "req-43"},
                                       {"model", "churn"},
                                       {"version", 1},
                                       {"digest", s.v1},
                                       {"agent_id", "edge-1"},
                                       {"at_ms", now},
                                       {"input_sha256", std::string(64, 'c')},
                                       {"arm", "candidate"},
                                       {"rollout_id", 7},
                                       {"fallback", "previous"}}}}});
  json armed = s.Json({"audit", "decision", "req-43"}, s.auditor);
  CHECK(armed["decision"]["arm"] == "candidate");
  CHECK(armed["decision"]["rollout_id"] == 7);
  CHECK(armed["decision"]["fallback"] == "previous");
  auto armed_text = Story::Ok(Modelreg({"audit", "decision", "req-43"}, s.auditor)).out;
  INFO(armed_text);
  CHECK(armed_text.find("\narm:        candidate of rollout 7\n") != std::string::npos);
  CHECK(armed_text.find("\nfallback:   previous\n") != std::string::npos);

  json live = s.Json({"audit", "live", "--model", "churn", "--at", std::to_string(now)}, s.auditor);
  CHECK(live["production"]["version"] == 1);
  REQUIRE(live["agents"].size() == 1);
  CHECK(live["agents"][0]["agent"] == "edge-1");
  CHECK(live["agents"][0]["state"] == "serving");
  json before = s.Json({"audit", "live", "--model", "churn", "--at", "2020-01-01T00:00:00Z"}, s.auditor);
  CHECK(before["production"].is_null());
  CHECK(before["agents"].empty());

  // Usage errors exit 2; a role refused exits 5, with one line.
  CHECK(Modelreg({"audit", "live", "--model", "churn"}, s.auditor).exit_code == 2);
  CHECK(Modelreg({"audit", "live", "--model", "churn", "--at", "yesterday"}, s.auditor).exit_code == 2);
  auto denied = Modelreg({"audit", "live", "--model", "churn", "--at", "2026-01-01"}, s.approver);
  CHECK(denied.exit_code == 5);
  CHECK(denied.err.find("approver") != std::string::npos);
  CHECK(s.HttpStatus("/api/v1/decisions/req-42/audit", s.trainer) == 403);
  CHECK(s.HttpStatus("/api/v1/models/churn/live", s.auditor) == 400);
  CHECK(s.HttpStatus("/api/v1/audit/events?version=1", s.auditor) == 400);  // a version needs its model
  CHECK(s.HttpStatus("/api/v1/audit/events?model=churn&version=x", s.auditor) == 400);
  CHECK(Modelreg({"audit", "log", "--version", "1"}, s.auditor).exit_code == 2);
}

TEST_CASE("lineage, diff and provenance through the CLI") {
  Story s;
  json down = s.Json({"lineage", "--dataset", s.dataset}, s.auditor);
  REQUIRE(down["versions"].size() == 2);
  CHECK(down["versions"][0]["stage"] == "production");
  CHECK(down["versions"][1]["version"] == 2);
  json by_commit = s.Json({"lineage", "--commit", kCommit.substr(0, 10)}, s.auditor);
  CHECK(by_commit["total"] == 2);
  CHECK(Modelreg({"lineage", "--dataset", s.dataset, "--commit", kCommit}, s.auditor).exit_code == 2);
  CHECK(Modelreg({"lineage", "--dataset", "sha256:nope"}, s.auditor).exit_code == 1);
  CHECK(s.HttpStatus("/api/v1/lineage?dataset=sha256:nope", s.auditor) == 400);
  CHECK(s.HttpStatus("/api/v1/lineage?dataset=" + s.dataset, s.approver) == 403);

  json up = s.Json({"lineage", "churn", "2"}, s.approver);
  CHECK(up["parents"][0]["digest"] == s.v1);
  auto up_text = Story::Ok(Modelreg({"lineage", "churn", "2"}, s.approver)).out;
  CHECK(up_text.find("parent:     churn v1") != std::string::npos);

  json diff = s.Json({"diff", "churn", "1", "2"}, s.approver);
  CHECK(diff["params"][0]["name"] == "depth");
  CHECK(diff["params"][0]["from"] == 3);
  CHECK(diff["params"][0]["to"] == 5);
  CHECK(diff["files"]["added"][0]["path"] == "README");
  CHECK(diff["files"]["changed"][0]["path"] == "model.bin");
  auto diff_text = Story::Ok(Modelreg({"diff", "churn", "1", "2"}, s.approver)).out;
  CHECK(diff_text.find("file added   README") != std::string::npos);

  // Provenance: written, verified with the pinned key, and with openssl alone.
  const std::string prov = s.t / "prov.json", key = s.t / "release.pem";
  Story::Ok(Modelreg({"provenance", "churn", "2", "-o", prov}, s.auditor));
  WriteFile(key, Story::Ok(Modelreg({"key", "export"}, s.auditor)).out);
  auto ok = Story::Ok(Modelreg({"provenance", "verify", prov, "--trust-key", key, "--digest", s.v2}, s.auditor));
  CHECK(ok.out.find("provenance verified: churn version 2") != std::string::npos);
  const std::string recipe = std::string(MODELREG_SOURCE_DIR) + "/scripts/verify-provenance";
  auto openssl = Run({recipe, prov, key});
  INFO(openssl.err);
  CHECK(openssl.exit_code == 0);
  CHECK(openssl.out.find(s.v2.substr(7)) != std::string::npos);

  // One changed byte in the statement: both refuse.
  json env = json::parse(ReadFile(prov));
  auto forged = Run({"python3", "-c",
                     "import base64,json,sys; e=json.load(open(sys.argv[1])); p=base64.b64decode(e['payload']);"
                     "p=p.replace(b'\"depth\":5', b'\"depth\":6'); e['payload']=base64.b64encode(p).decode();"
                     "json.dump(e, open(sys.argv[2], 'w'))",
                     prov, s.t / "forged.json"});
  REQUIRE(forged.exit_code == 0);
  auto bad = Modelreg({"provenance", "verify", s.t / "forged.json", "--trust-key", key}, s.auditor);
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("signature") != std::string::npos);
  CHECK(Run({recipe, s.t / "forged.json", key}).exit_code != 0);
  // The right signature for another version is not this version's provenance.
  CHECK(Modelreg({"provenance", "verify", prov, "--trust-key", key, "--digest", s.v1}, s.auditor).exit_code == 1);
}

TEST_CASE("pull --stage fetches the version in that stage") {
  Story s;
  auto r = Story::Ok(Modelreg({"pull", "churn", "--stage", "production", s.t / "prod", "--json"}, s.auditor));
  json j = json::parse(r.out);
  CHECK(j["version"] == 1);
  CHECK(j["digest"] == s.v1);
  CHECK(ReadFile(s.t / "prod/model.bin") == "weights one");
  auto none = Modelreg({"pull", "churn", "--stage", "staging", s.t / "staging"}, s.auditor);
  CHECK(none.exit_code == 3);
  CHECK(none.err.find("no version of churn is in stage staging") != std::string::npos);
  CHECK(!fs::exists(s.t / "staging"));
  CHECK(Modelreg({"pull", "churn", "--stage", "live", s.t / "x"}, s.auditor).exit_code == 2);
  CHECK(Modelreg({"pull", "churn", "--stage", "production", "2", s.t / "x"}, s.auditor).exit_code == 2);
}

TEST_CASE("audit live pages a large fleet") {
  Story s;
  for (int i = 0; i < 5; ++i)
    s.AgentPost("/api/v1/agents/edge-" + std::to_string(i) + "/status",
                {{"host", "h"}, {"model", "churn"}, {"version", 1}, {"digest", s.v1}, {"state", "serving"}});
  httplib::Client c(s.server.url());
  c.set_bearer_token_auth(s.auditor.at("MODELREG_TOKEN"));
  auto page = json::parse(c.Get("/api/v1/models/churn/live?at=" + std::to_string(4102444800000) + "&limit=2")->body);
  CHECK(page["total_agents"] == 5);
  CHECK(page["agents"].size() == 2);
  CHECK(page["next_offset"] == 2);
  auto last = json::parse(c.Get("/api/v1/models/churn/live?at=4102444800000&limit=2&offset=4")->body);
  CHECK(last["agents"].size() == 1);
  CHECK(last["agents"][0]["agent"] == "edge-4");
  CHECK(!last.contains("next_offset"));
  // The CLI fetches every page.
  json all = s.Json({"audit", "live", "--model", "churn", "--at", "2100-01-01"}, s.auditor);
  CHECK(all["agents"].size() == 5);
}
