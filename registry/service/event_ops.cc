// The event outbox (docs/events.md): appending events with their webhook
// deliveries, the feed, and waiting for new events.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "service/audit.h"
#include "service/channels.h"
#include "service/event_internal.h"
#include "service/registry_service.h"
#include "store/event_store.h"
#include "store/webhook_store.h"

namespace modelreg {

namespace service_internal {
// The webhooks are read in the event's own transaction, not cached: a
// replica learns of a webhook created on another one only after that
// commit (kEventsChannel, or the poll thread), so a cached list could miss
// it for events written in between and lose their deliveries. A cache
// checked inside the transaction (its MAX(id), COUNT(*)) would cost a query
// per event as well, and so would save only reading the few small rows
// below: only what matching needs is read (no secrets, no CA files).
void Emit(Tx& tx, EventRecord e) {
  if (e.at_ms == 0) e.at_ms = NowMs();
  store::AppendEvent(tx, &e);
  for (const WebhookRecord& w : store::ListWebhookFilters(tx))
    if (WebhookWants(w.events, w.models, e)) store::InsertDelivery(tx, w.id, e.id, e.model, NowMs());
  tx.Notify(kEventsChannel, std::to_string(e.id));
}
}  // namespace service_internal

namespace {

bool MaySee(const Principal& p, const EventRecord& e) {
  if (e.model.empty()) return !p.scoped() && RoleAllows(p.role, Action::kReadAudit);
  return RoleAllows(p.role, Action::kReadModels) && p.CanSeeModel(e.model);
}

}  // namespace

Result<RegistryService::EventPage> RegistryService::Events(const Principal& p, int64_t after, int64_t limit) const {
  if (!RoleAllows(p.role, Action::kReadModels) && !RoleAllows(p.role, Action::kReadAudit))
    return Authorize(p, Action::kReadModels);
  if (after < 0) return Status::InvalidArgument("after must be an event id >= 0");
  limit = std::clamp<int64_t>(limit, 1, 1000);
  EventPage page;
  page.next = after;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    // Events the caller may not see are skipped, a bounded number per call:
    // `next` then says how far the scan got.
    for (int rounds = 0; rounds < 10 && static_cast<int64_t>(page.events.size()) < limit; ++rounds) {
      auto batch = store::ListEvents(tx, page.next, 1000);
      for (auto& e : batch) {
        page.next = e.id;
        if (MaySee(p, e)) page.events.push_back(std::move(e));
        if (static_cast<int64_t>(page.events.size()) >= limit) break;
      }
      if (batch.size() < 1000) break;
    }
    return Status::OK();
  }));
  return page;
}

Result<int64_t> RegistryService::LatestEventId(const Principal& p) const {
  if (!RoleAllows(p.role, Action::kReadModels) && !RoleAllows(p.role, Action::kReadAudit))
    return Authorize(p, Action::kReadModels);
  int64_t last = 0;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    last = store::LastEventId(tx);
    return Status::OK();
  }));
  return last;
}

void RegistryService::EventsCommitted(int64_t id) {
  auto& w = *event_waiters_;
  std::vector<std::function<void()>> fire;
  {
    std::lock_guard<std::mutex> l(w.mu);
    if (id <= 0) {
      w.recheck = true;
    } else if (id > w.last_id) {
      w.last_id = id;
      for (auto& [sid, fn] : w.subscribers) fn();
      for (auto it = w.watches.begin(); it != w.watches.end();) {
        if (it->second.after < id) {
          fire.push_back(std::move(it->second.changed));
          it = w.watches.erase(it);
        } else {
          ++it;
        }
      }
    }
  }
  w.cv.notify_all();
  for (auto& f : fire) f();
}

// The poll thread (EventWaiters): the newest id once a second, or at once
// when asked (a reconnected LISTEN may have missed notifications).
void RegistryService::PollEvents() {
  auto& w = *event_waiters_;
  std::unique_lock<std::mutex> l(w.mu);
  while (!w.quit) {
    w.cv.wait_for(l, std::chrono::seconds(1), [&] { return w.quit || w.recheck; });
    if (w.quit) break;
    w.recheck = false;
    l.unlock();
    int64_t last = 0;
    Status st = db_->Transact(TxMode::kRead, [&](Tx& tx) {
      last = store::LastEventId(tx);
      return Status::OK();
    });
    if (st.ok()) EventsCommitted(last);
    l.lock();
  }
}

Result<uint64_t> RegistryService::WatchEvents(const Principal& p, int64_t after, std::function<void()> changed) {
  if (!RoleAllows(p.role, Action::kReadModels) && !RoleAllows(p.role, Action::kReadAudit))
    return Authorize(p, Action::kReadModels);
  auto& w = *event_waiters_;
  {
    std::lock_guard<std::mutex> l(w.mu);
    if (w.stopping) return uint64_t{0};
    if (!w.thread.joinable()) {
      w.recheck = true;
      w.thread = std::thread([this] { PollEvents(); });
    }
  }
  int64_t last = 0;
  MR_RETURN_IF_ERROR(db_->Transact(TxMode::kRead, [&](Tx& tx) {
    last = store::LastEventId(tx);
    return Status::OK();
  }));
  std::lock_guard<std::mutex> l(w.mu);
  if (w.stopping || last > after || w.last_id > after) return uint64_t{0};
  const uint64_t id = ++w.next_id;
  w.watches.emplace(id, EventWaiters::Watch{after, std::move(changed)});
  return id;
}

void RegistryService::CancelEventWatch(uint64_t id) {
  std::function<void()> dropped;  // destroyed outside the lock
  std::lock_guard<std::mutex> l(event_waiters_->mu);
  auto it = event_waiters_->watches.find(id);
  if (it == event_waiters_->watches.end()) return;
  dropped = std::move(it->second.changed);
  event_waiters_->watches.erase(it);
}

uint64_t RegistryService::SubscribeEvents(std::function<void()> fn) {
  auto& w = *event_waiters_;
  std::lock_guard<std::mutex> l(w.mu);
  if (!w.thread.joinable() && !w.quit) {
    w.recheck = true;
    w.thread = std::thread([this] { PollEvents(); });
  }
  const uint64_t id = ++w.next_id;
  w.subscribers.emplace(id, std::move(fn));
  return id;
}

void RegistryService::UnsubscribeEvents(uint64_t id) {
  std::lock_guard<std::mutex> l(event_waiters_->mu);  // not while it runs: subscribers run under mu
  event_waiters_->subscribers.erase(id);
}

}  // namespace modelreg
