// Signed releases (docs/agent.md), long-polling, and agent state reports.
#include <chrono>
#include <nlohmann/json.hpp>

#include "auth/signing.h"
#include "core/manifest.h"
#include "core/stage.h"
#include "service/registry_service.h"
#include "service/release_internal.h"
#include "store/agent_store.h"
#include "store/model_store.h"

namespace modelreg {
namespace {

using nlohmann::json;

std::string ReleaseStatement(const Release& r, int64_t now_ms) {
  json statement = {{"_type", "https://in-toto.io/Statement/v1"},
                    {"subject", {{{"name", r.model}, {"digest", {{"sha256", r.digest.substr(7)}}}}}},
                    {"predicateType", "https://modelreg.dev/release/v1"},
                    {"predicate",
                     {{"model", r.model},
                      {"stage", r.stage},
                      {"version", r.version},
                      {"digest", r.digest},
                      {"seq", r.seq},
                      {"issued_at_ms", now_ms}}}};
  return statement.dump();
}

Status CheckStage(const std::string& stage) {
  auto parsed = ParseStage(stage);
  if (!parsed.ok() || !IsReleaseStage(*parsed))
    return Status::InvalidArgument("releases exist for stage production or staging, not '" + stage + "'");
  return Status::OK();
}

}  // namespace

const std::string& RegistryService::ReleaseKeyPem() const { return release_key_->public_pem(); }
const std::string& RegistryService::ReleaseKeyId() const { return release_key_->key_id(); }

void RegistryService::NotifyReleaseChanged() {
  {
    std::lock_guard<std::mutex> l(waiters_->mu);
    ++waiters_->generation;
  }
  waiters_->cv.notify_all();
}

Result<int64_t> RegistryService::GetReleaseSeq(const Principal& p, const std::string& model,
                                               const std::string& stage) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadRelease, model));
  MR_RETURN_IF_ERROR(CheckStage(stage));
  const std::string key = model + "\n" + stage;
  const int64_t now = NowMs();
  uint64_t gen;
  {
    std::lock_guard<std::mutex> l(waiters_->mu);
    gen = waiters_->generation;
  }
  {
    std::lock_guard<std::mutex> l(envelopes_->mu);
    auto it = envelopes_->seqs.find(key);
    if (it != envelopes_->seqs.end() && it->second.generation == gen &&
        now - it->second.at_ms < EnvelopeCache::kFreshMs)
      return it->second.seq;
  }
  int64_t seq = 0;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    seq = store::ReleaseSeq(tx, model, stage);
    return Status::OK();
  }));
  std::lock_guard<std::mutex> l(envelopes_->mu);
  envelopes_->seqs[key] = EnvelopeCache::Seq{seq, gen, now};
  return seq;
}

Result<Release> RegistryService::GetRelease(const Principal& p, const std::string& model, const std::string& stage) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReadRelease, model));
  MR_RETURN_IF_ERROR(CheckStage(stage));
  Release r{model, stage, 0, "", 0, ""};
  bool found = false;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    r.seq = store::ReleaseSeq(tx, model, stage);
    auto v = store::VersionInStage(tx, model, stage);
    if (v) {
      found = true;
      r.version = v->number;
      r.digest = v->digest;
    } else if (!store::FindModel(tx, model)) {  // a mistyped --model says so
      return Status::NotFound("model '" + model + "' not found");
    }
    return Status::OK();
  }));
  if (!found) return Status::NotFound("model '" + model + "' has no version in " + stage);
  const std::string key = model + "\n" + stage;
  {
    std::lock_guard<std::mutex> l(envelopes_->mu);
    auto it = envelopes_->by_key.find(key);
    if (it != envelopes_->by_key.end() && it->second.seq == r.seq && it->second.digest == r.digest) return it->second;
  }
  r.envelope = SignDsse(*release_key_, kInTotoPayloadType, ReleaseStatement(r, NowMs()));
  std::lock_guard<std::mutex> l(envelopes_->mu);
  envelopes_->by_key[key] = r;
  return r;
}

Result<int64_t> RegistryService::WaitRelease(const Principal& p, const std::string& model, const std::string& stage,
                                             int64_t known_seq, int64_t timeout_ms) {
  MR_ASSIGN_OR_RETURN(int64_t seq, GetReleaseSeq(p, model, stage));
  if (seq != known_seq || timeout_ms <= 0) return seq;
  // Bounded: each waiter holds a server worker thread.
  if (waiters_->waiting.fetch_add(1) >= options_.max_release_waiters) {
    waiters_->waiting.fetch_sub(1);
    return seq;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  Status st;
  for (;;) {
    uint64_t gen;
    {
      std::lock_guard<std::mutex> l(waiters_->mu);
      gen = waiters_->generation;
    }
    auto now_seq = GetReleaseSeq(p, model, stage);
    if (!now_seq.ok()) {
      st = now_seq.status();
      break;
    }
    seq = *now_seq;
    if (seq != known_seq) break;
    std::unique_lock<std::mutex> l(waiters_->mu);
    // Also wake every second: stage changes made by other processes (CLI
    // with --data) do not notify.
    auto wake = std::min(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(1));
    waiters_->cv.wait_until(l, wake, [&] { return waiters_->generation != gen || waiters_->stopping; });
    if (waiters_->stopping) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      l.unlock();
      auto last = GetReleaseSeq(p, model, stage);
      if (last.ok()) seq = *last;
      break;
    }
  }
  waiters_->waiting.fetch_sub(1);
  if (!st.ok()) return st;
  return seq;
}

void RegistryService::StopWaiting() {
  {
    std::lock_guard<std::mutex> l(waiters_->mu);
    waiters_->stopping = true;
  }
  waiters_->cv.notify_all();
}

Status RegistryService::ReportAgent(const Principal& p, AgentInfo report) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kReportAgent, report.model));
  if (report.id.empty() || report.id.size() > 128)
    return Status::InvalidArgument("agent id must be 1 to 128 characters");
  static const char* kStates[] = {"starting", "downloading", "serving", "failed", "offline", "idle"};
  bool known = false;
  for (const char* s : kStates) known = known || report.state == s;
  if (!known) return Status::InvalidArgument("unknown agent state '" + report.state + "'");
  report.token_name = p.name;
  return db_->Transact(TxMode::kWrite, [&](Tx& tx) {
    store::UpsertAgent(tx, report, NowMs());
    return Status::OK();
  });
}

Result<std::vector<AgentInfo>> RegistryService::ListAgents(const Principal& p, const std::string& model) const {
  if (model.empty()) MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels));
  else MR_RETURN_IF_ERROR(Authorize(p, Action::kReadModels, model));
  std::vector<AgentInfo> all;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    all = store::ListAgents(tx, model);
    return Status::OK();
  }));
  std::vector<AgentInfo> out;
  for (auto& a : all)
    if (p.CanSeeModel(a.model)) out.push_back(std::move(a));
  return out;
}

}  // namespace modelreg
