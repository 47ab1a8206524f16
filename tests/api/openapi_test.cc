// The OpenAPI description (docs/openapi.json, served at
// /api/v1/openapi.json) describes exactly the route table: every operation
// of api::Routes() is in it with the same path and method, and it names no
// operation the table lacks.
#include <catch2/catch.hpp>
#include <regex>
#include <set>

#include "api/api_util.h"
#include "api/handler.h"
#include "api/openapi_doc.h"

namespace modelreg::testing {
namespace {

// "/api/v1/models/([^/]+)/versions/([^/]+)" -> "/api/v1/models/{}/versions/{}"
std::string RouteTemplate(std::string pattern) {
  for (size_t p; (p = pattern.find("([^/]+)")) != std::string::npos;) pattern.replace(p, 7, "{}");
  for (size_t p; (p = pattern.find("\\.")) != std::string::npos;) pattern.erase(p, 1);
  return pattern;
}

// "/api/v1/models/{model}/versions/{version}" -> "/api/v1/models/{}/versions/{}"
std::string DocTemplate(const std::string& path) { return std::regex_replace(path, std::regex(R"(\{[^}]+\})"), "{}"); }

std::string Lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

TEST_CASE("the OpenAPI description lists every route of the route table and nothing else") {
  auto doc = nlohmann::json::parse(api::OpenApiDocument());
  REQUIRE(doc["openapi"].get<std::string>().rfind("3.", 0) == 0);
  REQUIRE(doc["paths"].is_object());

  std::set<std::string> table, described;
  std::set<std::string> public_ops;
  for (const auto& r : api::Routes()) {
    const std::string key = Lower(r.method) + " " + RouteTemplate(r.pattern);
    INFO(key);
    CHECK(table.insert(key).second);  // the table has no duplicate
    if (!r.authenticated) public_ops.insert(key);
  }
  for (const auto& [path, ops] : doc["paths"].items()) {
    // Every {param} in a path is declared as a required path parameter.
    std::set<std::string> in_path;
    static const std::regex kParam(R"(\{([^}]+)\})");
    for (std::sregex_iterator it(path.begin(), path.end(), kParam), end; it != end; ++it)
      in_path.insert((*it)[1].str());
    for (const auto& [method, op] : ops.items()) {
      const std::string key = method + " " + DocTemplate(path);
      INFO(key);
      described.insert(key);
      CHECK(op.contains("operationId"));
      CHECK(op.contains("summary"));
      CHECK(!op["responses"].empty());
      std::set<std::string> declared;
      for (const auto& p : op.value("parameters", nlohmann::json::array()))
        if (p["in"] == "path") {
          CHECK(p["required"] == true);
          declared.insert(p["name"].get<std::string>());
        }
      CHECK(declared == in_path);
      // An operation open to everyone says so (security: []) and only those do.
      const bool open = op.contains("security") && op["security"].empty();
      CHECK(open == (public_ops.count(key) == 1));
    }
  }
  std::set<std::string> missing, extra;
  for (const auto& k : table)
    if (!described.count(k)) missing.insert(k);
  for (const auto& k : described)
    if (!table.count(k)) extra.insert(k);
  INFO("in the route table but not in docs/openapi.json: " << nlohmann::json(missing).dump());
  INFO("in docs/openapi.json but not in the route table: " << nlohmann::json(extra).dump());
  CHECK(missing.empty());
  CHECK(extra.empty());
}

TEST_CASE("the registry serves its OpenAPI description without a token") {
  ServerProcess server;
  Http anon(server.url(), "");
  auto r = anon.Get("/api/v1/openapi.json");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == "application/json");
  auto doc = nlohmann::json::parse(r->body, nullptr, false);
  REQUIRE(!doc.is_discarded());
  CHECK(doc["info"]["title"] == "modelreg REST API");
  CHECK(doc["paths"].contains("/api/v1/models/{model}/versions/{version}/stage"));
}

}  // namespace modelreg::testing
