// Decisions: idempotent batch ingest by agents, lookup by auditors.
#include <catch2/catch.hpp>

#include "api/api_util.h"

using namespace modelreg;
using namespace modelreg::testing;
using nlohmann::json;

namespace {

json Decision(const std::string& id, const std::string& digest, int64_t at_ms = 1790000000000) {
  return {{"request_id", id},  {"model", "churn"},     {"version", 1},
          {"digest", digest},  {"agent_id", "web-1"},  {"at_ms", at_ms},
          {"input_sha256", Digest::Of("input " + id).hex()}};
}

}  // namespace

TEST_CASE("decisions: batch ingest is idempotent by request id, lookup by id") {
  ServerProcess server;
  TempDir t;
  WriteFile(t / "b/m.bin", "model");
  auto reg = Client(server, server.admin_token())->Register("churn", t / "b", Lineage("churn"));
  REQUIRE(reg.ok());
  const std::string digest = reg->version["digest"];
  Http agent(server.url(), server.CreateToken("web-1", "agent"));
  Http auditor(server.url(), server.CreateToken("aud", "auditor"));
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
