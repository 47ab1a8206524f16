// Webhooks (docs/events.md): managing them, and the delivery worker's
// claims and outcomes. The HTTP side of a delivery is api/webhook_worker.cc.
#include <openssl/rand.h>

#include <random>
#include <string>
#include <vector>

#include "auth/secret_box.h"
#include "core/file_util.h"
#include "core/utf8_text.h"
#include "service/audit.h"
#include "service/registry_service.h"
#include "store/event_store.h"
#include "store/webhook_store.h"

namespace modelreg {
namespace {

Status ValidateWebhookName(const std::string& name) {
  if (name.empty() || name.size() > 64) return Status::InvalidArgument("webhook name must be 1 to 64 characters");
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return Status::InvalidArgument("webhook name '" + name + "' has a character outside [A-Za-z0-9._-]");
  }
  return Status::OK();
}

// The URL's shape only. The full parse (net::ParseWebhookUrl) and the
// host's resolution are api's (CheckWebhookUrl, before it calls here): the
// service may not include net/ (docs/architecture.md, layers look only
// down), and passing the parsed URL down would put a net type into the
// service's interface. What stays here is what the service itself relies
// on when it stores the URL, whoever calls it: bounded, http(s), printable.
Status ValidateWebhookUrl(const std::string& url) {
  if (url.size() > 2048) return Status::InvalidArgument("webhook URL is longer than 2048 characters");
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    return Status::InvalidArgument("webhook URL must start with http:// or https://");
  for (unsigned char c : url)
    if (c <= ' ' || c >= 0x7f) return Status::InvalidArgument("webhook URL has a space, control or non-ASCII byte");
  return Status::OK();
}

Result<std::string> RandomSecret() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) return Status::Internal("no random bytes for a webhook secret");
  static const char* hex = "0123456789abcdef";
  std::string out = "whsec_";
  for (unsigned char b : raw) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

}  // namespace

Status RegistryService::OpenWebhookSecret(WebhookRecord* w) const {
  if (!IsSealedSecret(w->secret)) return Status::OK();  // stored before secrets were sealed
  MR_ASSIGN_OR_RETURN(w->secret, OpenSecret(webhook_key_, w->name, w->secret));
  return Status::OK();
}

Result<RegistryService::WebhookCreated> RegistryService::CreateWebhook(const Principal& p, WebhookSpec spec) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kManageWebhooks));
  MR_RETURN_IF_ERROR(ValidateWebhookName(spec.name));
  MR_RETURN_IF_ERROR(ValidateWebhookUrl(spec.url));
  MR_ASSIGN_OR_RETURN(std::string events, NormalizeEventList(spec.events));
  if (!spec.models.empty()) MR_RETURN_IF_ERROR(ValidateGlob(spec.models));
  if (spec.secret.empty()) { MR_ASSIGN_OR_RETURN(spec.secret, RandomSecret()); }
  if (spec.secret.size() < 16 || spec.secret.size() > 1024)
    return Status::InvalidArgument("a webhook secret must be 16 to 1024 bytes");
  if (!IsValidUtf8(spec.secret) || spec.secret.find_first_of("\r\n") != std::string::npos)
    return Status::InvalidArgument("a webhook secret must be one line of UTF-8 text");
  if (spec.ca_pem.size() > (1 << 20)) return Status::InvalidArgument("the webhook's CA file is over 1 MiB");
  if (!spec.ca_pem.empty() && spec.ca_pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    return Status::InvalidArgument("the webhook's CA file holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
  if (!spec.ca_pem.empty() && spec.url.rfind("https://", 0) != 0)
    return Status::InvalidArgument("a CA file is for an https:// URL");
  WebhookCreated out;
  out.record = WebhookRecord{0, spec.name, spec.url, events, spec.models, spec.secret, spec.ca_pem, NowMs(), p.name};
  // Stored sealed under a key derived from the release key; shown once.
  WebhookRecord stored = out.record;
  MR_ASSIGN_OR_RETURN(stored.secret, SealSecret(webhook_key_, spec.name, spec.secret));
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kWrite, [&](Tx& tx) {
    if (store::FindWebhook(tx, spec.name))
      return Status::AlreadyExists("a webhook named '" + spec.name + "' already exists");
    store::InsertWebhook(tx, &stored);
    out.record.id = stored.id;
    nlohmann::json d = {{"name", spec.name}, {"url", spec.url}, {"events", events}, {"models", spec.models}};
    service_internal::Audit(tx, p.name, "webhook.create", "", std::nullopt, d);
    return Status::OK();
  }));
  return out;
}

Result<std::vector<RegistryService::WebhookSummary>> RegistryService::ListWebhooks(const Principal& p) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kManageWebhooks));
  std::vector<WebhookSummary> out;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    for (WebhookRecord& w : store::ListWebhooks(tx)) {
      WebhookSummary s;
      s.has_ca = !w.ca_pem.empty();
      s.pending = store::CountDeliveries(tx, w.id, "pending");
      s.delivered = store::CountDeliveries(tx, w.id, "delivered");
      s.failed = store::CountDeliveries(tx, w.id, "failed");
      w.secret.clear();
      w.ca_pem.clear();
      s.record = std::move(w);
      out.push_back(std::move(s));
    }
    return Status::OK();
  }));
  return out;
}

Status RegistryService::DeleteWebhook(const Principal& p, const std::string& name) {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kManageWebhooks));
  return db_->Transact(TxMode::kWrite, [&](Tx& tx) {
    auto w = store::FindWebhook(tx, name);
    if (!w) return Status::NotFound("webhook '" + name + "' not found");
    store::DeleteWebhook(tx, w->id);
    service_internal::Audit(tx, p.name, "webhook.delete", "", std::nullopt, {{"name", name}});
    return Status::OK();
  });
}

Result<std::pair<WebhookRecord, EventRecord>> RegistryService::WebhookTest(const Principal& p,
                                                                           const std::string& name) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kManageWebhooks));
  std::optional<WebhookRecord> w;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    w = store::FindWebhook(tx, name);
    return Status::OK();
  }));
  if (!w) return Status::NotFound("webhook '" + name + "' not found");
  MR_RETURN_IF_ERROR(OpenWebhookSecret(&*w));
  EventRecord e;
  e.at_ms = NowMs();
  e.type = "webhook.test";
  e.actor = p.name;
  e.data = nlohmann::json{{"webhook", name}, {"message", "a test delivery from modelreg"}}.dump();
  return std::make_pair(*w, e);
}

Result<std::vector<DeliveryRecord>> RegistryService::WebhookDeliveries(const Principal& p, const std::string& name,
                                                                       int64_t limit) const {
  MR_RETURN_IF_ERROR(Authorize(p, Action::kManageWebhooks));
  std::vector<DeliveryRecord> out;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    auto w = store::FindWebhook(tx, name);
    if (!w) return Status::NotFound("webhook '" + name + "' not found");
    out = store::ListDeliveries(tx, w->id, std::clamp<int64_t>(limit, 1, 10000));
    return Status::OK();
  }));
  return out;
}

Result<std::vector<RegistryService::WebhookJob>> RegistryService::ClaimWebhookJobs(int64_t lease_ms, int64_t per_group,
                                                                                   int64_t max_groups) {
  std::vector<WebhookJob> out;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kWrite, [&](Tx& tx) {
    out.clear();
    const int64_t now = NowMs();
    std::map<int64_t, std::optional<WebhookRecord>> hooks;
    for (auto& group : store::DueDeliveryGroups(tx, now, per_group, max_groups)) {
      auto& hook = hooks[group.front().webhook_id];
      if (!hook) hook = store::FindWebhookById(tx, group.front().webhook_id);
      if (!hook) continue;
      if (Status st = OpenWebhookSecret(&*hook); !st.ok()) {
        // Nothing can be signed: the queue's head fails for good, saying why.
        DeliveryRecord d = group.front();
        d.state = "failed";
        d.attempts += 1;
        d.last_at_ms = now;
        d.last_error = st.message();
        store::UpdateDelivery(tx, d);
        continue;
      }
      WebhookJob job;
      job.hook = *hook;
      for (DeliveryRecord& d : group) {
        auto e = store::FindEvent(tx, d.event_id);
        if (!e) continue;
        store::LeaseDelivery(tx, d.webhook_id, d.event_id, now + lease_ms);
        job.events.push_back(std::move(*e));
        job.deliveries.push_back(std::move(d));
      }
      if (!job.deliveries.empty()) out.push_back(std::move(job));
    }
    return Status::OK();
  }));
  return out;
}

Status RegistryService::FinishWebhookJobs(const std::vector<DeliveryOutcome>& outcomes) {
  if (outcomes.empty()) return Status::OK();
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  return db_->Transact(TxMode::kWrite, [&](Tx& tx) {
    for (const DeliveryOutcome& o : outcomes) {
      if (!o.attempted) {
        // Untried: due again at once, nothing else changes.
        store::LeaseDelivery(tx, o.webhook_id, o.event_id, 0);
        continue;
      }
      // Read again: the webhook may have been deleted meanwhile.
      auto pending = store::FindPendingDelivery(tx, o.webhook_id, o.event_id);
      if (!pending) continue;
      DeliveryRecord d = *pending;
      d.attempts += 1;
      const int64_t created = d.created_at_ms;
      d.last_at_ms = o.at_ms;
      d.last_status = o.status;
      d.last_error = o.error.substr(0, 1000);
      d.last_elapsed_ms = o.elapsed_ms;
      if (o.delivered) {
        d.state = "delivered";
        d.next_at_ms = 0;
      } else {
        d.next_at_ms = o.at_ms + RetryDelayMs(d.attempts, unit(rng));
        d.state = (!o.retryable || d.next_at_ms - created > kDeliveryGiveUpMs) ? "failed" : "pending";
      }
      store::UpdateDelivery(tx, d);
    }
    return Status::OK();
  });
}

Status RegistryService::ReleaseWebhookLeases() {
  if (db_->dialect() != SqlDialect::kSqlite) return Status::OK();  // other replicas may hold leases
  return db_->Transact(TxMode::kWrite, [](Tx& tx) {
    store::ReleaseDeliveryLeases(tx);
    return Status::OK();
  });
}

}  // namespace modelreg
