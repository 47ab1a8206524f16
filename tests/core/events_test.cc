// core/events.h: which events an audit record stands for, the body every
// receiver gets, event lists and model globs, and the retry schedule.
#include "core/events.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace modelreg;
using nlohmann::json;

namespace {

AuditEvent Audit(const std::string& action, const std::string& model, std::optional<int64_t> version,
                 const json& details) {
  AuditEvent a;
  a.at_ms = 1796560000123;
  a.actor = "alice";
  a.action = action;
  a.model = model;
  a.version = version;
  a.details = details.dump();
  return a;
}

std::vector<std::string> Types(const std::vector<EventRecord>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type);
  return out;
}

}  // namespace

TEST_CASE("EventsOfAudit: every audited change is an event, with MLflow's field names where they overlap") {
  auto reg = EventsOfAudit(Audit("register", "churn", 3, {{"digest", "sha256:ab"}, {"files", 2}, {"bytes", 10}}));
  REQUIRE(Types(reg) == std::vector<std::string>{"model_version.created"});
  json d = json::parse(reg[0].data);
  CHECK(d["name"] == "churn");
  CHECK(d["version"] == "3");  // a string, as MLflow sends it
  CHECK(d["source"] == "models:/churn/3");
  CHECK(d["digest"] == "sha256:ab");
  CHECK(reg[0].version == 3);
  CHECK(reg[0].actor == "alice");

  // A promotion that replaced production: the old version moves first.
  auto promote =
      EventsOfAudit(Audit("promote", "churn", 3, {{"from", "staging"}, {"to", "production"}, {"replaced", 2}}));
  REQUIRE(Types(promote) == std::vector<std::string>{"stage.changed", "stage.changed"});
  CHECK(json::parse(promote[0].data)["version"] == "2");
  CHECK(json::parse(promote[0].data)["to"] == "archived");
  CHECK(json::parse(promote[1].data)["to"] == "production");
  CHECK(promote[1].version == 3);

  auto rollback =
      EventsOfAudit(Audit("rollback", "churn", 2, {{"from_version", 3}, {"to_version", 2}, {"reason", "p99"}}));
  REQUIRE(Types(rollback) == std::vector<std::string>{"stage.changed", "stage.changed", "rollback"});
  CHECK(json::parse(rollback[0].data)["version"] == "3");
  CHECK(json::parse(rollback[1].data)["to"] == "production");
  CHECK(json::parse(rollback[2].data)["reason"] == "p99");

  CHECK(Types(EventsOfAudit(Audit("approve", "churn", 3, json::object()))) ==
        std::vector<std::string>{"approval.added"});
  CHECK(Types(EventsOfAudit(Audit("reject", "churn", 3, {{"from", "none"}, {"to", "rejected"}}))) ==
        std::vector<std::string>{"stage.changed"});
  CHECK(Types(EventsOfAudit(Audit("policy.set", "churn", std::nullopt, {{"approvals_required", 2}}))) ==
        std::vector<std::string>{"policy.changed"});

  // Tokens: registry-wide, their name and role, never a secret.
  auto token = EventsOfAudit(Audit("token.create", "", std::nullopt, {{"name", "ci"}, {"role", "trainer"}}));
  REQUIRE(Types(token) == std::vector<std::string>{"token.created"});
  CHECK(token[0].model.empty());
  CHECK(json::parse(token[0].data) == json{{"token", "ci"}, {"role", "trainer"}, {"actor", "alice"}});

  // Actions that are no event, and details that are not JSON, yield nothing
  // wrong: no event, or one with what could be read.
  CHECK(EventsOfAudit(Audit("webhook.create", "", std::nullopt, json::object())).empty());
  AuditEvent broken = Audit("register", "churn", 4, json::object());
  broken.details = "not json";
  REQUIRE(EventsOfAudit(broken).size() == 1);
}

TEST_CASE("EventBody: the JSON receivers get, and a registry-wide event has no model or version") {
  EventRecord e{42, 1796560000123, "stage.changed", "churn", 3, "alice", R"({"to":"production"})"};
  json b = json::parse(EventBody(e));
  CHECK(b["id"] == 42);
  CHECK(b["type"] == "stage.changed");
  CHECK(b["entity"] == "model_version");
  CHECK(b["action"] == "stage_changed");
  CHECK(b["timestamp"] == "2026-12-06T12:26:40.123Z");
  CHECK(b["version"] == 3);
  CHECK(b["data"]["to"] == "production");
  EventRecord wide{7, 1, "token.revoked", "", std::nullopt, "root", "{}"};
  json w = json::parse(EventBody(wide));
  CHECK(w["model"] == "");
  CHECK(w["version"].is_null());
}

TEST_CASE("Event lists and model globs decide which webhook gets which event") {
  CHECK(NormalizeEventList("stage.changed, rollback,stage.changed").value() == "rollback,stage.changed");
  CHECK(NormalizeEventList("*").value() == "*");
  CHECK(NormalizeEventList("rollback,*").value() == "*");
  auto bad = NormalizeEventList("stage.change");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("unknown event type 'stage.change'") != std::string::npos);
  CHECK_FALSE(NormalizeEventList(" , ").ok());

  EventRecord churn{1, 0, "stage.changed", "churn-eu", 1, "a", "{}"};
  EventRecord token{2, 0, "token.created", "", std::nullopt, "a", "{}"};
  CHECK(WebhookWants("*", "", churn));
  CHECK(WebhookWants("rollback,stage.changed", "churn*", churn));
  CHECK_FALSE(WebhookWants("rollback", "churn*", churn));
  CHECK_FALSE(WebhookWants("*", "fraud*", churn));
  CHECK(WebhookWants("*", "", token));
  CHECK_FALSE(WebhookWants("*", "churn*", token));  // registry-wide: unfiltered webhooks only
  CHECK_FALSE(WebhookWants("*", "", EventRecord{3, 0, "webhook.test", "", std::nullopt, "a", "{}"}));
}

TEST_CASE(
    "Retry delays double from 1 s to at most 30 s with jitter: a receiver back after any outage is tried "
    "again within 30 s, and nothing is given up before a day") {
  CHECK(RetryDelayMs(1, 1.0) == 1000);
  CHECK(RetryDelayMs(1, 0.0) == 500);
  CHECK(RetryDelayMs(2, 1.0) == 2000);
  CHECK(RetryDelayMs(5, 1.0) == 16000);
  int64_t total = 0;
  for (int64_t attempt = 1; attempt <= 10000; ++attempt) {
    const int64_t d = RetryDelayMs(attempt, attempt % 7 / 7.0);
    CHECK(d >= 500);
    CHECK(d <= kMaxRetryDelayMs);
    total += d;
  }
  CHECK(RetryDelayMs(1000000, 0.99) <= kMaxRetryDelayMs);
  // An hour down is about 120-240 attempts of the head of each queue, far
  // from the day after which a delivery is given up.
  CHECK(kDeliveryGiveUpMs == 24ll * 3600 * 1000);
  CHECK(total > kDeliveryGiveUpMs / 10);
}
