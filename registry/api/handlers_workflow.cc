// The approval workflow and the audit log over REST.
#include <cstdlib>

#include "api/handler.h"
#include "api/json_codec.h"
#include "api/list_page.h"
#include "core/clock.h"
#include "core/flag_values.h"
#include "core/stage.h"

namespace modelreg::api {
namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

Status StageChangeResponse(Ctx& c, const StageResult& r) {
  json j = ToJson(r.version);
  if (r.replaced) j["replaced"] = ToJson(*r.replaced);
  if (!r.overridden.empty()) j["overridden_gates"] = r.overridden;
  SendJson(c, 200, j);
  return Status::OK();
}

Status Stage(Ctx& c, StageRequest req) {
  MR_ASSIGN_OR_RETURN(auto r, c.svc.ChangeStage(c.principal, c.Arg(1), c.Arg(2), req));
  return StageChangeResponse(c, r);
}

}  // namespace

Status HandleChangeStage(Ctx& c) {
  MR_ASSIGN_OR_RETURN(json j, OptionalJsonBody(c));
  StageRequest req{Str(j, "to"), Str(j, "reason"), Str(j, "override")};
  if (req.to.empty())
    return Status::InvalidArgument("want {\"to\": \"staging\"|\"production\", \"reason\": ..., \"override\": ...}");
  return Stage(c, req);
}

Status HandleReject(Ctx& c) {
  MR_ASSIGN_OR_RETURN(json j, OptionalJsonBody(c));
  return Stage(c, StageRequest{StageName(Stage::kRejected), Str(j, "reason"), ""});
}

Status HandleArchive(Ctx& c) {
  MR_ASSIGN_OR_RETURN(json j, OptionalJsonBody(c));
  return Stage(c, StageRequest{StageName(Stage::kArchived), Str(j, "reason"), ""});
}

Status HandleApprove(Ctx& c) {
  MR_ASSIGN_OR_RETURN(json j, OptionalJsonBody(c));
  VersionDetail d;
  MR_ASSIGN_OR_RETURN(bool added, c.svc.Approve(c.principal, c.Arg(1), c.Arg(2), Str(j, "comment"), &d));
  json out = ToJson(d);
  out["approval_added"] = added;
  SendJson(c, added ? 201 : 200, out);
  return Status::OK();
}

Status HandleListApprovals(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto d, c.svc.GetVersion(c.principal, c.Arg(1), c.Arg(2)));
  SendJson(c, 200, {{"approvals", ToJson(d)["approvals"]}});
  return Status::OK();
}

Status HandleRollback(Ctx& c) {
  MR_ASSIGN_OR_RETURN(json j, OptionalJsonBody(c));
  MR_ASSIGN_OR_RETURN(auto r, c.svc.Rollback(c.principal, c.Arg(1), Str(j, "reason")));
  SendJson(c, 200, {{"restored", ToJson(r.restored)}, {"demoted", ToJson(r.demoted)}});
  return Status::OK();
}

Status HandleGetPolicy(Ctx& c) {
  MR_ASSIGN_OR_RETURN(Policy p, c.svc.GetPolicy(c.principal, c.Arg(1)));
  SendJson(c, 200, ToJson(p));
  return Status::OK();
}

Status HandleSetPolicy(Ctx& c) {
  MR_ASSIGN_OR_RETURN(json j, ReadJsonBody(c));
  MR_ASSIGN_OR_RETURN(Policy p, PolicyFromJson(j));
  MR_ASSIGN_OR_RETURN(Policy stored, c.svc.SetPolicy(c.principal, c.Arg(1), p));
  SendJson(c, 200, ToJson(stored));
  return Status::OK();
}

Status HandleStageHistory(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto h, c.svc.StageHistory(c.principal, c.Arg(1)));
  json arr = json::array();
  for (const auto& x : h) arr.push_back(ToJson(x));
  SendJson(c, 200, {{"model", c.Arg(1)}, {"history", arr}});
  return Status::OK();
}

// The policy checked against one version now, check by check (read-only).
Status HandleVersionGates(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto r, c.svc.CheckGates(c.principal, c.Arg(1), c.Arg(2)));
  json checks = json::array();
  for (const auto& g : r.checks) {
    json j = {{"check", g.check}, {"ok", g.ok}};
    if (!g.detail.empty()) j["detail"] = g.detail;
    if (g.actual) j["actual"] = *g.actual;
    if (g.against) j["against"] = *g.against;
    checks.push_back(std::move(j));
  }
  SendJson(c, 200,
           {{"model", c.Arg(1)},
            {"version", r.version},
            {"stage", r.stage},
            {"approvals", r.approvals},
            {"approvals_required", r.approvals_required},
            {"production_version", r.production_version ? json(*r.production_version) : json(nullptr)},
            {"checks", checks},
            {"ready", r.ready}});
  return Status::OK();
}

Status HandleAuditLog(Ctx& c) {
  AuditQuery q;
  q.model = c.req.get_param_value("model");
  if (c.req.has_param("since")) { MR_ASSIGN_OR_RETURN(q.since_ms, ParseTimeMs(c.req.get_param_value("since"))); }
  if (c.req.has_param("version")) {  // any version name (service/version_ref.h)
    q.version_ref = c.req.get_param_value("version");
    if (q.version_ref.empty()) return Status::InvalidArgument("version is empty");
  }
  if (c.req.has_param("until")) {
    auto until = ParseTimeMs(c.req.get_param_value("until"));
    if (!until.ok()) return Status::InvalidArgument("until: " + until.status().message());
    q.until_ms = *until;
  }
  q.actor = c.req.get_param_value("actor");
  q.action = c.req.get_param_value("action");
  if (c.req.has_param("after_seq")) q.after_seq = std::atoll(c.req.get_param_value("after_seq").c_str());
  if (c.req.has_param("page_token")) {  // the lists' token (api/list_page.h); here it names a seq
    MR_ASSIGN_OR_RETURN(auto pos, DecodePageToken(c.req.get_param_value("page_token")));
    if (!pos.contains("seq") || !pos["seq"].is_number_integer())
      return Status::InvalidArgument("page_token was not made by the audit log: start again without it");
    q.after_seq = pos["seq"].get<int64_t>();
  }
  if (c.req.has_param("before_seq")) { MR_ASSIGN_OR_RETURN(q.before_seq, IntParam(c, "before_seq", 1, INT64_MAX, 1)); }
  if (c.req.has_param("limit")) q.limit = std::atoll(c.req.get_param_value("limit").c_str());
  if (c.req.has_param("newest")) {  // the last N events, oldest first: one page, no next_after_seq
    MR_ASSIGN_OR_RETURN(q.limit, ParseCountFlag(c.req.get_param_value("newest"), "newest", 1, 10000));
    q.newest = true;
  }
  MR_ASSIGN_OR_RETURN(auto events, c.svc.AuditLog(c.principal, q));
  json arr = json::array();
  for (const auto& e : events) arr.push_back(ToJson(e));
  json out = {{"events", arr}};
  // Pagination: pass next_after_seq as after_seq for the next page.
  if (!q.newest && !events.empty() && static_cast<int64_t>(events.size()) >= std::clamp<int64_t>(q.limit, 1, 10000)) {
    out["next_after_seq"] = events.back().seq;
    out["next_page_token"] = EncodePageToken({{"seq", events.back().seq}});
  }
  SendJson(c, 200, out);
  return Status::OK();
}

Status HandleAuditVerify(Ctx& c) {
  // ?checkpoint_count=N&checkpoint_hash=H: also check against a checkpoint
  // the auditor kept (GET /api/v1/audit/checkpoint, signature checked by
  // the client).
  std::optional<AuditCheckpoint> against;
  if (c.req.has_param("checkpoint_count") || c.req.has_param("checkpoint_hash")) {
    const std::string n = c.req.get_param_value("checkpoint_count");
    char* end = nullptr;
    const long long count = std::strtoll(n.c_str(), &end, 10);
    if (n.empty() || *end || count < 0) return Status::InvalidArgument("checkpoint_count must be an integer >= 0");
    AuditCheckpoint cp{count, c.req.get_param_value("checkpoint_hash"), 0};
    if (!IsAuditHash(cp.head_hash)) return Status::InvalidArgument("checkpoint_hash must be 64 lowercase hex digits");
    if (c.req.has_param("checkpoint_time")) {
      MR_ASSIGN_OR_RETURN(cp.at_ms, ParseTimeMs(c.req.get_param_value("checkpoint_time")));
    }
    against = cp;
  }
  MR_ASSIGN_OR_RETURN(auto r, c.svc.VerifyAudit(c.principal, against));
  SendJson(c, 200, ToJson(r));
  return Status::OK();
}

Status HandleAuditCheckpoint(Ctx& c) {
  MR_ASSIGN_OR_RETURN(std::string envelope, c.svc.SignedAuditCheckpoint(c.principal));
  c.res.set_content(envelope, "application/json");
  c.res.status = 200;
  return Status::OK();
}

}  // namespace modelreg::api
