#include "client/answer_decode.h"

namespace modelreg::client_internal {

using nlohmann::json;

Status WrongShape(const std::string& what, const std::string& why) {
  return Status::Internal("the registry's answer is not what this client reads (" + what + ": " + why +
                          "); is MODELREG_URL / --registry a modelreg registry of this version?");
}

Result<VersionView> DecodeVersionView(const json& j, const std::string& what) {
  MR_ASSIGN_OR_RETURN(VersionDetail d, DecodeAnswer<VersionDetail>(j, what));
  VersionView v;
  v.record = std::move(d.version);
  v.metrics.insert(d.metrics.begin(), d.metrics.end());
  v.data = std::move(d.datasets);
  v.approvals = std::move(d.approvals);
  return v;
}

Result<std::vector<VersionView>> DecodeVersionViews(const json& answer, const std::string& what) {
  if (!answer.is_object() || !answer.contains("versions") || !answer["versions"].is_array())
    return WrongShape(what, "no array \"versions\"");
  std::vector<VersionView> out;
  for (const auto& v : answer["versions"]) {
    MR_ASSIGN_OR_RETURN(VersionView one, DecodeVersionView(v, what));
    out.push_back(std::move(one));
  }
  return out;
}

Result<std::vector<AgentView>> DecodeAgents(const json& answer, const std::string& what) {
  MR_ASSIGN_OR_RETURN(auto infos, DecodeListAnswer<AgentInfo>(answer, "agents", what));
  std::vector<AgentView> out;
  for (size_t i = 0; i < infos.size(); ++i) {
    const json& a = answer["agents"][i];  // an object: it decoded
    AgentView v;
    v.info = std::move(infos[i]);
    auto age = a.find("heartbeat_age_s");
    v.heartbeat_age_s = age != a.end() && age->is_number() ? age->get<double>() : 0;
    auto silent = a.find("silent");
    v.silent = silent != a.end() && silent->is_boolean() && silent->get<bool>();
    out.push_back(std::move(v));
  }
  return out;
}

Result<std::vector<std::string>> DecodeStrings(const json& j, const char* key, const std::string& what) {
  std::vector<std::string> out;
  if (!j.is_object()) return WrongShape(what, "not a JSON object");
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) return WrongShape(what, std::string(key) + " is not an array");
  for (const auto& s : *it) {
    if (!s.is_string()) return WrongShape(what, std::string(key) + " holds a non-string");
    out.push_back(s.get<std::string>());
  }
  return out;
}

Result<StageOutcome> DecodeStageOutcome(const json& j, const std::string& what) {
  StageOutcome o;
  MR_ASSIGN_OR_RETURN(o.version, DecodeAnswer<VersionRecord>(j, what));
  if (auto r = j.find("replaced"); r != j.end() && !r->is_null()) {
    MR_ASSIGN_OR_RETURN(VersionRecord replaced, DecodeAnswer<VersionRecord>(*r, what + " (replaced)"));
    o.replaced = std::move(replaced);
  }
  MR_ASSIGN_OR_RETURN(o.overridden_gates, DecodeStrings(j, "overridden_gates", what));
  return o;
}

}  // namespace modelreg::client_internal
