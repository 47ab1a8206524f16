// Signed releases (docs/agent.md), long-polling, and agent state reports.
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "auth/signing.h"
#include "core/manifest.h"
#include "core/stage.h"
#include "service/audit.h"
#include "service/event_internal.h"
#include "service/registry_service.h"
#include "service/release_internal.h"
#include "store/agent_store.h"
#include "store/model_store.h"
#include "store/rollout_store.h"

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
  if (r.rollout) {
    // docs/rollouts.md: what the agents split traffic by; counts restart
    // at every step.
    const RolloutRecord& o = *r.rollout;
    statement["predicate"]["rollout"] = {
        {"id", o.id},
        {"mode", RolloutModeName(o.mode)},
        {"step", o.step},
        {"weight_bp", o.mode == RolloutMode::kShadow ? 0 : o.WeightBp()},
        {"salt", o.salt},
        {"key_header", o.key_header},
        {"baseline", {{"version", o.baseline.version}, {"digest", o.baseline.digest}}},
        {"candidate", {{"version", o.candidate.version}, {"digest", o.candidate.digest}}}};
  }
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
  // A fleet of woken long polls asks at once for the release whose seq the
  // watch thread just read and signed: served from the cache, as fresh as
  // the 304 path's seq (GetReleaseSeq), without a transaction each.
  MR_ASSIGN_OR_RETURN(int64_t seq, GetReleaseSeq(p, model, stage));
  {
    std::lock_guard<std::mutex> l(envelopes_->mu);
    auto it = envelopes_->by_key.find(model + "\n" + stage);
    if (it != envelopes_->by_key.end() && it->second.seq == seq) return it->second;
  }
  return SignedRelease(model, stage);
}

Result<Release> RegistryService::SignedRelease(const std::string& model, const std::string& stage) {
  Release r{model, stage, 0, "", 0, std::nullopt, ""};
  bool found = false;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    r.seq = store::ReleaseSeq(tx, model, stage);
    auto v = store::VersionInStage(tx, model, stage);
    if (v) {
      found = true;
      r.version = v->number;
      r.digest = v->digest;
      if (stage == StageName(Stage::kProduction)) r.rollout = store::ActiveRollout(tx, model);
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

Result<uint64_t> RegistryService::WatchRelease(const Principal& p, const std::string& model, const std::string& stage,
                                               int64_t known_seq, std::function<void()> changed) {
  auto& w = *waiters_;
  uint64_t gen;
  {
    std::lock_guard<std::mutex> l(w.mu);
    if (w.stopping) return uint64_t{0};
    gen = w.generation;
  }
  MR_ASSIGN_OR_RETURN(int64_t seq, GetReleaseSeq(p, model, stage));
  if (seq != known_seq) return uint64_t{0};
  std::lock_guard<std::mutex> l(w.mu);
  if (w.stopping) return uint64_t{0};
  if (!w.thread.joinable()) w.thread = std::thread([this] { WatchReleases(); });
  const uint64_t id = ++w.next_id;
  w.watches.emplace(id, ReleaseWaiters::Watch{model, stage, known_seq, std::move(changed)});
  if (w.generation != gen) {  // a change came between the read above and now
    w.recheck = true;
    w.cv.notify_all();
  }
  return id;
}

void RegistryService::CancelReleaseWatch(uint64_t id) {
  std::function<void()> dropped;  // destroyed outside the lock
  std::lock_guard<std::mutex> l(waiters_->mu);
  auto it = waiters_->watches.find(id);
  if (it == waiters_->watches.end()) return;
  dropped = std::move(it->second.changed);
  waiters_->watches.erase(it);
}

// The watch thread (ReleaseWaiters). It reads seqs from the database, not
// through GetReleaseSeq's cache, which may be a second old.
void RegistryService::WatchReleases() {
  auto& w = *waiters_;
  std::unique_lock<std::mutex> l(w.mu);
  uint64_t seen = w.generation;
  while (!w.quit) {
    // Also every second: stage changes made by other processes (the CLI
    // with --data) are not notified.
    w.cv.wait_for(l, std::chrono::seconds(1), [&] { return w.quit || w.generation != seen || w.recheck; });
    if (w.quit) break;
    seen = w.generation;
    w.recheck = false;
    if (w.watches.empty()) continue;
    std::map<std::pair<std::string, std::string>, std::optional<int64_t>> seqs;
    for (const auto& [id, watch] : w.watches) seqs.emplace(std::make_pair(watch.model, watch.stage), std::nullopt);
    l.unlock();
    for (auto& entry : seqs) {  // (no structured binding: clang 14 cannot capture one)
      const auto& key = entry.first;
      int64_t now = 0;
      Status st = db_->Transact(TxMode::kRead, [&](Tx& tx) {
        now = store::ReleaseSeq(tx, key.first, key.second);
        return Status::OK();
      });
      if (st.ok()) entry.second = now;  // else: tried again at the next change or second
    }
    // Before the polls are woken: the new seqs for their 304 path, and the
    // new releases signed once (each woken poll then reads the cache).
    const int64_t read_at = NowMs();
    for (const auto& [key, seq] : seqs) {
      if (!seq) continue;
      bool signed_already = false;
      {
        std::lock_guard<std::mutex> e(envelopes_->mu);
        const std::string k = key.first + "\n" + key.second;
        envelopes_->seqs[k] = EnvelopeCache::Seq{*seq, seen, read_at};
        auto it = envelopes_->by_key.find(k);
        signed_already = it != envelopes_->by_key.end() && it->second.seq == *seq;
      }
      if (!signed_already) (void)SignedRelease(key.first, key.second);  // NotFound: the polls say so
    }
    std::vector<std::function<void()>> fire;
    l.lock();
    for (auto it = w.watches.begin(); it != w.watches.end();) {
      auto s = seqs.find(std::make_pair(it->second.model, it->second.stage));
      if (s != seqs.end() && s->second && *s->second != it->second.known_seq) {
        fire.push_back(std::move(it->second.changed));
        it = w.watches.erase(it);
      } else {
        ++it;
      }
    }
    l.unlock();
    for (auto& f : fire) f();
    fire.clear();
    l.lock();
  }
}

void RegistryService::StopWaiting() {
  std::map<uint64_t, ReleaseWaiters::Watch> all;
  {
    std::lock_guard<std::mutex> l(waiters_->mu);
    waiters_->stopping = true;
    all.swap(waiters_->watches);
  }
  waiters_->cv.notify_all();
  for (auto& [id, watch] : all) watch.changed();
  std::map<uint64_t, EventWaiters::Watch> events;
  {
    std::lock_guard<std::mutex> l(event_waiters_->mu);
    event_waiters_->stopping = true;
    events.swap(event_waiters_->watches);
  }
  event_waiters_->cv.notify_all();
  for (auto& [id, watch] : events) watch.changed();
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
    const int64_t now = NowMs();
    const auto before = store::UpsertAgent(tx, report, now).before;
    const bool was_failed = before && before->state == "failed";
    // A failure, and the return to serving after one, are events
    // (docs/events.md); repeated reports of the same state are not.
    const bool failed = report.state == "failed";
    if (failed != was_failed && (failed || report.state == "serving")) {
      nlohmann::json data = {{"agent", report.id},    {"host", report.host},     {"name", report.model},
                             {"stage", report.stage}, {"digest", report.digest}, {"actor", p.name}};
      if (report.version) data["version"] = std::to_string(*report.version);
      if (failed) data["error"] = report.last_error;
      service_internal::Emit(
          tx, EventRecord{0, now, failed ? "agent.failed" : "agent.recovered", report.model, report.version, p.name,
                          data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
    }
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
