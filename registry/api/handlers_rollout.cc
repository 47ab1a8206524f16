// Rollouts over REST (docs/rollouts.md): start, status, advance, abort,
// finish; and the "rollout" counts of an agent's report.
#include "api/handler.h"
#include "api/json_codec.h"
#include "core/traffic_split.h"

namespace modelreg::api {
namespace {

using nlohmann::json;

Result<RolloutRequest> RequestOf(const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("a rollout is a JSON object");
  auto str = [&](const char* k) -> Result<std::string> {
    if (!j.contains(k) || j[k].is_null()) return std::string();
    if (!j[k].is_string()) return Status::InvalidArgument(std::string(k) + ": want a string");
    return j[k].get<std::string>();
  };
  RolloutRequest r;
  MR_ASSIGN_OR_RETURN(r.version, str("version"));
  if (r.version.empty()) return Status::InvalidArgument("a rollout needs the candidate's version");
  MR_ASSIGN_OR_RETURN(std::string mode, str("mode"));
  MR_ASSIGN_OR_RETURN(r.mode, ParseRolloutMode(mode));
  // Shares as percent numbers or strings ("5", "12.5"), read as the CLI does.
  auto pct = [&](const json& v, const char* flag) -> Result<int> {
    if (v.is_string()) return ParseTrafficPercent(v.get<std::string>(), flag);
    if (!v.is_number()) return Status::InvalidArgument(std::string(flag) + ": want a percentage");
    const double d = v.get<double>();
    if (!(d > 0 && d <= 100)) return Status::InvalidArgument(std::string(flag) + " wants more than 0 and at most 100");
    const double bp = d * 100;
    if (bp != static_cast<double>(static_cast<int>(bp)))
      return Status::InvalidArgument(std::string(flag) + " takes at most two decimals");
    return static_cast<int>(bp);
  };
  if (j.contains("steps_pct") && !j["steps_pct"].is_null()) {
    if (!j["steps_pct"].is_array()) return Status::InvalidArgument("steps_pct: want an array of percentages");
    for (const auto& v : j["steps_pct"]) {
      MR_ASSIGN_OR_RETURN(int bp, pct(v, "steps_pct"));
      r.steps.push_back(bp);
    }
  } else if (j.contains("weight_pct") && !j["weight_pct"].is_null()) {
    MR_ASSIGN_OR_RETURN(int bp, pct(j["weight_pct"], "weight_pct"));
    r.steps.push_back(bp);
  }
  if (j.contains("step_every_s") && !j["step_every_s"].is_null()) {
    if (!j["step_every_s"].is_number() || j["step_every_s"].get<double>() < 0)
      return Status::InvalidArgument("step_every_s: want a number of seconds >= 0");
    r.step_every_ms = static_cast<int64_t>(std::min(j["step_every_s"].get<double>(), 1e9) * 1000);
  }
  if (j.contains("auto_advance") && !j["auto_advance"].is_null()) {
    if (!j["auto_advance"].is_boolean()) return Status::InvalidArgument("auto_advance: want true or false");
    r.auto_advance = j["auto_advance"].get<bool>();
  }
  if (j.contains("horizon_requests") && !j["horizon_requests"].is_null()) {
    if (!j["horizon_requests"].is_number_integer())
      return Status::InvalidArgument("horizon_requests: want an integer number of requests (0: no planned horizon)");
    r.horizon_requests = j["horizon_requests"].get<int64_t>();
  }
  MR_ASSIGN_OR_RETURN(r.key_header, str("key_header"));
  MR_ASSIGN_OR_RETURN(r.override_reason, str("override_reason"));
  return r;
}

Status RolloutAnswer(Ctx& c, int status, const RolloutRecord& r) {
  SendJson(c, status, {{"rollout", ToJson(r)}});
  return Status::OK();
}

}  // namespace

Status HandleStartRollout(Ctx& c) {
  MR_ASSIGN_OR_RETURN(json j, ReadJsonBody(c));
  MR_ASSIGN_OR_RETURN(RolloutRequest req, RequestOf(j));
  MR_ASSIGN_OR_RETURN(auto r, c.svc.StartRollout(c.principal, c.Arg(1), req));
  return RolloutAnswer(c, 201, r);
}

Status HandleRolloutStatus(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto s, c.svc.GetRolloutStatus(c.principal, c.Arg(1)));
  SendJson(c, 200, ToJson(s));
  return Status::OK();
}

Status HandleAdvanceRollout(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto r, c.svc.AdvanceRollout(c.principal, c.Arg(1)));
  return RolloutAnswer(c, 200, r);
}

Status HandleAbortRollout(Ctx& c) {
  MR_ASSIGN_OR_RETURN(json j, OptionalJsonBody(c));
  const std::string reason = j.contains("reason") && j["reason"].is_string() ? j["reason"].get<std::string>() : "";
  MR_ASSIGN_OR_RETURN(auto r, c.svc.AbortRollout(c.principal, c.Arg(1), reason));
  return RolloutAnswer(c, 200, r);
}

Status HandleFinishRollout(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto r, c.svc.FinishRollout(c.principal, c.Arg(1)));
  return RolloutAnswer(c, 200, r);
}

Status ReportAgentRollout(Ctx& c, const std::string& agent_id, const std::string& model, const json& report) {
  if (!report.contains("rollout") || report["rollout"].is_null()) return Status::OK();
  RolloutCounts counts;
  MR_RETURN_IF_ERROR(codec::FromJson(report["rollout"], &counts));
  counts.agent_id = agent_id;
  return c.svc.ReportRolloutCounts(c.principal, model, std::move(counts));
}

}  // namespace modelreg::api
