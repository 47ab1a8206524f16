// Decisions: idempotent batch ingest by agents, lookup by auditors.
#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <thread>

#include "api/api_util.h"

using namespace modelreg;
using namespace modelreg::testing;
using nlohmann::json;

namespace {

json Decision(const std::string& id, const std::string& digest, int64_t at_ms = 1790000000000) {
  return {{"request_id", id},
          {"model", "churn"},
          {"version", 1},
          {"digest", digest},
          {"agent_id", "web-1"},
          {"at_ms", at_ms},
          {"input_sha256", Digest::Of("input " + id).hex()}};
}

// A server with churn version 1 registered, an agent (web-1) and an auditor.
struct DecisionServer {
  ServerProcess server;
  TempDir t;
  std::string digest = RegisterOne(server, t);
  Http agent{server.url(), server.CreateToken("web-1", "agent")};
  Http auditor{server.url(), server.CreateToken("aud", "auditor")};

  static std::string RegisterOne(ServerProcess& s, TempDir& t) {
    WriteFile(t / "b/m.bin", "model");
    auto reg = Client(s, s.admin_token())->Register("churn", t / "b", Lineage("churn"));
    REQUIRE(reg.ok());
    return reg->version["digest"];
  }
};

}  // namespace

TEST_CASE("decisions: batch ingest is idempotent by request id, lookup by id") {
  DecisionServer ds;
  ServerProcess& server = ds.server;
  const std::string& digest = ds.digest;
  Http& agent = ds.agent;
  Http& auditor = ds.auditor;
  Http trainer(server.url(), server.CreateToken("tr", "trainer"));

  json batch = {{"decisions", json::array()}};
  for (int i = 0; i < 1000; ++i) batch["decisions"].push_back(Decision("req-" + std::to_string(i), digest));
  auto r1 = agent.Post("/api/v1/decisions", batch.dump());
  REQUIRE(r1);
  INFO(r1->body);
  CHECK(r1->status == 200);
  CHECK(json::parse(r1->body)["accepted"] == 1000);
  // The same batch again (an agent resending after a crash): nothing stored twice.
  auto r2 = agent.Post("/api/v1/decisions", batch.dump());
  CHECK(json::parse(r2->body)["accepted"] == 0);
  CHECK(json::parse(r2->body)["duplicates"] == 1000);

  auto got = auditor.Get("/api/v1/decisions/req-7");
  REQUIRE(got);
  REQUIRE(got->status == 200);
  auto d = json::parse(got->body);
  CHECK(d["digest"] == digest);
  CHECK(d["agent_id"] == "web-1");
  CHECK(d["version"] == 1);
  CHECK(d["input_sha256"] == Digest::Of("input req-7").hex());
  CHECK(auditor.Get("/api/v1/decisions/nope")->status == 404);

  // Roles: only agents send, trainers do not read.
  CHECK(trainer.Post("/api/v1/decisions", batch.dump())->status == 403);
  CHECK(trainer.Get("/api/v1/decisions/req-7")->status == 403);
  CHECK(auditor.Post("/api/v1/decisions", batch.dump())->status == 403);

  // Bad input is refused whole, with the index of the bad entry.
  json bad = {{"decisions", {Decision("ok-1", digest), Decision("bad id", digest)}}};
  auto rb = agent.Post("/api/v1/decisions", bad.dump());
  CHECK(rb->status == 400);
  CHECK(ErrorMessage(rb).find("decisions[1]") != std::string::npos);
  CHECK(auditor.Get("/api/v1/decisions/ok-1")->status == 404);
  CHECK(agent.Post("/api/v1/decisions", "{\"decisions\": 5}")->status == 400);

  // The CLI: audit decision ID.
  auto cli = Modelreg({"audit", "decision", "req-7"}, server.Env(server.admin_token()));
  INFO(cli.err);
  CHECK(cli.exit_code == 0);
  CHECK(cli.out.find(digest) != std::string::npos);
  CHECK(cli.out.find("agent:      web-1") != std::string::npos);
  CHECK(cli.out.find("metric:     auc = 0.9") != std::string::npos);
}

TEST_CASE("decisions: batches sent at once are each answered for their own rows, a bad one stores nothing") {
  // On SQLite, batches that arrive while another commits are stored together
  // in one transaction (service/decision_ops.cc): each must still get its own
  // count of new rows and duplicates, and a batch with a bad row is refused
  // whole without touching the others.
  DecisionServer ds;
  const std::string agent_token = ds.server.CreateToken("web-2", "agent");
  constexpr int kThreads = 6, kBatches = 8, kRows = 300;
  std::atomic<long> accepted{0}, duplicates{0}, failures{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      Http agent(ds.server.url(), agent_token);
      for (int b = 0; b < kBatches; ++b) {
        // Each thread's batch b overlaps the next thread's by half: the
        // same ids race in different batches.
        json batch = {{"decisions", json::array()}};
        for (int i = 0; i < kRows; ++i)
          batch["decisions"].push_back(
              Decision("g-" + std::to_string(b) + "-" + std::to_string(t * kRows / 2 + i), ds.digest));
        if (b % 3 == 2) {  // a bad batch: its last row has a bad digest
          batch["decisions"][kRows - 1]["digest"] = "sha256:nope";
          batch["decisions"][0]["request_id"] = "bad-" + std::to_string(t) + "-" + std::to_string(b);
          auto r = agent.Post("/api/v1/decisions", batch.dump());
          if (!r || r->status != 400 ||
              ErrorMessage(r).find("decisions[" + std::to_string(kRows - 1) + "]") == std::string::npos)
            ++failures;
          continue;
        }
        auto r = agent.Post("/api/v1/decisions", batch.dump());
        if (!r || r->status != 200) {
          ++failures;
          continue;
        }
        auto a = json::parse(r->body);
        if (a["accepted"].get<long>() + a["duplicates"].get<long>() != kRows) ++failures;
        accepted += a["accepted"].get<long>();
        duplicates += a["duplicates"].get<long>();
      }
    });
  for (auto& t : ts) t.join();
  CHECK(failures == 0);
  // The distinct ids of the good batches: each counted new exactly once.
  std::set<std::string> ids;
  for (int b = 0; b < kBatches; ++b)
    if (b % 3 != 2)
      for (int t = 0; t < kThreads; ++t)
        for (int i = 0; i < kRows; ++i) ids.insert("g-" + std::to_string(b) + "-" + std::to_string(t * kRows / 2 + i));
  CHECK(accepted == static_cast<long>(ids.size()));
  long good_rows = 0;
  for (int b = 0; b < kBatches; ++b)
    if (b % 3 != 2) good_rows += kThreads * kRows;
  CHECK(accepted + duplicates == good_rows);
  CHECK(ds.auditor.Get("/api/v1/decisions/g-0-0")->status == 200);
  CHECK(ds.auditor.Get("/api/v1/decisions/bad-0-2")->status == 404);  // a bad batch's own id: not stored
  // An id only a bad batch held (thread 5's upper half of batch 2): not stored.
  CHECK(ds.auditor.Get("/api/v1/decisions/g-2-" + std::to_string(5 * kRows / 2 + kRows - 2))->status == 404);
}

TEST_CASE("decisions: every output round-trips exactly, duplicates inside one batch count once, NUL is refused") {
  DecisionServer ds;
  const std::string& digest = ds.digest;
  Http& agent = ds.agent;
  Http& auditor = ds.auditor;

  // Characters that mean something in SQL or in a PostgreSQL array literal.
  const std::vector<std::string> outputs = {"{\"label\": \"churn\", \"p\": 0.93}",
                                            "a,b}{c",
                                            "back\\slash \\\"",
                                            "NULL",
                                            "",
                                            " spaced ",
                                            "'quoted' $1 ?",
                                            "caf\u00e9 \u6a21\u578b \U0001F600",
                                            std::string(60000, 'x')};
  json batch = {{"decisions", json::array()}};
  for (size_t i = 0; i < outputs.size(); ++i) {
    json d = Decision("out-" + std::to_string(i), digest);
    d["output"] = outputs[i];
    batch["decisions"].push_back(d);
  }
  json no_output = Decision("out-none", digest);
  no_output.erase("version");
  batch["decisions"].push_back(no_output);
  batch["decisions"].push_back(Decision("out-0", digest));  // the same id twice in one batch
  auto r = agent.Post("/api/v1/decisions", batch.dump());
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  CHECK(json::parse(r->body)["accepted"] == outputs.size() + 1);
  CHECK(json::parse(r->body)["duplicates"] == 1);
  for (size_t i = 0; i < outputs.size(); ++i) {
    auto got = auditor.Get("/api/v1/decisions/out-" + std::to_string(i));
    REQUIRE(got);
    REQUIRE(got->status == 200);
    CHECK(json::parse(got->body)["output"] == outputs[i]);
  }
  auto none = auditor.Get("/api/v1/decisions/out-none");
  REQUIRE(none);
  REQUIRE(none->status == 200);
  auto nd = json::parse(none->body);
  CHECK((!nd.contains("output") || nd["output"].is_null()));
  CHECK((!nd.contains("version") || nd["version"].is_null()));

  json nul = {{"decisions", {Decision("nul-1", digest)}}};
  nul["decisions"][0]["output"] = std::string("before\0after", 12);
  auto rn = agent.Post("/api/v1/decisions", nul.dump());
  REQUIRE(rn);
  CHECK(rn->status == 400);
  CHECK(ErrorMessage(rn).find("NUL") != std::string::npos);
  CHECK(auditor.Get("/api/v1/decisions/nul-1")->status == 404);
}

TEST_CASE("decisions: the arm, rollout and fallback that answered are stored and returned, old-style ones have none") {
  DecisionServer ds;
  const std::string& digest = ds.digest;
  Http& agent = ds.agent;
  Http& auditor = ds.auditor;

  // More than one SQLite statement's worth of rows (250), each kind spread over them.
  json batch = {{"decisions", json::array()}};
  for (int i = 0; i < 600; ++i) {
    json d = Decision("arm-" + std::to_string(i), digest);
    if (i % 3 == 0) {
      d["arm"] = "candidate";
      d["rollout_id"] = 7;
      d["fallback"] = "previous";
    } else if (i % 3 == 1) {
      d["arm"] = "baseline";
      d["rollout_id"] = 8;
    }  // else an old-style decision: no rollout, no fallback
    batch["decisions"].push_back(d);
  }
  json static_only = Decision("arm-static", digest);
  static_only["fallback"] = "static";  // a fallback without a rollout
  batch["decisions"].push_back(static_only);
  auto r = agent.Post("/api/v1/decisions", batch.dump());
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  CHECK(json::parse(r->body)["accepted"] == 601);

  auto get = [&](const std::string& id) {
    auto g = auditor.Get("/api/v1/decisions/" + id);
    REQUIRE(g);
    INFO(g->body);
    REQUIRE(g->status == 200);
    return json::parse(g->body);
  };
  for (int i : {0, 297, 597}) {  // i % 3 == 0, in each of the three statements
    json d = get("arm-" + std::to_string(i));
    CHECK(d["arm"] == "candidate");
    CHECK(d["rollout_id"] == 7);
    CHECK(d["fallback"] == "previous");
  }
  json b = get("arm-1");
  CHECK(b["arm"] == "baseline");
  CHECK(b["rollout_id"] == 8);
  CHECK(!b.contains("fallback"));
  json old = get("arm-2");
  CHECK(!old.contains("arm"));
  CHECK(!old.contains("rollout_id"));
  CHECK(!old.contains("fallback"));
  CHECK(old["version"] == 1);
  json st = get("arm-static");
  CHECK(st["fallback"] == "static");
  CHECK(!st.contains("arm"));

  // The audit story carries them too.
  auto audit = auditor.Get("/api/v1/decisions/arm-3/audit");
  REQUIRE(audit);
  REQUIRE(audit->status == 200);
  json a = json::parse(audit->body);
  CHECK(a["decision"]["arm"] == "candidate");
  CHECK(a["decision"]["rollout_id"] == 7);
  CHECK(a["decision"]["fallback"] == "previous");

  // Bad values are refused whole, naming the entry and the field.
  const std::vector<std::pair<json, std::string>> bad = {
      {{{"arm", "canary"}, {"rollout_id", 7}}, R"(decisions[1].arm: want "baseline" or "candidate", got "canary")"},
      {{{"arm", "candidate"}, {"rollout_id", 0}}, "decisions[1].rollout_id: want a positive integer, got 0"},
      {{{"fallback", "none"}}, R"(decisions[1].fallback: want "previous" or "static", got "none")"},
      {{{"rollout_id", "7"}, {"arm", "baseline"}},
       "decisions[1].rollout_id: want a positive integer or null, got string"},
      {{{"arm", "candidate"}}, "decisions[1]: arm needs the rollout_id of its rollout"},
      {{{"rollout_id", 7}}, "decisions[1]: rollout_id needs the arm that answered (baseline or candidate)"}};
  for (const auto& [fields, message] : bad) {
    json second = Decision("bad-2", digest);
    second.update(fields);
    auto rb = agent.Post("/api/v1/decisions", json({{"decisions", {Decision("bad-1", digest), second}}}).dump());
    REQUIRE(rb);
    INFO(fields.dump() << ": " << rb->body);
    CHECK(rb->status == 400);
    CHECK(ErrorCode(rb) == "INVALID_ARGUMENT");
    CHECK(ErrorMessage(rb) == message);
  }
  CHECK(auditor.Get("/api/v1/decisions/bad-1")->status == 404);
}

namespace {

// Peak resident set (VmHWM) of process `pid`, in KiB.
long PeakRssKib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

}  // namespace

TEST_CASE("decisions: a hostile batch is refused while parsing, without growing the server") {
  ServerProcess server;
  Http agent(server.url(), server.CreateToken("web-1", "agent"));
  REQUIRE(agent.Post("/api/v1/decisions", R"({"decisions":[]})")->status == 200);
  const long before = PeakRssKib(server.pid());
  REQUIRE(before > 0);

  // 1 000 001 empty objects (3 MB): once a 300 MB tree before the cap was checked.
  std::string many = "{\"decisions\":[";
  many.reserve(3'100'000);
  for (int i = 0; i < 1'000'001; ++i) many += i ? ",{}" : "{}";
  many += "]}";
  auto r = agent.Post("/api/v1/decisions", many);
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == 413);
  CHECK(ErrorMessage(r).find("at most 10000 decisions") != std::string::npos);

  // Deep nesting inside a member the parser does not know.
  std::string deep = "{\"decisions\":[{\"x\":" + std::string(1'000'000, '[') + std::string(1'000'000, ']') + "}]}";
  auto rd = agent.Post("/api/v1/decisions", deep);
  REQUIRE(rd);
  CHECK(rd->status == 400);
  CHECK(ErrorMessage(rd).find("nests deeper than") != std::string::npos);

  // A 4 MiB string where 128 characters belong.
  std::string huge = "{\"decisions\":[{\"request_id\":\"" + std::string(4 << 20, 'a') + "\"}]}";
  auto rh = agent.Post("/api/v1/decisions", huge);
  REQUIRE(rh);
  CHECK(rh->status == 400);
  CHECK(ErrorMessage(rh).find("decisions[0].request_id: longer than") != std::string::npos);

  const long after = PeakRssKib(server.pid());
  INFO("server peak RSS " << before << " KiB before, " << after << " KiB after");
  CHECK(after - before < 64 * 1024);
}

TEST_CASE("decisions: a field of the wrong type is refused naming the field and index") {
  DecisionServer ds;
  const std::string& digest = ds.digest;
  Http& agent = ds.agent;
  Http& auditor = ds.auditor;

  const std::vector<std::pair<std::string, json>> wrong = {{"request_id", 5},          {"model", true},
                                                           {"version", "1"},           {"version", 1.5},
                                                           {"digest", nullptr},        {"agent_id", json::array()},
                                                           {"at_ms", "1790000000000"}, {"input_sha256", json::object()},
                                                           {"output", {{"x", 1}}},     {"output", 7}};
  for (const auto& [field, value] : wrong) {
    json second = Decision("t-2", digest);
    second[field] = value;
    json body = {{"decisions", {Decision("t-1", digest), second}}};
    auto r = agent.Post("/api/v1/decisions", body.dump());
    REQUIRE(r);
    INFO(field << " = " << value.dump() << ": " << r->body);
    CHECK(r->status == 400);
    CHECK(ErrorCode(r) == "INVALID_ARGUMENT");
    CHECK(ErrorMessage(r).find("decisions[1]." + field + ": want ") != std::string::npos);
  }
  CHECK(auditor.Get("/api/v1/decisions/t-1")->status == 404);

  // What an agent sends stays accepted: null for the optional fields, and
  // members this registry does not know (a newer agent's).
  json ok = Decision("t-3", digest);
  ok["version"] = nullptr;
  ok["output"] = nullptr;
  ok["latency_ms"] = {{"p", {1, 2, {{"q", nullptr}}}}};
  json with_output = Decision("t-4", digest);
  with_output["output"] = "{\"score\":0.93}";
  auto r = agent.Post("/api/v1/decisions", json({{"decisions", {ok, with_output}}, {"agent", "web-1"}}).dump());
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == 200);
  CHECK(json::parse(r->body)["accepted"] == 2);
  auto got = json::parse(auditor.Get("/api/v1/decisions/t-4")->body);
  CHECK(got["output"] == "{\"score\":0.93}");
}

TEST_CASE("an encoded '/' stays inside its path segment: ids with '/' are reachable, routes are not spliced") {
  ServerProcess server;
  TempDir t;
  WriteFile(t / "b/m.bin", "model");
  auto reg = Client(server, server.admin_token())->Register("churn", t / "b", Lineage("churn"));
  REQUIRE(reg.ok());
  Http agent(server.url(), server.CreateToken("web-1", "agent"));
  Http admin(server.url(), server.admin_token());
  json batch = {{"decisions", {Decision("tenant/42", reg->version["digest"])}}};
  REQUIRE(agent.Post("/api/v1/decisions", batch.dump())->status == 200);

  // The request id "tenant/42" is one segment when its '/' is encoded.
  auto d = admin.Get("/api/v1/decisions/tenant%2F42");
  REQUIRE(d);
  INFO(d->body);
  CHECK(d->status == 200);
  CHECK(json::parse(d->body)["request_id"] == "tenant/42");
  // Its audit story too, although "42/audit" would otherwise look like the audit route.
  CHECK(admin.Get("/api/v1/decisions/tenant%2F42/audit")->status == 200);
  // "1%2Fapprovals" names a version called "1/approvals", not version 1's approvals.
  auto spliced = admin.Get("/api/v1/models/churn/versions/1%2Fapprovals");
  REQUIRE(spliced);
  INFO(spliced->body);
  CHECK(spliced->status == 400);
  CHECK(spliced->body.find("approvals\":[") == std::string::npos);
  // An encoded segment of a literal part of a path matches no route.
  CHECK(admin.Get("/api/v1/models%2Fchurn")->status == 404);
}
