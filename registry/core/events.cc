#include "core/events.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "core/clock.h"
#include "core/glob.h"

namespace modelreg {
namespace {

using nlohmann::json;

json Parse(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  return j.is_object() ? j : json::object();
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

EventRecord Make(const AuditEvent& a, const char* type, std::optional<int64_t> version, const json& data) {
  EventRecord e;
  e.at_ms = a.at_ms;
  e.type = type;
  e.model = a.model;
  e.version = version;
  e.actor = a.actor;
  e.data = Dump(data);
  return e;
}

// MLflow's payloads carry the model as `name` and the version as a string.
json VersionData(const AuditEvent& a, int64_t version) {
  return {{"name", a.model}, {"version", std::to_string(version)}, {"actor", a.actor}};
}

}  // namespace

const std::vector<EventType>& EventTypes() {
  static const std::vector<EventType> k = {
      {"registered_model.created", "registered_model", "created", true, "a model got its first version"},
      {"model_version.created", "model_version", "created", true, "a version was registered"},
      {"model_version.deleted", "model_version", "deleted", true,
       "a version was deleted (its record stays; its files go at the next gc)"},
      {"stage.changed", "model_version", "stage_changed", true,
       "a version moved to another stage (promote, reject, archive, rollback)"},
      {"approval.added", "model_version", "approved", true, "a version was approved"},
      {"rollback", "registered_model", "rolled_back", true, "production went back to an earlier version"},
      {"policy.changed", "registered_model", "policy_changed", true, "a model's promotion policy was set"},
      {"referrer.pushed", "model_version", "referrer_pushed", true,
       "a signature or attestation was pushed about a version (OCI)"},
      {"rollout.started", "rollout", "started", true, "a shadow, canary or A/B rollout of a version began"},
      {"rollout.stepped", "rollout", "stepped", true, "a canary's share of traffic changed"},
      {"rollout.aborted", "rollout", "aborted", true,
       "a rollout was aborted, by a person or automatically on the judge's verdict"},
      {"rollout.finished", "rollout", "finished", true, "a rollout ended; a canary or A/B candidate became production"},
      {"agent.failed", "agent", "failed", true, "a serving agent reported a failure"},
      {"agent.recovered", "agent", "recovered", true, "a failed agent serves again"},
      {"drift.alarm", "model_version", "drift_alarm", true,
       "a monitoring window of a version drifted from its reference profile (features with PSI over the threshold)"},
      {"schema.violations", "model_version", "schema_violations", true,
       "a monitoring window's share of requests breaking the input schema exceeded the policy's max_violation_rate"},
      {"token.created", "token", "created", false, "an API token was created"},
      {"token.revoked", "token", "revoked", false, "an API token was revoked"},
      {"audit.verify_failed", "audit_log", "verify_failed", false, "an audit verification found the log broken"},
      {"webhook.test", "webhook", "test", false, "sent by `webhook test` only"},
  };
  return k;
}

const EventType* FindEventType(std::string_view name) {
  for (const auto& t : EventTypes())
    if (name == t.name) return &t;
  return nullptr;
}

std::vector<EventRecord> EventsOfAudit(const AuditEvent& a) {
  const json d = Parse(a.details);
  std::vector<EventRecord> out;
  auto num = [&](const char* k) -> std::optional<int64_t> {
    if (d.contains(k) && d[k].is_number_integer()) return d[k].get<int64_t>();
    return std::nullopt;
  };
  auto str = [&](const char* k) { return d.contains(k) && d[k].is_string() ? d[k].get<std::string>() : ""; };
  const int64_t v = a.version.value_or(0);
  if (a.action == "register" && a.version) {
    json data = VersionData(a, v);
    data["digest"] = str("digest");
    if (auto n = num("files")) data["files"] = *n;
    if (auto n = num("bytes")) data["bytes"] = *n;
    data["source"] = "models:/" + a.model + "/" + std::to_string(v);
    out.push_back(Make(a, "model_version.created", a.version, data));
  } else if ((a.action == "promote" || a.action == "reject" || a.action == "archive") && a.version) {
    // The production version a promotion replaced moved first (to archived).
    if (auto replaced = num("replaced")) {
      json data = VersionData(a, *replaced);
      data["from"] = "production";
      data["to"] = "archived";
      data["reason"] = "replaced by version " + std::to_string(v);
      out.push_back(Make(a, "stage.changed", *replaced, data));
    }
    json data = VersionData(a, v);
    data["from"] = str("from");
    data["to"] = str("to");
    data["reason"] = str("reason");
    if (d.contains("override") && d["override"].is_object()) data["override"] = d["override"];
    out.push_back(Make(a, "stage.changed", a.version, data));
  } else if (a.action == "delete" && a.version) {
    json data = VersionData(a, v);
    data["digest"] = str("digest");
    data["reason"] = str("reason");
    data["stage"] = str("stage");
    out.push_back(Make(a, "model_version.deleted", a.version, data));
  } else if (a.action == "approve" && a.version) {
    json data = VersionData(a, v);
    data["approver"] = a.actor;
    data["comment"] = str("comment");
    out.push_back(Make(a, "approval.added", a.version, data));
  } else if (a.action == "rollback" && a.version) {
    const auto from = num("from_version");
    const std::string reason = str("reason");
    if (from) {
      json down = VersionData(a, *from);
      down["from"] = "production";
      down["to"] = "archived";
      down["reason"] = reason;
      out.push_back(Make(a, "stage.changed", *from, down));
    }
    json up = VersionData(a, v);
    up["from"] = "archived";
    up["to"] = "production";
    up["reason"] = reason;
    out.push_back(Make(a, "stage.changed", a.version, up));
    json data = {{"name", a.model}, {"actor", a.actor}, {"reason", reason}, {"to_version", std::to_string(v)}};
    if (from) data["from_version"] = std::to_string(*from);
    out.push_back(Make(a, "rollback", a.version, data));
  } else if (a.action.rfind("rollout.", 0) == 0 && a.version) {
    // The audit record's details, with the version and model named as in
    // every other body; a finished canary or A/B also moved two versions.
    static const std::pair<const char*, const char*> kTypes[] = {{"rollout.start", "rollout.started"},
                                                                 {"rollout.step", "rollout.stepped"},
                                                                 {"rollout.abort", "rollout.aborted"},
                                                                 {"rollout.finish", "rollout.finished"}};
    const char* type = nullptr;
    for (const auto& [action, t] : kTypes)
      if (a.action == action) type = t;
    if (type) {
      if (auto replaced = num("replaced"); replaced && a.action == "rollout.finish") {
        json down = VersionData(a, *replaced);
        down["from"] = "production";
        down["to"] = "archived";
        down["reason"] = "replaced by version " + std::to_string(v) + " (rollout finished)";
        out.push_back(Make(a, "stage.changed", *replaced, down));
        json up = VersionData(a, v);
        up["from"] = str("from");
        up["to"] = "production";
        up["reason"] = "rollout finished";
        out.push_back(Make(a, "stage.changed", a.version, up));
      }
      json data = d;
      data["name"] = a.model;
      data["version"] = std::to_string(v);
      data["actor"] = a.actor;
      out.push_back(Make(a, type, a.version, data));
    }
  } else if ((a.action == "drift.alarm" || a.action == "schema.violations") && a.version) {
    // The numbers and the version's datasets, as audited: what a pipeline
    // needs to decide to retrain, and from what (docs/monitoring.md).
    json data = d;
    data["name"] = a.model;
    data["version"] = std::to_string(v);
    data["actor"] = a.actor;
    out.push_back(Make(a, a.action.c_str(), a.version, data));
  } else if (a.action == "policy.set") {
    json data = d;
    data["name"] = a.model;
    data["actor"] = a.actor;
    out.push_back(Make(a, "policy.changed", std::nullopt, data));
  } else if (a.action == "referrer.push" && a.version) {
    json data = d;
    data["name"] = a.model;
    data["version"] = std::to_string(v);
    data["actor"] = a.actor;
    out.push_back(Make(a, "referrer.pushed", a.version, data));
  } else if (a.action == "token.create" || a.action == "token.revoke") {
    // The token's name and role only: never its secret or hash.
    json data = {{"token", str("name")}, {"actor", a.actor}};
    if (d.contains("role")) data["role"] = d["role"];
    if (d.contains("models")) data["models"] = d["models"];
    out.push_back(Make(a, a.action == "token.create" ? "token.created" : "token.revoked", std::nullopt, data));
  }
  return out;
}

std::string EventBody(const EventRecord& e) {
  const EventType* t = FindEventType(e.type);
  json body = {{"id", e.id},
               {"type", e.type},
               {"entity", t ? t->entity : ""},
               {"action", t ? t->action : ""},
               {"timestamp", FormatIsoTime(e.at_ms)},
               {"model", e.model},
               {"version", e.version ? json(*e.version) : json(nullptr)},
               {"actor", e.actor},
               {"data", Parse(e.data)}};
  return Dump(body);
}

Result<std::string> NormalizeEventList(std::string_view list) {
  std::set<std::string> types;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    std::string one(list.substr(start, end - start));
    one.erase(0, one.find_first_not_of(' '));
    one.erase(one.find_last_not_of(' ') + 1);
    if (one == "*") {
      types.insert("*");
    } else if (!one.empty()) {
      if (!FindEventType(one)) {
        std::string known;
        for (const auto& t : EventTypes()) known += (known.empty() ? "" : ", ") + std::string(t.name);
        return Status::InvalidArgument("unknown event type '" + one + "' (known: " + known + ", or * for all)");
      }
      types.insert(one);
    }
    start = end + 1;
  }
  if (types.empty()) return Status::InvalidArgument("name at least one event type, or * for all");
  if (types.count("*")) return std::string("*");
  std::string out;
  for (const auto& t : types) out += (out.empty() ? "" : ",") + t;
  return out;
}

bool WebhookWants(std::string_view events, std::string_view models, const EventRecord& e) {
  if (e.type == "webhook.test") return false;  // sent directly, never queued
  bool type_ok = events == "*";
  for (size_t start = 0; !type_ok && start <= events.size();) {
    size_t end = events.find(',', start);
    if (end == std::string_view::npos) end = events.size();
    type_ok = events.substr(start, end - start) == e.type;
    start = end + 1;
  }
  if (!type_ok) return false;
  if (models.empty()) return true;
  if (e.model.empty()) return false;  // registry-wide events go to unfiltered webhooks only
  return GlobMatch(models, e.model);
}

int64_t RetryDelayMs(int64_t attempts, double unit) {
  const int64_t shift = std::clamp<int64_t>(attempts - 1, 0, 20);
  const int64_t base = std::min<int64_t>(int64_t{1000} << shift, kMaxRetryDelayMs);
  const double factor = 0.5 + 0.5 * std::clamp(unit, 0.0, 1.0);
  return static_cast<int64_t>(std::llround(static_cast<double>(base) * factor));
}

}  // namespace modelreg
