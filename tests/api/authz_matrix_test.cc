// The authorization matrix: every role against every route of the route
// table, expected outcome computed from the same role -> action table.
#include <catch2/catch.hpp>
#include <regex>

#include "api/api_util.h"
#include "api/handler.h"
#include "auth/permissions.h"

using namespace modelreg;
using namespace modelreg::testing;

namespace {

// A concrete path for a route pattern: fills each capture group.
std::string ConcretePath(const api::Route& r, const std::string& model) {
  std::string name = r.name;
  std::vector<std::string> args;
  if (name.rfind("uploads.", 0) == 0) args = {std::string(32, 'a')};
  else if (name == "blobs.get") args = {Digest::Of("weights").str()};
  else if (name == "tokens.revoke") args = {"nobody"};
  else if (name == "models.blob") args = {model, Digest::Of("weights").str()};
  else if (name == "ui.asset") args = {"app.js"};
  else args = {model, "1"};
  std::string path = r.pattern;
  for (const auto& a : args) {
    auto pos = path.find("([^/]+)");
    if (pos == std::string::npos) break;
    path.replace(pos, 7, a);
  }
  for (size_t p; (p = path.find("\\.")) != std::string::npos;) path.erase(p, 1);  // openapi\.json
  return path;
}

httplib::Result Call(Http& h, const api::Route& r, const std::string& path) {
  std::string m = r.method;
  if (m == "GET") return h.Get(path);
  if (m == "DELETE") return h.Delete(path);
  if (m == "PUT") return h.Put(path, "{}", "application/json");
  if (m == "PATCH") return h.Patch(path, "");
  return h.Post(path, "{}", "application/json");
}

bool Allowed(Role role, const api::Route& r) {
  if (r.any_of.empty()) return true;
  for (Action a : r.any_of)
    if (RoleAllows(role, a)) return true;
  return false;
}

}  // namespace

TEST_CASE("authorization matrix: every role x every endpoint, from the rules table") {
  ServerProcess server;
  TempDir t;
  std::map<Role, std::string> tokens = {{Role::kAdmin, server.admin_token()}};
  for (Role r : {Role::kTrainer, Role::kApprover, Role::kAgent, Role::kAuditor})
    tokens[r] = server.CreateToken(std::string("matrix-") + RoleName(r), RoleName(r));
  WriteFile(t / "b/model.bin", "weights");
  // Registered by the trainer, so that approvers and the admin may approve it.
  REQUIRE(Client(server, tokens[Role::kTrainer])->Register("churn", t / "b", Lineage("churn")).ok());

  size_t checked = 0;
  for (const auto& route : api::Routes()) {
    const std::string path = ConcretePath(route, "churn");
    Http anon(server.url(), "");
    auto a = Call(anon, route, path);
    REQUIRE(a);
    INFO(route.method << " " << path << " without a token -> " << a->status);
    if (route.authenticated) CHECK(a->status == 401);
    else CHECK((a->status == 200 || a->status == 302));  // "/" redirects to the UI
    for (const auto& [role, token] : tokens) {
      Http h(server.url(), token);
      auto r = Call(h, route, path);
      REQUIRE(r);
      INFO(route.method << " " << path << " as " << RoleName(role) << " -> " << r->status << " " << r->body);
      if (Allowed(role, route)) CHECK((r->status != 401 && r->status != 403));
      else CHECK(r->status == 403);
      ++checked;
    }
  }
  CHECK(checked == api::Routes().size() * tokens.size());
}

TEST_CASE("scoped tokens are refused on every model endpoint outside their globs") {
  ServerProcess server;
  TempDir t;
  WriteFile(t / "b/model.bin", "weights");
  REQUIRE(Client(server, server.admin_token())->Register("churn", t / "b", Lineage("churn")).ok());
  std::map<std::string, std::string> scoped;
  for (const char* role : {"admin", "trainer", "approver", "agent", "auditor"})
    scoped[role] = server.CreateToken(std::string("fraud-") + role, role, {"fraud-*"});
  for (const auto& route : api::Routes()) {
    const std::string path = ConcretePath(route, "churn");
    if (path.find("/models/churn") == std::string::npos) continue;
    for (const auto& [role, token] : scoped) {
      Http h(server.url(), token);
      auto r = Call(h, route, path);
      REQUIRE(r);
      INFO(route.method << " " << path << " as scoped " << role << " -> " << r->status << " " << r->body);
      CHECK(r->status == 403);
    }
  }
}
