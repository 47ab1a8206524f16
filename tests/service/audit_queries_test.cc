// The auditor's questions against crafted histories with known answers:
// promotions and a rollback at exact instants, agents that flap, fail, go
// silent and return, decisions at boundary times, a dataset used by three
// versions of two models, a parent chain of five fine-tunes, diff and
// signed provenance. Runs the real service on real SQLite and blob files;
// the clock is fixed per step so every instant is known.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "auth/signing.h"
#include "core/clock.h"
#include "core/manifest.h"
#include "service/registry_service.h"
#include "support/pg_test_db.h"
#include "support/temp_dir.h"

namespace modelreg {
namespace {

using nlohmann::json;
using testing::TempDir;

constexpr int64_t kT0 = 1800000000000;  // 2027-01-15T08:00:00Z
const std::string kC1(40, '1');
const std::string kC2(40, '2');

Digest D(const std::string& s) { return Digest::Of(s); }

struct History {
  TempDir dir;
  std::unique_ptr<RegistryService> svc;
  Principal trainer{"train-job", Role::kTrainer, {}};
  Principal alice{"alice", Role::kApprover, {}};
  Principal auditor{"audit", Role::kAuditor, {}};
  Principal agent{"fleet", Role::kAgent, {}};
  std::map<std::string, std::string> digest;  // "churn/1" -> bundle digest

  History() {
    SetFakeNowForTesting(kT0);
    ServiceOptions options;
    options.db_url = testing::TestDatabaseUrl();
    auto s = RegistryService::Open(dir / "data", options);
    REQUIRE(s.ok());
    svc = std::move(s).value();
  }
  ~History() { SetFakeNowForTesting(0); }

  void At(int64_t t) { SetFakeNowForTesting(kT0 + t); }

  void Put(const std::string& bytes) { REQUIRE(svc->blobs().PutBytes(Digest::Of(bytes), bytes).ok()); }

  std::string Register(const LineageRecord& r, const std::map<std::string, std::string>& files) {
    std::vector<BundleFile> bf;
    for (const auto& [path, bytes] : files) {
      Put(bytes);
      bf.push_back({path, Digest::Of(bytes), bytes.size()});
    }
    const std::string config = SerializeLineage(r);
    Put(config);
    Manifest m = BuildManifest(kModelArtifactType, {kLineageMediaType, Digest::Of(config), config.size(), ""}, bf);
    auto reg = svc->RegisterManifest(trainer, r.model, SerializeManifest(m));
    REQUIRE(reg.ok());
    const std::string key = r.model + "/" + std::to_string(reg->version.number);
    digest[key] = reg->version.digest;
    return reg->version.digest;
  }

  void Promote(const std::string& model, int v, int64_t t) {
    At(t);
    REQUIRE(svc->Approve(alice, model, std::to_string(v), "ok").ok());
    REQUIRE(svc->ChangeStage(alice, model, std::to_string(v), {"staging", "", ""}).ok());
    auto r = svc->ChangeStage(alice, model, std::to_string(v), {"production", "release", ""});
    INFO(r.status().ToString());
    REQUIRE(r.ok());
  }

  void Report(const std::string& id, int v, const std::string& state, int64_t t, const std::string& error = "",
              int64_t heartbeat_ms = 1000) {
    At(t);
    AgentInfo a;
    a.id = id;
    a.host = id + ".local";
    a.model = "churn";
    a.stage = "production";
    a.version = v;
    a.digest = digest.at("churn/" + std::to_string(v));
    a.state = state;
    a.last_error = error;
    a.heartbeat_ms = heartbeat_ms;
    REQUIRE(svc->ReportAgent(agent, a).ok());
  }

  void Decide(const std::string& id, const std::string& bundle_digest, int64_t t) {
    DecisionRecord d;
    d.request_id = id;
    d.model = "churn";
    d.digest = bundle_digest;
    d.agent_id = "a1";
    d.at_ms = kT0 + t;
    d.input_sha256 = std::string(64, 'a');
    REQUIRE(svc->IngestDecisions(agent, {d}).ok());
  }
};

LineageRecord Rec(const std::string& model, std::vector<DatasetRef> data, const std::string& commit) {
  LineageRecord r;
  r.model = model;
  r.data = std::move(data);
  CodeRef c;
  c.repo = "https://git.example.com/ds/" + model + ".git";
  c.commit = commit;
  r.code = c;
  r.environment["python"] = "3.11";
  return r;
}

// churn v1..v3, fraud v1, llm v1 and five fine-tunes; promotions, a
// rollback, two agents and their reports, as described per step.
struct Crafted : History {
  Crafted() {
    auto churn1 = Rec("churn", {{"train", "s3://lake/d1", D("d1")}}, kC1);
    churn1.params = {{"depth", int64_t{3}}, {"lr", 0.1}};
    churn1.metrics = {{"auc", 0.80}};
    Register(churn1, {{"a.txt", "A"}, {"w.bin", "W1"}});

    auto churn2 = Rec("churn", {{"train", "s3://lake/d1", D("d1")}, {"extra", "s3://lake/d2", D("d2")}}, kC1);
    churn2.code->branch = "main";
    churn2.params = {{"depth", int64_t{5}}, {"lr", 0.1}};
    churn2.metrics = {{"auc", 0.85}, {"logloss", 0.3}};
    churn2.parent = *Digest::Parse(digest["churn/1"]);
    Register(churn2, {{"a.txt", "A"}, {"n.txt", "N"}, {"w.bin", "W2"}});

    Register(Rec("churn", {{"train", "s3://lake/d3", D("d3")}}, kC2), {{"a.txt", "A3"}});
    Register(Rec("fraud", {{"train", "s3://lake/d1", D("d1")}}, kC2), {{"m", "F"}});

    Register(Rec("llm", {{"corpus", "s3://lake/d9", D("d9")}}, kC1), {{"w", "L1"}});
    for (int i = 2; i <= 6; ++i) {
      auto r = Rec("llm", {}, kC1);
      r.parent = *Digest::Parse(digest["llm/" + std::to_string(i - 1)]);
      Register(r, {{"w", "L" + std::to_string(i)}});
    }

    Promote("churn", 1, 1000);
    Report("a1", 1, "serving", 1000);
    Report("a1", 1, "serving", 1500);
    Report("a1", 1, "serving", 1900);
    Promote("churn", 2, 2000);
    Report("a1", 2, "serving", 2000);
    Report("a1", 2, "failed", 2500, "health check failed");  // flaps
    Report("a1", 2, "serving", 2600);                        // then silent until 10000
    At(3000);
    REQUIRE(svc->Rollback(alice, "churn", "auc dropped in prod").ok());
    Report("a2", 1, "serving", 4000, "", 0);  // no heartbeat given: 10 s assumed
    Report("a1", 2, "serving", 10000);        // back, same state, after a gap
  }

  LiveAt Live(int64_t t, const std::string& agent = "") {
    auto r = svc->LiveAtTime(auditor, "churn", kT0 + t, agent);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return *r;
  }
};

std::vector<std::string> Names(const DownstreamPage& p) {
  std::vector<std::string> out;
  for (const auto& e : p.entries)
    out.push_back(e.version.model + "/" + std::to_string(e.version.number) + "@" + std::to_string(e.depth));
  return out;
}

TEST_CASE("lineage --dataset: three versions of two models trained on it", "[service][lineage]") {
  Crafted h;
  auto p = h.svc->Downstream(h.auditor, {D("d1").str(), "", 0, 100});
  REQUIRE(p.ok());
  CHECK(Names(*p) == std::vector<std::string>{"churn/1@0", "churn/2@0", "fraud/1@0"});
  CHECK(p->total == 3);
  CHECK(p->entries[0].via == "dataset train");
  CHECK(p->entries[1].via == "dataset train");  // its other dataset (extra) is another digest
  // churn v1 is the one in production now (after the rollback) and a1, a2 report it or v2.
  CHECK(p->entries[0].version.stage == "production");
  REQUIRE(p->entries[0].serving.size() == 1);
  CHECK(p->entries[0].serving[0].id == "a2");
  REQUIRE(p->entries[1].serving.size() == 1);
  CHECK(p->entries[1].serving[0].id == "a1");

  // A token scoped to churn* sees only churn's versions.
  Principal scoped{"churn-audit", Role::kAuditor, {"churn*"}};
  auto s = h.svc->Downstream(scoped, {D("d1").str(), "", 0, 100});
  REQUIRE(s.ok());
  CHECK(Names(*s) == std::vector<std::string>{"churn/1@0", "churn/2@0"});

  auto none = h.svc->Downstream(h.auditor, {D("never-used").str(), "", 0, 100});
  REQUIRE(none.ok());
  CHECK(none->total == 0);
}

TEST_CASE("lineage --dataset follows fine-tunes, pages are exact", "[service][lineage]") {
  Crafted h;
  auto p = h.svc->Downstream(h.auditor, {D("d9").str(), "", 0, 100});
  REQUIRE(p.ok());
  CHECK(Names(*p) == std::vector<std::string>{"llm/1@0", "llm/2@1", "llm/3@2", "llm/4@3", "llm/5@4", "llm/6@5"});
  CHECK(p->entries[3].via == "parent " + h.digest["llm/3"]);
  auto first = h.svc->Downstream(h.auditor, {D("d9").str(), "", 0, 4});
  REQUIRE(first.ok());
  CHECK(first->entries.size() == 4);
  REQUIRE(first->next_offset);
  CHECK(*first->next_offset == 4);
  auto second = h.svc->Downstream(h.auditor, {D("d9").str(), "", 4, 4});
  REQUIRE(second.ok());
  CHECK(Names(*second) == std::vector<std::string>{"llm/5@4", "llm/6@5"});
  CHECK(!second->next_offset);
}

TEST_CASE("lineage --commit: by full sha and by prefix", "[service][lineage]") {
  Crafted h;
  auto full = h.svc->Downstream(h.auditor, {"", kC2, 0, 100});
  REQUIRE(full.ok());
  CHECK(Names(*full) == std::vector<std::string>{"churn/3@0", "fraud/1@0"});
  auto prefix = h.svc->Downstream(h.auditor, {"", kC1.substr(0, 7), 0, 100});
  REQUIRE(prefix.ok());
  // churn 1, 2 and llm 1..6 name commit 1 (llm 2..6 directly, not only as fine-tunes).
  CHECK(Names(*prefix) == std::vector<std::string>{"churn/1@0", "churn/2@0", "llm/1@0", "llm/2@0", "llm/3@0", "llm/4@0",
                                                   "llm/5@0", "llm/6@0"});
}

TEST_CASE("lineage queries refuse bad input clearly", "[service][lineage]") {
  Crafted h;
  CHECK(h.svc->Downstream(h.auditor, {D("d1").str(), kC1, 0, 100}).status().code() == StatusCode::kInvalidArgument);
  CHECK(h.svc->Downstream(h.auditor, {"", "", 0, 100}).status().code() == StatusCode::kInvalidArgument);
  CHECK(h.svc->Downstream(h.auditor, {"sha256:zz", "", 0, 100}).status().code() == StatusCode::kInvalidArgument);
  CHECK(h.svc->Downstream(h.auditor, {"", "XYZ1234", 0, 100}).status().code() == StatusCode::kInvalidArgument);
  CHECK(h.svc->Downstream(h.auditor, {"", "abc", 0, 100}).status().code() == StatusCode::kInvalidArgument);
  CHECK(h.svc->Downstream(h.auditor, {D("d1").str(), "", -1, 100}).status().code() == StatusCode::kInvalidArgument);
  CHECK(h.svc->Downstream(h.trainer, {D("d1").str(), "", 0, 100}).status().code() == StatusCode::kPermissionDenied);
  CHECK(h.svc->LiveAtTime(h.trainer, "churn", kT0, "").status().code() == StatusCode::kPermissionDenied);
  CHECK(h.svc->LiveAtTime(h.auditor, "nope", kT0, "").status().code() == StatusCode::kNotFound);
  CHECK(h.svc->Lineage(h.auditor, "churn", "99").status().code() == StatusCode::kNotFound);
  CHECK(h.svc->AuditDecision(h.auditor, "no-such-request").status().code() == StatusCode::kNotFound);
}

TEST_CASE("lineage MODEL VERSION: a parent chain of five fine-tunes", "[service][lineage]") {
  Crafted h;
  auto l = h.svc->Lineage(h.auditor, "llm", "6");
  REQUIRE(l.ok());
  std::vector<int64_t> chain;
  for (const auto& p : l->parents) chain.push_back(p.version);
  CHECK(chain == std::vector<int64_t>{5, 4, 3, 2, 1});
  CHECK(l->parents.back().digest == h.digest["llm/1"]);
  CHECK(l->children.empty());
  CHECK(l->unresolved_parent.empty());
  CHECK(!l->parents_truncated);

  auto mid = h.svc->Lineage(h.auditor, "llm", "3");
  REQUIRE(mid.ok());
  REQUIRE(mid->children.size() == 1);
  CHECK(mid->children[0].version == 4);

  auto c2 = h.svc->Lineage(h.auditor, "churn", h.digest["churn/2"]);
  REQUIRE(c2.ok());
  CHECK(c2->record.params.at("depth") == ParamValue{int64_t{5}});
  REQUIRE(c2->record.data.size() == 2);
  CHECK(c2->record.code->commit == kC1);
  REQUIRE(c2->serving.size() == 1);
  CHECK(c2->serving[0].id == "a1");
}

TEST_CASE("audit live: promotions and a rollback at exact instants", "[service][live]") {
  Crafted h;
  CHECK(!h.Live(999).production);
  CHECK(h.Live(999).agents.empty());
  auto at1000 = h.Live(1000);  // a change at exactly the time is in effect
  REQUIRE(at1000.production);
  CHECK(at1000.production->version == 1);
  CHECK(at1000.production_since_ms == kT0 + 1000);
  CHECK(h.Live(1999).production->version == 1);
  CHECK(h.Live(2000).production->version == 2);
  CHECK(h.Live(2999).production->version == 2);
  auto at3000 = h.Live(3000);
  CHECK(at3000.production->version == 1);
  CHECK(at3000.production->digest == h.digest["churn/1"]);
  CHECK(at3000.production_since_ms == kT0 + 3000);
}

TEST_CASE("audit live: agents that flap, fail, go silent and return", "[service][live]") {
  Crafted h;
  auto a = h.Live(1999).agents;
  REQUIRE(a.size() == 1);
  CHECK(a[0].agent == "a1");
  CHECK(a[0].state == "serving");
  CHECK(a[0].version == 1);
  CHECK(a[0].since_ms == kT0 + 1000);
  CHECK(a[0].confirmed_until_ms == kT0 + 1900);
  CHECK(!a[0].gap);

  auto at2000 = h.Live(2000).agents;
  CHECK(at2000[0].version == 2);
  CHECK(at2000[0].since_ms == kT0 + 2000);

  auto failed = h.Live(2550).agents;
  CHECK(failed[0].state == "failed");
  CHECK(failed[0].error == "health check failed");

  // Silent since 2600 with a 1 s heartbeat: confirmed for 3 s more, inclusive.
  auto edge = h.Live(5600).agents;
  CHECK(edge[0].state == "serving");
  CHECK(!edge[0].gap);
  auto gap = h.Live(5601).agents;
  REQUIRE(gap.size() == 2);
  CHECK(gap[0].agent == "a1");
  CHECK(gap[0].gap);
  CHECK(gap[0].state == "unknown");
  CHECK(gap[0].last_state == "serving");
  CHECK(gap[0].confirmed_until_ms == kT0 + 2600);
  REQUIRE(gap[0].heard_again_ms);
  CHECK(*gap[0].heard_again_ms == kT0 + 10000);
  CHECK(gap[1].agent == "a2");
  CHECK(gap[1].state == "serving");  // 10 s assumed heartbeat: still confirmed
  CHECK(gap[1].version == 1);

  auto back = h.Live(10000).agents;
  CHECK(back[0].state == "serving");
  CHECK(!back[0].gap);
  CHECK(back[0].since_ms == kT0 + 10000);  // a new state after the gap, not one long one

  // One agent, and an agent that had not reported yet.
  auto only = h.Live(4000, "a2").agents;
  REQUIRE(only.size() == 1);
  CHECK(only[0].agent == "a2");
  CHECK(h.svc->LiveAtTime(h.auditor, "churn", kT0 + 3999, "a2").status().code() == StatusCode::kNotFound);
}

TEST_CASE("audit decision: the version, its lineage, approvals, promotions, agent at that time",
          "[service][decision]") {
  Crafted h;
  h.Decide("d-before", h.digest["churn/1"], 1999);
  h.Decide("d-at", h.digest["churn/2"], 2000);
  h.Decide("d-rolled-back", h.digest["churn/1"], 3000);
  h.Decide("d-unknown", D("not a bundle").str(), 2100);

  auto before = h.svc->AuditDecision(h.auditor, "d-before");
  REQUIRE(before.ok());
  CHECK(before->production_at_time->version == 1);
  CHECK(before->agent_at_time->version == 1);
  CHECK(before->agent_at_time->state == "serving");

  auto at = h.svc->AuditDecision(h.auditor, "d-at");
  REQUIRE(at.ok());
  REQUIRE(at->lineage);
  CHECK(at->lineage->version.number == 2);
  CHECK(at->lineage->record.metrics.at("auc") == 0.85);
  REQUIRE(at->lineage->parents.size() == 1);
  CHECK(at->lineage->parents[0].version == 1);
  REQUIRE(at->approvals.size() == 1);
  CHECK(at->approvals[0].approver == "alice");
  REQUIRE(at->promotions.size() == 1);
  CHECK(at->promotions[0].actor == "alice");
  CHECK(at->promotions[0].at_ms == kT0 + 2000);
  CHECK(at->promotions[0].kind == "stage");
  CHECK(at->production_at_time->version == 2);
  CHECK(at->agent_at_time->version == 2);
  CHECK(at->agent_at_time->since_ms == kT0 + 2000);

  auto rb = h.svc->AuditDecision(h.auditor, "d-rolled-back");
  REQUIRE(rb.ok());
  REQUIRE(rb->promotions.size() == 2);
  CHECK(rb->promotions[0].kind == "stage");
  CHECK(rb->promotions[1].kind == "rollback");
  CHECK(rb->promotions[1].reason == "auc dropped in prod");
  CHECK(rb->production_at_time->version == 1);

  auto unknown = h.svc->AuditDecision(h.auditor, "d-unknown");
  REQUIRE(unknown.ok());
  CHECK(!unknown->lineage);  // shown as "no such version", not guessed
  CHECK(unknown->production_at_time->version == 2);
}

TEST_CASE("diff: params, metrics, data, code and files that differ", "[service][diff]") {
  Crafted h;
  auto r = h.svc->Diff(h.auditor, "churn", "1", "2");
  REQUIRE(r.ok());
  const VersionDiff& d = r->diff;
  REQUIRE(d.params.size() == 1);
  CHECK(d.params[0].name == "depth");
  CHECK(*d.params[0].from == ParamValue{int64_t{3}});
  CHECK(*d.params[0].to == ParamValue{int64_t{5}});
  REQUIRE(d.metrics.size() == 2);
  CHECK(d.metrics[0].name == "auc");
  CHECK(d.metrics[1].name == "logloss");
  CHECK(!d.metrics[1].from);
  REQUIRE(d.data.size() == 1);
  CHECK(d.data[0].name == "extra");
  CHECK(!d.data[0].from);
  CHECK(d.data[0].to->digest->str() == D("d2").str());
  REQUIRE(d.code.size() == 2);
  CHECK(d.code[0].name == "branch");
  CHECK(d.code[1].name == "parent");
  CHECK(std::get<std::string>(*d.code[1].to) == h.digest["churn/1"]);
  CHECK(d.environment.empty());
  REQUIRE(d.files_added.size() == 1);
  CHECK(d.files_added[0].path == "n.txt");
  CHECK(d.files_removed.empty());
  REQUIRE(d.files_changed.size() == 1);
  CHECK(d.files_changed[0].path == "w.bin");
  CHECK(d.files_unchanged == 1);

  auto same = h.svc->Diff(h.auditor, "churn", "2", h.digest["churn/2"]);
  REQUIRE(same.ok());
  CHECK(same->diff.empty());
  CHECK(h.svc->Diff(h.auditor, "churn", "1", "42").status().code() == StatusCode::kNotFound);
}

TEST_CASE("provenance: SLSA v1 statement, signed, a changed byte fails", "[service][provenance]") {
  Crafted h;
  auto env = h.svc->Provenance(h.auditor, "churn", "2");
  REQUIRE(env.ok());
  auto key = VerifyKey::FromPem(h.svc->ReleaseKeyPem());
  REQUIRE(key.ok());
  auto payload = OpenDsse(**key, *env, kInTotoPayloadType);
  REQUIRE(payload.ok());
  json s = json::parse(*payload);
  CHECK(s["_type"] == "https://in-toto.io/Statement/v1");
  CHECK(s["predicateType"] == "https://slsa.dev/provenance/v1");
  CHECK("sha256:" + s["subject"][0]["digest"]["sha256"].get<std::string>() == h.digest["churn/2"]);
  const json& bd = s["predicate"]["buildDefinition"];
  CHECK(bd["externalParameters"]["params"]["depth"] == 5);
  std::map<std::string, json> deps;
  for (const auto& d : bd["resolvedDependencies"]) deps[d["name"]] = d;
  CHECK(deps.at("code")["digest"]["gitCommit"] == kC1);
  CHECK(deps.at("data/train")["digest"]["sha256"] == D("d1").hex());
  CHECK(deps.at("data/extra")["digest"]["sha256"] == D("d2").hex());
  CHECK(deps.at("parent")["digest"]["sha256"] == h.digest["churn/1"].substr(7));
  CHECK(s["predicate"]["runDetails"]["byproducts"][0]["name"] == "metrics/auc");

  // Change one byte of the signed payload, or of the signature: refused.
  json e = json::parse(*env);
  std::string p = *Base64Decode(e["payload"].get<std::string>());
  p[p.find("\"depth\":5") + 8] = '9';
  json forged = e;
  forged["payload"] = Base64Encode(p);
  CHECK(!OpenDsse(**key, forged.dump(), kInTotoPayloadType).ok());
  std::string sig = *Base64Decode(e["signatures"][0]["sig"].get<std::string>());
  sig[0] ^= 1;
  json badsig = e;
  badsig["signatures"][0]["sig"] = Base64Encode(sig);
  CHECK(!OpenDsse(**key, badsig.dump(), kInTotoPayloadType).ok());
}

}  // namespace
}  // namespace modelreg
