// Rollouts (docs/rollouts.md): start, step, abort, finish, status, and the
// agents' counts judged as they arrive. Each change is one transaction with
// its audit event, and changes production's release seq, so agents follow
// it within one poll.
#include <functional>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/file_util.h"
#include "core/stage.h"
#include "service/audit.h"
#include "service/channels.h"
#include "service/registry_service.h"
#include "service/workflow_internal.h"
#include "store/model_store.h"
#include "store/rollout_store.h"
#include "store/workflow_store.h"

namespace modelreg {

using nlohmann::json;
using service_internal::Audit;

namespace {

// The actor of what the registry does by itself: aborts on a verdict,
// steps of an --auto-advance rollout.
constexpr char kJudgeActor[] = "judge";
constexpr int64_t kMaxStepEveryMs = 30ll * 24 * 3600 * 1000;

double Pct(int bp) { return bp / 100.0; }

json PctList(const std::vector<int>& steps) {
  json out = json::array();
  for (int s : steps) out.push_back(Pct(s));
  return out;
}

// The counts of a step, for audit events: requests and errors per arm.
json CountsJson(const RolloutCounts& c) {
  return {{"baseline", {{"requests", c.baseline.requests}, {"errors", c.baseline.errors}}},
          {"candidate", {{"requests", c.candidate.requests}, {"errors", c.candidate.errors}}}};
}

// The judge's options for `r`: its planned horizon and the looks of the
// step that have fired (core/rollout_judge.h).
JudgeOptions JudgeOptionsFor(const RolloutRecord& r) {
  JudgeOptions o;
  o.horizon_requests = r.horizon_requests;
  o.prev_requests = r.judged_requests;
  return o;
}

RolloutCounts StepCounts(Tx& tx, const RolloutRecord& r, int64_t* reporters = nullptr) {
  auto rows = store::RolloutCountsOf(tx, r.id, r.step);
  if (reporters) *reporters = static_cast<int64_t>(rows.size());
  return SumRolloutCounts(rows);
}

Status NoActive(const std::string& model) {
  return Status::FailedPrecondition("model '" + model +
                                    "' has no active rollout (start one with `modelreg rollout start`)");
}

// Ends `r` (aborted or finished) by `actor`, in the caller's transaction.
// An ended rollout keeps the verdict it ended with: `verdict` when the
// judge ended it, else the judge's on the step's counts now (an active
// rollout's verdict is computed when asked, not stored at every report).
void End(Tx& tx, RolloutRecord& r, const std::string& state, const std::string& actor, const std::string& reason,
         const std::string& verdict) {
  r.verdict = verdict;
  if (r.verdict.empty()) {
    const RolloutCounts c = StepCounts(tx, r);
    auto v = Judge(c.baseline, c.candidate, JudgeOptionsFor(r));
    if (v.ok()) r.verdict = VerdictJson(*v);
  }
  r.state = state;
  r.ended_at_ms = NowMs();
  r.ended_by = actor;
  r.reason = reason;
  ++r.revision;
  store::UpdateRollout(tx, r);
  tx.Notify(service_internal::kReleaseChannel, r.model);
}

void Abort(Tx& tx, RolloutRecord& r, const std::string& actor, const std::string& reason, const std::string& verdict) {
  const RolloutCounts c = StepCounts(tx, r);
  End(tx, r, "aborted", actor, reason, verdict);
  json d = {{"rollout_id", r.id},
            {"mode", RolloutModeName(r.mode)},
            {"reason", reason},
            {"automatic", actor == kJudgeActor},
            {"weight_pct", Pct(r.WeightBp())},
            {"baseline_version", r.baseline.version},
            {"counts", CountsJson(c)}};
  if (!verdict.empty()) d["verdict"] = json::parse(verdict, nullptr, false);
  Audit(tx, actor, "rollout.abort", r.model, r.candidate.version, d);
}

// To the next step: counts start over (the judge compares arms over one
// weight only).
void Step(Tx& tx, RolloutRecord& r, const std::string& actor) {
  const RolloutCounts c = StepCounts(tx, r);
  const int from = r.WeightBp();
  ++r.step;
  r.step_started_ms = NowMs();
  r.verdict.clear();
  r.judged_requests = 0;  // the new step's looks are all ahead
  r.last_look.clear();
  ++r.revision;
  store::UpdateRollout(tx, r);
  tx.Notify(service_internal::kReleaseChannel, r.model);
  Audit(tx, actor, "rollout.step", r.model, r.candidate.version,
        {{"rollout_id", r.id},
         {"from_pct", Pct(from)},
         {"to_pct", Pct(r.WeightBp())},
         {"step", r.step},
         {"counts", CountsJson(c)}});
}

Status Finish(Tx& tx, RolloutRecord& r, const std::string& actor) {
  json d = {{"rollout_id", r.id}, {"mode", RolloutModeName(r.mode)}, {"weight_pct", Pct(r.WeightBp())}};
  d["counts"] = CountsJson(StepCounts(tx, r));
  if (r.mode != RolloutMode::kShadow) {
    // The candidate becomes production, the baseline is archived: one
    // transaction, as a promotion (kind "rollout" in the history).
    auto prod = store::FindProductionVersion(tx, r.model);
    auto cand = store::FindVersionByNumber(tx, r.model, r.candidate.version);
    if (!prod || prod->number != r.baseline.version || !cand)
      return Status::FailedPrecondition("rollout " + std::to_string(r.id) + " of '" + r.model +
                                        "' no longer matches production; abort it");
    const int64_t model_id = store::FindModel(tx, r.model)->id;
    const int64_t now = NowMs();
    const std::string production = StageName(Stage::kProduction), archived = StageName(Stage::kArchived);
    const std::string why = "rollout " + std::to_string(r.id) + " finished";
    store::SetVersionStage(tx, prod->id, archived);
    store::InsertStageChange(tx, model_id, prod->id, production, archived, "rollout", actor,
                             "replaced by version " + std::to_string(cand->number) + " (" + why + ")", now);
    store::SetVersionStage(tx, cand->id, production);
    store::InsertStageChange(tx, model_id, cand->id, cand->stage, production, "rollout", actor, why, now);
    d["from"] = cand->stage;
    d["promoted"] = cand->number;
    d["replaced"] = prod->number;
  }
  End(tx, r, "finished", actor, "", "");
  Audit(tx, actor, "rollout.finish", r.model, r.candidate.version, d);
  return Status::OK();
}

// Runs `change` on the model's active rollout in one write transaction;
// FailedPrecondition when there is none. Returns the rollout as changed.
Result<RolloutRecord> ChangeActive(Database& db, const std::string& model,
                                   const std::function<Status(Tx&, RolloutRecord&)>& change) {
  RolloutRecord r;
  MR_RETURN_IF_ERROR(db.Transact(TxMode::kWrite, [&](Tx& tx) -> Status {
    auto a = store::ActiveRollout(tx, model);
    if (!a) return NoActive(model);
    r = *a;
    return change(tx, r);
  }));
  return r;
}

}  // namespace

Status service_internal::CheckNoRollout(Tx& tx, const std::string& model, const VersionRecord* v, const std::string& to,
                                        const std::string& what) {
  auto r = store::ActiveRollout(tx, model);
  if (!r) return Status::OK();
  const bool blocked =
      !v || v->number == r->baseline.version || (v->number == r->candidate.version && to != StageName(Stage::kStaging));
  if (!blocked) return Status::OK();
  return Status::FailedPrecondition("cannot " + what + ": rollout " + std::to_string(r->id) + " of version " +
                                    std::to_string(r->candidate.version) + " is active on '" + model +
                                    "'; finish or abort it first (`modelreg rollout finish|abort " + model + "`)");
}

Result<RolloutRecord> RegistryService::StartRollout(const Principal& p, const std::string& model,
                                                    const RolloutRequest& req) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kApprove, model));
  if (!req.override_reason.empty()) {
    MR_RETURN_IF_ERROR(Authorize(p, Action::kOverride, model));
    if (req.mode == RolloutMode::kShadow)
      return Status::InvalidArgument("--override applies to canary and A/B rollouts (a shadow has no gates)");
  }
  MR_RETURN_IF_ERROR(ValidateKeyHeader(req.key_header));
  std::vector<int> steps = req.steps;
  if (req.mode == RolloutMode::kShadow) {
    if (!steps.empty()) return Status::InvalidArgument("a shadow rollout serves no traffic: it takes no share");
    steps = {0};
  } else if (steps.empty()) {
    return Status::InvalidArgument(req.mode == RolloutMode::kCanary ? "a canary needs a share of traffic: --canary PCT"
                                                                    : "an A/B rollout needs a share: --ab PCT");
  } else if (req.mode == RolloutMode::kAb && steps.size() != 1) {
    return Status::InvalidArgument("an A/B rollout has one share (--ab PCT), not steps");
  }
  for (size_t i = 0; i < steps.size() && req.mode != RolloutMode::kShadow; ++i)
    if (steps[i] <= 0 || steps[i] > 10000 || (i > 0 && steps[i] <= steps[i - 1]))
      return Status::InvalidArgument("rollout weights must increase, each more than 0 % and at most 100 %");
  if (req.step_every_ms < 0 || req.step_every_ms > kMaxStepEveryMs)
    return Status::InvalidArgument("--step-every must be between 0 and 30 days");
  if (req.horizon_requests != 0 &&
      (req.horizon_requests < kMinHorizonRequests || req.horizon_requests > kMaxHorizonRequests))
    return Status::InvalidArgument("--horizon must be 0 (no planned horizon) or between " +
                                   std::to_string(kMinHorizonRequests) + " and " + std::to_string(kMaxHorizonRequests) +
                                   " requests, got " + std::to_string(req.horizon_requests));
  if (req.auto_advance && req.step_every_ms <= 0)
    return Status::InvalidArgument("--auto-advance needs --step-every: how long each step runs");

  RolloutRecord r;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kWrite, [&](Tx& tx) -> Status {
    auto m = store::FindModel(tx, model);
    if (!m) return Status::NotFound("model '" + model + "' not found");
    if (auto a = store::ActiveRollout(tx, model))
      return Status::AlreadyExists("model '" + model + "' already has rollout " + std::to_string(a->id) + " (" +
                                   RolloutModeName(a->mode) + " of version " + std::to_string(a->candidate.version) +
                                   ") active: one at a time; finish or abort it first");
    auto prod = store::FindProductionVersion(tx, model);
    if (!prod)
      return Status::FailedPrecondition("model '" + model +
                                        "' has no production version: a rollout serves a candidate beside production "
                                        "(promote a first version with `modelreg promote`)");
    MR_ASSIGN_OR_RETURN(VersionRecord v, ResolveVersion(tx, model, req.version));
    MR_RETURN_IF_ERROR(DeletedVersionStatus(v));
    const std::string vname = model + " version " + std::to_string(v.number);
    if (v.id == prod->id)
      return Status::FailedPrecondition(vname + " is production already: a rollout's candidate is another version");
    if (v.stage == StageName(Stage::kRejected) || v.stage == StageName(Stage::kArchived))
      return Status::FailedPrecondition("cannot roll out " + vname + ": it is " + v.stage);
    const Policy policy = store::GetPolicy(tx, m->id);
    const PromotionFacts facts = service_internal::PromotionFactsFor(tx, v, prod);
    json details = {{"mode", RolloutModeName(req.mode)},
                    {"baseline_version", prod->number},
                    {"weight_pct", Pct(steps[0])},
                    {"steps_pct", PctList(steps)},
                    {"key_header", req.key_header},
                    {"auto_advance", req.auto_advance},
                    {"step_every_s", req.step_every_ms / 1000.0},
                    {"horizon_requests", req.horizon_requests}};
    if (req.mode == RolloutMode::kShadow) {
      // Shadow answers no client: approval is all it needs.
      const int need = std::max(1, policy.approvals_required);
      if (facts.approvals < need)
        return Status::FailedPrecondition("a shadow rollout of " + vname + " needs " + std::to_string(need) +
                                          " approval(s) by someone other than its author; it has " +
                                          std::to_string(facts.approvals) + " (`modelreg approve`)");
    } else {
      // A canary or A/B arm answers real traffic: what promotion needs.
      MR_ASSIGN_OR_RETURN(Stage from, ParseStage(v.stage));
      MR_RETURN_IF_ERROR(CheckStageTransition(from, Stage::kProduction).WithContext(vname));
      auto failures = EvaluatePolicy(policy, facts);
      if (!failures.empty()) {
        if (req.override_reason.empty())
          return Status(StatusCode::kFailedPrecondition,
                        "rollout of " + vname + " blocked by " + std::to_string(failures.size()) +
                            " failing gate(s), as its promotion to production would be",
                        failures);
        details["override"] = {{"reason", req.override_reason}, {"failed_gates", failures}};
      }
    }
    const int64_t now = NowMs();
    r.model = model;
    r.mode = req.mode;
    r.baseline = {prod->number, prod->digest};
    r.candidate = {v.number, v.digest};
    r.steps = steps;
    r.step = 0;
    r.step_started_ms = now;
    r.step_every_ms = req.step_every_ms;
    r.auto_advance = req.auto_advance;
    r.key_header = req.key_header;
    r.salt = RandomHex(16);
    r.revision = 1;
    r.override_reason = req.override_reason;
    r.horizon_requests = req.horizon_requests;
    r.started_at_ms = now;
    r.started_by = p.name;
    store::InsertRollout(tx, m->id, prod->id, v.id, &r);
    details["rollout_id"] = r.id;
    Audit(tx, p.name, "rollout.start", model, v.number, details);
    tx.Notify(service_internal::kReleaseChannel, model);
    return Status::OK();
  }));
  NotifyReleaseChanged();
  return r;
}

Result<RolloutRecord> RegistryService::AdvanceRollout(const Principal& p, const std::string& model) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kApprove, model));
  MR_ASSIGN_OR_RETURN(
      RolloutRecord r, ChangeActive(*db_, model, [&](Tx& tx, RolloutRecord& a) -> Status {
        if (a.mode != RolloutMode::kCanary)
          return Status::FailedPrecondition("rollout " + std::to_string(a.id) + " is " + RolloutModeName(a.mode) +
                                            ": it has no steps; finish or abort it");
        if (a.last_step())
          return Status::FailedPrecondition("rollout " + std::to_string(a.id) + " is at its last step (" +
                                            json(Pct(a.WeightBp())).dump() + " %): finish it");
        Step(tx, a, p.name);
        return Status::OK();
      }));
  NotifyReleaseChanged();
  return r;
}

Result<RolloutRecord> RegistryService::AbortRollout(const Principal& p, const std::string& model,
                                                    const std::string& reason) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kApprove, model));
  if (reason.empty()) return Status::InvalidArgument("aborting a rollout needs a reason (--reason)");
  MR_ASSIGN_OR_RETURN(RolloutRecord r, ChangeActive(*db_, model, [&](Tx& tx, RolloutRecord& a) {
                        Abort(tx, a, p.name, reason, "");
                        return Status::OK();
                      }));
  NotifyReleaseChanged();
  return r;
}

Result<RolloutRecord> RegistryService::FinishRollout(const Principal& p, const std::string& model) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kApprove, model));
  MR_ASSIGN_OR_RETURN(RolloutRecord r,
                      ChangeActive(*db_, model, [&](Tx& tx, RolloutRecord& a) { return Finish(tx, a, p.name); }));
  NotifyReleaseChanged();
  return r;
}

Result<RolloutStatus> RegistryService::GetRolloutStatus(const Principal& p, const std::string& model) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  std::optional<RolloutStatus> out;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) -> Status {
    if (!store::FindModel(tx, model)) return Status::NotFound("model '" + model + "' not found");
    auto r = store::ActiveRollout(tx, model);
    if (!r) r = store::LatestRollout(tx, model);
    if (!r) return Status::OK();
    out.emplace();
    out->rollout = *r;
    out->counts = StepCounts(tx, *r, &out->reporters);
    return Status::OK();
  }));
  if (!out) return Status::NotFound("model '" + model + "' has had no rollout");
  auto v = Judge(out->counts.baseline, out->counts.candidate, JudgeOptionsFor(out->rollout));
  if (v.ok()) out->verdict = *v;
  return *out;
}

Status RegistryService::ReportRolloutCounts(const Principal& p, const std::string& model, RolloutCounts counts) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReportAgent, model));
  MR_RETURN_IF_ERROR(ValidateRolloutCounts(counts));
  bool changed = false;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kWrite, [&](Tx& tx) -> Status {
    auto r = store::FindRollout(tx, counts.rollout_id);
    if (!r || r->model != model)
      return Status::NotFound("rollout " + std::to_string(counts.rollout_id) + " of model '" + model + "' not found");
    if (counts.step >= static_cast<int>(r->steps.size()))
      return Status::InvalidArgument("rollout " + std::to_string(r->id) + " has no step " +
                                     std::to_string(counts.step));
    counts.updated_at_ms = NowMs();
    store::UpsertRolloutCounts(tx, counts);
    // Counts of an ended rollout or an earlier step are kept, not judged.
    if (!r->active() || counts.step != r->step) return Status::OK();
    const RolloutCounts sum = StepCounts(tx, *r);
    auto verdict = Judge(sum.baseline, sum.candidate, JudgeOptionsFor(*r));
    if (!verdict.ok()) return Status::OK();  // counts the judge cannot use yield no verdict
    // The looks that fired now never fire again in this step: what the
    // judge consumed is stored in this transaction (under the write lock,
    // so two reports never test one look twice).
    const bool judged = verdict->judged_requests != r->judged_requests || verdict->error_look > 0;
    r->judged_requests = verdict->judged_requests;
    if (verdict->error_look > 0) r->last_look = VerdictJson(*verdict);
    if (verdict->decision != JudgeDecision::kContinue) {
      Abort(tx, *r, kJudgeActor, "automatic: " + verdict->reason, VerdictJson(*verdict));
      changed = true;
      return Status::OK();
    }
    const bool due =
        r->auto_advance && r->step_every_ms > 0 && counts.updated_at_ms - r->step_started_ms >= r->step_every_ms;
    if (due) {
      changed = true;
      if (r->mode == RolloutMode::kCanary && !r->last_step()) Step(tx, *r, kJudgeActor);
      else MR_RETURN_IF_ERROR(Finish(tx, *r, kJudgeActor));
      return Status::OK();
    }
    if (judged) store::UpdateRollout(tx, *r);
    return Status::OK();
  }));
  if (changed) NotifyReleaseChanged();
  return Status::OK();
}

}  // namespace modelreg
