// Tokens and roles over real HTTP (docs/roles.md).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "api/api_util.h"

using namespace modelreg;
using namespace modelreg::testing;
using nlohmann::json;

namespace {

struct Fixture {
  ServerProcess server;
  TempDir t;
  std::map<std::string, std::string> tokens;
  Fixture() {
    for (const char* role : {"trainer", "approver", "agent", "auditor"})
      tokens[role] = server.CreateToken(std::string(role) + "-1", role);
    tokens["admin"] = server.admin_token();
    WriteFile(t / "b/model.bin", "weights");
    auto c = Client(server, tokens["admin"]);
    REQUIRE(c->Register("churn", t / "b", Lineage("churn")).ok());
  }
};

}  // namespace

TEST_CASE("admin token is bootstrapped into DATA/admin.token with mode 0600, never logged") {
  ServerProcess server;
  struct stat sb;
  REQUIRE(stat((server.data_dir() + "/admin.token").c_str(), &sb) == 0);
  CHECK((sb.st_mode & 0777) == 0600);
  CHECK(server.admin_token().rfind("mr_", 0) == 0);
  CHECK(server.admin_token().size() == 46);
  Http h(server.url(), server.admin_token());
  REQUIRE(h.Get("/api/v1/models")->status == 200);
  CHECK(server.log().find(server.admin_token()) == std::string::npos);
  CHECK(server.log().find("admin.token") != std::string::npos);
}

TEST_CASE("missing, malformed, unknown and revoked tokens get 401, /healthz and /readyz need none") {
  Fixture f;
  Http h(f.server.url(), "");
  CHECK(h.Get("/healthz")->status == 200);
  CHECK(h.Get("/readyz")->status == 200);  // Kubernetes probes carry no token
  for (const char* path : {"/api/v1/models", "/metrics", "/api/v1/models/churn/versions"}) {
    auto r = h.Get(path);
    REQUIRE(r);
    CHECK(r->status == 401);
    CHECK(ErrorCode(r) == "UNAUTHENTICATED");
    CHECK(r->get_header_value("WWW-Authenticate").find("Bearer") != std::string::npos);
  }
  h.set_token("not-a-token");
  CHECK(h.Get("/api/v1/models")->status == 401);
  h.set_token("mr_" + std::string(43, 'A'));
  CHECK(ErrorMessage(h.Get("/api/v1/models")) == "unknown token");

  std::string doomed = f.server.CreateToken("doomed", "trainer");
  Http d(f.server.url(), doomed);
  CHECK(d.Get("/api/v1/models")->status == 200);
  Http admin(f.server.url(), f.tokens["admin"]);
  CHECK(admin.Delete("/api/v1/tokens/doomed")->status == 204);
  auto r = d.Get("/api/v1/models");
  REQUIRE(r);
  CHECK(r->status == 401);
  CHECK(ErrorMessage(r).find("revoked") != std::string::npos);
  // A body is not read before authentication fails.
  auto up = d.Post("/api/v1/blobs/uploads?digest=" + Digest::Of("x").str(), "x", "application/octet-stream");
  REQUIRE(up);
  CHECK(up->status == 401);
}

TEST_CASE("roles: trainer registers, agent and auditor read, only admin manages tokens") {
  Fixture f;
  struct Case {
    std::string method, path;
    std::set<std::string> allowed;
  };
  const std::string blob = Digest::Of("weights").str();
  std::vector<Case> cases = {
      {"GET", "/api/v1/models", {"admin", "trainer", "approver", "agent", "auditor"}},
      {"GET", "/api/v1/models/churn/versions", {"admin", "trainer", "approver", "agent", "auditor"}},
      {"GET", "/api/v1/models/churn/versions/1/manifest", {"admin", "trainer", "approver", "agent", "auditor"}},
      {"GET", "/api/v1/models/churn/blobs/" + blob, {"admin", "trainer", "approver", "agent", "auditor"}},
      {"POST", "/api/v1/blobs/missing", {"admin", "trainer"}},
      {"POST", "/api/v1/blobs/uploads", {"admin", "trainer"}},
      {"PUT", "/api/v1/models/churn/versions", {"admin", "trainer"}},
      {"GET", "/api/v1/tokens", {"admin"}},
      {"POST", "/api/v1/tokens", {"admin"}},
  };
  for (const auto& c : cases) {
    for (const auto& [role, token] : f.tokens) {
      Http h(f.server.url(), token);
      httplib::Result r = c.method == "GET" ? h.Get(c.path)
                          : c.method == "PUT"
                              ? h.Put(c.path, "{}", "application/json")
                              : h.Post(c.path, "{\"digests\":[],\"name\":\"x-" + role + "\",\"role\":\"agent\"}");
      REQUIRE(r);
      INFO(c.method << " " << c.path << " as " << role << " -> " << r->status << " " << r->body);
      if (c.allowed.count(role)) CHECK((r->status != 401 && r->status != 403));
      else CHECK(r->status == 403);
    }
  }
}

TEST_CASE("a trainer scoped to fraud-* cannot touch churn") {
  Fixture f;
  std::string scoped = f.server.CreateToken("fraud-trainer", "trainer", {"fraud-*"});
  auto c = Client(f.server, scoped);
  WriteFile(f.t / "f/model.bin", "fraud weights");
  auto ok = c->Register("fraud-eu", f.t / "f", Lineage("fraud-eu"));
  INFO(ok.status().ToString());
  CHECK(ok.ok());
  auto denied = c->Register("churn", f.t / "f", Lineage("churn"));
  CHECK(denied.status().code() == StatusCode::kPermissionDenied);
  Http h(f.server.url(), scoped);
  CHECK(h.Get("/api/v1/models/churn/versions")->status == 403);
  CHECK(h.Get("/api/v1/models/churn/versions/1/manifest")->status == 403);
  CHECK(h.Get("/api/v1/models/churn/blobs/" + Digest::Of("weights").str())->status == 403);
  // Unscoped blob reads would bypass the scope.
  CHECK(h.Get("/api/v1/blobs/" + Digest::Of("weights").str())->status == 403);
  auto list = h.Get("/api/v1/models");
  REQUIRE(list);
  auto models = json::parse(list->body)["models"];
  REQUIRE(models.size() == 1);
  CHECK(models[0]["name"] == "fraud-eu");
}

TEST_CASE("tokens over REST: create once-shown, list without secrets, revoke, last admin kept") {
  Fixture f;
  Http admin(f.server.url(), f.tokens["admin"]);
  auto created = admin.Post("/api/v1/tokens", R"({"name":"ci","role":"trainer","models":["churn*"]})");
  REQUIRE(created);
  REQUIRE(created->status == 201);
  std::string tok = json::parse(created->body)["token"];
  CHECK(tok.rfind("mr_", 0) == 0);
  auto dup = admin.Post("/api/v1/tokens", R"({"name":"ci","role":"trainer"})");
  CHECK(dup->status == 409);
  CHECK(admin.Post("/api/v1/tokens", R"({"name":"x","role":"emperor"})")->status == 400);
  CHECK(admin.Post("/api/v1/tokens", R"({"name":"bad name!","role":"agent"})")->status == 400);
  auto list = admin.Get("/api/v1/tokens");
  REQUIRE(list);
  CHECK(list->body.find(tok) == std::string::npos);
  CHECK(list->body.find("\"ci\"") != std::string::npos);
  auto last = admin.Delete("/api/v1/tokens/admin");
  REQUIRE(last);
  CHECK(last->status == 422);
  CHECK(admin.Delete("/api/v1/tokens/nobody")->status == 404);
  // The database holds only hashes.
  for (const char* file : {"/registry.db", "/registry.db-wal"})
    if (std::filesystem::exists(f.server.data_dir() + file))
      CHECK(ReadFile(f.server.data_dir() + file).find(tok) == std::string::npos);
}

TEST_CASE("a token past its expiry gets 401 naming when it expired, also from the token cache") {
  ServerProcess server;
  Http admin(server.url(), server.admin_token());
  auto create = [&](json body) { return admin.Post("/api/v1/tokens", body.dump()); };

  auto r = create({{"name", "short"}, {"role", "agent"}, {"expires_in_s", 1}});
  REQUIRE(r);
  REQUIRE(r->status == 201);
  auto made = json::parse(r->body);
  REQUIRE(made["expires_at"].is_string());
  CHECK(made["expired"] == false);
  Http agent(server.url(), made["token"].get<std::string>());
  // Used within its second: works (and is now in the server's token cache).
  CHECK(agent.Get("/api/v1/models")->status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto late = agent.Get("/api/v1/models");
  REQUIRE(late);
  CHECK(late->status == 401);
  CHECK(ErrorCode(late) == "UNAUTHENTICATED");
  CHECK(ErrorMessage(late) == "token 'short' expired at " + made["expires_at"].get<std::string>());
  // Listed as expired; it does not count as a live admin either.
  auto list = json::parse(admin.Get("/api/v1/tokens")->body)["tokens"];
  bool listed = false;
  for (const auto& t : list)
    if (t["name"] == "short") listed = t["expired"] == true && t["revoked"] == false;
  CHECK(listed);

  // An absolute expiry, as a time or epoch ms; refused when not in the future or malformed.
  CHECK(create({{"name", "later"}, {"role", "auditor"}, {"expires_at", "2999-01-01T00:00:00Z"}})->status == 201);
  auto past = create({{"name", "past"}, {"role", "auditor"}, {"expires_at", "2020-01-01"}});
  CHECK(past->status == 400);
  CHECK(ErrorMessage(past).find("not in the future") != std::string::npos);
  CHECK(create({{"name", "bad1"}, {"role", "auditor"}, {"expires_at", "soon"}})->status == 400);
  CHECK(create({{"name", "bad2"}, {"role", "auditor"}, {"expires_at", true}})->status == 400);
  CHECK(create({{"name", "bad3"}, {"role", "auditor"}, {"expires_in_s", -5}})->status == 400);
  CHECK(create({{"name", "bad4"}, {"role", "auditor"}, {"expires_in_s", 60}, {"expires_at", 1}})->status == 400);
  const json after = json::parse(admin.Get("/api/v1/tokens")->body);
  for (const auto& t : after["tokens"])
    CHECK(t["name"].get<std::string>().rfind("bad", 0) != 0);  // nothing half-created

  // The last admin that has not expired may not be revoked.
  auto adm = create({{"name", "admin-2"}, {"role", "admin"}, {"expires_in_s", 1}});
  REQUIRE(adm->status == 201);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto last = admin.Delete("/api/v1/tokens/admin");
  CHECK(last->status == 422);  // admin-2 has expired: "admin" is the last live one
  CHECK(ErrorMessage(last).find("last admin token") != std::string::npos);
}
