// Operational endpoints and tokens.
#include "api/handler.h"
#include "api/json_codec.h"
#include "api/metrics.h"

namespace modelreg::api {

Status HandleHealthz(Ctx& c) {
  SendJson(c, 200, {{"status", "ok"}});
  return Status::OK();
}

Status HandleReadyz(Ctx& c) {
  MR_RETURN_IF_ERROR(c.svc.CheckReady());
  SendJson(c, 200, {{"status", "ready"}});
  return Status::OK();
}

Status HandleMetrics(Ctx& c) {
  std::string text = RenderMetrics();
  // The fleet's decision spools, as the agents last reported them (only
  // for tokens that may read agents).
  if (RoleAllows(c.principal.role, Action::kReadModels)) {
    auto agents = c.svc.ListAgents(c.principal, "");
    if (agents.ok()) text += RenderAgentMetrics(*agents);
  }
  c.res.set_content(text, "text/plain; version=0.0.4");
  return Status::OK();
}

Status HandleWhoami(Ctx& c) {
  SendJson(c, 200, {{"name", c.principal.name},
                    {"role", RoleName(c.principal.role)},
                    {"models", c.principal.model_globs}});
  return Status::OK();
}

Status HandleCreateToken(Ctx& c) {
  // Check the role before parsing the body.
  MR_RETURN_IF_ERROR(Authorize(c.principal, Action::kManageTokens));
  MR_ASSIGN_OR_RETURN(auto j, ReadJsonBody(c));
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string() || !j.contains("role") ||
      !j["role"].is_string())
    return Status::InvalidArgument("want {\"name\": string, \"role\": string, \"models\": [glob...]}");
  MR_ASSIGN_OR_RETURN(Role role, ParseRole(j["role"].get<std::string>()));
  std::vector<std::string> globs;
  if (j.contains("models")) {
    if (!j["models"].is_array()) return Status::InvalidArgument("models must be an array of globs");
    for (const auto& g : j["models"]) {
      if (!g.is_string()) return Status::InvalidArgument("models must be an array of globs");
      globs.push_back(g.get<std::string>());
    }
  }
  MR_ASSIGN_OR_RETURN(auto created, c.svc.CreateToken(c.principal, j["name"], role, globs));
  auto out = ToJson(created.record);
  out["token"] = created.token;
  SendJson(c, 201, out);
  return Status::OK();
}

Status HandleListTokens(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto list, c.svc.ListTokens(c.principal));
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& t : list) arr.push_back(ToJson(t));
  SendJson(c, 200, {{"tokens", arr}});
  return Status::OK();
}

Status HandleRevokeToken(Ctx& c) {
  MR_RETURN_IF_ERROR(c.svc.RevokeToken(c.principal, c.Arg(1)));
  c.res.status = 204;
  return Status::OK();
}

}  // namespace modelreg::api
