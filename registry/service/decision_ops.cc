// Decisions recorded by agents: batch ingest (idempotent) and lookup.
#include <algorithm>

#include "core/bundle_path.h"
#include "service/registry_service.h"
#include "store/decision_store.h"

namespace modelreg {
namespace {

Status ValidateDecision(const DecisionRecord& d, size_t i) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument("decisions[" + std::to_string(i) + "]: " + why);
  };
  if (d.request_id.empty() || d.request_id.size() > 128) return bad("request_id must be 1 to 128 characters");
  for (unsigned char c : d.request_id)
    if (c < 0x21 || c > 0x7e) return bad("request_id must be printable ASCII without spaces");
  if (!ValidateModelName(d.model).ok()) return bad("bad model name");
  if (!Digest::Parse(d.digest).ok()) return bad("digest must be sha256:<64 hex>");
  if (d.agent_id.empty() || d.agent_id.size() > 128) return bad("agent_id must be 1 to 128 characters");
  if (d.input_sha256.size() != 64 || !std::all_of(d.input_sha256.begin(), d.input_sha256.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      }))
    return bad("input_sha256 must be 64 lowercase hex characters");
  if (d.at_ms <= 0) return bad("at_ms must be a positive time in milliseconds");
  if (d.output && d.output->size() > kMaxDecisionOutputBytes) return bad("output is larger than 64 KiB");
  // A NUL cannot be stored in a PostgreSQL text column; refused on every backend alike.
  if (d.agent_id.find('\0') != std::string::npos) return bad("agent_id must not contain NUL characters");
  if (d.output && d.output->find('\0') != std::string::npos) return bad("output must not contain NUL characters");
  // Which arm of which rollout answered (docs/api.md): both or neither.
  if (!d.arm.empty() && d.arm != "baseline" && d.arm != "candidate") return bad("arm must be baseline or candidate");
  if (d.rollout_id && *d.rollout_id <= 0) return bad("rollout_id must be a positive integer");
  if (d.arm.empty() && d.rollout_id) return bad("rollout_id needs the arm that answered (baseline or candidate)");
  if (!d.arm.empty() && !d.rollout_id) return bad("arm needs the rollout_id of its rollout");
  if (!d.fallback.empty() && d.fallback != "previous" && d.fallback != "static")
    return bad("fallback must be previous or static");
  return Status::OK();
}

}  // namespace

Result<RegistryService::IngestResult> RegistryService::IngestDecisions(const Principal& p,
                                                                       std::vector<DecisionRecord> batch) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReportAgent));
  if (batch.size() > kMaxDecisionBatch)
    return Status::ResourceExhausted("at most " + std::to_string(kMaxDecisionBatch) + " decisions per batch");
  for (size_t i = 0; i < batch.size(); ++i) {
    MR_RETURN_IF_ERROR(ValidateDecision(batch[i], i));
    if (!p.CanSeeModel(batch[i].model))
      return Status::PermissionDenied("token '" + p.name + "' may not record decisions of model '" + batch[i].model +
                                      "'");
  }
  IngestResult r;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kAppend, [&](Tx& tx) {
    r.accepted = store::InsertDecisions(tx, batch, NowMs());
    return Status::OK();
  }));
  r.duplicates = batch.size() - r.accepted;
  return r;
}

Result<DecisionRecord> RegistryService::GetDecision(const Principal& p, const std::string& request_id) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadAudit));
  std::optional<DecisionRecord> d;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    d = store::FindDecision(tx, request_id);
    return Status::OK();
  }));
  if (!d || !p.CanSeeModel(d->model)) return Status::NotFound("no decision with request id '" + request_id + "'");
  return *d;
}

}  // namespace modelreg
