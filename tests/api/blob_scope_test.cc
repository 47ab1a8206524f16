// Knowing a digest grants nothing (issue #21 item 4): a token limited to
// some models reaches a stored blob (HEAD, `missing`, samples, linking it
// into a version) only if a version of a model it can read holds it, or it
// uploaded those bytes itself. Anything else is answered as absent.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "api/api_util.h"
#include "core/file_util.h"
#include "core/lineage_record.h"
#include "core/manifest.h"

using namespace modelreg;
using namespace modelreg::testing;
using nlohmann::json;

namespace {

int UploadStatus(Http& h, const std::string& bytes) {
  auto r = h.Post("/api/v1/blobs/uploads?digest=" + Digest::Of(bytes).str(), bytes, "application/octet-stream");
  REQUIRE(r);
  INFO(r->body);
  return r->status;
}

int BatchStatus(Http& h, const std::vector<std::string>& blobs) {
  std::string body;
  for (const auto& b : blobs) body += Digest::Of(b).str() + " " + std::to_string(b.size()) + "\n" + b;
  auto r = h.Post("/api/v1/blobs/batch", body, "application/octet-stream");
  REQUIRE(r);
  INFO(r->body);
  return r->status;
}

int HeadStatus(Http& h, const std::string& bytes) {
  auto r = h.Head("/api/v1/blobs/" + Digest::Of(bytes).str());
  REQUIRE(r);
  return r->status;
}

json Missing(Http& h, const std::vector<std::string>& blobs) {
  json digests = json::array();
  for (const auto& b : blobs) digests.push_back(Digest::Of(b).str());
  auto r = h.Post("/api/v1/blobs/missing", json{{"digests", digests}}.dump());
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  return json::parse(r->body)["missing"];
}

// The indices of `blobs` that the registry says some blob may be, by size
// and sample.
json MaybePresent(Http& h, const TempDir& t, const std::vector<std::string>& blobs) {
  json samples = json::array();
  for (const auto& b : blobs) {
    WriteFile(t / "probe", b);
    UniqueFd fd(::open((t / "probe").c_str(), O_RDONLY | O_CLOEXEC));
    samples.push_back({{"size", b.size()}, {"sample", SampleFd(fd.get(), b.size(), "probe")->str()}});
  }
  auto r = h.Post("/api/v1/blobs/missing", json{{"digests", json::array()}, {"samples", samples}}.dump());
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  return json::parse(r->body)["maybe_present"];
}

struct Fixture {
  ServerProcess server;
  TempDir t;
  // Two files of the fraud model, registered by the admin; and one of churn.
  const std::string fraud_a = std::string(5000, 'F') + "fraud weights";
  const std::string fraud_b = "fraud feature list";
  const std::string churn_file = "churn weights";
  Fixture() {
    Http admin(server.url(), server.admin_token());
    const std::string fraud_config = SerializeLineage(Lineage("fraud"));
    const std::string churn_config = SerializeLineage(Lineage("churn"));
    for (const auto* b : {&fraud_a, &fraud_b, &fraud_config, &churn_file, &churn_config})
      REQUIRE(UploadStatus(admin, *b) == 201);
    REQUIRE(admin.Put("/api/v1/models/fraud/versions", ManifestJson(fraud_config, {{"a", fraud_a}, {"b", fraud_b}}))
                ->status == 201);
    REQUIRE(admin.Put("/api/v1/models/churn/versions", ManifestJson(churn_config, {{"w", churn_file}}))->status == 201);
  }
};

}  // namespace

TEST_CASE("a trainer limited to churn* learns nothing of fraud's blobs and cannot link them by digest") {
  Fixture f;
  Http trainer(f.server.url(), f.server.CreateToken("churn-trainer", "trainer", {"churn*"}));
  const std::string never_stored = "bytes nobody uploaded";

  // HEAD, `missing` and the samples probe answer as for an absent blob.
  CHECK(HeadStatus(trainer, f.fraud_a) == 404);
  CHECK(HeadStatus(trainer, never_stored) == 404);
  CHECK(Missing(trainer, {f.fraud_a, f.fraud_b, f.churn_file}) ==
        json::array({Digest::Of(f.fraud_a).str(), Digest::Of(f.fraud_b).str()}));
  CHECK(MaybePresent(trainer, f.t, {f.fraud_a, f.churn_file}) == json::array({1}));

  // A manifest naming fraud's digest is refused exactly as one naming a
  // blob never uploaded, and nothing is registered.
  const std::string config = SerializeLineage(Lineage("churn-leak"));
  REQUIRE(UploadStatus(trainer, config) == 201);
  auto leak = trainer.Put("/api/v1/models/churn-leak/versions", ManifestJson(config, {{"w", f.fraud_a}}));
  auto absent = trainer.Put("/api/v1/models/churn-leak/versions", ManifestJson(config, {{"w", never_stored}}));
  REQUIRE(leak);
  REQUIRE(absent);
  INFO(leak->body);
  CHECK(leak->status == 422);
  CHECK(ErrorCode(leak) == "FAILED_PRECONDITION");
  CHECK(leak->body.find(Digest::Of(f.fraud_a).str()) != std::string::npos);
  CHECK(absent->status == leak->status);
  CHECK(ErrorMessage(absent) == ErrorMessage(leak));
  CHECK(json::parse(leak->body)["error"]["details"] == json::array({"file 'w' " + Digest::Of(f.fraud_a).str()}));
  CHECK(trainer.Get("/api/v1/models/churn-leak/versions")->status == 404);
  auto download = trainer.Get("/api/v1/models/churn-leak/blobs/" + Digest::Of(f.fraud_a).str());
  REQUIRE(download);
  CHECK((download->status == 404 || download->status == 403));
  CHECK(download->body.find("fraud weights") == std::string::npos);

  // Its own model's blobs, uploaded by another token, it reaches.
  CHECK(HeadStatus(trainer, f.churn_file) == 200);
  auto own = trainer.Put("/api/v1/models/churn-leak/versions", ManifestJson(config, {{"w", f.churn_file}}));
  REQUIRE(own);
  INFO(own->body);
  CHECK(own->status == 201);
}

TEST_CASE("a limited trainer that uploads the same bytes itself may then link them") {
  Fixture f;
  Http trainer(f.server.url(), f.server.CreateToken("churn-trainer", "trainer", {"churn*"}));
  const std::string config = SerializeLineage(Lineage("churn-copy"));
  REQUIRE(UploadStatus(trainer, config) == 201);
  // Monolithic (a session's finish), and a batch: each records the uploader.
  CHECK(UploadStatus(trainer, f.fraud_a) == 201);
  CHECK(BatchStatus(trainer, {f.fraud_b}) == 200);
  CHECK(HeadStatus(trainer, f.fraud_a) == 200);
  CHECK(HeadStatus(trainer, f.fraud_b) == 200);
  CHECK(Missing(trainer, {f.fraud_a, f.fraud_b}) == json::array());
  CHECK(MaybePresent(trainer, f.t, {f.fraud_a}) == json::array({0}));
  auto reg =
      trainer.Put("/api/v1/models/churn-copy/versions", ManifestJson(config, {{"a", f.fraud_a}, {"b", f.fraud_b}}));
  REQUIRE(reg);
  INFO(reg->body);
  CHECK(reg->status == 201);
  auto got = trainer.Get("/api/v1/models/churn-copy/blobs/" + Digest::Of(f.fraud_a).str());
  REQUIRE(got);
  CHECK(got->status == 200);
  CHECK(got->body == f.fraud_a);

  // A failed upload (wrong bytes for the digest) records nothing.
  Http other(f.server.url(), f.server.CreateToken("churn-other", "trainer", {"churn-x*"}));
  auto wrong = other.Post("/api/v1/blobs/uploads?digest=" + Digest::Of(f.churn_file).str(), "not the bytes",
                          "application/octet-stream");
  REQUIRE(wrong);
  CHECK(wrong->status == 400);
  CHECK(HeadStatus(other, f.churn_file) == 404);
}

TEST_CASE("two limited trainers uploading the same bytes at once may each link them") {
  Fixture f;
  const std::string bytes = std::string(3 << 20, 'z') + "shared base weights";
  std::vector<std::string> tokens = {f.server.CreateToken("t-a", "trainer", {"team-a*"}),
                                     f.server.CreateToken("t-b", "trainer", {"team-b*"})};
  std::vector<int> status(2, 0);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < 2; ++i)
    threads.emplace_back([&, i] {
      Http h(f.server.url(), tokens[i]);
      auto r = h.Post("/api/v1/blobs/uploads?digest=" + Digest::Of(bytes).str(), bytes, "application/octet-stream");
      status[i] = r ? r->status : -1;
    });
  for (auto& th : threads) th.join();
  CHECK(status == std::vector<int>{201, 201});
  for (size_t i = 0; i < 2; ++i) {
    Http h(f.server.url(), tokens[i]);
    const std::string model = i == 0 ? "team-a" : "team-b";
    const std::string config = SerializeLineage(Lineage(model));
    REQUIRE(UploadStatus(h, config) == 201);
    auto reg = h.Put("/api/v1/models/" + model + "/versions", ManifestJson(config, {{"w", bytes}}));
    REQUIRE(reg);
    INFO(reg->body);
    CHECK(reg->status == 201);
  }
  // A third, limited token that uploaded nothing still sees neither.
  Http third(f.server.url(), f.server.CreateToken("t-c", "trainer", {"team-c*"}));
  CHECK(HeadStatus(third, bytes) == 404);
}

TEST_CASE("tokens not limited to some models reach every blob, limited readers their models' blobs") {
  Fixture f;
  Http admin(f.server.url(), f.server.admin_token());
  Http trainer(f.server.url(), f.server.CreateToken("any-trainer", "trainer"));
  for (Http* h : {&admin, &trainer}) {
    CHECK(HeadStatus(*h, f.fraud_a) == 200);
    CHECK(Missing(*h, {f.fraud_a, f.churn_file}) == json::array());
    CHECK(MaybePresent(*h, f.t, {f.fraud_a, f.churn_file}) == json::array({0, 1}));
  }
  // A blob uploaded but in no version yet: only its uploader (and unlimited
  // tokens) reach it.
  Http churn(f.server.url(), f.server.CreateToken("churn-trainer", "trainer", {"churn*"}));
  Http churn2(f.server.url(), f.server.CreateToken("churn-trainer-2", "trainer", {"churn*"}));
  REQUIRE(UploadStatus(churn, "not yet registered") == 201);
  CHECK(HeadStatus(churn, "not yet registered") == 200);
  CHECK(HeadStatus(admin, "not yet registered") == 200);
  CHECK(HeadStatus(churn2, "not yet registered") == 404);

  Http fraud_agent(f.server.url(), f.server.CreateToken("fraud-agent", "agent", {"fraud*"}));
  CHECK(HeadStatus(fraud_agent, f.fraud_a) == 200);
  CHECK(HeadStatus(fraud_agent, f.churn_file) == 404);
}
