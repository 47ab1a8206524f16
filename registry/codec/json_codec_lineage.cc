// JSON forms of the audit and lineage query results (json_codec.h).
#include "codec/json_codec.h"
#include "core/param_json.h"

namespace modelreg::codec {
using nlohmann::json;

json ToJson(const ParamValue& v) { return ParamJson(v); }

json ToJson(const VersionRef& r) {
  return {{"model", r.model}, {"version", r.version}, {"digest", r.digest}, {"stage", r.stage}};
}

json ToJson(const AgentInfo& a, int64_t now_ms) {
  json e = {{"id", a.id},
            {"host", a.host},
            {"model", a.model},
            {"stage", a.stage},
            {"digest", a.digest},
            {"state", a.state},
            {"last_error", a.last_error},
            {"token", a.token_name},
            {"last_seen", IsoTime(a.last_seen_ms)},
            {"last_change", IsoTime(a.last_change_ms)},
            {"heartbeat_age_s", static_cast<double>(now_ms - a.last_seen_ms) / 1000.0},
            {"heartbeat_s", static_cast<double>(a.heartbeat_ms) / 1000.0},
            {"silent", now_ms - a.last_seen_ms > AgentSilenceLimitMs(a.heartbeat_ms)}};
  e["version"] = a.version ? json(*a.version) : json(nullptr);
  if (a.spool_max_bytes > 0)
    e["spool"] = {{"pending_bytes", a.spool_pending_bytes},
                  {"max_bytes", a.spool_max_bytes},
                  {"dropped", a.decisions_dropped},
                  {"near_bound", a.SpoolNearBound()}};
  return e;
}

json ToJson(const DecisionRecord& d) {
  json j = {{"request_id", d.request_id},
            {"model", d.model},
            {"digest", d.digest},
            {"agent_id", d.agent_id},
            {"time", IsoTime(d.at_ms)},
            {"at_ms", d.at_ms},
            {"input_sha256", d.input_sha256},
            {"received", IsoTime(d.received_at_ms)}};
  j["version"] = d.version ? json(*d.version) : json(nullptr);
  if (d.output) j["output"] = *d.output;
  if (!d.arm.empty()) j["arm"] = d.arm;
  if (d.rollout_id) j["rollout_id"] = *d.rollout_id;
  if (!d.fallback.empty()) j["fallback"] = d.fallback;
  return j;
}

json ToJson(const LineageRecord& r) {
  json data = json::array();
  for (const auto& d : r.data) {
    json e = {{"name", d.name}, {"uri", d.uri}};
    e["digest"] = d.digest ? json(d.digest->str()) : json(nullptr);
    data.push_back(e);
  }
  json params = json::object(), metrics = json::object(), env = json::object();
  for (const auto& [k, v] : r.params) params[k] = ToJson(v);
  for (const auto& [k, v] : r.metrics) metrics[k] = v;
  for (const auto& [k, v] : r.environment) env[k] = v;
  json j = {{"data", data}, {"params", params}, {"metrics", metrics}, {"environment", env}};
  j["code"] = r.code ? json{{"repo", r.code->repo},
                            {"commit", r.code->commit},
                            {"branch", r.code->branch},
                            {"dirty", r.code->dirty},
                            {"entrypoint", r.code->entrypoint}}
                     : json(nullptr);
  j["parent"] = r.parent ? json(r.parent->str()) : json(nullptr);
  j["profile"] = r.profile ? json{{"digest", r.profile->digest.str()}, {"size", r.profile->size}} : json(nullptr);
  return j;
}

json ToJson(const VersionLineage& l, int64_t now_ms) {
  json j = ToJson(l.record);
  json code = j["code"];        // the full record's code (branch, entrypoint) ...
  j.update(ToJson(l.version));  // model, version, digest, stage, created_*, ...
  j["code"] = std::move(code);  // ... not the version row's summary of it
  json parents = json::array(), children = json::array(), serving = json::array();
  for (const auto& p : l.parents) parents.push_back(ToJson(p));
  for (const auto& c : l.children) children.push_back(ToJson(c));
  for (const auto& a : l.serving) serving.push_back(ToJson(a, now_ms));
  j["parents"] = parents;
  j["parents_truncated"] = l.parents_truncated;
  j["unresolved_parent"] = l.unresolved_parent.empty() ? json(nullptr) : json(l.unresolved_parent);
  j["children"] = children;
  j["serving"] = serving;
  return j;
}

json ToJson(const DownstreamPage& page, int64_t now_ms) {
  json arr = json::array();
  for (const auto& e : page.entries) {
    json j = ToJson(e.version);
    j["depth"] = e.depth;
    j["via"] = e.via;
    json serving = json::array();
    for (const auto& a : e.serving) serving.push_back(ToJson(a, now_ms));
    j["serving"] = serving;
    arr.push_back(j);
  }
  json out = {{"versions", arr}, {"total", page.total}, {"truncated", page.truncated}};
  if (page.next_offset) out["next_offset"] = *page.next_offset;
  return out;
}

json ToJson(const AgentStateAt& s) {
  json j = {{"agent", s.agent},
            {"state", s.state},
            {"gap", s.gap},
            {"digest", s.digest},
            {"error", s.error},
            {"since", IsoTime(s.since_ms)},
            {"confirmed_until", IsoTime(s.confirmed_until_ms)}};
  j["version"] = s.version ? json(*s.version) : json(nullptr);
  if (s.gap) {
    j["last_state"] = s.last_state;
    j["heard_again"] = s.heard_again_ms ? json(IsoTime(*s.heard_again_ms)) : json(nullptr);
  }
  return j;
}

json ToJson(const LiveAt& l) {
  json agents = json::array();
  for (const auto& a : l.agents) agents.push_back(ToJson(a));
  json j = {{"model", l.model}, {"at", IsoTime(l.at_ms)}, {"at_ms", l.at_ms}, {"agents", agents}};
  j["production"] = l.production ? ToJson(*l.production) : json(nullptr);
  if (l.production) j["production"]["since"] = IsoTime(l.production_since_ms);
  return j;
}

json ToJson(const DecisionAudit& a, int64_t now_ms) {
  json approvals = json::array(), promotions = json::array();
  for (const auto& x : a.approvals) approvals.push_back(ToJson(x));
  for (const auto& c : a.promotions) promotions.push_back(ToJson(c));
  json j = {{"decision", ToJson(a.decision)}, {"approvals", approvals}, {"promotions", promotions}};
  j["version"] = a.lineage ? ToJson(*a.lineage, now_ms) : json(nullptr);
  j["agent_at_time"] = a.agent_at_time ? ToJson(*a.agent_at_time) : json(nullptr);
  j["production_at_time"] = a.production_at_time ? ToJson(*a.production_at_time) : json(nullptr);
  return j;
}

json ToJson(const VersionDiffResult& r) {
  const VersionDiff& d = r.diff;
  auto fields = [](const std::vector<FieldChange>& v) {
    json arr = json::array();
    for (const auto& f : v)
      arr.push_back({{"name", f.name},
                     {"from", f.from ? ToJson(*f.from) : json(nullptr)},
                     {"to", f.to ? ToJson(*f.to) : json(nullptr)}});
    return arr;
  };
  auto dataset = [](const std::optional<DatasetRef>& x) -> json {
    if (!x) return nullptr;
    return {{"uri", x->uri}, {"digest", x->digest ? json(x->digest->str()) : json(nullptr)}};
  };
  auto file = [](const FileEntry& f) { return json{{"path", f.path}, {"size", f.size}, {"digest", f.digest}}; };
  json data = json::array(), added = json::array(), removed = json::array(), changed = json::array();
  for (const auto& x : d.data) data.push_back({{"name", x.name}, {"from", dataset(x.from)}, {"to", dataset(x.to)}});
  for (const auto& f : d.files_added) added.push_back(file(f));
  for (const auto& f : d.files_removed) removed.push_back(file(f));
  for (const auto& f : d.files_changed)
    changed.push_back({{"path", f.path},
                       {"from", {{"size", f.from.size}, {"digest", f.from.digest}}},
                       {"to", {{"size", f.to.size}, {"digest", f.to.digest}}}});
  json code = json::array();
  for (const auto& f : d.code)
    code.push_back({{"field", f.name},
                    {"from", f.from ? ToJson(*f.from) : json(nullptr)},
                    {"to", f.to ? ToJson(*f.to) : json(nullptr)}});
  return {{"model", r.from.model},
          {"from", ToJson(r.from)},
          {"to", ToJson(r.to)},
          {"identical", d.empty()},
          {"params", fields(d.params)},
          {"metrics", fields(d.metrics)},
          {"environment", fields(d.environment)},
          {"code", code},
          {"data", data},
          {"files", {{"added", added}, {"removed", removed}, {"changed", changed}, {"unchanged", d.files_unchanged}}}};
}

}  // namespace modelreg::codec
