// Model monitoring over REST (docs/monitoring.md): an agent's status report
// with monitoring windows is stored with the drift statistics of each
// feature against the version's reference profile, an alarmed window is
// audited (drift.alarm) and becomes an event exactly once, a bad
// monitoring member is refused with nothing stored, the policy's
// max_violation_rate triggers schema.violations, GET .../drift filters, and
// /metrics exports modelreg_feature_drift. Runs on SQLite and PostgreSQL.
#include <catch2/catch.hpp>

#include "api/api_util.h"
#include "core/profile.h"
#include "support/process.h"
#include "support/profiles.h"
#include "support/temp_dir.h"

using namespace modelreg;
using namespace modelreg::testing;
using nlohmann::json;

namespace {

constexpr int64_t kMinute = 60000;

Profile ReferenceProfile() {
  Profile p;
  p.dataset = "train";
  p.rows = 10000;
  p.columns = {NumericColumn("age", 10000, 18, 90, {30, 40, 50, 60}, {0.2, 0.2, 0.2, 0.2, 0.2}),
               CategoricalColumn("plan", 10000, {"basic", "pro"}, {0.6, 0.3, 0.1}, /*missing=*/100)};
  p.output = NumericColumn("score", 10000, 0, 1, {0.5}, {0.7, 0.3});
  p.schema = SchemaFromProfile(p.columns);
  return p;
}

json Feature(const std::string& name, std::vector<int64_t> counts, int64_t missing = 0) {
  int64_t n = 0;
  for (auto c : counts) n += c;
  return {{"name", name},          {"n", n},          {"missing", missing}, {"out_of_range", 0}, {"type_errors", 0},
          {"unknown_category", 0}, {"counts", counts}};
}

// A window of version `v` at minute `minute` with `age` counts (the other
// feature and the output as in the reference).
json Window(int64_t v, const std::string& digest, int64_t minute, std::vector<int64_t> age, bool reference = true) {
  json w = {{"version", v},
            {"digest", digest},
            {"arm", ""},
            {"start_ms", minute * kMinute},
            {"end_ms", (minute + 1) * kMinute},
            {"reference", reference},
            {"requests", 1000},
            {"rows", 1000},
            {"unreadable", 0},
            {"violations", 0},
            {"rejected", 0}};
  if (reference) {
    w["features"] = {Feature("age", age), Feature("plan", {600, 300, 100})};
    w["output"] = Feature("score", {700, 300});
  } else {
    w["features"] = {Feature("age", {}, 0)};
    w["features"][0]["n"] = 0;
  }
  return w;
}

const std::vector<int64_t> kSame = {200, 200, 200, 200, 200};
const std::vector<int64_t> kShifted = {50, 50, 100, 300, 500};

struct Monitoring {
  ServerProcess server;
  TempDir t;
  std::string admin, trainer, agent;
  std::string digest1, digest2;
  Monitoring() {
    admin = server.admin_token();
    trainer = server.CreateToken("trainer", "trainer");
    agent = server.CreateToken("agent-1", "agent");
    digest1 = Register(true);
    digest2 = Register(false);
  }
  // Registers the next version of "churn", with the reference profile as
  // the bundle file .modelreg/profile.json or without one.
  std::string Register(bool with_profile) {
    static int n = 0;
    std::string dir = t / ("b" + std::to_string(++n));
    WriteFile(dir + "/m.bin", "model " + std::to_string(n));
    if (with_profile) WriteFile(dir + "/" + kProfilePath, SerializeProfile(ReferenceProfile()));
    LineageRecord l = Lineage("churn");
    DatasetRef d;
    d.name = "train";
    d.uri = "s3://data/churn/train.csv";
    d.digest = Digest::Of("the training data");
    l.data.push_back(d);
    auto r = Client(server, trainer)->Register("churn", dir, l);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return r->version["digest"].get<std::string>();
  }
  httplib::Result Report(const std::string& agent_id, const json& monitoring) {
    json body = {{"host", "h"},       {"model", "churn"}, {"stage", "production"},   {"state", "serving"},
                 {"digest", digest1}, {"heartbeat_s", 1}, {"monitoring", monitoring}};
    return Http(server.url(), agent).Post("/api/v1/agents/" + agent_id + "/status", body.dump());
  }
  json Get(const std::string& path) {
    auto r = Http(server.url(), admin).Get(path);
    REQUIRE(r);
    INFO(path << ": " << r->body);
    REQUIRE(r->status == 200);
    return json::parse(r->body);
  }
  std::vector<json> Audited(const std::string& action) {
    std::vector<json> out;
    const json log = Get("/api/v1/audit/events?model=churn&limit=1000");
    for (const auto& e : log["events"])
      if (e["action"] == action) out.push_back(e);
    return out;
  }
  std::vector<json> Events(const std::string& type) {
    std::vector<json> out;
    const json feed = Get("/api/v1/events?limit=1000");
    for (const auto& e : feed["events"])
      if (e["type"] == type) out.push_back(e);
    return out;
  }
};

void Expect(const httplib::Result& r, int want) {
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == want);
}

const json* Find(const json& windows, const std::string& feature, int64_t minute) {
  for (const auto& w : windows)
    if (w["feature"] == feature && w["start_ms"] == minute * kMinute) return &w;
  return nullptr;
}

}  // namespace

TEST_CASE("monitoring: windows are stored with drift stats, an alarmed window is audited and an event once") {
  Monitoring f;
  json report = {{"run", "0123456789abcdef"},
                 {"windows", {Window(1, f.digest1, 100, kSame), Window(1, f.digest1, 101, kShifted)}}};
  Expect(f.Report("a1", report), 204);

  json d = f.Get("/api/v1/models/churn/drift");
  REQUIRE(d["windows"].size() == 6);  // 2 windows x (age, plan, (output))
  REQUIRE(d["versions"] == json::array({{{"version", 1}, {"reference", true}}}));
  const json* same = Find(d["windows"], "age", 100);
  const json* shifted = Find(d["windows"], "age", 101);
  REQUIRE(same);
  REQUIRE(shifted);
  CHECK((*same)["alarm"] == false);
  CHECK((*same)["psi"].get<double>() < 0.001);
  CHECK((*same)["n"] == 1000);
  CHECK((*same)["agent"] == "a1");
  CHECK((*shifted)["alarm"] == true);
  CHECK((*shifted)["psi"].get<double>() > (*shifted)["threshold"].get<double>());
  CHECK((*shifted)["js"].get<double>() > 0.1);
  CHECK((*shifted)["threshold"].get<double>() > 0.0);
  CHECK(Find(d["windows"], "plan", 101)->at("alarm") == false);
  CHECK(Find(d["windows"], "(output)", 101)->at("output") == true);
  // The reference of "plan" has 100 missing of 10 000: m = 9 900 in the threshold.
  CHECK(Find(d["windows"], "plan", 100)->at("threshold").get<double>() > 0.0);

  auto alarms = f.Audited("drift.alarm");
  REQUIRE(alarms.size() == 1);
  const json& a = alarms[0]["details"];
  CHECK(alarms[0]["version"] == 1);
  CHECK(a["agent"] == "a1");
  CHECK(a["window"]["start_ms"] == 101 * kMinute);
  REQUIRE(a["features"].size() == 1);
  CHECK(a["features"][0]["feature"] == "age");
  CHECK(a["features"][0]["n"] == 1000);
  CHECK(a["features"][0]["psi"].get<double>() > a["features"][0]["threshold"].get<double>());
  REQUIRE(a["datasets"].size() == 1);
  CHECK(a["datasets"][0]["uri"] == "s3://data/churn/train.csv");
  CHECK(a["datasets"][0]["digest"] == Digest::Of("the training data").str());
  auto events = f.Events("drift.alarm");
  REQUIRE(events.size() == 1);
  CHECK(events[0]["data"]["version"] == "1");
  CHECK(events[0]["data"]["features"][0]["feature"] == "age");
  CHECK(events[0]["data"]["datasets"][0]["name"] == "train");

  // The agent resends (its POST's answer was lost): kept once, no second alarm.
  Expect(f.Report("a1", report), 204);
  CHECK(f.Get("/api/v1/models/churn/drift")["windows"].size() == 6);
  CHECK(f.Audited("drift.alarm").size() == 1);
  CHECK(f.Events("drift.alarm").size() == 1);
}

TEST_CASE("monitoring: a bad monitoring member is refused with 400 and nothing of the report is stored") {
  Monitoring f;
  auto refused = [&](const json& monitoring, const std::string& says) {
    auto r = f.Report("bad-agent", monitoring);
    REQUIRE(r);
    INFO(r->body);
    CHECK(r->status == 400);
    CHECK(ErrorMessage(r).find(says) != std::string::npos);
  };
  json w = Window(1, f.digest1, 100, kShifted);
  json negative = w;
  negative["features"][0]["counts"][0] = -1;
  refused({{"run", "0123456789abcdef"}, {"windows", {negative}}}, "monitoring");
  json wrong_digest = w;
  wrong_digest["digest"] = f.digest2;
  refused({{"run", "0123456789abcdef"}, {"windows", {Window(1, f.digest1, 99, kSame), wrong_digest}}},
          "that version's digest is");
  json unknown_version = Window(7, f.digest1, 100, kSame);
  refused({{"run", "0123456789abcdef"}, {"windows", {unknown_version}}}, "version 7 of 'churn' does not exist");
  json bins = w;
  bins["features"][0] = Feature("age", {500, 500});
  refused({{"run", "0123456789abcdef"}, {"windows", {bins}}}, "has 2 bin counts, its reference profile 5 bins");
  json unknown_feature = w;
  unknown_feature["features"][1]["name"] = "income";
  refused({{"run", "0123456789abcdef"}, {"windows", {unknown_feature}}}, "feature \"income\" is not a column");
  refused(json::array(), "monitoring");

  CHECK(f.Get("/api/v1/models/churn/drift")["windows"].empty());
  CHECK(f.Audited("drift.alarm").empty());
  const json agents = f.Get("/api/v1/agents");
  for (const auto& a : agents["agents"]) CHECK(a["id"] != "bad-agent");
}

TEST_CASE("monitoring: a schema-violation rate over the policy's max_violation_rate is audited and an event") {
  Monitoring f;
  auto put = Http(f.server.url(), f.admin)
                 .Put("/api/v1/models/churn/policy", json{{"approvals", 1}, {"max_violation_rate", 0.05}}.dump(),
                      "application/json");
  Expect(put, 200);
  CHECK(json::parse(put->body)["max_violation_rate"] == 0.05);
  CHECK(json::parse(put->body)["drift_alpha"] == 0.001);
  auto bad_policy = Http(f.server.url(), f.admin)
                        .Put("/api/v1/models/churn/policy", json{{"max_violation_rate", 7}}.dump(), "application/json");
  REQUIRE(bad_policy);
  CHECK(bad_policy->status == 400);

  json many = Window(1, f.digest1, 100, kSame);
  many["violations"] = 80;  // 8 % of 1 000 rows
  json ok = Window(1, f.digest1, 101, kSame);
  ok["violations"] = 30;  // 3 %
  json small = Window(1, f.digest1, 102, kSame);
  small["rows"] = 10;  // too few rows to judge a rate
  small["violations"] = 9;
  Expect(f.Report("a1", {{"run", "0123456789abcdef"}, {"windows", {many, ok, small}}}), 204);
  auto audited = f.Audited("schema.violations");
  REQUIRE(audited.size() == 1);
  const json& d = audited[0]["details"];
  CHECK(d["rows"] == 1000);
  CHECK(d["violations"] == 80);
  CHECK(d["violation_rate"].get<double>() == Approx(0.08));
  CHECK(d["max_violation_rate"] == 0.05);
  CHECK(d["datasets"][0]["name"] == "train");
  auto events = f.Events("schema.violations");
  REQUIRE(events.size() == 1);
  CHECK(events[0]["data"]["violation_rate"].get<double>() == Approx(0.08));
  CHECK(f.Audited("drift.alarm").empty());
}

TEST_CASE("monitoring: GET drift filters by version, time and agent, no reference without a profile, metrics") {
  Monitoring f;
  Expect(f.Report("a1", {{"run", "0123456789abcdef"},
                         {"windows", {Window(1, f.digest1, 100, kSame), Window(1, f.digest1, 101, kShifted)}}}),
         204);
  Expect(f.Report("a2", {{"run", "fedcba9876543210"},
                         {"windows", {Window(1, f.digest1, 101, kSame), Window(2, f.digest2, 101, {}, false)}}}),
         204);
  json all = f.Get("/api/v1/models/churn/drift");
  CHECK(all["windows"].size() == 10);  // a1: 2 x 3, a2: 3 + 1
  CHECK(all["versions"] ==
        json::array({{{"version", 1}, {"reference", true}}, {{"version", 2}, {"reference", false}}}));
  json v2 = f.Get("/api/v1/models/churn/drift?version=2");
  REQUIRE(v2["windows"].size() == 1);
  CHECK(v2["windows"][0]["reference"] == false);
  CHECK(v2["windows"][0]["psi"].is_null());
  CHECK(v2["windows"][0]["alarm"] == false);
  CHECK(v2["versions"] == json::array({{{"version", 2}, {"reference", false}}}));
  CHECK(f.Get("/api/v1/models/churn/drift?agent=a2&version=1")["windows"].size() == 3);
  CHECK(f.Get("/api/v1/models/churn/drift?since=" + std::to_string(101 * kMinute))["windows"].size() == 7);
  auto r = Http(f.server.url(), f.admin).Get("/api/v1/models/churn/drift?since=yesterday");
  REQUIRE(r);
  CHECK(r->status == 400);
  r = Http(f.server.url(), f.admin).Get("/api/v1/models/nope/drift");
  REQUIRE(r);
  CHECK(r->status == 404);

  // The CLI: the newest window per version and feature, most drifted first;
  // --json: every feature-window.
  auto cli = Modelreg({"drift", "churn"}, f.server.Env(f.admin));
  INFO(cli.out << cli.err);
  REQUIRE(cli.exit_code == 0);
  CHECK(cli.out.find("version 2 of churn: no reference") != std::string::npos);
  CHECK(cli.out.find("THRESHOLD") != std::string::npos);
  const size_t age_row = cli.out.find("\n1        age");
  CHECK(age_row != std::string::npos);
  auto cli_json = Modelreg({"drift", "churn", "--version", "1", "--json"}, f.server.Env(f.admin));
  REQUIRE(cli_json.exit_code == 0);
  json rows = json::parse(cli_json.out);
  REQUIRE(rows.size() == 9);
  for (const auto& w : rows)
    for (const char* k : {"feature", "psi", "js", "missing_rate", "out_of_range_rate", "threshold", "alarm", "n"})
      CHECK(w.contains(k));
  auto none = Modelreg({"drift", "churn", "--since", std::to_string(500 * kMinute)}, f.server.Env(f.admin));
  REQUIRE(none.exit_code == 0);
  CHECK(none.out.find("no monitoring windows") != std::string::npos);

  auto metrics = Http(f.server.url(), f.admin).Get("/metrics");
  REQUIRE(metrics);
  REQUIRE(metrics->status == 200);
  const std::string& m = metrics->body;
  CHECK(m.find("# TYPE modelreg_feature_drift gauge") != std::string::npos);
  for (const char* stat : {"psi", "js", "missing_rate", "out_of_range_rate", "threshold"})
    CHECK(m.find(std::string("modelreg_feature_drift{model=\"churn\",version=\"1\",feature=\"age\",stat=\"") + stat +
                 "\"}") != std::string::npos);
  CHECK(m.find("feature=\"(output)\"") != std::string::npos);
  // The newest window (minute 101) of version 1: a1's shifted copy and a2's
  // unshifted one have the same size; either way a number is exported, and
  // version 2 (no reference) is not.
  CHECK(m.find("version=\"2\"") == std::string::npos);
}
