// The event feed and webhooks (docs/events.md).
#include <atomic>

#include "api/handler.h"
#include "api/webhook_worker.h"
#include "core/clock.h"

namespace modelreg::api {
namespace {

using nlohmann::json;

json PageJson(const RegistryService::EventPage& page) {
  json events = json::array();
  for (const auto& e : page.events) events.push_back(json::parse(EventBody(e)));
  return {{"events", events}, {"next", page.next}};
}

json WebhookJson(const RegistryService::WebhookSummary& s) {
  const WebhookRecord& w = s.record;
  return {{"name", w.name},
          {"url", w.url},
          {"events", w.events},
          {"models", w.models},
          {"ca", s.has_ca},
          {"created_at", FormatIsoTime(w.created_at_ms)},
          {"created_by", w.created_by},
          {"pending", s.pending},
          {"delivered", s.delivered},
          {"failed", s.failed}};
}

json DeliveryJson(const DeliveryRecord& d) {
  json j = {{"event_id", d.event_id},     {"event_type", d.event_type},
            {"model", d.model},           {"state", d.state},
            {"attempts", d.attempts},     {"last_status", d.last_status},
            {"last_error", d.last_error}, {"last_elapsed_ms", d.last_elapsed_ms}};
  j["created_at"] = FormatIsoTime(d.created_at_ms);
  j["last_at"] = d.last_at_ms ? json(FormatIsoTime(d.last_at_ms)) : json(nullptr);
  j["next_at"] = d.state == "pending" ? json(FormatIsoTime(d.next_at_ms)) : json(nullptr);
  return j;
}

std::string StringField(const json& j, const char* k) {
  return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
}

}  // namespace

// GET /api/v1/events?after=ID&limit=N&wait=S. With `wait` and nothing new
// for the caller, the request is parked (no worker held) until an event
// is committed or the wait ends.
// `after=now`: from the newest event on (nothing listed; `next` says where
// that is), for a follower that wants only what comes next.
Status HandleEvents(Ctx& c) {
  const bool from_now = c.req.has_param("after") && c.req.get_param_value("after") == "now";
  MR_ASSIGN_OR_RETURN(int64_t after, from_now ? Result<int64_t>(0) : IntParam(c, "after", 0, INT64_MAX, 0));
  MR_ASSIGN_OR_RETURN(int64_t limit, IntParam(c, "limit", 1, 1000, 100));
  MR_ASSIGN_OR_RETURN(int64_t wait_s, IntParam(c, "wait", 0, 300, 0));
  if (from_now) { MR_ASSIGN_OR_RETURN(after, c.svc.LatestEventId(c.principal)); }
  MR_ASSIGN_OR_RETURN(auto page, c.svc.Events(c.principal, after, limit));
  if (page.events.empty() && wait_s > 0 && c.park) {
    RegistryService* svc = &c.svc;
    const Principal p = c.principal;
    const int64_t from = page.next;
    auto watch = std::make_shared<std::atomic<uint64_t>>(0);
    auto parked = c.park(
        std::chrono::steady_clock::now() + std::chrono::seconds(wait_s),
        [=](Response& res) -> Status {
          svc->CancelEventWatch(*watch);
          MR_ASSIGN_OR_RETURN(auto later, svc->Events(p, from, limit));
          res.status = 200;
          res.set_content(PageJson(later).dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
          return Status::OK();
        },
        [svc, watch] { svc->CancelEventWatch(*watch); });
    if (parked) {
      auto id = svc->WatchEvents(p, from, [parked] { parked->Wake(); });
      if (id.ok() && *id != 0) *watch = *id;
      else parked->Wake();
      return Status::OK();
    }
  }
  SendJson(c, 200, PageJson(page));
  return Status::OK();
}

Status HandleCreateWebhook(Ctx& c) {
  MR_ASSIGN_OR_RETURN(json j, ReadJsonBody(c));
  if (!j.is_object())
    return Status::InvalidArgument("want {\"name\", \"url\", \"events\", \"models\", \"secret\", \"ca\"}");
  RegistryService::WebhookSpec spec;
  spec.name = StringField(j, "name");
  spec.url = StringField(j, "url");
  if (j.contains("events") && j["events"].is_array()) {
    for (const auto& e : j["events"])
      if (e.is_string()) spec.events += (spec.events.empty() ? "" : ",") + e.get<std::string>();
  } else {
    spec.events = StringField(j, "events");
  }
  spec.models = StringField(j, "models");
  spec.secret = StringField(j, "secret");
  spec.ca_pem = StringField(j, "ca");
  if (spec.name.empty() || spec.url.empty() || spec.events.empty())
    return Status::InvalidArgument("a webhook needs name, url and events");
  // The URL's form and where its host points, before anything is stored.
  static const WebhookOptions kDefaults;
  MR_RETURN_IF_ERROR(CheckWebhookUrl(spec.url, spec.ca_pem, c.webhooks ? *c.webhooks : kDefaults));
  MR_ASSIGN_OR_RETURN(auto created, c.svc.CreateWebhook(c.principal, spec));
  RegistryService::WebhookSummary s{created.record, !created.record.ca_pem.empty(), 0, 0, 0};
  json out = WebhookJson(s);
  out["secret"] = created.record.secret;  // shown once
  SendJson(c, 201, out);
  return Status::OK();
}

Status HandleListWebhooks(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto list, c.svc.ListWebhooks(c.principal));
  json arr = json::array();
  for (const auto& s : list) arr.push_back(WebhookJson(s));
  SendJson(c, 200, {{"webhooks", arr}});
  return Status::OK();
}

Status HandleDeleteWebhook(Ctx& c) {
  MR_RETURN_IF_ERROR(c.svc.DeleteWebhook(c.principal, c.Arg(1)));
  c.res.status = 204;
  return Status::OK();
}

// Sends a "webhook.test" event now and answers what the receiver said
// (200 whatever it said: the request itself worked).
Status HandleTestWebhook(Ctx& c) {
  MR_ASSIGN_OR_RETURN(auto test, c.svc.WebhookTest(c.principal, c.Arg(1)));
  static const WebhookOptions kDefaults;
  const WebhookOptions& o = c.webhooks ? *c.webhooks : kDefaults;
  const WebhookAttempt a = SendWebhook(test.first, test.second, o);
  SendJson(c, 200,
           {{"delivered", a.error.empty()},
            {"status", a.status},
            {"error", a.error},
            {"elapsed_ms", a.elapsed_ms},
            {"body", a.body_excerpt}});
  return Status::OK();
}

Status HandleWebhookDeliveries(Ctx& c) {
  MR_ASSIGN_OR_RETURN(int64_t limit, IntParam(c, "limit", 1, 10000, 50));
  MR_ASSIGN_OR_RETURN(auto list, c.svc.WebhookDeliveries(c.principal, c.Arg(1), limit));
  json arr = json::array();
  for (const auto& d : list) arr.push_back(DeliveryJson(d));
  SendJson(c, 200, {{"deliveries", arr}});
  return Status::OK();
}

}  // namespace modelreg::api
