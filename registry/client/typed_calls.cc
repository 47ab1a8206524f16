// RegistryClient's typed calls: one REST call each (docs/api.md), its path
// built by client/api_path.h, its answer decoded by client/answer_decode.h.
#include <nlohmann/json.hpp>

#include "client/answer_decode.h"
#include "client/api_path.h"
#include "client/registry_client.h"

namespace modelreg {

using client_internal::DecodeAnswer;
using client_internal::DecodeList;
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

StageOutcome DecodeStageOutcome(const json& j) {
  StageOutcome o;
  o.version = client_internal::DecodeVersionRecord(j);
  if (auto r = j.find("replaced"); r != j.end() && r->is_object())
    o.replaced = client_internal::DecodeVersionRecord(*r);
  if (auto g = j.find("overridden_gates"); g != j.end())
    for (const auto& x : *g) o.overridden_gates.push_back(x.get<std::string>());
  return o;
}

}  // namespace

Result<Identity> RegistryClient::WhoAmI(json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(GetJson(ApiPath({"whoami"})), raw));
  return DecodeAnswer(j, "whoami", [](const json& a) {
    Identity id{a.at("name").get<std::string>(), a.at("role").get<std::string>(), {}};
    for (const auto& g : a.at("models")) id.models.push_back(g.get<std::string>());
    return id;
  });
}

Result<std::vector<std::string>> RegistryClient::KeysPem(json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(GetJson(ApiPath({"keys"})), raw));
  return DecodeAnswer(j, "keys", [](const json& a) {
    return DecodeList<std::string>(a, "keys", [](const json& k) { return k.at("pem").get<std::string>(); });
  });
}

Result<std::vector<ModelRecord>> RegistryClient::Models(json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(GetJson(ApiPath({"models"})), raw));
  return DecodeAnswer(j, "models", [](const json& a) {
    return DecodeList<ModelRecord>(a, "models", client_internal::DecodeModel);
  });
}

Result<std::vector<VersionView>> RegistryClient::Versions(const std::string& model, json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(GetJson(ApiPath({"models", model, "versions"})), raw));
  return DecodeAnswer(j, "versions", [](const json& a) {
    return DecodeList<VersionView>(a, "versions", client_internal::DecodeVersionView);
  });
}

Result<VersionView> RegistryClient::Version(const std::string& model, const std::string& version, json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(GetJson(ApiPath({"models", model, "versions", version})), raw));
  return DecodeAnswer(j, "version", client_internal::DecodeVersionView);
}

Result<LineageRecord> RegistryClient::LineageOf(const std::string& model, const std::string& version, json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(Lineage(model, version), raw));
  return DecodeAnswer(j, "lineage", client_internal::DecodeLineageRecord);
}

Result<std::vector<StageChange>> RegistryClient::History(const std::string& model, json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(GetJson(ApiPath({"models", model, "history"})), raw));
  return DecodeAnswer(j, "history", [](const json& a) {
    return DecodeList<StageChange>(a, "history", client_internal::DecodeStageChange);
  });
}

Result<std::vector<AgentView>> RegistryClient::Agents(const std::string& model, json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(GetJson(WithQuery(ApiPath({"agents"}), {{"model", model}})), raw));
  return DecodeAnswer(j, "agents", [](const json& a) {
    return DecodeList<AgentView>(a, "agents", client_internal::DecodeAgent);
  });
}

Result<StageOutcome> RegistryClient::Stage(const std::string& model, const std::string& version, const std::string& to,
                                           const std::string& reason, const std::string& override_reason, json* raw) {
  json body = {{"to", to}};
  if (!reason.empty()) body["reason"] = reason;
  if (!override_reason.empty()) body["override"] = override_reason;
  MR_ASSIGN_OR_RETURN(json j, Keep(SendJson("POST", ApiPath({"models", model, "versions", version, "stage"}), body), raw));
  return DecodeAnswer(j, "stage change", DecodeStageOutcome);
}

Result<ApproveOutcome> RegistryClient::Approve(const std::string& model, const std::string& version,
                                               const std::string& comment, json* raw) {
  json body = json::object();
  if (!comment.empty()) body["comment"] = comment;
  MR_ASSIGN_OR_RETURN(json j, Keep(SendJson("POST", ApiPath({"models", model, "versions", version, "approvals"}), body), raw));
  return DecodeAnswer(j, "approval", [](const json& a) {
    return ApproveOutcome{client_internal::DecodeVersionView(a), a.at("approval_added").get<bool>()};
  });
}

Result<StageOutcome> RegistryClient::Reject(const std::string& model, const std::string& version,
                                            const std::string& reason, json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(SendJson("POST", ApiPath({"models", model, "versions", version, "reject"}),
                                            {{"reason", reason}}), raw));
  return DecodeAnswer(j, "reject", DecodeStageOutcome);
}

Result<StageOutcome> RegistryClient::Archive(const std::string& model, const std::string& version,
                                             const std::string& reason, json* raw) {
  json body = json::object();
  if (!reason.empty()) body["reason"] = reason;
  MR_ASSIGN_OR_RETURN(json j, Keep(SendJson("POST", ApiPath({"models", model, "versions", version, "archive"}), body), raw));
  return DecodeAnswer(j, "archive", DecodeStageOutcome);
}

Result<RollbackOutcome> RegistryClient::Rollback(const std::string& model, const std::string& reason, json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(SendJson("POST", ApiPath({"models", model, "rollback"}), {{"reason", reason}}), raw));
  return DecodeAnswer(j, "rollback", [](const json& a) {
    return RollbackOutcome{client_internal::DecodeVersionRecord(a.at("restored")),
                           client_internal::DecodeVersionRecord(a.at("demoted"))};
  });
}

Result<Policy> RegistryClient::GetPolicy(const std::string& model, json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(GetJson(ApiPath({"models", model, "policy"})), raw));
  return DecodeAnswer(j, "policy", client_internal::DecodePolicy);
}

Result<Policy> RegistryClient::SetPolicy(const std::string& model, const Policy& policy, json* raw) {
  json gates = json::array();
  for (const auto& g : policy.gates) gates.push_back(g.op.empty() ? g.metric : g.ToString());
  json body = {{"approvals", policy.approvals_required},
               {"gates", gates},
               {"require_clean_code", policy.require_clean_code},
               {"require_data_digests", policy.require_data_digests}};
  MR_ASSIGN_OR_RETURN(json j, Keep(SendJson("PUT", ApiPath({"models", model, "policy"}), body), raw));
  return DecodeAnswer(j, "policy", client_internal::DecodePolicy);
}

Result<TokenIssued> RegistryClient::CreateToken(const TokenRequest& req, json* raw) {
  json body = {{"name", req.name}, {"role", req.role}, {"models", req.models}};
  if (req.expires_in_s > 0) body["expires_in_s"] = req.expires_in_s;
  if (req.expires_at_ms > 0) body["expires_at"] = req.expires_at_ms;
  MR_ASSIGN_OR_RETURN(json j, Keep(SendJson("POST", ApiPath({"tokens"}), body), raw));
  return DecodeAnswer(j, "token", [](const json& a) {
    return TokenIssued{client_internal::DecodeToken(a), a.at("token").get<std::string>()};
  });
}

Result<std::vector<TokenRecord>> RegistryClient::Tokens(json* raw) {
  MR_ASSIGN_OR_RETURN(json j, Keep(GetJson(ApiPath({"tokens"})), raw));
  return DecodeAnswer(j, "tokens", [](const json& a) {
    return DecodeList<TokenRecord>(a, "tokens", client_internal::DecodeToken);
  });
}

Status RegistryClient::RevokeToken(const std::string& name) { return Delete(ApiPath({"tokens", name})); }

Result<json> RegistryClient::AuditEvents(const Query& query) {
  return Object(GetJson(WithQuery(ApiPath({"audit", "events"}), query)), "audit events");
}

Result<json> RegistryClient::AuditVerify(const Query& query) {
  return Object(GetJson(WithQuery(ApiPath({"audit", "verify"}), query)), "audit verify");
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
