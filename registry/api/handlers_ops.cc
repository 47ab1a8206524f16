// Operational endpoints and tokens.
#include "api/handler.h"
#include "api/json_codec.h"
#include "api/metrics.h"
#include "core/clock.h"

namespace modelreg::api {

Status HandleHealthz(Ctx& c) {
  SendJson(c, 200, {{"status", "ok"}});
  return Status::OK();
}

// No token needed: Kubernetes probes carry none. So the answer names no
// host, path or error text; the access log has the cause.
Status HandleReadyz(Ctx& c) {
  Status st = c.svc.CheckReady();
  if (!st.ok()) {
    c.log_note = st.message();
    c.res.set_header("Retry-After", "5");
    SendJson(c, 503, {{"status", "not ready"}});
    return Status::OK();
  }
  SendJson(c, 200, {{"status", "ready"}});
  return Status::OK();
}

Status HandleMetrics(Ctx& c) {
  std::string text = RenderMetrics() + RenderProcessMetrics();
  // Versions per stage and the fleet (agents by state, heartbeat age,
  // decision spools) as the agents last reported them: only for tokens that
  // may read models, over the models they may see.
  if (RoleAllows(c.principal.role, Action::kReadModels)) {
    auto stages = c.svc.VersionsPerStage(c.principal);
    if (stages.ok()) text += RenderStageMetrics(*stages);
    auto agents = c.svc.ListAgents(c.principal, "");
    if (agents.ok()) text += RenderAgentMetrics(*agents, NowMs());
    auto drift = c.svc.LatestDrift(c.principal);
    if (drift.ok()) text += RenderDriftMetrics(*drift);
  }
  // The blob store (registry-wide: not for tokens limited to some models).
  // Counted at most every few seconds (RegistryService::StoredBlobUsage).
  if (!c.principal.scoped()) {
    auto usage = c.svc.StoredBlobUsage();
    if (usage.ok() && usage->known) text += RenderBlobMetrics(usage->blobs, usage->bytes, usage->reclaimable_bytes);
  }
  c.res.set_content(text, "text/plain; version=0.0.4");
  return Status::OK();
}

Status HandleWhoami(Ctx& c) {
  SendJson(c, 200,
           {{"name", c.principal.name}, {"role", RoleName(c.principal.role)}, {"models", c.principal.model_globs}});
  return Status::OK();
}

Status HandleCreateToken(Ctx& c) {
  // The route table checked the role before the body was read.
  MR_ASSIGN_OR_RETURN(auto j, ReadJsonBody(c));
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string() || !j.contains("role") || !j["role"].is_string())
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
  // Expiry: "expires_at" (a TIME string or epoch ms) or "expires_in_s"
  // (seconds from now, by the server's clock).
  std::optional<int64_t> expires;
  if (j.contains("expires_at") && !j["expires_at"].is_null()) {
    if (j["expires_at"].is_number_integer()) {
      expires = j["expires_at"].get<int64_t>();
    } else if (j["expires_at"].is_string()) {
      MR_ASSIGN_OR_RETURN(expires, ParseTimeMs(j["expires_at"].get<std::string>()));
    } else {
      return Status::InvalidArgument("expires_at must be a time (\"2026-11-23T18:00:00Z\") or epoch milliseconds");
    }
  }
  if (j.contains("expires_in_s")) {
    if (expires) return Status::InvalidArgument("give expires_at or expires_in_s, not both");
    if (!j["expires_in_s"].is_number_integer() || j["expires_in_s"].get<int64_t>() <= 0)
      return Status::InvalidArgument("expires_in_s must be a positive number of seconds");
    expires = NowMs() + j["expires_in_s"].get<int64_t>() * 1000;
  }
  MR_ASSIGN_OR_RETURN(auto created, c.svc.CreateToken(c.principal, j["name"], role, globs, expires));
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
