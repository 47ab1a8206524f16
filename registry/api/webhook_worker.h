// The webhook delivery worker (docs/events.md "Delivery"): a thread of the
// server that claims due deliveries from the outbox
// (RegistryService::ClaimWebhookJobs), POSTs each signed event
// (net/webhook_post.h, core/webhook_signature.h) and records what came of
// it. Jobs run on a few sender threads, so one slow receiver does not hold
// up the others; within a job (one webhook, one model) events go in order
// and the first failure stops the job (the rest wait behind it).
//
// Woken by every committed event (RegistryService::SubscribeEvents) and
// every job that ends, and at least every half second for retries coming due. Every replica runs one;
// leases keep two from sending the same delivery at once, and a replica
// killed mid-job leaves its leases to expire (SQLite: released at start).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/events.h"
#include "service/registry_service.h"

namespace modelreg::api {

struct WebhookOptions {
  bool enabled = true;
  // Receivers on loopback, link-local or private addresses are refused
  // unless this is set (serve --webhooks-allow-private).
  bool allow_private = false;
  std::chrono::milliseconds timeout{10000};  // one attempt, whole
  int senders = 4;
};

// One attempt to deliver `e` (signed with the webhook's secret) now; its
// id is the delivery id (0 for a test delivery).
struct WebhookAttempt {
  int status = 0;
  std::string error;  // empty: delivered
  std::string body_excerpt;
  int64_t at_ms = 0, elapsed_ms = 0;
  bool retryable = true;
};
WebhookAttempt SendWebhook(const WebhookRecord& hook, const EventRecord& e, const WebhookOptions& options);

// Checks a webhook URL before it is stored: its form, and that its host
// resolves to addresses deliveries may use. InvalidArgument /
// PermissionDenied naming what is wrong.
Status CheckWebhookUrl(const std::string& url, const std::string& ca_pem, const WebhookOptions& options);

class WebhookWorker {
 public:
  WebhookWorker(RegistryService* svc, WebhookOptions options);
  // Stops: jobs in flight finish their current attempt (at most `timeout`).
  ~WebhookWorker();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace modelreg::api
