// The reference profile of a version (docs/monitoring.md) against a real
// server: registered as the bundle file .modelreg/profile.json with
// lineage.profile naming it, checked on intake, served by
// GET /api/v1/models/{m}/versions/{v}/profile.
#include "core/profile.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "api/api_util.h"
#include "core/file_util.h"
#include "core/profile_builder.h"

using namespace modelreg;
using namespace modelreg::testing;
using nlohmann::json;

namespace {

std::string SampleProfile() {
  ProfileOptions o;
  o.dataset = "train";
  o.target = "label";
  auto p = BuildProfile("age,city,label\n30,Paris,1\n45,Lyon,0\n,Paris,1\n61,Nice,0\n", "train.csv", o);
  REQUIRE(p.ok());
  return SerializeProfile(*p);
}

int Upload(Http& h, const std::string& bytes) {
  auto r = h.Post("/api/v1/blobs/uploads?digest=" + Digest::Of(bytes).str(), bytes, "application/octet-stream");
  REQUIRE(r);
  return r->status;
}

// Registers "churn" by hand: a weights file, `files` besides, and a lineage
// record whose profile reference is `ref`.
httplib::Result RegisterRaw(Http& h, const std::optional<ProfileRef>& ref,
                            const std::vector<std::pair<std::string, std::string>>& extra) {
  LineageRecord l = Lineage("churn");
  l.profile = ref;
  const std::string config = SerializeLineage(l);
  std::vector<std::pair<std::string, std::string>> files = {{"model.bin", "weights"}};
  files.insert(files.end(), extra.begin(), extra.end());
  std::sort(files.begin(), files.end());  // a manifest lists its layers by path
  REQUIRE(Upload(h, config) / 100 == 2);
  for (const auto& [path, bytes] : files) REQUIRE(Upload(h, bytes) / 100 == 2);
  return h.Put("/api/v1/models/churn/versions", ManifestJson(config, files));
}

}  // namespace

TEST_CASE("register with a profile: the bundle file, lineage.profile and GET .../profile") {
  ServerProcess server;
  TempDir t;
  WriteFile(t / "b/model.bin", "weights");
  const std::string profile = SampleProfile();
  auto c = Client(server, server.admin_token());
  auto out = c->Register("churn", t / "b", Lineage("churn"), profile);
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  CHECK(out->stats.files == 2);

  Http h(server.url(), server.admin_token());
  auto got = h.Get("/api/v1/models/churn/versions/1/profile");
  REQUIRE(got);
  CHECK(got->status == 200);
  CHECK(got->body == profile);
  auto lineage = json::parse(h.Get("/api/v1/models/churn/versions/1/lineage")->body);
  CHECK(lineage["profile"]["digest"] == Digest::Of(profile).str());
  CHECK(lineage["profile"]["size"] == profile.size());

  // The profile travels with the bundle, verified like any file.
  auto pulled = c->Pull("churn", "1", t / "pulled");
  REQUIRE(pulled.ok());
  CHECK(ReadSmallFile(t / "pulled/.modelreg/profile.json").value() == profile);

  // A bundle that already holds the path is refused before anything is sent.
  WriteFile(t / "b/.modelreg/profile.json", profile);
  auto twice = c->Register("churn", t / "b", Lineage("churn"), profile);
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.status().message().find("already holds .modelreg/profile.json") != std::string::npos);
}

TEST_CASE("GET .../profile: 404 no_profile for a version without one, 404 for no version") {
  ServerProcess server;
  Http h(server.url(), server.admin_token());
  auto r = RegisterRaw(h, std::nullopt, {});
  REQUIRE(r);
  REQUIRE(r->status == 201);
  auto none = h.Get("/api/v1/models/churn/versions/1/profile");
  REQUIRE(none);
  CHECK(none->status == 404);
  CHECK(ErrorCode(none) == "no_profile");
  CHECK(ErrorMessage(none) == "version 1 of churn was registered without a reference profile");
  auto missing = h.Get("/api/v1/models/churn/versions/9/profile");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(ErrorCode(missing) != "no_profile");
}

TEST_CASE("register refuses a lineage.profile without its layer, with another digest or size, or not a profile") {
  ServerProcess server;
  Http h(server.url(), server.admin_token());
  const std::string profile = SampleProfile();
  const ProfileRef ref{Digest::Of(profile), profile.size()};

  auto no_layer = RegisterRaw(h, ref, {});
  REQUIRE(no_layer);
  CHECK(no_layer->status == 400);
  CHECK(ErrorMessage(no_layer).find("the bundle has no file .modelreg/profile.json") != std::string::npos);

  const std::string other = profile + " ";
  auto wrong = RegisterRaw(h, ref, {{".modelreg/profile.json", other}});
  REQUIRE(wrong);
  CHECK(wrong->status == 400);
  CHECK(ErrorMessage(wrong).find("does not match the bundle file .modelreg/profile.json") != std::string::npos);

  const std::string garbage = R"({"format":"modelreg.profile.v1"})";
  auto bad = RegisterRaw(h, ProfileRef{Digest::Of(garbage), garbage.size()}, {{".modelreg/profile.json", garbage}});
  REQUIRE(bad);
  CHECK(bad->status == 400);
  INFO(ErrorMessage(bad));
  CHECK(ErrorMessage(bad).find("the bundle file .modelreg/profile.json: profile.dataset is required") !=
        std::string::npos);

  auto ok = RegisterRaw(h, ref, {{".modelreg/profile.json", profile}});
  REQUIRE(ok);
  INFO(ok->body);
  CHECK(ok->status == 201);
}
