// RegistryClient's typed calls: one REST call each (docs/api.md), its path
// built by client/api_path.h, its answer decoded by client/answer_decode.h.
#include <nlohmann/json.hpp>

#include "client/answer_decode.h"
#include "client/api_path.h"
#include "client/registry_client.h"

namespace modelreg {

using client_internal::DecodeAnswer;
using client_internal::DecodeListAnswer;
using nlohmann::json;
using Query = std::vector<std::pair<std::string, std::string>>;

namespace {

// The answer (also into `raw`), or the call's error.
Result<json> Keep(Result<json> r, json* raw) {
  if (r.ok() && raw) *raw = *r;
  return r;
}

// An answer that must be a JSON object (the caller reads members of it).
Result<json> Object(Result<json> r, const std::string& what) {
  if (r.ok() && !r->is_object()) return client_internal::WrongShape(what, "not a JSON object");
  return r;
}

}  // namespace

Result<Identity> RegistryClient::WhoAmI(json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(GetJson(ApiPath({"whoami"})), raw));
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string() || !j.contains("role") || !j["role"].is_string())
    return client_internal::WrongShape("whoami", "want name and role");
  Identity id{j["name"].get<std::string>(), j["role"].get<std::string>(), {}};
  MR_ASSIGN_OR_RETURN(id.models, client_internal::DecodeStrings(j, "models", "whoami"));
  return id;
}

Result<std::vector<std::string>> RegistryClient::KeysPem(json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(GetJson(ApiPath({"keys"})), raw));
  if (!j.is_object() || !j.contains("keys") || !j["keys"].is_array())
    return client_internal::WrongShape("keys", "no array \"keys\"");
  std::vector<std::string> pems;
  for (const auto& k : j["keys"]) {
    if (!k.is_object() || !k.contains("pem") || !k["pem"].is_string())
      return client_internal::WrongShape("keys", "a key without pem");
    pems.push_back(k["pem"].get<std::string>());
  }
  return pems;
}

Result<std::vector<ModelRecord>> RegistryClient::Models(json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(GetJson(ApiPath({"models"})), raw));
  return DecodeListAnswer<ModelRecord>(j, "models", "models");
}

Result<std::vector<VersionView>> RegistryClient::Versions(const std::string& model, json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(GetJson(ApiPath({"models", model, "versions"})), raw));
  return client_internal::DecodeVersionViews(j, "versions");
}

Result<VersionView> RegistryClient::Version(const std::string& model, const std::string& version, json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(GetJson(ApiPath({"models", model, "versions", version})), raw));
  return client_internal::DecodeVersionView(j, "version");
}

Result<LineageRecord> RegistryClient::LineageOf(const std::string& model, const std::string& version, json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(Lineage(model, version), raw));
  return DecodeAnswer<LineageRecord>(j, "lineage");
}

Result<std::vector<StageChange>> RegistryClient::History(const std::string& model, json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(GetJson(ApiPath({"models", model, "history"})), raw));
  return DecodeListAnswer<StageChange>(j, "history", "history");
}

Result<std::vector<AgentView>> RegistryClient::Agents(const std::string& model, json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(GetJson(WithQuery(ApiPath({"agents"}), {{"model", model}})), raw));
  return client_internal::DecodeAgents(j, "agents");
}

Result<StageOutcome> RegistryClient::Stage(const std::string& model, const std::string& version, const std::string& to,
                                           const std::string& reason, const std::string& override_reason, json* raw) {
  json body = {{"to", to}};
  if (!reason.empty()) body["reason"] = reason;
  if (!override_reason.empty()) body["override"] = override_reason;
  MR_ASSIGN_OR_RETURN(json j,
                      Keep(SendJson("POST", ApiPath({"models", model, "versions", version, "stage"}), body), raw));
  return client_internal::DecodeStageOutcome(j, "stage change");
}

Result<ApproveOutcome> RegistryClient::Approve(const std::string& model, const std::string& version,
                                               const std::string& comment, json* raw) {
  json body = json::object();
  if (!comment.empty()) body["comment"] = comment;
  MR_ASSIGN_OR_RETURN(json j,
                      Keep(SendJson("POST", ApiPath({"models", model, "versions", version, "approvals"}), body), raw));
  MR_ASSIGN_OR_RETURN(VersionView v, client_internal::DecodeVersionView(j, "approval"));
  if (!j.contains("approval_added") || !j["approval_added"].is_boolean())
    return client_internal::WrongShape("approval", "no approval_added");
  return ApproveOutcome{std::move(v), j["approval_added"].get<bool>()};
}

Result<StageOutcome> RegistryClient::Reject(const std::string& model, const std::string& version,
                                            const std::string& reason, json* raw) {
  MR_ASSIGN_OR_RETURN(
      json j,
      Keep(SendJson("POST", ApiPath({"models", model, "versions", version, "reject"}), {{"reason", reason}}), raw));
  return client_internal::DecodeStageOutcome(j, "reject");
}

Result<StageOutcome> RegistryClient::Archive(const std::string& model, const std::string& version,
                                             const std::string& reason, json* raw) {
  json body = json::object();
  if (!reason.empty()) body["reason"] = reason;
  MR_ASSIGN_OR_RETURN(json j,
                      Keep(SendJson("POST", ApiPath({"models", model, "versions", version, "archive"}), body), raw));
  return client_internal::DecodeStageOutcome(j, "archive");
}

Result<RollbackOutcome> RegistryClient::Rollback(const std::string& model, const std::string& reason, json* raw) {
  MR_ASSIGN_OR_RETURN(json j,
                      Keep(SendJson("POST", ApiPath({"models", model, "rollback"}), {{"reason", reason}}), raw));
  if (!j.is_object() || !j.contains("restored") || !j.contains("demoted"))
    return client_internal::WrongShape("rollback", "want restored and demoted");
  RollbackOutcome o;
  MR_ASSIGN_OR_RETURN(o.restored, DecodeAnswer<VersionRecord>(j["restored"], "rollback (restored)"));
  MR_ASSIGN_OR_RETURN(o.demoted, DecodeAnswer<VersionRecord>(j["demoted"], "rollback (demoted)"));
  return o;
}

Result<Policy> RegistryClient::GetPolicy(const std::string& model, json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(GetJson(ApiPath({"models", model, "policy"})), raw));
  return DecodeAnswer<Policy>(j, "policy");
}

Result<Policy> RegistryClient::SetPolicy(const std::string& model, const Policy& policy, json* raw) {
  json gates = json::array();
  for (const auto& g : policy.gates) gates.push_back(g.op.empty() ? g.metric : g.ToString());
  json body = {{"approvals", policy.approvals_required},
               {"gates", gates},
               {"require_clean_code", policy.require_clean_code},
               {"require_data_digests", policy.require_data_digests},
               {"drift_alpha", policy.drift_alpha},
               {"drift_min_psi", policy.drift_min_psi}};
  body["max_violation_rate"] = policy.max_violation_rate ? json(*policy.max_violation_rate) : json(nullptr);
  MR_ASSIGN_OR_RETURN(json j, Keep(SendJson("PUT", ApiPath({"models", model, "policy"}), body), raw));
  return DecodeAnswer<Policy>(j, "policy");
}

Result<TokenIssued> RegistryClient::CreateToken(const TokenRequest& req, json* raw) {
  json body = {{"name", req.name}, {"role", req.role}, {"models", req.models}};
  if (req.expires_in_s > 0) body["expires_in_s"] = req.expires_in_s;
  if (req.expires_at_ms > 0) body["expires_at"] = req.expires_at_ms;
  MR_ASSIGN_OR_RETURN(json j, Keep(SendJson("POST", ApiPath({"tokens"}), body), raw));
  MR_ASSIGN_OR_RETURN(TokenRecord record, DecodeAnswer<TokenRecord>(j, "token"));
  if (!j.contains("token") || !j["token"].is_string()) return client_internal::WrongShape("token", "no token");
  return TokenIssued{std::move(record), j["token"].get<std::string>()};
}

Result<std::vector<TokenRecord>> RegistryClient::Tokens(json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(GetJson(ApiPath({"tokens"})), raw));
  return DecodeListAnswer<TokenRecord>(j, "tokens", "tokens");
}

Status RegistryClient::RevokeToken(const std::string& name) { return Delete(ApiPath({"tokens", name})); }

Result<json> RegistryClient::AuditEvents(const Query& query) {
  return Object(GetJson(WithQuery(ApiPath({"audit", "events"}), query)), "audit events");
}

Result<json> RegistryClient::AuditVerify(const Query& query) {
  return Object(GetJson(WithQuery(ApiPath({"audit", "verify"}), query)), "audit verify");
}

Result<VersionRecord> RegistryClient::DeleteVersion(const std::string& model, const std::string& version,
                                                    const std::string& reason, json* raw) {
  MR_ASSIGN_OR_RETURN(
      json j,
      Keep(SendJson("POST", ApiPath({"models", model, "versions", version, "delete"}), {{"reason", reason}}), raw));
  return DecodeAnswer<VersionRecord>(j, "deleted version");
}

Result<json> RegistryClient::Retention(const std::string& model) {
  return Object(GetJson(ApiPath({"models", model, "retention"})), "retention");
}

Result<json> RegistryClient::SetRetention(const std::string& model, const json& rule) {
  return Object(SendJson("PUT", ApiPath({"models", model, "retention"}), rule), "retention");
}

Result<json> RegistryClient::CollectGarbage(const json& options) {
  return Object(SendJson("POST", ApiPath({"admin", "gc"}), options), "gc");
}

Result<json> RegistryClient::AuditCheckpoint() {
  return Object(GetJson(ApiPath({"audit", "checkpoint"})), "audit checkpoint");
}

Result<json> RegistryClient::DecisionAudit(const std::string& request_id) {
  return Object(GetJson(ApiPath({"decisions", request_id, "audit"})), "decision audit");
}

Result<json> RegistryClient::LiveAt(const std::string& model, const Query& query) {
  return Object(GetJson(WithQuery(ApiPath({"models", model, "live"}), query)), "live");
}

Result<json> RegistryClient::Downstream(const Query& query) {
  return Object(GetJson(WithQuery(ApiPath({"lineage"}), query)), "lineage");
}

Result<json> RegistryClient::Lineage(const std::string& model, const std::string& version) {
  return Object(GetJson(ApiPath({"models", model, "versions", version, "lineage"})), "lineage");
}

Result<json> RegistryClient::Diff(const std::string& model, const std::string& from, const std::string& to) {
  return Object(GetJson(WithQuery(ApiPath({"models", model, "diff"}), {{"from", from}, {"to", to}})), "diff");
}

Result<json> RegistryClient::Provenance(const std::string& model, const std::string& version) {
  return Object(GetJson(ApiPath({"models", model, "versions", version, "provenance"})), "provenance");
}

}  // namespace modelreg
