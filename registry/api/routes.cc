// The route table: every endpoint of the REST API in one place.
#include "api/handler.h"
#include "api/json_codec.h"

namespace modelreg::api {

const std::vector<Route>& Routes() {
  using A = Action;
  const std::vector<Action> read = {A::kReadModels};
  const std::vector<Action> reg = {A::kRegister};
  const std::vector<Action> approve = {A::kApprove};
  static const std::vector<Route> k = {
      {"GET", "/healthz", "healthz", false, {}, HandleHealthz},
      {"GET", "/readyz", "readyz", false, {}, HandleReadyz},
      {"GET", "/metrics", "metrics", true, {}, HandleMetrics},
      {"GET", "/api/v1/whoami", "whoami", true, {}, HandleWhoami},
      {"GET", R"(/api/v1/openapi\.json)", "openapi", false, {}, HandleOpenApi},

      // The web UI's static files: no token, no data (handlers_ui.cc).
      {"GET", "/", "ui.root", false, {}, HandleUiRedirect},
      {"GET", "/ui", "ui.root", false, {}, HandleUiRedirect},
      {"GET", "/ui/", "ui.index", false, {}, HandleUiIndex},
      {"GET", R"(/ui/([^/]+))", "ui.asset", false, {}, HandleUiAsset},

      {"GET", "/api/v1/models", "models.list", true, read, HandleListModels},
      {"GET", R"(/api/v1/models/([^/]+))", "models.get", true, read, HandleGetModel},
      {"GET", R"(/api/v1/models/([^/]+)/versions)", "versions.list", true, read, HandleListVersions},
      {"PUT", R"(/api/v1/models/([^/]+)/versions)", "versions.register", true, reg, HandleRegister},
      {"GET", R"(/api/v1/models/([^/]+)/versions/([^/]+))", "versions.get", true, read, HandleGetVersion},
      {"GET", R"(/api/v1/models/([^/]+)/versions/([^/]+)/manifest)", "versions.manifest", true, read,
       HandleGetManifest},
      {"GET", R"(/api/v1/models/([^/]+)/blobs/([^/]+))", "models.blob", true, read, HandleGetModelBlob},
      {"POST", R"(/api/v1/models/([^/]+)/blobs/fetch)", "models.blobs_fetch", true, read, HandleFetchModelBlobs},

      {"POST",
       R"(/api/v1/models/([^/]+)/versions/([^/]+)/stage)",
       "versions.stage",
       true,
       {A::kApprove, A::kStageOwn},
       HandleChangeStage},
      {"POST", R"(/api/v1/models/([^/]+)/versions/([^/]+)/approvals)", "versions.approve", true, approve,
       HandleApprove},
      {"GET", R"(/api/v1/models/([^/]+)/versions/([^/]+)/approvals)", "versions.approvals", true, read,
       HandleListApprovals},
      {"POST", R"(/api/v1/models/([^/]+)/versions/([^/]+)/reject)", "versions.reject", true, approve, HandleReject},
      {"POST", R"(/api/v1/models/([^/]+)/versions/([^/]+)/archive)", "versions.archive", true, approve, HandleArchive},
      {"POST", R"(/api/v1/models/([^/]+)/rollback)", "models.rollback", true, approve, HandleRollback},
      {"GET", R"(/api/v1/models/([^/]+)/policy)", "policy.get", true, read, HandleGetPolicy},
      {"PUT", R"(/api/v1/models/([^/]+)/policy)", "policy.set", true, {A::kManagePolicies}, HandleSetPolicy},
      {"POST",
       R"(/api/v1/models/([^/]+)/versions/([^/]+)/delete)",
       "versions.delete",
       true,
       {A::kManageStorage},
       HandleDeleteVersion},
      {"GET", R"(/api/v1/models/([^/]+)/retention)", "retention.get", true, read, HandleGetRetention},
      {"PUT", R"(/api/v1/models/([^/]+)/retention)", "retention.set", true, {A::kManageStorage}, HandleSetRetention},
      {"POST", "/api/v1/admin/gc", "admin.gc", true, {A::kManageStorage}, HandleGc},
      {"GET", R"(/api/v1/models/([^/]+)/history)", "models.history", true, read, HandleStageHistory},
      {"POST", R"(/api/v1/models/([^/]+)/rollout)", "rollout.start", true, approve, HandleStartRollout},
      {"GET", R"(/api/v1/models/([^/]+)/rollout)", "rollout.status", true, read, HandleRolloutStatus},
      {"POST", R"(/api/v1/models/([^/]+)/rollout/advance)", "rollout.advance", true, approve, HandleAdvanceRollout},
      {"POST", R"(/api/v1/models/([^/]+)/rollout/abort)", "rollout.abort", true, approve, HandleAbortRollout},
      {"POST", R"(/api/v1/models/([^/]+)/rollout/finish)", "rollout.finish", true, approve, HandleFinishRollout},

      {"GET", R"(/api/v1/models/([^/]+)/versions/([^/]+)/gates)", "versions.gates", true, read, HandleVersionGates},
      {"GET", R"(/api/v1/models/([^/]+)/versions/([^/]+)/lineage)", "versions.lineage", true, read,
       HandleVersionLineage},
      {"GET", R"(/api/v1/models/([^/]+)/versions/([^/]+)/provenance)", "versions.provenance", true, read,
       HandleProvenance},
      {"GET", R"(/api/v1/models/([^/]+)/versions/([^/]+)/profile)", "versions.profile", true, read,
       HandleVersionProfile},
      {"GET", R"(/api/v1/models/([^/]+)/diff)", "models.diff", true, read, HandleDiff},
      {"GET", R"(/api/v1/models/([^/]+)/drift)", "models.drift", true, read, HandleDrift},
      {"GET", R"(/api/v1/models/([^/]+)/live)", "models.live", true, {A::kReadAudit}, HandleLiveAt},
      {"GET", "/api/v1/lineage", "lineage.downstream", true, {A::kReadAudit}, HandleDownstream},

      {"GET", "/api/v1/keys", "keys", true, {}, HandleKeys},
      {"GET", R"(/api/v1/models/([^/]+)/release)", "release.get", true, {A::kReadRelease}, HandleRelease},
      {"POST", R"(/api/v1/agents/([^/]+)/status)", "agents.report", true, {A::kReportAgent}, HandleAgentStatus},
      {"GET", "/api/v1/agents", "agents.list", true, read, HandleListAgents},
      {"POST", "/api/v1/decisions", "decisions.ingest", true, {A::kReportAgent}, HandleIngestDecisions},
      {"GET", R"(/api/v1/decisions/([^/]+))", "decisions.get", true, {A::kReadAudit}, HandleGetDecision},
      {"GET", R"(/api/v1/decisions/([^/]+)/audit)", "decisions.audit", true, {A::kReadAudit}, HandleDecisionAudit},

      {"GET", "/api/v1/audit/events", "audit.events", true, {A::kReadAudit}, HandleAuditLog},
      {"GET", "/api/v1/audit/verify", "audit.verify", true, {A::kReadAudit}, HandleAuditVerify},
      {"GET", "/api/v1/audit/checkpoint", "audit.checkpoint", true, {A::kReadAudit}, HandleAuditCheckpoint},

      {"POST", "/api/v1/blobs/missing", "blobs.missing", true, reg, HandleMissingBlobs},
      {"POST", "/api/v1/blobs/batch", "blobs.batch", true, reg, HandleBatchUpload},
      {"POST", "/api/v1/blobs/uploads", "uploads.start", true, reg, HandleStartUpload},
      {"GET", R"(/api/v1/blobs/uploads/([^/]+))", "uploads.get", true, reg, HandleGetUpload},
      {"PATCH", R"(/api/v1/blobs/uploads/([^/]+))", "uploads.patch", true, reg, HandlePatchUpload},
      {"PUT", R"(/api/v1/blobs/uploads/([^/]+))", "uploads.finish", true, reg, HandleFinishUpload},
      {"DELETE", R"(/api/v1/blobs/uploads/([^/]+))", "uploads.cancel", true, reg, HandleCancelUpload},
      {"GET", R"(/api/v1/blobs/([^/]+))", "blobs.get", true, {A::kReadModels, A::kRegister}, HandleGetBlob},

      {"GET", "/api/v1/tokens", "tokens.list", true, {A::kManageTokens}, HandleListTokens},
      {"POST", "/api/v1/tokens", "tokens.create", true, {A::kManageTokens}, HandleCreateToken},
      {"DELETE", R"(/api/v1/tokens/([^/]+))", "tokens.revoke", true, {A::kManageTokens}, HandleRevokeToken},

      {"GET", "/api/v1/events", "events.list", true, {A::kReadModels, A::kReadAudit}, HandleEvents},
      {"GET", "/api/v1/webhooks", "webhooks.list", true, {A::kManageWebhooks}, HandleListWebhooks},
      {"POST", "/api/v1/webhooks", "webhooks.create", true, {A::kManageWebhooks}, HandleCreateWebhook},
      {"DELETE", R"(/api/v1/webhooks/([^/]+))", "webhooks.delete", true, {A::kManageWebhooks}, HandleDeleteWebhook},
      {"POST", R"(/api/v1/webhooks/([^/]+)/test)", "webhooks.test", true, {A::kManageWebhooks}, HandleTestWebhook},
      {"GET",
       R"(/api/v1/webhooks/([^/]+)/deliveries)",
       "webhooks.deliveries",
       true,
       {A::kManageWebhooks},
       HandleWebhookDeliveries},
  };
  return k;
}

Result<std::string> ReadBody(Ctx& c, size_t limit) {
  // A body over the limit is refused before a byte of it is read when its
  // length is declared; the server then drops or closes what is left
  // (net/http_server.h), so the client reads the 413.
  const Status too_large = Status::ResourceExhausted("request body larger than " + std::to_string(limit) + " bytes");
  const auto& framing = c.body.framing();
  if (framing.kind == net::RequestFraming::kLength && framing.length > limit) return too_large;
  std::string body;
  bool over = false;
  const bool whole = c.body.Read([&](const char* data, size_t n) {
    if (body.size() + n > limit) return !(over = true);
    body.append(data, n);
    return true;
  });
  if (over) return too_large;
  if (!whole) return Status::InvalidArgument(c.body.error().empty() ? "request body was cut off" : c.body.error());
  return body;
}

Result<nlohmann::json> OptionalJsonBody(Ctx& c) {
  MR_ASSIGN_OR_RETURN(std::string body, ReadBody(c, c.max_json_body));
  if (body.empty()) return nlohmann::json::object();
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument("request body must be a JSON object");
  return j;
}

Result<nlohmann::json> ReadJsonBody(Ctx& c) {
  MR_ASSIGN_OR_RETURN(std::string body, ReadBody(c, c.max_json_body));
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("request body is not valid JSON");
  return j;
}

void SendJson(Ctx& c, int status, const nlohmann::json& j) {
  c.res.status = status;
  c.res.set_content(JsonText(j), "application/json");
}

}  // namespace modelreg::api
