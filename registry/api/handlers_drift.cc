// Model monitoring (docs/monitoring.md): the drift series of a model.
#include <cmath>

#include "api/handler.h"
#include "core/clock.h"

namespace modelreg::api {
namespace {

using nlohmann::json;

json Number(const std::optional<double>& v) { return v && std::isfinite(*v) ? json(*v) : json(nullptr); }

}  // namespace

// GET /api/v1/models/{m}/drift?version=V&since=TIME&agent=ID: one object per
// feature and window, oldest window first, and the monitored versions with
// whether they have a reference profile.
Status HandleDrift(Ctx& c) {
  RegistryService::DriftFilter f;
  if (c.req.has_param("version")) {
    MR_ASSIGN_OR_RETURN(int64_t v, IntParam(c, "version", 1, INT64_MAX, 0));
    f.version = v;
  }
  if (c.req.has_param("since")) { MR_ASSIGN_OR_RETURN(f.since_ms, ParseTimeMs(c.req.get_param_value("since"))); }
  f.agent = c.req.get_param_value("agent");
  MR_ASSIGN_OR_RETURN(auto answer, c.svc.Drift(c.principal, c.Arg(1), f));
  json windows = json::array();
  for (const auto& p : answer.points) {
    const auto& w = p.window;
    const auto& s = p.stat;
    windows.push_back({{"feature", s.feature},
                       {"output", s.is_output},
                       {"version", w.version},
                       {"agent", w.agent_id},
                       {"arm", w.arm},
                       {"start_ms", w.start_ms},
                       {"end_ms", w.end_ms},
                       {"start", FormatIsoTime(w.start_ms)},
                       {"reference", w.reference},
                       {"n", s.n},
                       {"missing", s.missing},
                       {"out_of_range", s.out_of_range},
                       {"type_errors", s.type_errors},
                       {"unknown_category", s.unknown_category},
                       {"psi", Number(s.psi)},
                       {"js", Number(s.js)},
                       {"missing_rate", s.missing_rate},
                       {"out_of_range_rate", s.out_of_range_rate},
                       {"threshold", Number(s.threshold)},
                       {"alarm", s.alarm},
                       {"rows", w.rows},
                       {"violations", w.violations}});
  }
  json versions = json::array();
  for (const auto& [number, reference] : answer.versions)
    versions.push_back({{"version", number}, {"reference", reference}});
  SendJson(c, 200, {{"model", c.Arg(1)}, {"versions", versions}, {"windows", windows}});
  return Status::OK();
}

}  // namespace modelreg::api
