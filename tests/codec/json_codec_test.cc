// Unit tests for registry/codec/json_codec.h: every decoder reads back what
// its encoder writes, and bad input is a clear InvalidArgument, never an
// exception.
#include "codec/json_codec.h"

#include <catch2/catch.hpp>

namespace modelreg::codec {
namespace {
using nlohmann::json;

const std::string kDigest = "sha256:" + std::string(64, 'a');
const std::string kOther = "sha256:" + std::string(64, 'b');
const int64_t kT = 1764979200123;  // 2025-12-06T00:00:00.123Z

VersionRecord SampleVersion() {
  VersionRecord v;
  v.model = "churn";
  v.number = 3;
  v.digest = kDigest;
  v.config_digest = kOther;
  v.manifest_size = 512;
  v.file_count = 2;
  v.total_bytes = 1 << 20;
  v.stage = "staging";
  v.code_repo = "git@example.com:ml.git";
  v.code_commit = std::string(40, 'c');
  v.code_dirty = false;
  v.parent_digest = kOther;
  v.created_at_ms = kT;
  v.created_by = "trainer";
  return v;
}

template <typename T>
T RoundTrip(const json& j) {
  auto r = Decode<T>(j);
  INFO(r.status().message());
  REQUIRE(r.ok());
  return *r;
}

TEST_CASE("codec: a version and its detail read back as written") {
  VersionDetail d;
  d.version = SampleVersion();
  d.datasets = {{"train", "s3://b/train.csv", kDigest}, {"eval", "s3://b/eval.csv", ""}};
  d.metrics = {{"auc", 0.91}, {"f1", 0.5}};
  d.approvals = {{"bob", "looks good", kT + 5}};
  VersionDetail back = RoundTrip<VersionDetail>(ToJson(d));
  const VersionRecord& v = back.version;
  CHECK(v.model == "churn");
  CHECK(v.number == 3);
  CHECK(v.digest == kDigest);
  CHECK(v.config_digest == kOther);
  CHECK(v.manifest_size == 512);
  CHECK(v.file_count == 2);
  CHECK(v.total_bytes == (1 << 20));
  CHECK(v.stage == "staging");
  CHECK(v.code_repo == "git@example.com:ml.git");
  CHECK(v.code_commit == std::string(40, 'c'));
  CHECK(v.code_dirty == std::optional<bool>(false));
  CHECK(v.parent_digest == kOther);
  CHECK(v.created_at_ms == kT);
  CHECK(v.created_by == "trainer");
  REQUIRE(back.datasets.size() == 2);
  CHECK(back.datasets[0].digest == kDigest);
  CHECK(back.datasets[1].digest.empty());
  CHECK(back.metrics == d.metrics);
  REQUIRE(back.approvals.size() == 1);
  CHECK(back.approvals[0].approver == "bob");
  CHECK(back.approvals[0].created_at_ms == kT + 5);
}

TEST_CASE("codec: models, tokens, stage changes and audit events read back") {
  ModelRecord m;
  m.name = "churn";
  m.created_at_ms = kT;
  m.created_by = "alice";
  m.version_count = 4;
  m.latest_version = 4;
  m.last_change_ms = kT + 1;
  ModelRecord mb = RoundTrip<ModelRecord>(ToJson(m));
  CHECK(mb.name == "churn");
  CHECK(mb.version_count == 4);
  CHECK(mb.latest_version == std::optional<int64_t>(4));
  CHECK_FALSE(mb.production_version.has_value());
  CHECK(mb.last_change_ms == kT + 1);

  TokenRecord t;
  t.name = "ci";
  t.role = Role::kTrainer;
  t.model_globs = {"churn*"};
  t.created_at_ms = kT;
  t.expires_at_ms = kT + 1000;
  TokenRecord tb = RoundTrip<TokenRecord>(ToJson(t));
  CHECK(tb.role == Role::kTrainer);
  CHECK(tb.model_globs == t.model_globs);
  CHECK(tb.expires_at_ms == t.expires_at_ms);
  CHECK_FALSE(tb.revoked_at_ms.has_value());

  StageChange c{3, "staging", "production", "promote", "bob", "go", kT};
  StageChange cb = RoundTrip<StageChange>(ToJson(c));
  CHECK(cb.from_stage == "staging");
  CHECK(cb.to_stage == "production");
  CHECK(cb.kind == "promote");
  CHECK(cb.at_ms == kT);

  AuditEvent e;
  e.seq = 7;
  e.at_ms = kT;
  e.actor = "bob";
  e.action = "promote";
  e.model = "churn";
  e.version = 3;
  e.details = R"({"from":"staging","to":"production"})";
  e.prev_hash = std::string(64, '0');
  e.hash = std::string(64, '1');
  AuditEvent eb = RoundTrip<AuditEvent>(ToJson(e));
  CHECK(eb.seq == 7);
  CHECK(eb.version == std::optional<int64_t>(3));
  CHECK(eb.details == e.details);
  CHECK(eb.hash == e.hash);
  CHECK(ComputeAuditHash(eb) == ComputeAuditHash(e));

  auto list = DecodeList<StageChange>(json::array({ToJson(c), ToJson(c)}));
  REQUIRE(list.ok());
  CHECK(list->size() == 2);
}

TEST_CASE("codec: a policy and an audit verification read back") {
  Policy p;
  p.approvals_required = 2;
  p.require_clean_code = true;
  auto gate = ParseGate("auc >= 0.8");
  REQUIRE(gate.ok());
  p.gates.push_back(*gate);
  Policy pb = RoundTrip<Policy>(ToJson(p));
  CHECK(pb.approvals_required == 2);
  CHECK(pb.require_clean_code);
  REQUIRE(pb.gates.size() == 1);
  CHECK(pb.gates[0].ToString() == gate->ToString());
  CHECK(pb.drift_alpha == 0.001);
  CHECK_FALSE(pb.max_violation_rate.has_value());
  p.drift_alpha = 0.01;
  p.drift_min_psi = 0.05;
  p.max_violation_rate = 0.2;
  Policy pm = RoundTrip<Policy>(ToJson(p));
  CHECK(pm.drift_alpha == 0.01);
  CHECK(pm.drift_min_psi == 0.05);
  CHECK(pm.max_violation_rate == 0.2);
  CHECK(PolicyFromJson(json{{"max_violation_rate", 2}}).status().message() ==
        "max_violation_rate must be a number in [0, 1], got 2");
  CHECK_FALSE(PolicyFromJson(json{{"drift_alpha", "low"}}).ok());

  AuditVerifyResult r;
  r.ok = false;
  r.checked = 9;
  r.first_bad_seq = 4;
  r.problem = "hash mismatch";
  AuditVerifyResult rb = RoundTrip<AuditVerifyResult>(ToJson(r));
  CHECK_FALSE(rb.ok);
  CHECK(rb.checked == 9);
  CHECK(rb.first_bad_seq == 4);
  CHECK(rb.problem == "hash mismatch");
}

TEST_CASE("codec: a version's lineage reads back with parents, children and agents") {
  VersionLineage l;
  l.version = SampleVersion();
  l.record.data.push_back({"train", "s3://b/train.csv", *Digest::Parse(kDigest)});
  l.record.code = CodeRef{"git@example.com:ml.git", std::string(40, 'c'), "main", true, "train.py"};
  l.record.params = {{"lr", 0.1}, {"depth", int64_t{6}}, {"algo", std::string("gbm")}, {"seed", std::monostate{}}};
  l.record.metrics = {{"auc", 0.9}};
  l.record.environment = {{"python", "3.11"}};
  l.record.parent = *Digest::Parse(kOther);
  l.parents = {{"churn", 2, kOther, "production"}};
  l.children = {{"churn-ft", 1, kDigest, "none"}};
  AgentInfo a;
  a.id = "edge-1";
  a.model = "churn";
  a.stage = "production";
  a.version = 3;
  a.state = "serving";
  a.last_seen_ms = kT;
  a.heartbeat_ms = 5000;
  a.spool_max_bytes = 100;
  a.spool_pending_bytes = 90;
  l.serving.push_back(a);
  VersionLineage b = RoundTrip<VersionLineage>(ToJson(l, kT + 1000));
  CHECK(b.version.number == 3);
  CHECK(b.version.code_dirty == std::optional<bool>(true));
  REQUIRE(b.record.code.has_value());
  CHECK(b.record.code->branch == "main");
  CHECK(b.record.code->entrypoint == "train.py");
  CHECK(b.record.params == l.record.params);
  CHECK(b.record.metrics == l.record.metrics);
  CHECK(b.record.environment == l.record.environment);
  REQUIRE(b.record.parent.has_value());
  CHECK(b.record.parent->str() == kOther);
  REQUIRE(b.record.data.size() == 1);
  CHECK(b.record.data[0].digest->str() == kDigest);
  REQUIRE(b.parents.size() == 1);
  CHECK(b.parents[0].stage == "production");
  REQUIRE(b.children.size() == 1);
  CHECK(b.children[0].model == "churn-ft");
  REQUIRE(b.serving.size() == 1);
  CHECK(b.serving[0].id == "edge-1");
  CHECK(b.serving[0].heartbeat_ms == 5000);
  CHECK(b.serving[0].spool_pending_bytes == 90);
  CHECK(b.serving[0].SpoolNearBound());
}

TEST_CASE("codec: a decision reads back, with and without its output") {
  DecisionRecord d;
  d.request_id = "r-1";
  d.model = "churn";
  d.version = 3;
  d.digest = kDigest;
  d.agent_id = "edge-1";
  d.at_ms = kT;
  d.input_sha256 = std::string(64, 'e');
  d.received_at_ms = kT + 2;
  DecisionRecord b = RoundTrip<DecisionRecord>(ToJson(d));
  CHECK(b.at_ms == kT);
  CHECK(b.received_at_ms == kT + 2);
  CHECK_FALSE(b.output.has_value());
  d.output = "{\"churn\":true}";
  CHECK(RoundTrip<DecisionRecord>(ToJson(d)).output == d.output);
  CHECK_FALSE(ToJson(d).contains("arm"));  // no rollout: no arm, rollout_id or fallback
  CHECK_FALSE(ToJson(d).contains("rollout_id"));
  CHECK_FALSE(ToJson(d).contains("fallback"));
  CHECK(b.arm.empty());
  CHECK_FALSE(b.rollout_id.has_value());
  d.arm = "candidate";
  d.rollout_id = 7;
  d.fallback = "static";
  DecisionRecord c = RoundTrip<DecisionRecord>(ToJson(d));
  CHECK(c.arm == "candidate");
  CHECK(c.rollout_id == 7);
  CHECK(c.fallback == "static");
}

TEST_CASE("codec: bad input is InvalidArgument naming the field, never an exception") {
  json v = ToJson(SampleVersion());
  CHECK(Decode<VersionRecord>(json::array()).status().message() == "version must be a JSON object");

  json missing = v;
  missing.erase("stage");
  auto r = Decode<VersionRecord>(missing);
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message() == "version.stage is missing");

  json wrong = v;
  wrong["version"] = "three";
  CHECK(Decode<VersionRecord>(wrong).status().message() == "version.version has the wrong type");

  json bad_time = v;
  bad_time["created_at"] = "yesterday";
  CHECK(Decode<VersionRecord>(bad_time).status().message() == "version.created_at is not a time: yesterday");

  json bad_role = ToJson(TokenRecord{});
  bad_role["role"] = "root";
  CHECK_FALSE(Decode<TokenRecord>(bad_role).ok());

  VersionDetail d;
  d.version = SampleVersion();
  d.approvals = {{"bob", "", kT}};
  json bad_approval = ToJson(d);
  bad_approval["approvals"][0].erase("approver");
  CHECK(Decode<VersionDetail>(bad_approval).status().message() == "version.approvals: approval.approver is missing");

  auto list = DecodeList<StageChange>(json::array({1}));
  CHECK(list.status().message() == "[0]: stage change must be a JSON object");

  json unknown = v;
  unknown["added_by_a_newer_server"] = true;
  CHECK(Decode<VersionRecord>(unknown).ok());
}

}  // namespace
}  // namespace modelreg::codec

namespace modelreg::codec {
namespace {

TEST_CASE("codec: what was live, a downstream page and a decision audit read back") {
  const int64_t t = 1764979200123;
  AgentStateAt a;
  a.agent = "edge-1";
  a.state = "unknown";
  a.gap = true;
  a.version = 2;
  a.since_ms = t;
  a.confirmed_until_ms = t + 10;
  a.last_state = "serving";
  a.heard_again_ms = t + 99;
  LiveAt l;
  l.model = "churn";
  l.at_ms = t + 50;
  l.production = VersionRef{"churn", 2, "sha256:" + std::string(64, 'a'), "production"};
  l.production_since_ms = t - 5;
  l.agents = {a};
  auto lb = Decode<LiveAt>(ToJson(l));
  REQUIRE(lb.ok());
  CHECK(lb->at_ms == t + 50);
  REQUIRE(lb->production.has_value());
  CHECK(lb->production->version == 2);
  CHECK(lb->production_since_ms == t - 5);
  REQUIRE(lb->agents.size() == 1);
  CHECK(lb->agents[0].gap);
  CHECK(lb->agents[0].last_state == "serving");
  CHECK(lb->agents[0].heard_again_ms == std::optional<int64_t>(t + 99));

  DownstreamPage page;
  DownstreamEntry e;
  e.version.model = "churn";
  e.version.number = 4;
  e.version.digest = "sha256:" + std::string(64, 'b');
  e.version.stage = "staging";
  e.depth = 1;
  e.via = "parent sha256:...";
  page.entries = {e};
  page.total = 7;
  page.next_offset = 1;
  auto pb = Decode<DownstreamPage>(ToJson(page, t));
  REQUIRE(pb.ok());
  REQUIRE(pb->entries.size() == 1);
  CHECK(pb->entries[0].depth == 1);
  CHECK(pb->entries[0].version.number == 4);
  CHECK(pb->total == 7);
  CHECK(pb->next_offset == std::optional<int64_t>(1));

  DecisionAudit d;
  d.decision.request_id = "r-9";
  d.decision.at_ms = t;
  d.approvals = {{"bob", "", t}};
  d.promotions = {{2, "staging", "production", "stage", "bob", "", t}};
  d.agent_at_time = a;
  d.production_at_time = l.production;
  auto db = Decode<DecisionAudit>(ToJson(d, t));
  INFO(db.status().message());
  REQUIRE(db.ok());
  CHECK(db->decision.request_id == "r-9");
  CHECK_FALSE(db->lineage.has_value());
  CHECK(db->promotions.size() == 1);
  REQUIRE(db->agent_at_time.has_value());
  CHECK(db->agent_at_time->agent == "edge-1");
  CHECK(db->production_at_time->digest == l.production->digest);
}

}  // namespace
}  // namespace modelreg::codec

namespace modelreg::codec {
namespace {

TEST_CASE("codec: a version diff reads back") {
  VersionDiffResult r;
  r.from = {"churn", 1, "sha256:" + std::string(64, 'a'), "archived"};
  r.to = {"churn", 2, "sha256:" + std::string(64, 'b'), "staging"};
  r.diff.params = {{"lr", ParamValue{0.1}, ParamValue{0.2}}, {"depth", std::nullopt, ParamValue{int64_t{6}}}};
  r.diff.code = {{"commit", ParamValue{std::string(40, '1')}, ParamValue{std::string(40, '2')}}};
  r.diff.data = {
      {"train", DatasetRef{"train", "s3://a", *Digest::Parse("sha256:" + std::string(64, 'c'))}, std::nullopt}};
  r.diff.files_added = {{"new.bin", 3, "sha256:" + std::string(64, 'd')}};
  r.diff.files_changed = {{"model.bin",
                           {"model.bin", 1, "sha256:" + std::string(64, 'e')},
                           {"model.bin", 2, "sha256:" + std::string(64, 'f')}}};
  r.diff.files_unchanged = 5;
  auto b = Decode<VersionDiffResult>(ToJson(r));
  INFO(b.status().message());
  REQUIRE(b.ok());
  CHECK(b->from.version == 1);
  CHECK(b->to.stage == "staging");
  REQUIRE(b->diff.params.size() == 2);
  CHECK(b->diff.params[0].to == std::optional<ParamValue>(ParamValue{0.2}));
  CHECK_FALSE(b->diff.params[1].from.has_value());
  REQUIRE(b->diff.code.size() == 1);
  CHECK(b->diff.code[0].name == "commit");
  REQUIRE(b->diff.data.size() == 1);
  CHECK(b->diff.data[0].from->uri == "s3://a");
  CHECK_FALSE(b->diff.data[0].to.has_value());
  REQUIRE(b->diff.files_added.size() == 1);
  CHECK(b->diff.files_added[0].size == 3);
  REQUIRE(b->diff.files_changed.size() == 1);
  CHECK(b->diff.files_changed[0].to.size == 2);
  CHECK(b->diff.files_unchanged == 5);
  CHECK_FALSE(b->diff.empty());
}

}  // namespace
}  // namespace modelreg::codec
