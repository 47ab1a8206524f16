// Release key, signed releases with ETag/long-poll, agent reports.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>

#include "api/handler.h"
#include "api/json_codec.h"
#include "core/monitor_window.h"
#include "core/stage.h"

namespace modelreg::api {
namespace {

using nlohmann::json;

// ETag values are the quoted release seq: "17".
int64_t ParseEtag(const std::string& v) {
  std::string s = v;
  if (s.rfind("W/", 0) == 0) s = s.substr(2);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  char* end = nullptr;
  long long n = std::strtoll(s.c_str(), &end, 10);
  return (s.empty() || *end) ? -1 : n;
}

}  // namespace

Status HandleKeys(Ctx& c) {
  if (c.req.get_param_value("format") == "pem") {
    c.res.set_content(c.svc.ReleaseKeyPem(), "application/x-pem-file");
    return Status::OK();
  }
  SendJson(c, 200,
           {{"keys",
             {{{"keyid", c.svc.ReleaseKeyId()},
               {"algorithm", "ed25519"},
               {"pem", c.svc.ReleaseKeyPem()},
               {"use", "release"}}}}});
  return Status::OK();
}

namespace {

// The answer to a release request whose caller knows release `known` (-1:
// none): 304 while it is still current, else the signed release.
Status AnswerRelease(RegistryService& svc, const Principal& p, const std::string& model, const std::string& stage,
                     int64_t known, Response& res) {
  if (known >= 0) {
    MR_ASSIGN_OR_RETURN(int64_t seq, svc.GetReleaseSeq(p, model, stage));
    if (seq == known) {
      res.status = 304;
      res.set_header("ETag", "\"" + std::to_string(seq) + "\"");
      return Status::OK();
    }
  }
  MR_ASSIGN_OR_RETURN(Release r, svc.GetRelease(p, model, stage));
  res.set_header("ETag", "\"" + std::to_string(r.seq) + "\"");
  res.set_header("X-Release-Seq", std::to_string(r.seq));
  res.set_header("Cache-Control", "no-cache");
  res.set_content(r.envelope, "application/vnd.dsse.envelope.v1+json");
  return Status::OK();
}

}  // namespace

// A long poll (`wait` > 0 and the caller's release is current) is parked:
// it holds no worker while it waits (docs/http.md). It is answered when
// the service's watch sees the seq move (or the service stops waiting), or
// at its deadline, with what AnswerRelease says then.
Status HandleRelease(Ctx& c) {
  const std::string model = c.Arg(1);
  const std::string stage = c.req.has_param("stage") ? c.req.get_param_value("stage") : StageName(Stage::kProduction);
  // Seconds; a longer wait is cut to 300 (docs/api.md), not refused.
  MR_ASSIGN_OR_RETURN(int64_t wait_s, IntParam(c, "wait", 0, INT64_MAX, 0));
  wait_s = std::min<int64_t>(wait_s, 300);
  const int64_t known = c.req.has_header("If-None-Match") ? ParseEtag(c.req.get_header_value("If-None-Match")) : -1;
  if (known >= 0 && wait_s > 0 && c.park) {
    MR_ASSIGN_OR_RETURN(int64_t seq, c.svc.GetReleaseSeq(c.principal, model, stage));
    if (seq == known) {
      RegistryService* svc = &c.svc;
      const Principal p = c.principal;
      auto watch = std::make_shared<std::atomic<uint64_t>>(0);
      auto parked = c.park(
          std::chrono::steady_clock::now() + std::chrono::seconds(wait_s),
          [=](Response& res) {
            svc->CancelReleaseWatch(*watch);
            return AnswerRelease(*svc, p, model, stage, known, res);
          },
          [svc, watch] { svc->CancelReleaseWatch(*watch); });
      if (parked) {
        auto id = svc->WatchRelease(p, model, stage, known, [parked] { parked->Wake(); });
        if (id.ok() && *id != 0) *watch = *id;
        else parked->Wake();  // changed already, stopping, or an error: the answer says which
        return Status::OK();
      }
      // Too many long polls held: answered at once.
    }
  }
  return AnswerRelease(c.svc, c.principal, model, stage, known, c.res);
}

Status HandleAgentStatus(Ctx& c) {
  MR_ASSIGN_OR_RETURN(json j, ReadJsonBody(c));
  if (!j.is_object()) return Status::InvalidArgument("agent status must be a JSON object");
  AgentInfo a;
  a.id = c.Arg(1);
  auto str = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; };
  a.host = str("host");
  a.model = str("model");
  a.stage = str("stage").empty() ? StageName(Stage::kProduction) : str("stage");
  a.digest = str("digest");
  a.state = str("state");
  a.last_error = str("last_error");
  if (j.contains("version") && j["version"].is_number_integer()) a.version = j["version"].get<int64_t>();
  // The agent's reporting period: how long a silence means "gone" (docs/agent.md).
  if (j.contains("heartbeat_s") && j["heartbeat_s"].is_number() && j["heartbeat_s"].get<double>() > 0)
    a.heartbeat_ms = static_cast<int64_t>(std::min(j["heartbeat_s"].get<double>(), 86400.0) * 1000);
  if (j.contains("spool") && j["spool"].is_object()) {
    auto n = [&](const char* k) {
      const auto& s = j["spool"];
      return s.contains(k) && s[k].is_number_integer() ? std::max<int64_t>(0, s[k].get<int64_t>()) : int64_t{0};
    };
    a.spool_pending_bytes = n("pending_bytes");
    a.spool_max_bytes = n("max_bytes");
    a.decisions_dropped = n("dropped");
  }
  if (a.model.empty()) return Status::InvalidArgument("agent status needs a model");
  MR_RETURN_IF_ERROR(ValidateModelName(a.model));
  // Monitoring windows (docs/monitoring.md) first: a bad member is refused
  // before anything of the report is stored.
  if (j.contains("monitoring") && !j["monitoring"].is_null()) {
    auto report = ParseMonitorReport(j["monitoring"].dump());
    if (!report.ok()) return report.status().WithContext("agent status: monitoring");
    MR_RETURN_IF_ERROR(c.svc.ReportMonitoring(c.principal, a.id, a.model, *report));
  }
  MR_RETURN_IF_ERROR(c.svc.ReportAgent(c.principal, a));
  MR_RETURN_IF_ERROR(ReportAgentRollout(c, a.id, a.model, j));
  c.res.status = 204;
  return Status::OK();
}

Status HandleListAgents(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto agents, c.svc.ListAgents(c.principal, c.req.get_param_value("model")));
  json arr = json::array();
  const int64_t now = NowMs();
  for (const auto& a : agents) arr.push_back(ToJson(a, now));
  SendJson(c, 200, {{"agents", arr}});
  return Status::OK();
}

}  // namespace modelreg::api
