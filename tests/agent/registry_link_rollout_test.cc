// RegistryLink and rollouts (issue #26; docs/agent.md "Rollouts"): the
// signed release's "rollout" is parsed and checked after the signature,
// an inconsistent one refuses the release; the report carries the per-arm
// counts. A registry stand-in (httplib, in process) signs with a real key.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "auth/signing.h"
#include "registry_link.h"
#include "support/temp_dir.h"

namespace modelreg::agent {
namespace {

using nlohmann::json;

const std::string kHexA(64, 'a'), kHexB(64, 'b');

struct StandIn {
  testing::TempDir t;
  std::unique_ptr<SigningKey> key = std::move(SigningKey::LoadOrCreate(t.path()).value());
  httplib::Server svr;
  std::thread th;
  int port = 0;
  std::mutex mu;
  json predicate;
  std::vector<json> reports;
  StandIn() {
    svr.Get("/api/v1/models/churn/release", [this](const httplib::Request&, httplib::Response& res) {
      std::lock_guard<std::mutex> l(mu);
      const std::string hex = predicate["digest"].get<std::string>().substr(7);
      json st = {{"_type", "https://in-toto.io/Statement/v1"},
                 {"subject", {{{"name", "churn"}, {"digest", {{"sha256", hex}}}}}},
                 {"predicateType", "https://modelreg.dev/release/v1"},
                 {"predicate", predicate}};
      res.set_content(SignDsse(*key, kInTotoPayloadType, st.dump()), "application/json");
    });
    svr.Post("/api/v1/agents/a1/status", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> l(mu);
      reports.push_back(json::parse(req.body));
      res.set_content("{}", "application/json");
    });
    port = svr.bind_to_any_port("127.0.0.1");
    th = std::thread([this] { svr.listen_after_bind(); });  // bound and listening: clients queue meanwhile
  }
  ~StandIn() {
    svr.stop();
    th.join();
  }
  std::unique_ptr<RegistryLink> Link() {
    Options o;
    o.registry = "http://127.0.0.1:" + std::to_string(port);
    o.token = "mr_test";
    o.model = "churn";
    o.stage = "production";
    o.id = "a1";
    o.interval_s = 1;
    return std::make_unique<RegistryLink>(o, std::move(VerifyKey::FromPem(key->public_pem()).value()));
  }
};

json Rollout() {
  return {{"id", 7},
          {"mode", "canary"},
          {"step", 2},
          {"weight_bp", 2500},
          {"salt", "9f2c"},
          {"key_header", ""},
          {"baseline", {{"version", 3}, {"digest", "sha256:" + kHexA}}},
          {"candidate", {{"version", 4}, {"digest", "sha256:" + kHexB}}}};
}

}  // namespace

TEST_CASE("registry link: a signed release carries its rollout, an inconsistent one is refused") {
  StandIn reg;
  reg.predicate = {{"model", "churn"}, {"stage", "production"}, {"version", 3}, {"digest", "sha256:" + kHexA},
                   {"seq", 12},        {"issued_at_ms", 1}};
  auto link = reg.Link();
  // No rollout: one arm.
  auto got = link->PollRelease(-1, 1);
  REQUIRE(got.ok());
  REQUIRE(got->has_value());
  CHECK_FALSE((*got)->rollout.has_value());
  // With one.
  reg.predicate["rollout"] = Rollout();
  got = link->PollRelease(-1, 1);
  REQUIRE(got.ok());
  REQUIRE((*got)->rollout.has_value());
  const RolloutSpec& r = *(*got)->rollout;
  CHECK(r.id == 7);
  CHECK(r.step == 2);
  CHECK(r.weight_bp == 2500);
  CHECK(r.key_header.empty());
  CHECK(r.baseline_version == 3);
  CHECK(r.candidate_version == 4);
  CHECK(r.candidate_digest == "sha256:" + kHexB);
  // Inconsistent: refused like any bad release.
  auto refused = [&](const json& rollout, const std::string& says) {
    reg.predicate["rollout"] = rollout;
    auto st = link->PollRelease(-1, 1);
    INFO(rollout.dump());
    REQUIRE_FALSE(st.ok());
    CHECK(st.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(st.status().message(), Catch::Contains(says));
  };
  json bad = Rollout();
  bad["baseline"]["digest"] = "sha256:" + kHexB;
  refused(bad, "baseline is not the release's version");
  bad = Rollout();
  bad["baseline"]["version"] = 2;
  refused(bad, "its baseline is version 2");
  bad = Rollout();
  bad["weight_bp"] = 20000;
  refused(bad, "weight_bp");
  bad = Rollout();
  bad["mode"] = "big-bang";
  refused(bad, "unknown mode");
}

TEST_CASE("registry link: the report carries the rollout's per-arm counts, none without a rollout") {
  StandIn reg;
  auto link = reg.Link();
  RolloutCounts counts(7, 1, RolloutMode::kShadow);
  counts.arm(Arm::kBaseline).Add(false, 3.0);
  counts.arm(Arm::kBaseline).Add(true, -1);
  counts.arm(Arm::kCandidate).Add(false, 12.0);
  counts.AddComparison(ShadowOutcome::kNumeric, 0.125);
  counts.AddShadowDropped();
  Report r;
  r.state = "serving";
  r.digest = "sha256:" + kHexA;
  r.version = 3;
  REQUIRE(link->SendReport(r).ok());
  r.rollout_json = counts.ReportJson(ProcessRunId());
  REQUIRE(link->SendReport(r).ok());
  std::lock_guard<std::mutex> l(reg.mu);
  REQUIRE(reg.reports.size() == 2);
  CHECK_FALSE(reg.reports[0].contains("rollout"));
  const json& j = reg.reports[1]["rollout"];
  CHECK(j["id"] == 7);
  CHECK(j["step"] == 1);
  CHECK(j["run"] == ProcessRunId());
  CHECK(j["arms"]["baseline"]["requests"] == 2);
  CHECK(j["arms"]["baseline"]["errors"] == 1);
  CHECK(j["arms"]["baseline"]["latency_buckets"].size() == kLatencyBucketCount);
  CHECK(j["arms"]["baseline"]["latency_buckets"][LatencyBucketIndex(3.0)] == 1);
  CHECK(j["arms"]["candidate"]["latency_buckets"][LatencyBucketIndex(12.0)] == 1);
  CHECK(j["shadow"]["compared"] == 1);
  CHECK(j["shadow"]["differ"] == 1);
  CHECK(j["shadow"]["numeric"] == 1);
  CHECK(j["shadow"]["equal"] == 0);
  CHECK(j["shadow"]["dropped"] == 1);
  CHECK(j["shadow"]["max_abs_diff"] == 0.125);
}

}  // namespace modelreg::agent
