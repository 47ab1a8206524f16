// Decisions: batch ingest from agents, lookup by request id.
#include "api/handler.h"
#include "api/json_codec.h"
#include "core/decision_batch.h"

namespace modelreg::api {
using nlohmann::json;

// The body is parsed with ParseDecisionBatch (SAX, bounded): no JSON tree,
// the batch cap and field types checked while parsing.
Status HandleIngestDecisions(Ctx& c) {
  MR_ASSIGN_OR_RETURN(std::string body, ReadBody(c, c.max_json_body));
  MR_ASSIGN_OR_RETURN(auto batch, ParseDecisionBatch(body, kMaxDecisionBatch));
  std::string().swap(body);  // the records hold what is needed; free the bytes before the write
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
