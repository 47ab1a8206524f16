// The models and versions lists (docs/api.md, "Lists"): ?q=, ?stage=,
// ?sort=/&order=, ?limit= with page_token stable under inserts, 400 for bad
// values; no parameter keeps the whole list in today's order. Also the
// audit log's new filters and its page_token, and the read-only gate
// checklist of a version.
#include <catch2/catch.hpp>
#include <set>

#include "api/api_util.h"

using namespace modelreg;
using namespace modelreg::testing;
using nlohmann::json;

namespace {

struct Lists {
  ServerProcess server;
  TempDir t;
  std::string admin = server.admin_token();
  std::string trainer = server.CreateToken("trainer", "trainer");
  int n = 0;
  int64_t Register(const std::string& model, double auc) {
    std::string dir = t / ("b" + std::to_string(++n));
    WriteFile(dir + "/m.bin", "model " + std::to_string(n));
    LineageRecord l;
    l.model = model;
    l.metrics["auc"] = auc;
    auto r = Client(server, trainer)->Register(model, dir, l);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return r->version["version"].get<int64_t>();
  }
  json Get(const std::string& path) {
    Http h(server.url(), admin);
    auto r = h.Get(path);
    REQUIRE(r);
    INFO(path << " " << r->body);
    REQUIRE(r->status == 200);
    return json::parse(r->body);
  }
  // Every page of `path` (which already has its ?), following next_page_token.
  std::vector<json> All(const std::string& path, const char* key, int* pages) {
    std::vector<json> out;
    std::string token;
    *pages = 0;
    for (;;) {
      json j = Get(path + (token.empty() ? "" : "&page_token=" + token));
      ++*pages;
      for (auto& x : j[key]) out.push_back(x);
      if (!j.contains("next_page_token")) return out;
      token = j["next_page_token"];
    }
  }
};

std::vector<int64_t> Numbers(const std::vector<json>& rows) {
  std::vector<int64_t> out;
  for (const auto& r : rows) out.push_back(r["version"]);
  return out;
}

}  // namespace

TEST_CASE("lists: versions page with limit and page_token, sort by a metric, filter by stage and q") {
  Lists l;
  for (int i = 1; i <= 7; ++i) l.Register("churn", 0.5 + 0.01 * ((i * 3) % 7));
  // No parameter: every version, oldest first, as before.
  json all = l.Get("/api/v1/models/churn/versions");
  CHECK(all["versions"].size() == 7);
  CHECK(all["total"] == 7);
  CHECK(!all.contains("next_page_token"));
  CHECK(all["versions"][0]["version"] == 1);

  int pages = 0;
  auto paged = l.All("/api/v1/models/churn/versions?limit=3", "versions", &pages);
  CHECK(pages == 3);
  CHECK(Numbers(paged) == std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7});

  auto desc = l.All("/api/v1/models/churn/versions?limit=2&sort=version&order=desc", "versions", &pages);
  CHECK(Numbers(desc) == std::vector<int64_t>{7, 6, 5, 4, 3, 2, 1});

  // By auc, highest first: (i*3)%7 for i=1..7 is 3,6,2,5,1,4,0.
  auto by_auc = l.All("/api/v1/models/churn/versions?limit=2&sort=metric:auc&order=desc", "versions", &pages);
  CHECK(Numbers(by_auc) == std::vector<int64_t>{2, 4, 6, 1, 3, 5, 7});

  json q = l.Get("/api/v1/models/churn/versions?q=v7");
  REQUIRE(q["versions"].size() == 1);
  CHECK(q["versions"][0]["version"] == 7);
  CHECK(l.Get("/api/v1/models/churn/versions?q=TRAINER")["total"] == 7);
  CHECK(l.Get("/api/v1/models/churn/versions?stage=production")["versions"].empty());
  CHECK(l.Get("/api/v1/models/churn/versions?stage=none")["total"] == 7);
}

TEST_CASE("lists: a page token stays right when versions are registered between pages") {
  Lists l;
  for (int i = 1; i <= 4; ++i) l.Register("churn", 0.9);
  // Newest first, two per page: a version registered after the first page
  // sorts before it, so the next pages neither repeat nor skip a version.
  json p1 = l.Get("/api/v1/models/churn/versions?limit=2&order=desc");
  CHECK(Numbers({p1["versions"].begin(), p1["versions"].end()}) == std::vector<int64_t>{4, 3});
  l.Register("churn", 0.9);
  json p2 =
      l.Get("/api/v1/models/churn/versions?limit=2&order=desc&page_token=" + p1["next_page_token"].get<std::string>());
  CHECK(Numbers({p2["versions"].begin(), p2["versions"].end()}) == std::vector<int64_t>{2, 1});
  CHECK(!p2.contains("next_page_token"));
  CHECK(p2["total"] == 5);
}

TEST_CASE("lists: models filtered by q, sorted by a column, paged") {
  Lists l;
  for (const char* m : {"churn", "fraud", "churn-eu", "ranker", "churn-us"}) l.Register(m, 0.9);
  l.Register("churn-us", 0.9);
  json all = l.Get("/api/v1/models");
  CHECK(all["models"].size() == 5);
  CHECK(all["models"][0]["name"] == "churn");  // by name, as before
  int pages = 0;
  auto churn = l.All("/api/v1/models?q=CHURN&limit=2", "models", &pages);
  REQUIRE(churn.size() == 3);
  CHECK(pages == 2);
  CHECK(churn[0]["name"] == "churn");
  CHECK(churn[2]["name"] == "churn-us");
  json by_count = l.Get("/api/v1/models?sort=version_count&order=desc&limit=1");
  CHECK(by_count["models"][0]["name"] == "churn-us");
  CHECK(by_count["total"] == 5);
  CHECK(l.Get("/api/v1/models?q=nothing-like-this")["models"].empty());
}

TEST_CASE("lists: bad list parameters get a 400 naming the parameter") {
  Lists l;
  l.Register("churn", 0.9);
  l.Register("churn", 0.9);
  Http h(l.server.url(), l.admin);
  json p1 = l.Get("/api/v1/models/churn/versions?limit=1");
  struct Case {
    std::string path, message;
  };
  const Case cases[] = {
      {"/api/v1/models?limit=0", "limit must be a whole number from 1 to 1000"},
      {"/api/v1/models?limit=1001", "limit must be a whole number from 1 to 1000"},
      {"/api/v1/models?sort=size", "sort must be one of name, version_count"},
      {"/api/v1/models?sort=metric:auc", "sort must be one of"},
      {"/api/v1/models?order=up", "order must be asc or desc"},
      {"/api/v1/models?page_token=zz", "page_token is not one this server gave out"},
      {"/api/v1/models/churn/versions?stage=prod", "stage must be none, staging, production"},
      {"/api/v1/models/churn/versions?sort=metric:", "sort must be one of version"},
      {"/api/v1/models/churn/versions?order=desc&page_token=" + p1["next_page_token"].get<std::string>(),
       "page_token was made for another sort or order"},
      {"/api/v1/audit/events?page_token=7b7d", "page_token was not made by the audit log"},
      {"/api/v1/audit/events?until=yesterday", "until: bad time 'yesterday'"},
  };
  for (const Case& c : cases) {
    INFO(c.path);
    auto r = h.Get(c.path);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(ErrorCode(r) == "INVALID_ARGUMENT");
    CHECK_THAT(ErrorMessage(r), Catch::Contains(c.message));
  }
}

TEST_CASE("lists: audit events filtered by actor, action and time, paged by page_token") {
  Lists l;
  for (int i = 0; i < 3; ++i) l.Register("churn", 0.9);
  Http h(l.server.url(), l.admin);
  REQUIRE(h.Post("/api/v1/models/churn/versions/1/stage", R"({"to":"staging"})")->status == 200);
  json reg = l.Get("/api/v1/audit/events?action=register&actor=trainer");
  CHECK(reg["events"].size() == 3);
  for (const auto& e : reg["events"]) CHECK(e["action"] == "register");
  CHECK(l.Get("/api/v1/audit/events?actor=nobody")["events"].empty());
  CHECK(l.Get("/api/v1/audit/events?until=2000-01-01T00:00:00Z")["events"].empty());
  CHECK(l.Get("/api/v1/audit/events?action=register&since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z")["events"]
            .size() == 3);
  int pages = 0;
  auto events = l.All("/api/v1/audit/events?action=register&limit=2", "events", &pages);
  CHECK(events.size() == 3);
  CHECK(pages == 2);
  std::set<int64_t> seqs;
  for (const auto& e : events) seqs.insert(e["seq"].get<int64_t>());
  CHECK(seqs.size() == 3);
}

TEST_CASE("lists: the gate checklist of a version says each check, approvals and readiness") {
  Lists l;
  l.Register("churn", 0.90);
  l.Register("churn", 0.80);
  Http h(l.server.url(), l.admin);
  auto set = h.Put("/api/v1/models/churn/policy", R"({"approvals":1,"gates":["auc >= 0.85","auc >= production"]})",
                   "application/json");
  REQUIRE(set);
  INFO(set->body);
  REQUIRE(set->status == 200);
  json g = l.Get("/api/v1/models/churn/versions/2/gates");
  CHECK(g["ready"] == false);
  CHECK(g["approvals"] == 0);
  CHECK(g["approvals_required"] == 1);
  CHECK(g["production_version"].is_null());
  REQUIRE(g["checks"].size() == 3);
  CHECK(g["checks"][0]["check"] == "approvals >= 1");
  CHECK(g["checks"][0]["ok"] == false);
  CHECK(g["checks"][1]["check"] == "auc >= 0.85");
  CHECK(g["checks"][1]["ok"] == false);
  CHECK(g["checks"][1]["actual"] == 0.80);
  CHECK(g["checks"][1]["against"] == 0.85);
  CHECK(g["checks"][2]["ok"] == true);  // nothing in production to compare with
  CHECK_THAT(g["checks"][2]["detail"].get<std::string>(), Catch::Contains("no production version"));
  // Nothing changed: still version 2 in stage none, and unknown versions 404.
  CHECK(l.Get("/api/v1/models/churn/versions/2")["stage"] == "none");
  CHECK(h.Get("/api/v1/models/churn/versions/9/gates")->status == 404);
}
