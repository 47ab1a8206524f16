// What every route handler sees: the request, the response, the
// authenticated caller and the service. Handlers are plain functions
// Status(Ctx&) listed in one table (routes.cc); a non-OK Status becomes the
// JSON error body of docs/api.md. Internal to the api library.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "auth/permissions.h"
#include "net/http_request.h"
#include "net/http_server.h"
#include "service/registry_service.h"

namespace modelreg::api {

using Request = net::ServerRequest;
using Response = net::ServerResponse;
using DataSink = net::DataSink;

struct WebhookOptions;  // api/webhook_worker.h

struct Ctx {
  const Request& req;
  Response& res;
  net::RequestBody& body;  // read it only after the checks that may refuse the request
  RegistryService& svc;
  Principal principal;
  size_t max_json_body;
  bool plain_tcp = true;  // false under TLS
  int read_timeout_s = 60;
  // The request's Range (net/byte_range.h); only blob downloads honour it.
  std::vector<std::pair<ssize_t, ssize_t>> ranges;
  bool range_unreadable = false;  // a Range header that is not bytes=…
  // Parks the request (net/http_server.h): the handler returns OK without
  // answering; `answer` fills the response later on a worker (a non-OK
  // Status becomes the JSON error), or `gone` is called if the client left.
  // nullptr: not parked, answer now. The access log line is written when
  // the answer is.
  std::function<std::shared_ptr<net::ParkedRequest>(std::chrono::steady_clock::time_point deadline,
                                                    std::function<Status(Response& res)> answer,
                                                    std::function<void()> gone)>
      park;

  // How webhooks are reached (serve's options); null: the defaults.
  const WebhookOptions* webhooks = nullptr;

  // Added to the access log line's error when the answer leaves the cause
  // out (e.g. /readyz, which answers without a token).
  std::string log_note;

  // Path capture i (1-based) of the route's regex.
  std::string Arg(size_t i) const { return i < req.captures.size() ? req.captures[i] : std::string(); }
};

using HandlerFn = Status (*)(Ctx&);

struct Route {
  const char* method;   // GET (also answers HEAD), POST, PUT, PATCH, DELETE
  const char* pattern;  // ECMAScript regex over the path
  const char* name;     // for metrics and logs
  bool authenticated;
  // The caller's role must allow one of these (checked before the handler
  // runs and before any body is read; empty: any valid token). The service
  // then applies the finer rules (model scopes, own versions, override).
  std::vector<Action> any_of;
  HandlerFn fn;
};

const std::vector<Route>& Routes();

// Reads the whole body, refusing more than `limit` bytes (413).
Result<std::string> ReadBody(Ctx& c, size_t limit);
Result<nlohmann::json> ReadJsonBody(Ctx& c);
// The query parameter `name` as a whole number in [min, max] (decimal
// digits, a '-' only before them; no '+', spaces or anything after), or
// `fallback` when the request has no such parameter. Otherwise
// InvalidArgument naming the parameter and the range: "limit must be a
// whole number from 1 to 1000" ("... >= 0" when max is INT64_MAX).
Result<int64_t> IntParam(const Ctx& c, const char* name, int64_t min, int64_t max, int64_t fallback);
void SendJson(Ctx& c, int status, const nlohmann::json& j);
// An optional JSON object body: none is {}; anything but an object is refused.
Result<nlohmann::json> OptionalJsonBody(Ctx& c);

// Handler groups.
Status HandleHealthz(Ctx& c);
Status HandleOpenApi(Ctx& c);
Status HandleReadyz(Ctx& c);
Status HandleMetrics(Ctx& c);
Status HandleDrift(Ctx& c);
Status HandleListModels(Ctx& c);
Status HandleGetModel(Ctx& c);
Status HandleListVersions(Ctx& c);
Status HandleVersionGates(Ctx& c);
Status HandleRegister(Ctx& c);
Status HandleGetVersion(Ctx& c);
Status HandleGetManifest(Ctx& c);
Status HandleGetModelBlob(Ctx& c);
Status HandleFetchModelBlobs(Ctx& c);
Status HandleGetBlob(Ctx& c);
Status HandleMissingBlobs(Ctx& c);
Status HandleStartUpload(Ctx& c);
Status HandleGetUpload(Ctx& c);
Status HandlePatchUpload(Ctx& c);
Status HandleFinishUpload(Ctx& c);
Status HandleCancelUpload(Ctx& c);
Status HandleBatchUpload(Ctx& c);
Status HandleCreateToken(Ctx& c);
Status HandleListTokens(Ctx& c);
Status HandleRevokeToken(Ctx& c);
Status HandleEvents(Ctx& c);
Status HandleCreateWebhook(Ctx& c);
Status HandleListWebhooks(Ctx& c);
Status HandleDeleteWebhook(Ctx& c);
Status HandleTestWebhook(Ctx& c);
Status HandleWebhookDeliveries(Ctx& c);
Status HandleWhoami(Ctx& c);
Status HandleChangeStage(Ctx& c);
Status HandleApprove(Ctx& c);
Status HandleListApprovals(Ctx& c);
Status HandleReject(Ctx& c);
Status HandleArchive(Ctx& c);
Status HandleRollback(Ctx& c);
Status HandleGetPolicy(Ctx& c);
Status HandleSetPolicy(Ctx& c);
// handlers_storage.cc
Status HandleDeleteVersion(Ctx& c);
Status HandleGetRetention(Ctx& c);
Status HandleSetRetention(Ctx& c);
Status HandleGc(Ctx& c);
Status HandleStageHistory(Ctx& c);
Status HandleStartRollout(Ctx& c);
Status HandleRolloutStatus(Ctx& c);
Status HandleAdvanceRollout(Ctx& c);
Status HandleAbortRollout(Ctx& c);
Status HandleFinishRollout(Ctx& c);
// The "rollout" counts of an agent's status report, if any (handlers_rollout.cc).
Status ReportAgentRollout(Ctx& c, const std::string& agent_id, const std::string& model, const nlohmann::json& report);
Status HandleAuditLog(Ctx& c);
Status HandleAuditVerify(Ctx& c);
Status HandleAuditCheckpoint(Ctx& c);
Status HandleKeys(Ctx& c);
Status HandleRelease(Ctx& c);
Status HandleAgentStatus(Ctx& c);
Status HandleListAgents(Ctx& c);
Status HandleIngestDecisions(Ctx& c);
Status HandleGetDecision(Ctx& c);
Status HandleVersionLineage(Ctx& c);
Status HandleDownstream(Ctx& c);
Status HandleDiff(Ctx& c);
Status HandleLiveAt(Ctx& c);
Status HandleDecisionAudit(Ctx& c);
Status HandleProvenance(Ctx& c);
Status HandleVersionProfile(Ctx& c);
Status HandleUiRedirect(Ctx& c);
Status HandleUiIndex(Ctx& c);
Status HandleUiAsset(Ctx& c);

}  // namespace modelreg::api
