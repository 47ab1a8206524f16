#include "agent.h"

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "core/blob_splitter.h"
#include "core/clock.h"
#include "hooks.h"

namespace modelreg::agent {
using nlohmann::json;

Agent::Agent(Options o, LocalStore store, std::unique_ptr<RegistryLink> link)
    : o_(std::move(o)), store_(std::move(store)), link_(std::move(link)) {}

void Agent::Log(const std::string& level, const std::string& msg, const std::string& extra_json) {
  json j = {{"ts", FormatIsoTime(NowMs())}, {"level", level}, {"agent", o_.id}, {"model", o_.model}, {"msg", msg}};
  if (!extra_json.empty()) j.update(json::parse(extra_json, nullptr, false));
  std::cerr << j.dump(-1, ' ', false, json::error_handler_t::replace) << std::endl;
}

void Agent::AddLiveCounts(Report* r) const {
  // Fresh at every report, the heartbeat's repeats too (docs/agent.md).
  if (proxy_) r->rollout_json = proxy_->RolloutReportJson();
  if (!spool_) return;
  r->spool_pending_bytes = spool_->pending_bytes();
  r->spool_max_bytes = spool_->max_bytes();
  r->decisions_dropped = spool_->dropped();
}

void Agent::ReportNow(const std::string& state, const std::string& error) {
  Report r;
  r.state = state;
  r.digest = current_ ? current_->digest : "";
  r.version = current_ ? current_->version : 0;
  r.last_error = error;
  AddLiveCounts(&r);
  std::lock_guard<std::mutex> l(report_mu_);
  last_report_ = r;
  last_report_at_ = std::chrono::steady_clock::now();
  Status st = link_->SendReport(r);
  if (!st.ok()) Log("warn", "could not report state", json{{"error", st.message()}}.dump());
}

void Agent::StartHeartbeat() {
  heartbeat_ = std::thread([this] {
    const auto interval = std::chrono::duration<double>(o_.interval_s);
    const auto due_after = std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval * 1.5);
    const auto check_every = std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval / 2);
    std::unique_lock<std::mutex> l(report_mu_);
    while (!heartbeat_stop_) {
      heartbeat_cv_.wait_for(l, check_every, [&] { return heartbeat_stop_; });
      if (heartbeat_stop_ || !last_report_) continue;
      if (std::chrono::steady_clock::now() - last_report_at_ < due_after) continue;
      Report r = *last_report_;
      AddLiveCounts(&r);
      last_report_at_ = std::chrono::steady_clock::now();
      Status st = link_->SendReport(r);  // a failure is retried at the next check
      if (!st.ok()) last_report_at_ -= due_after;
    }
  });
}

void Agent::StopHeartbeat() {
  {
    std::lock_guard<std::mutex> l(report_mu_);
    heartbeat_stop_ = true;
  }
  heartbeat_cv_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
}

std::map<std::string, std::string> Agent::HookEnv(const CurrentVersion& v) const {
  return {{"MODEL_DIR", v.dir},
          {"MODEL_VERSION", std::to_string(v.version)},
          {"MODEL_DIGEST", v.digest},
          {"MODEL_NAME", o_.model}};
}

Status Agent::Fetch(const std::string& digest, int64_t version) {
  MR_ASSIGN_OR_RETURN(Manifest m, link_->FetchManifest(digest));
  const uint64_t missing = store_.MissingBytes(m);
  const uint64_t margin = 64ull << 20;
  if (store_.FreeBytes() < missing + margin)
    return Status::ResourceExhausted("not enough disk space for version " + std::to_string(version) + ": need " +
                                     std::to_string(missing) + " bytes + margin, have " +
                                     std::to_string(store_.FreeBytes()));
  // What the cache lacks: small blobs in batches of one request each
  // (RegistryLink::FetchBlobs), large ones one by one, resumable.
  std::set<std::string> seen;
  std::vector<Descriptor> small, large;
  for (const auto& l : m.layers) {
    if (store_.HasBlob(l.digest) || !seen.insert(l.digest.str()).second) continue;
    (l.size <= kFetchBlobMax ? small : large).push_back(l);
  }
  auto count = [&](uint64_t got) {  // what was transferred, even by a failed download
    state_.bytes_downloaded += got;
    (void)store_.SaveState(state_);
  };
  auto download = [&](const Descriptor& l) {
    uint64_t got = 0;
    Status st = link_->DownloadBlob(store_, l, &got);
    count(got);
    return st;
  };
  MR_RETURN_IF_ERROR(FetchInBatches(
      small,
      [&](const std::vector<Descriptor>& batch) {
        uint64_t got = 0;
        auto fetched = link_->FetchBlobs(store_, batch, &got);
        count(got);
        return fetched;
      },
      download));
  for (const auto& l : large) MR_RETURN_IF_ERROR(download(l));
  return store_.Materialize(digest, version, m);
}

Status Agent::Apply(const SignedRelease& rel) {
  Log("info", "applying release", json{{"version", rel.version}, {"digest", rel.digest}, {"seq", rel.seq}}.dump());
  ReportNow("downloading", "");
  MR_RETURN_IF_ERROR(Fetch(rel.digest, rel.version));
  auto previous = current_;
  MR_RETURN_IF_ERROR(store_.Swap(rel.digest));
  current_ = store_.Current();
  Log("info", "swapped", json{{"version", rel.version}, {"digest", rel.digest}}.dump());
  Status hook = o_.on_swap.empty() ? Status::OK() : RunShell(o_.on_swap, HookEnv(*current_), o_.health_timeout_s);
  Status health;
  if (!hook.ok()) health = hook;
  else if (proxy_) health = proxy_->SwapTo(*current_);  // blue/green: old keeps serving on failure
  else health = CheckHealth(o_.health, HookEnv(*current_), o_.health_timeout_s);
  if (!health.ok()) {
    // Back to what worked, and do not retry this digest until the release changes.
    if (previous) {
      (void)store_.Swap(previous->digest);
      current_ = store_.Current();
      if (!o_.on_swap.empty()) (void)RunShell(o_.on_swap, HookEnv(*current_), o_.health_timeout_s);
    } else {
      store_.ClearCurrent();  // nothing verified-and-healthy to serve
      current_.reset();
    }
    Refuse(rel, "failed after swap, swapped back: " + health.message());
    return Status::OK();
  }
  MR_RETURN_IF_ERROR(Served(rel));
  store_.CollectGarbage(o_.keep);
  return Status::OK();
}

Status Agent::Served(const SignedRelease& rel) {
  state_.seq = rel.seq;
  state_.failed_digest.clear();
  state_.failed_seq = 0;
  MR_RETURN_IF_ERROR(store_.SaveState(state_));
  last_error_.clear();
  ReportNow("serving", "");
  return Status::OK();
}

Status Agent::ApplyRollout(const SignedRelease& rel) {
  const RolloutSpec& r = *rel.rollout;
  // The baseline first: the release's own version (served already, as a rule).
  if (!current_ || current_->digest != rel.digest) {
    MR_RETURN_IF_ERROR(Apply(rel));
    if (!current_ || current_->digest != rel.digest) return Status::OK();  // refused, reported
  }
  const bool new_candidate = !proxy_->rollout_active() || rollout_candidate_ != r.candidate_digest;
  if (new_candidate) {
    Log("info", "rollout: fetching the candidate",
        json{{"rollout_id", r.id},
             {"mode", RolloutModeName(r.mode)},
             {"version", r.candidate_version},
             {"digest", r.candidate_digest}}
            .dump());
    ReportNow("downloading", "");
  }
  // Verified and materialized like any version, but not `current`: the
  // baseline stays current on disk.
  MR_RETURN_IF_ERROR(Fetch(r.candidate_digest, r.candidate_version));
  const CurrentVersion cand{r.candidate_digest, r.candidate_version, store_.VersionDir(r.candidate_digest)};
  if (Status st = proxy_->SetRollout(cand, r); !st.ok()) {
    // Not retried until the release changes; the baseline serves alone.
    rollout_candidate_.clear();
    state_.failed_digest = rel.digest;
    state_.failed_seq = rel.seq;
    state_.seq = rel.seq;
    (void)store_.SaveState(state_);
    last_error_ = "rollout " + std::to_string(r.id) + ": candidate version " + std::to_string(r.candidate_version) +
                  " not served (the baseline serves alone): " + st.message();
    Log("error", last_error_);
    ReportNow("failed", last_error_);
    return Status::OK();
  }
  rollout_candidate_ = r.candidate_digest;
  Log("info", "rollout served",
      json{{"rollout_id", r.id},
           {"mode", RolloutModeName(r.mode)},
           {"step", r.step},
           {"weight_bp", r.weight_bp},
           {"baseline", r.baseline_version},
           {"candidate", r.candidate_version}}
          .dump());
  return Served(rel);
}

Status Agent::ReconcileOnce() {
  idle_wait_s_ = 0;
  // Proxy mode asks for the whole release once after a start: a rollout
  // in it is served again (a 304 would say nothing of it).
  const int64_t known = current_ && state_.seq > 0 && !(proxy_ && first_poll_) ? state_.seq : -1;
  const auto poll_start = std::chrono::steady_clock::now();
  auto polled = link_->PollRelease(known, o_.interval_s);
  if (!polled.ok()) return OnPollFailed(polled.status());
  nothing_released_.clear();
  first_poll_ = false;
  if (!polled->has_value()) {  // 304: unchanged; this doubles as heartbeat
    OnUnchanged(known, std::chrono::duration<double>(std::chrono::steady_clock::now() - poll_start).count());
    return Status::OK();
  }
  const SignedRelease& rel = **polled;
  if (rel.seq < state_.seq) {
    idle_wait_s_ = o_.interval_s;
    last_error_ =
        "refused a replayed release: seq " + std::to_string(rel.seq) + " is older than " + std::to_string(state_.seq);
    Log("error", last_error_);
    ReportNow("failed", last_error_);
    return Status::OK();
  }
  if (rel.rollout && proxy_) {
    if (rel.digest == state_.failed_digest && rel.seq == state_.failed_seq) {
      idle_wait_s_ = o_.interval_s;
      ReportNow("failed", last_error_);
      return Status::OK();
    }
    Status st = ApplyRollout(rel);
    return st.ok() ? st : OnApplyFailed(rel, st);
  }
  if (rel.rollout && rel.rollout->id != files_mode_rollout_) {
    // Files mode cannot split traffic: the baseline (the release's
    // version) is served; said once per rollout.
    files_mode_rollout_ = rel.rollout->id;
    Log("warn", "rollout " + std::to_string(rel.rollout->id) +
                    " needs proxy mode (--exec, --listen) to split traffic; serving the baseline only");
  }
  if (proxy_ && proxy_->rollout_active() && current_ && rel.digest == current_->digest) {
    proxy_->EndRollout();  // aborted: the baseline alone, in-flight requests answered first
    rollout_candidate_.clear();
    Log("info", "rollout ended; the baseline serves alone", json{{"version", current_->version}}.dump());
  }
  if (current_ && rel.digest == current_->digest) {
    state_.seq = rel.seq;
    last_error_.clear();
    (void)store_.SaveState(state_);
    ReportNow("serving", "");
    return Status::OK();
  }
  if (rel.digest == state_.failed_digest && rel.seq == state_.failed_seq) {
    idle_wait_s_ = o_.interval_s;
    ReportNow("failed", last_error_);
    return Status::OK();
  }
  Status st = Apply(rel);  // also a finished rollout: its candidate becomes the only arm without a restart
  if (proxy_ && !proxy_->rollout_active()) rollout_candidate_.clear();
  return st.ok() ? st : OnApplyFailed(rel, st);
}

Status Agent::OnPollFailed(const Status& st) {
  if (st.code() == StatusCode::kUnavailable) return st;
  idle_wait_s_ = o_.interval_s;
  if (st.code() == StatusCode::kNotFound) {
    if (st.message() != nothing_released_)
      Log(current_ ? "info" : "warn",
          current_ ? "no release to follow; serving the current version" : "no release to follow; nothing to serve yet",
          json{{"stage", o_.stage}, {"registry_says", st.message()}}.dump());
    nothing_released_ = st.message();
    ReportNow(current_ ? "serving" : "idle", "");
    return Status::OK();
  }
  // A release that does not verify changes nothing, loudly.
  last_error_ = st.message();
  Log("error", "release refused", json{{"error", last_error_}}.dump());
  ReportNow("failed", last_error_);
  return Status::OK();
}

void Agent::OnUnchanged(int64_t known, double poll_took_s) {
  // Answered well before the wait asked for: do not poll again at once.
  if (known >= 0 && poll_took_s < o_.interval_s / 2) idle_wait_s_ = o_.interval_s - poll_took_s;
  if (spool_ && last_error_.empty()) {
    // The spool's fill level is part of the agent's reported state.
    const uint64_t pending = spool_->pending_bytes();
    if (spool_->dropped() > 0)
      last_error_ = "decision spool full: " + std::to_string(spool_->dropped()) + " decisions not recorded";
    else if (pending * 10 >= spool_->max_bytes() * 8)
      Log("warn", "decision spool near its bound",
          json{{"pending_bytes", pending}, {"max_bytes", spool_->max_bytes()}}.dump());
  }
  ReportNow(current_ ? (last_error_.empty() ? "serving" : "failed") : "idle", last_error_);
}

Status Agent::OnApplyFailed(const SignedRelease& rel, const Status& st) {
  if (st.code() == StatusCode::kUnavailable) return st;
  // Whatever an interrupted request failed with says nothing of the release.
  if (link_->interrupted()) return Status::Unavailable("stopping: " + st.message());
  if (st.code() == StatusCode::kDataLoss) {
    // The registry's copy of a blob is damaged: not this release's fault,
    // and an operator can repair it (admin fsck --repair, then register the
    // bundle again) without a new release. Keep serving, say so, retry.
    last_error_ = "version " + std::to_string(rel.version) + " not applied: " + st.message();
    ReportNow("failed", last_error_);
    return st;
  }
  if (st.code() == StatusCode::kResourceExhausted || st.code() == StatusCode::kFailedPrecondition) {
    // The agent's own disk failed or is full (AgentDiskFailure): not the
    // release's fault. Keep serving, say so, and try again each interval
    // (what was downloaded is kept), so that freeing space or fixing the
    // disk is enough.
    last_error_ = "version " + std::to_string(rel.version) + " not applied: " + st.message();
    Log("error", last_error_, json{{"retry_in_s", o_.interval_s}}.dump());
    ReportNow("failed", last_error_);
    idle_wait_s_ = o_.interval_s;
    return Status::OK();
  }
  // The release's own failures (a manifest that does not parse, blobs the
  // registry lacks): keep serving; wait for the next release.
  Refuse(rel, "refused: " + st.message());
  idle_wait_s_ = o_.interval_s;
  return Status::OK();
}

void Agent::Refuse(const SignedRelease& rel, const std::string& why) {
  // Not retried until the release changes (a new seq).
  state_.failed_digest = rel.digest;
  state_.failed_seq = rel.seq;
  state_.seq = rel.seq;
  (void)store_.SaveState(state_);
  last_error_ = "version " + std::to_string(rel.version) + " " + why;
  Log("error", last_error_);
  ReportNow("failed", last_error_);
}

int Agent::Run(const std::atomic<bool>& stop) {
  StartHeartbeat();
  struct StopAtExit {
    Agent* a;
    ~StopAtExit() { a->StopHeartbeat(); }
  } stop_heartbeat{this};
  auto loaded = store_.LoadState();
  if (loaded.ok()) state_ = *loaded;
  current_ = store_.Current();
  if (!o_.exec.empty()) {
    proxy_ = std::make_unique<Proxy>(o_);
    if (o_.monitoring) {
      monitoring_ =
          std::make_unique<Monitoring>(static_cast<int64_t>(o_.drift_window_s * 1000 + 0.5), ProcessRunId(),
                                       [this](const std::string& level, const std::string& m) { Log(level, m); });
      proxy_->set_monitoring(monitoring_.get());
      link_->set_monitoring(monitoring_.get());
    }
    if (o_.record_decisions) {
      spool_ = std::make_unique<DecisionSpool>(o_.root + "/spool", o_.spool_max_bytes,
                                               [this](const std::string& arr) { return link_->SendDecisions(arr); });
      if (Status st = spool_->Open(); !st.ok()) {
        Log("error", "decision spool: " + st.message());
        return 1;
      }
      proxy_->set_spool(spool_.get());
    }
    proxy_->set_on_event([this](const std::string& e) { Log("warn", e); });
    Status st = proxy_->Start();
    if (!st.ok()) {
      Log("error", "proxy: " + st.message());
      return 1;
    }
  }
  if (current_) {
    Log("info", "serving the last verified version from disk",
        json{{"version", current_->version}, {"digest", current_->digest}}.dump());
    // The model server may have restarted with us: tell it what to load.
    if (!o_.on_swap.empty()) (void)RunShell(o_.on_swap, HookEnv(*current_), o_.health_timeout_s);
    if (proxy_) {
      Status st = proxy_->SwapTo(*current_);
      if (!st.ok()) Log("error", "model server did not start", json{{"error", st.message()}}.dump());
    }
  }
  // SIGTERM only sets `stop`: end the poll or download in progress with it.
  std::atomic<bool> finished{false};
  std::thread interrupter([&] {
    while (!stop && !finished) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (stop) link_->Interrupt();
  });
  struct JoinAtExit {
    std::atomic<bool>& finished;
    std::thread& t;
    ~JoinAtExit() {
      finished = true;
      t.join();
    }
  } join_interrupter{finished, interrupter};
  std::mt19937 rng{std::random_device{}()};
  double backoff = 0.5;
  while (!stop) {
    Status st = ReconcileOnce();
    if (stop) break;  // an interrupted request is not an outage
    if (st.code() == StatusCode::kUnavailable || st.code() == StatusCode::kDataLoss) {
      if (st.code() == StatusCode::kDataLoss)
        Log("error", "the registry's copy is damaged; keeping the current version",
            json{{"error", st.message()}, {"retry_in_s", backoff}}.dump());
      else
        Log("warn", "registry unreachable; keeping the current version",
            json{{"error", st.message()}, {"retry_in_s", backoff}}.dump());
      if (o_.once) return current_ && st.code() == StatusCode::kUnavailable ? 0 : 1;
      std::uniform_real_distribution<double> jitter(0.5, 1.0);
      double sleep_s = backoff * jitter(rng);
      for (double t = 0; t < sleep_s && !stop; t += 0.05) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      backoff = std::min(backoff * 2, o_.max_backoff_s);
      continue;
    }
    backoff = 0.5;
    if (o_.once) return last_error_.empty() && current_ ? 0 : 1;  // 1 also with nothing to serve
    for (double t = 0; t < idle_wait_s_ && !stop; t += 0.05) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (proxy_) proxy_->Stop();
  if (spool_) spool_->Stop();
  // Say so rather than fall silent: the fleet view and `audit live` then
  // show it offline from now on (one try; a registry that is down is not
  // waited for beyond the report's connect timeout).
  StopHeartbeat();
  ReportNow("offline", "");
  Log("info", "stopped");
  return 0;
}

}  // namespace modelreg::agent
