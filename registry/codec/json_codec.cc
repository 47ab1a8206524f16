#include "codec/json_codec.h"

#include <ctime>

#include "core/clock.h"

namespace modelreg::codec {
using nlohmann::json;

std::string IsoTime(int64_t ms) { return FormatIsoTime(ms); }

json ToJson(const ModelRecord& m) {
  json j = {{"name", m.name},
            {"created_at", IsoTime(m.created_at_ms)},
            {"created_by", m.created_by},
            {"version_count", m.version_count},
            {"last_change", IsoTime(m.last_change_ms)}};
  j["latest_version"] = m.latest_version ? json(*m.latest_version) : json(nullptr);
  j["production_version"] = m.production_version ? json(*m.production_version) : json(nullptr);
  return j;
}

json ToJson(const VersionRecord& v) {
  json j = {{"model", v.model},
            {"version", v.number},
            {"digest", v.digest},
            {"config_digest", v.config_digest},
            {"manifest_size", v.manifest_size},
            {"file_count", v.file_count},
            {"total_bytes", v.total_bytes},
            {"stage", v.stage},
            {"created_at", IsoTime(v.created_at_ms)},
            {"created_by", v.created_by}};
  if (!v.code_commit.empty())
    j["code"] = {{"repo", v.code_repo}, {"commit", v.code_commit}, {"dirty", v.code_dirty.value_or(false)}};
  if (!v.parent_digest.empty()) j["parent"] = v.parent_digest;
  if (v.deleted_at_ms)
    j["deleted"] = {{"at", IsoTime(*v.deleted_at_ms)}, {"by", v.deleted_by}, {"reason", v.delete_reason}};
  return j;
}

json ToJson(const GcReport& r) {
  json removed = json::array();
  for (const auto& [d, n] : r.removed) removed.push_back({{"digest", d}, {"bytes", n}});
  json deleted = json::array();
  for (const auto& v : r.deleted_by_retention) deleted.push_back(ToJson(v));
  return {{"dry_run", r.dry_run},
          {"grace_seconds", r.grace_ms / 1000},
          {"deleted_by_retention", deleted},
          {"blobs_scanned", r.blobs_scanned},
          {"blobs_removed", r.blobs_removed},
          {"bytes_removed", r.bytes_removed},
          {"blobs_young", r.blobs_young},
          {"bytes_young", r.bytes_young},
          {"blobs_in_use", r.blobs_in_use},
          {"removed", removed}};
}

json ToJson(const VersionDetail& d) {
  json j = ToJson(d.version);
  json ds = json::array();
  for (const auto& x : d.datasets) {
    json e = {{"name", x.name}, {"uri", x.uri}};
    if (!x.digest.empty()) e["digest"] = x.digest;
    ds.push_back(e);
  }
  j["data"] = ds;
  json ms = json::object();
  for (const auto& [k, v] : d.metrics) ms[k] = v;
  j["metrics"] = ms;
  json ap = json::array();
  for (const auto& a : d.approvals) ap.push_back(ToJson(a));
  j["approvals"] = ap;
  return j;
}

json ToJson(const ApprovalInfo& a) {
  return {{"approver", a.approver}, {"comment", a.comment}, {"time", IsoTime(a.created_at_ms)}};
}

json ToJson(const TokenRecord& t) {
  json j = {{"name", t.name},
            {"role", RoleName(t.role)},
            {"models", t.model_globs},
            {"created_at", IsoTime(t.created_at_ms)},
            {"created_by", t.created_by},
            {"revoked", t.revoked_at_ms.has_value()}};
  if (t.revoked_at_ms) j["revoked_at"] = IsoTime(*t.revoked_at_ms);
  j["expires_at"] = t.expires_at_ms ? json(IsoTime(*t.expires_at_ms)) : json(nullptr);
  j["expired"] = t.expires_at_ms.has_value() && NowMs() >= *t.expires_at_ms;
  return j;
}

json ToJson(const AuditEvent& e) {
  json j = {{"seq", e.seq},       {"time", IsoTime(e.at_ms)}, {"at_ms", e.at_ms},         {"actor", e.actor},
            {"action", e.action}, {"model", e.model},         {"prev_hash", e.prev_hash}, {"hash", e.hash}};
  j["version"] = e.version ? json(*e.version) : json(nullptr);
  auto d = json::parse(e.details, nullptr, false);
  j["details"] = d.is_discarded() ? json(e.details) : d;
  return j;
}

json ToJson(const AuditVerifyResult& r) {
  json j = {{"ok", r.ok}, {"checked", r.checked}, {"head_hash", r.head_hash}};
  if (!r.ok) {
    j["first_bad_seq"] = r.first_bad_seq;
    j["problem"] = r.problem;
  }
  return j;
}

json ToJson(const Policy& p) {
  json gates = json::array();
  for (const auto& g : p.gates) gates.push_back(g.ToString());
  json j = {{"approvals", p.approvals_required},
            {"gates", gates},
            {"require_clean_code", p.require_clean_code},
            {"require_data_digests", p.require_data_digests},
            {"drift_alpha", p.drift_alpha},
            {"drift_min_psi", p.drift_min_psi}};
  j["max_violation_rate"] = p.max_violation_rate ? json(*p.max_violation_rate) : json(nullptr);
  return j;
}

json ToJson(const StageChange& c) {
  return {{"version", c.version}, {"from", c.from_stage}, {"to", c.to_stage},        {"kind", c.kind},
          {"actor", c.actor},     {"reason", c.reason},   {"time", IsoTime(c.at_ms)}};
}

Result<Policy> PolicyFromJson(const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("policy must be a JSON object");
  Policy p;
  for (const auto& [k, v] : j.items()) {
    if (k == "approvals") {
      if (!v.is_number_integer()) return Status::InvalidArgument("approvals must be an integer");
      p.approvals_required = v.get<int>();
    } else if (k == "gates") {
      if (!v.is_array()) return Status::InvalidArgument("gates must be an array of expressions");
      for (const auto& g : v) {
        if (!g.is_string()) return Status::InvalidArgument("gates must be an array of expressions");
        MR_ASSIGN_OR_RETURN(Gate gate, ParseGate(g.get<std::string>()));
        p.gates.push_back(gate);
      }
    } else if (k == "require_clean_code" || k == "require_data_digests") {
      if (!v.is_boolean()) return Status::InvalidArgument(k + " must be true or false");
      (k == "require_clean_code" ? p.require_clean_code : p.require_data_digests) = v.get<bool>();
    } else if (k == "drift_alpha" || k == "drift_min_psi") {
      if (!v.is_number()) return Status::InvalidArgument(k + " must be a number");
      (k == "drift_alpha" ? p.drift_alpha : p.drift_min_psi) = v.get<double>();
    } else if (k == "max_violation_rate") {
      if (v.is_null()) p.max_violation_rate.reset();
      else if (v.is_number()) p.max_violation_rate = v.get<double>();
      else return Status::InvalidArgument("max_violation_rate must be a number or null");
    } else {
      return Status::InvalidArgument("unknown policy field '" + k + "'");
    }
  }
  MR_RETURN_IF_ERROR(ValidateMonitoringPolicy(p));
  return p;
}

json ErrorJson(const Status& st) {
  json e = {{"code", StatusCodeName(st.code())}, {"message", st.message()}};
  e["details"] = st.details();
  return {{"error", e}};
}

std::string JsonText(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace modelreg::codec
