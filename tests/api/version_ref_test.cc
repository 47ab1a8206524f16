// Names for versions in REST paths (service/version_ref.h): a number, a
// digest, a unique digest prefix, production/staging, latest; and the
// refusals.
#include <SQLiteCpp/SQLiteCpp.h>

#include <catch2/catch.hpp>

#include "api/api_util.h"

using namespace modelreg;
using namespace modelreg::testing;
using nlohmann::json;

namespace {

struct ThreeVersions {
  ServerProcess server;
  TempDir t;
  std::vector<std::string> digests;  // of versions 1, 2, 3
  ThreeVersions() {
    for (int i = 1; i <= 3; ++i) {
      const std::string dir = t / ("b" + std::to_string(i));
      WriteFile(dir + "/m.bin", "model " + std::to_string(i));
      auto r = Client(server, server.admin_token())->Register("churn", dir, Lineage("churn"));
      INFO(r.status().ToString());
      REQUIRE(r.ok());
      digests.push_back(r->version["digest"].get<std::string>());
    }
  }
  httplib::Result Get(const std::string& ref, const std::string& tail = "") {
    return Http(server.url(), server.admin_token()).Get("/api/v1/models/churn/versions/" + ref + tail);
  }
  int64_t NumberOf(const std::string& ref) {
    auto r = Get(ref);
    REQUIRE(r);
    INFO(ref << ": " << r->body);
    REQUIRE(r->status == 200);
    return json::parse(r->body)["version"].get<int64_t>();
  }
  void Stage(int v, const std::string& to) {
    auto r = Http(server.url(), server.admin_token())
                 .Post("/api/v1/models/churn/versions/" + std::to_string(v) + "/stage",
                       (to == "production" ? json{{"to", to}, {"override", "test"}} : json{{"to", to}}).dump());
    INFO(r->body);
    REQUIRE(r->status == 200);
  }
};

}  // namespace

TEST_CASE("version names in REST paths: number, digest, digest prefix, stage, latest") {
  ThreeVersions reg;
  CHECK(reg.NumberOf("2") == 2);
  CHECK(reg.NumberOf(reg.digests[0]) == 1);
  CHECK(reg.NumberOf(reg.digests[1].substr(0, 7 + 12)) == 2);  // sha256: and 12 hex, as tables print
  CHECK(reg.NumberOf(reg.digests[2].substr(7, 12)) == 3);      // the bare prefix
  CHECK(reg.NumberOf(reg.digests[2].substr(7)) == 3);          // all 64 hex without sha256:
  CHECK(reg.NumberOf("latest") == 3);

  auto none = reg.Get("production");
  CHECK(none->status == 404);
  CHECK(ErrorMessage(none) == "model 'churn' has no version in production");
  reg.Stage(1, "staging");
  reg.Stage(2, "staging");
  reg.Stage(2, "production");
  CHECK(reg.NumberOf("production") == 2);
  CHECK(reg.NumberOf("staging") == 1);

  // The same names in the other version routes: manifest, lineage, the
  // workflow, and the audit log's version filter.
  CHECK(reg.Get("latest", "/manifest")->status == 200);
  CHECK(reg.Get(reg.digests[0].substr(7, 12), "/lineage")->status == 200);
  Http admin(reg.server.url(), reg.server.admin_token());
  auto archived = admin.Post("/api/v1/models/churn/versions/staging/archive", json{{"reason", "by name"}}.dump());
  INFO(archived->body);
  CHECK(archived->status == 200);
  CHECK(json::parse(reg.Get("1")->body)["stage"] == "archived");
  auto events = admin.Get("/api/v1/audit/events?model=churn&version=production");
  INFO(events->body);
  REQUIRE(events->status == 200);
  bool any = false;
  const json listed = json::parse(events->body);
  for (const auto& e : listed["events"]) {
    CHECK(e["version"] == 2);
    any = true;
  }
  CHECK(any);
}

TEST_CASE("version names: malformed, short, unknown and ambiguous names are refused clearly", "[sqlite]") {
  ThreeVersions reg;
  auto bad = reg.Get("prod");
  CHECK(bad->status == 400);
  CHECK(ErrorMessage(bad).find("is not a number, a digest (sha256:...), a digest prefix of at least 12 hex digits, "
                               "production, staging or latest") != std::string::npos);
  auto short_prefix = reg.Get(reg.digests[0].substr(7, 8));
  CHECK(short_prefix->status == 400);
  CHECK(ErrorMessage(short_prefix).find("at least 12 hex digits") != std::string::npos);
  CHECK(reg.Get("0")->status == 400);
  CHECK(reg.Get("sha256:xyz")->status == 400);
  auto missing_number = reg.Get("9");
  CHECK(missing_number->status == 404);
  CHECK(ErrorMessage(missing_number) == "version 9 of model 'churn' not found");
  auto missing_prefix = reg.Get("ffffffffffff0000");
  CHECK(missing_prefix->status == 404);
  CHECK(ErrorMessage(missing_prefix).find("has a digest starting ffffffffffff0000") != std::string::npos);
  auto no_model = Http(reg.server.url(), reg.server.admin_token()).Get("/api/v1/models/nope/versions/latest");
  CHECK(no_model->status == 404);
  CHECK(ErrorMessage(no_model) == "model 'nope' not found");

  // Two digests sharing 12 hex digits (made so in the database: a 48-bit
  // collision does not happen by chance): the prefix names both, a longer
  // one only one.
  {
    SQLite::Database db(reg.server.data_dir() + "/registry.db", SQLite::OPEN_READWRITE);
    db.setBusyTimeout(10000);
    db.exec("UPDATE versions SET digest = 'sha256:0123456789ab' || substr(digest, 20) WHERE number IN (1, 2)");
  }
  auto ambiguous = reg.Get("0123456789ab");
  INFO(ambiguous->body);
  CHECK(ambiguous->status == 400);
  CHECK(ErrorMessage(ambiguous).find("version prefix 0123456789ab is ambiguous: 2 versions") != std::string::npos);
  const auto details = json::parse(ambiguous->body)["error"]["details"];
  REQUIRE(details.size() == 2);
  CHECK(details[0].get<std::string>().rfind("version 1: sha256:0123456789ab", 0) == 0);
  CHECK(details[1].get<std::string>().rfind("version 2: sha256:0123456789ab", 0) == 0);
  CHECK(reg.NumberOf("0123456789ab" + reg.digests[1].substr(19, 8)) == 2);
}
