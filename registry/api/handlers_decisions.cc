// Decisions: batch ingest from agents, lookup by request id.
#include "api/handler.h"
#include "api/json_codec.h"

namespace modelreg::api {
using nlohmann::json;

Status HandleIngestDecisions(Ctx& c) {
  MR_ASSIGN_OR_RETURN(json j, ReadJsonBody(c));
  if (!j.is_object() || !j.contains("decisions") || !j["decisions"].is_array())
    return Status::InvalidArgument("want {\"decisions\": [{\"request_id\",\"model\",\"version\",\"digest\",\"agent_id\",\"at_ms\",\"input_sha256\"}, ...]}");
  std::vector<DecisionRecord> batch;
  batch.reserve(j["decisions"].size());
  for (const auto& e : j["decisions"]) {
    if (!e.is_object()) return Status::InvalidArgument("each decision must be an object");
    DecisionRecord d;
    auto str = [&](const char* k) { return e.contains(k) && e[k].is_string() ? e[k].get<std::string>() : ""; };
    d.request_id = str("request_id");
    d.model = str("model");
    d.digest = str("digest");
    d.agent_id = str("agent_id");
    d.input_sha256 = str("input_sha256");
    if (e.contains("version") && e["version"].is_number_integer()) d.version = e["version"].get<int64_t>();
    if (e.contains("at_ms") && e["at_ms"].is_number_integer()) d.at_ms = e["at_ms"].get<int64_t>();
    if (e.contains("output") && e["output"].is_string()) d.output = e["output"].get<std::string>();
    batch.push_back(std::move(d));
  }
  MR_ASSIGN_OR_RETURN(auto r, c.svc.IngestDecisions(c.principal, std::move(batch)));
  SendJson(c, 200, {{"accepted", r.accepted}, {"duplicates", r.duplicates}});
  return Status::OK();
}

Status HandleGetDecision(Ctx& c) {
  MR_ASSIGN_OR_RETURN(DecisionRecord d, c.svc.GetDecision(c.principal, c.Arg(1)));
  SendJson(c, 200, ToJson(d));
  return Status::OK();
}

}  // namespace modelreg::api
