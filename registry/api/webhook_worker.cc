#include "api/webhook_worker.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "api/metrics.h"
#include "core/clock.h"
#include "core/webhook_signature.h"
#include "net/address_class.h"
#include "net/webhook_post.h"

namespace modelreg::api {
namespace {

// A job's lease: it stops starting attempts when less than one attempt's
// timeout of it is left, and hands the rest back.
constexpr std::chrono::milliseconds kLease{60000};
constexpr int64_t kPerJob = 100;

}  // namespace

WebhookAttempt SendWebhook(const WebhookRecord& hook, const EventRecord& e, const WebhookOptions& options) {
  const std::string body = EventBody(e);
  WebhookAttempt out;
  out.at_ms = NowMs();
  net::WebhookTarget target{hook.url, hook.ca_pem, options.allow_private, options.timeout};
  auto headers = WebhookHeaders(hook.secret, e.id, out.at_ms / 1000, body);
  headers.emplace_back("X-Modelreg-Event", e.type);
  net::WebhookAnswer a = net::PostWebhook(target, body, headers);
  out.status = a.status;
  out.error = a.error;
  out.body_excerpt = a.body_excerpt;
  out.elapsed_ms = static_cast<int64_t>(a.elapsed_ms + 0.5);
  out.retryable = a.retryable;
  return out;
}

Status CheckWebhookUrl(const std::string& url, const std::string& ca_pem, const WebhookOptions& options) {
  MR_ASSIGN_OR_RETURN(net::WebhookUrl u, net::ParseWebhookUrl(url));
  if (!ca_pem.empty()) MR_RETURN_IF_ERROR(net::CheckWebhookCa(ca_pem));
  auto resolved = net::ResolveWebhookHost(u.host, u.port, options.allow_private);
  if (!resolved.ok()) return resolved.status();
  return Status::OK();
}

struct WebhookWorker::Impl {
  RegistryService* svc;
  WebhookOptions opts;
  std::mutex mu;
  std::condition_variable cv;  // a sender freed, a job queued, or stop
  std::deque<RegistryService::WebhookJob> queue;
  int busy = 0;        // jobs queued or running
  bool woken = false;  // an event committed or a job ended since the last claim
  bool stop = false;
  std::thread main;
  std::vector<std::thread> senders;

  // Claims due jobs while a sender is free; otherwise waits until an event
  // is committed, a job ends (its queue's next events may be due then),
  // the worker stops, or half a second passes (retries coming due).
  void Run() {
    const uint64_t sub = svc->SubscribeEvents([this] {
      std::lock_guard<std::mutex> l(mu);
      woken = true;
      cv.notify_all();
    });
    while (true) {
      int free = 0;
      {
        std::unique_lock<std::mutex> l(mu);
        cv.wait(l, [&] { return stop || busy < opts.senders; });
        if (stop) break;
        free = opts.senders - busy;
        woken = false;  // what happened before this claim, the claim sees
      }
      auto jobs = svc->ClaimWebhookJobs(kLease.count(), kPerJob, free);
      std::unique_lock<std::mutex> l(mu);
      if (jobs.ok() && !jobs->empty()) {
        for (auto& j : *jobs) queue.push_back(std::move(j));
        busy += static_cast<int>(jobs->size());
        cv.notify_all();
        continue;
      }
      cv.wait_for(l, std::chrono::milliseconds(500), [&] { return stop || woken; });
      if (stop) break;
    }
    svc->UnsubscribeEvents(sub);
  }

  void Send() {
    while (true) {
      RegistryService::WebhookJob job;
      {
        std::unique_lock<std::mutex> l(mu);
        cv.wait(l, [&] { return stop || !queue.empty(); });
        if (queue.empty()) return;  // stop
        job = std::move(queue.front());
        queue.pop_front();
      }
      Deliver(job);
      {
        std::lock_guard<std::mutex> l(mu);
        --busy;
        woken = true;
      }
      cv.notify_all();
    }
  }

  void Deliver(const RegistryService::WebhookJob& job) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<RegistryService::DeliveryOutcome> outcomes;
    bool halted = false;
    for (size_t i = 0; i < job.deliveries.size(); ++i) {
      const auto& d = job.deliveries[i];
      RegistryService::DeliveryOutcome o;
      o.webhook_id = d.webhook_id;
      o.event_id = d.event_id;
      bool stopping;
      {
        std::lock_guard<std::mutex> l(mu);
        stopping = stop;
      }
      const bool lease_left = std::chrono::steady_clock::now() - start + opts.timeout < kLease;
      if (halted || stopping || !lease_left) {
        outcomes.push_back(o);  // handed back untried
        continue;
      }
      WebhookAttempt a = SendWebhook(job.hook, job.events[i], opts);
      RecordWebhookAttempt(a.error.empty(), a.retryable, static_cast<double>(a.elapsed_ms) / 1000);
      o.attempted = true;
      o.delivered = a.error.empty();
      o.retryable = a.retryable;
      o.status = a.status;
      o.error = a.error;
      o.at_ms = a.at_ms;
      o.elapsed_ms = a.elapsed_ms;
      outcomes.push_back(o);
      // A retryable failure holds back the model's later events (order
      // per model); one that cannot be retried fails alone.
      if (!o.delivered && o.retryable) halted = true;
    }
    // If this fails (the database is away), the leases run out and the
    // deliveries are sent again: at least once.
    (void)svc->FinishWebhookJobs(outcomes);
  }
};

WebhookWorker::WebhookWorker(RegistryService* svc, WebhookOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->svc = svc;
  impl_->opts = options;
  impl_->opts.senders = std::clamp(options.senders, 1, 64);
  for (int i = 0; i < impl_->opts.senders; ++i) impl_->senders.emplace_back([this] { impl_->Send(); });
  impl_->main = std::thread([this] { impl_->Run(); });
}

WebhookWorker::~WebhookWorker() {
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  impl_->main.join();
  // Jobs still queued are handed back by their senders.
  for (auto& t : impl_->senders) t.join();
}

}  // namespace modelreg::api
