#include "client/answer_decode.h"

#include <stdexcept>

#include "core/clock.h"

namespace modelreg::client_internal {
namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) { return j.at(key).get<std::string>(); }
std::string OptStr(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? "" : it->get<std::string>();
}
std::optional<int64_t> OptInt(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<int64_t>();
}
// An ISO 8601 time member as epoch milliseconds (0 when absent or unreadable:
// a time is shown, not computed with).
int64_t TimeMs(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return 0;
  auto t = ParseTimeMs(it->get<std::string>());
  return t.ok() ? *t : 0;
}

}  // namespace

Status WrongShape(const std::string& what, const std::string& why) {
  return Status::Internal("the registry's answer is not what this client reads (" + what + ": " + why +
                          "); is MODELREG_URL / --registry a modelreg registry of this version?");
}

ModelRecord DecodeModel(const json& j) {
  ModelRecord m;
  m.name = Str(j, "name");
  m.created_at_ms = TimeMs(j, "created_at");
  m.created_by = OptStr(j, "created_by");
  m.version_count = j.at("version_count").get<int64_t>();
  m.latest_version = OptInt(j, "latest_version");
  m.production_version = OptInt(j, "production_version");
  m.last_change_ms = TimeMs(j, "last_change");
  return m;
}

VersionRecord DecodeVersionRecord(const json& j) {
  VersionRecord v;
  v.model = Str(j, "model");
  v.number = j.at("version").get<int64_t>();
  v.digest = Str(j, "digest");
  v.config_digest = OptStr(j, "config_digest");
  v.manifest_size = OptInt(j, "manifest_size").value_or(0);
  v.file_count = j.at("file_count").get<int64_t>();
  v.total_bytes = j.at("total_bytes").get<int64_t>();
  v.stage = Str(j, "stage");
  v.created_at_ms = TimeMs(j, "created_at");
  v.created_by = OptStr(j, "created_by");
  if (auto c = j.find("code"); c != j.end() && c->is_object()) {
    v.code_repo = OptStr(*c, "repo");
    v.code_commit = OptStr(*c, "commit");
    if (auto d = c->find("dirty"); d != c->end() && !d->is_null()) v.code_dirty = d->get<bool>();
  }
  v.parent_digest = OptStr(j, "parent");
  return v;
}

VersionView DecodeVersionView(const json& j) {
  VersionView v;
  v.record = DecodeVersionRecord(j);
  if (auto m = j.find("metrics"); m != j.end() && !m->is_null())
    for (const auto& [k, x] : m->items()) v.metrics[k] = x.get<double>();
  if (auto d = j.find("data"); d != j.end() && !d->is_null())
    for (const auto& e : *d) v.data.push_back(DatasetRow{Str(e, "name"), OptStr(e, "uri"), OptStr(e, "digest")});
  if (auto a = j.find("approvals"); a != j.end() && !a->is_null())
    for (const auto& e : *a) v.approvals.push_back(ApprovalInfo{Str(e, "approver"), OptStr(e, "comment"), TimeMs(e, "time")});
  return v;
}

LineageRecord DecodeLineageRecord(const json& j) {
  LineageRecord r;
  r.model = OptStr(j, "model");
  for (const auto& d : j.at("data")) {
    DatasetRef ref{Str(d, "name"), OptStr(d, "uri"), std::nullopt};
    if (auto dg = OptStr(d, "digest"); !dg.empty()) {
      auto parsed = Digest::Parse(dg);
      if (parsed.ok()) ref.digest = *parsed;
    }
    r.data.push_back(std::move(ref));
  }
  if (auto c = j.find("code"); c != j.end() && c->is_object())
    r.code = CodeRef{OptStr(*c, "repo"), OptStr(*c, "commit"), OptStr(*c, "branch"), c->value("dirty", false),
                     OptStr(*c, "entrypoint")};
  for (const auto& [k, v] : j.at("params").items()) {
    if (v.is_null()) r.params[k] = std::monostate{};
    else if (v.is_boolean()) r.params[k] = v.get<bool>();
    else if (v.is_number_integer()) r.params[k] = v.get<int64_t>();
    else if (v.is_number()) r.params[k] = v.get<double>();
    else r.params[k] = v.get<std::string>();
  }
  for (const auto& [k, v] : j.at("metrics").items()) r.metrics[k] = v.get<double>();
  for (const auto& [k, v] : j.at("environment").items()) r.environment[k] = v.get<std::string>();
  if (auto p = OptStr(j, "parent"); !p.empty()) {
    auto parsed = Digest::Parse(p);
    if (parsed.ok()) r.parent = *parsed;
  }
  return r;
}

StageChange DecodeStageChange(const json& j) {
  return StageChange{j.at("version").get<int64_t>(), OptStr(j, "from"), OptStr(j, "to"), OptStr(j, "kind"),
                     OptStr(j, "actor"), OptStr(j, "reason"), TimeMs(j, "time")};
}

Policy DecodePolicy(const json& j) {
  Policy p;
  p.approvals_required = j.at("approvals").get<int>();
  p.require_clean_code = j.at("require_clean_code").get<bool>();
  p.require_data_digests = j.at("require_data_digests").get<bool>();
  for (const auto& g : j.at("gates")) {
    const std::string text = g.get<std::string>();
    auto gate = ParseGate(text);
    // A gate this client cannot parse is still shown as the registry wrote it.
    p.gates.push_back(gate.ok() ? *gate : Gate{text, "", std::nullopt});
  }
  return p;
}

AgentView DecodeAgent(const json& j) {
  AgentView a;
  a.info.id = Str(j, "id");
  a.info.host = OptStr(j, "host");
  a.info.model = OptStr(j, "model");
  a.info.stage = OptStr(j, "stage");
  a.info.version = OptInt(j, "version");
  a.info.digest = OptStr(j, "digest");
  a.info.state = OptStr(j, "state");
  a.info.last_error = OptStr(j, "last_error");
  a.info.token_name = OptStr(j, "token");
  a.info.last_seen_ms = TimeMs(j, "last_seen");
  a.info.last_change_ms = TimeMs(j, "last_change");
  a.info.heartbeat_ms = static_cast<int64_t>(j.value("heartbeat_s", 0.0) * 1000);
  if (auto s = j.find("spool"); s != j.end() && s->is_object()) {
    a.info.spool_pending_bytes = s->at("pending_bytes").get<int64_t>();
    a.info.spool_max_bytes = s->at("max_bytes").get<int64_t>();
    a.info.decisions_dropped = s->value("dropped", int64_t{0});
  }
  a.heartbeat_age_s = j.value("heartbeat_age_s", 0.0);
  a.silent = j.value("silent", false);
  return a;
}

TokenRecord DecodeToken(const json& j) {
  TokenRecord t;
  t.name = Str(j, "name");
  auto role = ParseRole(Str(j, "role"));
  if (!role.ok()) throw std::invalid_argument("unknown role '" + Str(j, "role") + "'");
  t.role = *role;
  for (const auto& g : j.at("models")) t.model_globs.push_back(g.get<std::string>());
  t.created_at_ms = TimeMs(j, "created_at");
  t.created_by = OptStr(j, "created_by");
  if (j.at("revoked").get<bool>()) t.revoked_at_ms = TimeMs(j, "revoked_at");
  if (auto e = j.find("expires_at"); e != j.end() && e->is_string()) t.expires_at_ms = TimeMs(j, "expires_at");
  return t;
}

}  // namespace modelreg::client_internal
