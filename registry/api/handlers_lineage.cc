// Audit and lineage queries (docs/api.md): upstream lineage, downstream of a
// dataset or commit, diff, what was live when, a decision's full story,
// signed provenance.
#include <algorithm>

#include "api/handler.h"
#include "api/json_codec.h"
#include "core/clock.h"

namespace modelreg::api {

using nlohmann::json;

Status HandleVersionLineage(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto l, c.svc.Lineage(c.principal, c.Arg(1), c.Arg(2)));
  SendJson(c, 200, ToJson(l, NowMs()));
  return Status::OK();
}

Status HandleDownstream(Ctx& c) {
  DownstreamQuery q;
  q.dataset = c.req.get_param_value("dataset");
  q.commit = c.req.get_param_value("commit");
  MR_ASSIGN_OR_RETURN(q.offset, IntParam(c, "offset", 0, INT64_MAX, 0));
  MR_ASSIGN_OR_RETURN(q.limit, IntParam(c, "limit", 1, 1000, 100));
  MR_ASSIGN_OR_RETURN(auto page, c.svc.Downstream(c.principal, q));
  json j = ToJson(page, NowMs());
  if (!q.dataset.empty()) j["dataset"] = q.dataset;
  else j["commit"] = q.commit;
  SendJson(c, 200, j);
  return Status::OK();
}

Status HandleDiff(Ctx& c) {
  if (!c.req.has_param("from") || !c.req.has_param("to"))
    return Status::InvalidArgument("want ?from=VERSION&to=VERSION");
  MR_ASSIGN_OR_RETURN(auto d,
                      c.svc.Diff(c.principal, c.Arg(1), c.req.get_param_value("from"), c.req.get_param_value("to")));
  SendJson(c, 200, ToJson(d));
  return Status::OK();
}

Status HandleLiveAt(Ctx& c) {
  if (!c.req.has_param("at")) return Status::InvalidArgument("want ?at=TIME (2026-11-23T18:00:00Z or epoch ms)");
  MR_ASSIGN_OR_RETURN(int64_t at, ParseTimeMs(c.req.get_param_value("at")));
  MR_ASSIGN_OR_RETURN(int64_t offset, IntParam(c, "offset", 0, INT64_MAX, 0));
  MR_ASSIGN_OR_RETURN(int64_t limit, IntParam(c, "limit", 1, 10000, 1000));
  MR_ASSIGN_OR_RETURN(auto live, c.svc.LiveAtTime(c.principal, c.Arg(1), at, c.req.get_param_value("agent")));
  // A page of the fleet (ordered by agent id): large fleets page with offset.
  const int64_t total = static_cast<int64_t>(live.agents.size());
  // Past the end is an empty page (an offset near 2^63 must not overflow).
  const int64_t first = std::min(offset, total);
  const int64_t end = first + std::min(limit, total - first);
  std::vector<AgentStateAt> page(live.agents.begin() + first, live.agents.begin() + end);
  live.agents = std::move(page);
  json j = ToJson(live);
  j["total_agents"] = total;
  if (end < total) j["next_offset"] = end;
  SendJson(c, 200, j);
  return Status::OK();
}

Status HandleDecisionAudit(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto a, c.svc.AuditDecision(c.principal, c.Arg(1)));
  SendJson(c, 200, ToJson(a, NowMs()));
  return Status::OK();
}

Status HandleProvenance(Ctx& c) {
  MR_ASSIGN_OR_RETURN(std::string envelope, c.svc.Provenance(c.principal, c.Arg(1), c.Arg(2)));
  c.res.status = 200;
  c.res.set_content(envelope, "application/vnd.dsse.envelope.v1+json");
  return Status::OK();
}

}  // namespace modelreg::api
