// Events and webhooks (docs/events.md): the outbox written with each change,
// signed deliveries, order per model, retries while the receiver is down,
// restarts and kill -9 of the server, the event feed and its long poll,
// and what a webhook may not reach.
#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "api/api_util.h"
#include "core/webhook_signature.h"
#include "support/wait.h"

using namespace modelreg;
using namespace modelreg::testing;
using nlohmann::json;

namespace {

constexpr char kSecret[] = "test-secret-0123456789abcdef";

// A webhook receiver on 127.0.0.1: records every POST (headers and body),
// answers `status` (200 by default), or holds each request while `hold`.
class Receiver {
 public:
  struct Delivery {
    std::string id, timestamp, signature, event_type, body;
  };
  Receiver() : port_(FreePort()) { Start(); }
  ~Receiver() { Down(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }

  void Start() {
    server_ = std::make_unique<httplib::Server>();
    server_->Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::unique_lock<std::mutex> l(mu_);
        ++arrived_;
        cv_.notify_all();
        cv_.wait(l, [&] { return !hold_; });
        got_.push_back({req.get_header_value(kWebhookDeliveryIdHeader), req.get_header_value(kWebhookTimestampHeader),
                        req.get_header_value(kWebhookSignatureHeader), req.get_header_value("X-Modelreg-Event"),
                        req.body});
        cv_.notify_all();
      }
      res.status = status_.load();
      res.set_content("ok", "text/plain");
    });
    REQUIRE(server_->bind_to_port("127.0.0.1", port_));
    thread_ = std::thread([this] { server_->listen_after_bind(); });
    // Listening since bind_to_port (connections wait in the backlog); a
    // stop() before the accept loop runs would be lost, so wait for it.
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // Stops listening: deliveries then find nothing there.
  void Down() {
    if (!server_) return;
    Hold(false);
    server_->stop();
    thread_.join();
    server_.reset();
  }
  void Hold(bool on) {
    std::lock_guard<std::mutex> l(mu_);
    hold_ = on;
    cv_.notify_all();
  }
  void AnswerWith(int status) { status_ = status; }

  // Waits (up to 60 s: a loaded machine) until `n` deliveries were recorded.
  std::vector<Delivery> WaitFor(size_t n) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::chrono::seconds(60), [&] { return got_.size() >= n; });
    return got_;
  }
  // Waits until `n` requests arrived (recorded or held).
  void WaitArrived(size_t n) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::chrono::seconds(60), [&] { return arrived_ >= n; });
    REQUIRE(arrived_ >= n);
  }
  std::vector<Delivery> Got() {
    std::lock_guard<std::mutex> l(mu_);
    return got_;
  }

 private:
  int port_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Delivery> got_;
  size_t arrived_ = 0;
  bool hold_ = false;
  std::atomic<int> status_{200};
};

json CreateWebhook(Http& h, const std::string& name, const std::string& url, const std::string& events,
                   const std::string& models = "") {
  auto r =
      h.Post("/api/v1/webhooks",
             json{{"name", name}, {"url", url}, {"events", events}, {"models", models}, {"secret", kSecret}}.dump());
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 201);
  return json::parse(r->body);
}

void Register(const ServerProcess& s, const TempDir& t, const std::string& model, const std::string& content) {
  WriteFile(t / ("b-" + content + "/f.txt"), content);
  auto r = Modelreg({"register", model, t / ("b-" + content)}, s.Env(s.admin_token()));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

// Every delivery's signature verifies; returns the bodies parsed.
std::vector<json> Verified(const std::vector<Receiver::Delivery>& got) {
  std::vector<json> out;
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (const auto& d : got) {
    INFO(d.body);
    Status st = VerifyWebhook(kSecret, d.id, d.timestamp, d.signature, d.body, now);
    CHECK(st.ok());
    json j = json::parse(d.body);
    CHECK(std::to_string(j["id"].get<int64_t>()) == d.id);  // the delivery id is the event id
    CHECK(j["type"] == d.event_type);
    out.push_back(j);
  }
  return out;
}

// The ids delivered, de-duplicated (delivery is at least once), in arrival order.
std::vector<int64_t> Ids(const std::vector<json>& bodies) {
  std::vector<int64_t> out;
  for (const auto& b : bodies) {
    int64_t id = b["id"].get<int64_t>();
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

// Waits until `n` distinct events were delivered (retries may repeat one).
std::vector<json> WaitForDistinct(Receiver& rx, size_t n) {
  for (size_t want = n;; ++want) {
    auto bodies = Verified(rx.WaitFor(want));
    if (Ids(bodies).size() >= n || bodies.size() < want) return bodies;
  }
}

json Events(Http& h, const std::string& query = "") {
  auto r = h.Get("/api/v1/events" + query);
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
  return json::parse(r->body);
}

}  // namespace

TEST_CASE("events: each change is delivered signed, in order, with MLflow's names where they overlap") {
  Receiver rx;
  ServerProcess s("", {"--webhooks-allow-private"});
  TempDir t;
  Http admin(s.url(), s.admin_token());
  CreateWebhook(admin, "all", rx.url(), "*");
  auto env = s.Env(s.admin_token());
  Register(s, t, "churn", "one");
  Register(s, t, "churn", "two");
  REQUIRE(Modelreg({"policy", "set", "churn", "--approvals", "0"}, env).exit_code == 0);
  REQUIRE(Modelreg({"promote", "churn", "1", "--to", "staging"}, env).exit_code == 0);
  REQUIRE(Modelreg({"promote", "churn", "1", "--to", "production"}, env).exit_code == 0);
  REQUIRE(Modelreg({"promote", "churn", "2", "--to", "staging"}, env).exit_code == 0);
  REQUIRE(Modelreg({"promote", "churn", "2", "--to", "production"}, env).exit_code == 0);
  REQUIRE(Modelreg({"rollback", "churn", "--reason", "latency"}, env).exit_code == 0);
  // A refused change writes no event: version 2 is archived now, and
  // archived -> production is not a move.
  REQUIRE(Modelreg({"promote", "churn", "2", "--to", "production"}, env).exit_code != 0);

  // registered_model.created, 2 × model_version.created, policy.changed,
  // 4 promotions (one replaces production: +1), rollback (+2 stage moves).
  const std::vector<std::string> want = {"registered_model.created",
                                         "model_version.created",
                                         "model_version.created",
                                         "policy.changed",
                                         "stage.changed",
                                         "stage.changed",
                                         "stage.changed",
                                         "stage.changed",
                                         "stage.changed",
                                         "stage.changed",
                                         "stage.changed",
                                         "rollback"};
  auto bodies = Verified(rx.WaitFor(want.size()));
  REQUIRE(bodies.size() >= want.size());
  std::vector<std::string> types;
  for (const auto& b : bodies) types.push_back(b["type"]);
  CHECK(types == want);
  auto ids = Ids(bodies);
  CHECK(std::is_sorted(ids.begin(), ids.end()));

  // MLflow's payload fields: name, version as a string; entity/action.
  const json& created = bodies[1];
  CHECK(created["entity"] == "model_version");
  CHECK(created["action"] == "created");
  CHECK(created["data"]["name"] == "churn");
  CHECK(created["data"]["version"] == "1");
  CHECK(created["data"]["digest"].get<std::string>().rfind("sha256:", 0) == 0);
  // The promotion of 2 archived 1 first, then moved 2.
  CHECK(bodies[7]["data"]["version"] == "1");
  CHECK(bodies[7]["data"]["from"] == "production");
  CHECK(bodies[7]["data"]["to"] == "archived");
  CHECK(bodies[8]["data"]["version"] == "2");
  CHECK(bodies[8]["data"]["to"] == "production");
  CHECK(bodies[8]["actor"] == "admin");
  CHECK(bodies.back()["data"]["reason"] == "latency");
  CHECK(bodies.back()["data"]["to_version"] == "1");

  // The same events in the feed, in the same order, and nothing else about churn.
  json page = Events(admin, "?after=0&limit=1000");
  std::vector<std::string> feed;
  for (const auto& e : page["events"])
    if (e["model"] == "churn") feed.push_back(e["type"]);
  CHECK(feed == want);

  // The delivery log says so, once the worker has read each answer (the
  // receiver has a body before the worker records it: wait, on a loaded
  // machine that takes a while).
  json rows;
  auto all_delivered = [&] {
    auto d = admin.Get("/api/v1/webhooks/all/deliveries?limit=100");
    if (!d || d->status != 200) return false;
    rows = json::parse(d->body)["deliveries"];
    return !rows.empty() &&
           std::all_of(rows.begin(), rows.end(), [](const json& r) { return r["state"] == "delivered"; });
  };
  modelreg::testing::WaitFor(all_delivered);
  REQUIRE_FALSE(rows.empty());
  for (const auto& row : rows) CHECK(row["state"] == "delivered");
  // And /metrics counts the attempts.
  auto m = admin.Get("/metrics");
  REQUIRE(m);
  const std::string key = "modelreg_webhook_attempts_total{result=\"delivered\"} ";
  const size_t at = m->body.find(key);
  REQUIRE(at != std::string::npos);
  CHECK(std::stoi(m->body.substr(at + key.size())) >= static_cast<int>(want.size()));
}

TEST_CASE("events: the feed shows a token only what it may see, and a long poll wakes on a change") {
  ServerProcess s;
  TempDir t;
  Http admin(s.url(), s.admin_token());
  Register(s, t, "alpha", "a1");
  Register(s, t, "beta", "b1");
  Http scoped(s.url(), s.CreateToken("alpha-reader", "auditor", {"alpha*"}));
  json page = Events(scoped, "");
  for (const auto& e : page["events"]) CHECK(e["model"] == "alpha");  // no beta, no token.created
  CHECK(page["events"].size() == 2);
  const int64_t next = page["next"].get<int64_t>();

  // Nothing new for it: a long poll waits; a change to alpha wakes it.
  std::thread later([&] {
    // The poll is parked before this runs: the route's log line comes
    // only when it is answered, so wait for the server to hold it.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    Register(s, t, "alpha", "a2");
  });
  const auto start = std::chrono::steady_clock::now();
  json woke = Events(scoped, "?after=" + std::to_string(next) + "&wait=60");
  later.join();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(55));
  REQUIRE(woke["events"].size() >= 1);
  CHECK(woke["events"][0]["type"] == "model_version.created");
  CHECK(woke["events"][0]["version"] == 2);

  // Bad parameters are refused with a clear error.
  for (const char* q : {"?after=-1", "?after=abc", "?wait=301", "?limit=0", "?after=1%FF"}) {
    INFO(q);
    auto r = scoped.Get(std::string("/api/v1/events") + q);
    REQUIRE(r);
    CHECK(r->status == 400);
    CHECK(ErrorCode(r) == "INVALID_ARGUMENT");
  }
  // An agent may read models, so it may follow their events; the
  // registry-wide ones (tokens) are for unscoped auditors and admins.
  json all = Events(admin, "");
  bool saw_token = false;
  for (const auto& e : all["events"]) saw_token = saw_token || e["type"] == "token.created";
  CHECK(saw_token);
}

TEST_CASE("events: a receiver that is down gets everything, in order, once it is back") {
  Receiver rx;
  rx.Down();
  ServerProcess s("", {"--webhooks-allow-private"});
  TempDir t;
  Http admin(s.url(), s.admin_token());
  CreateWebhook(admin, "ci", rx.url(), "model_version.created", "m*");
  for (int i = 0; i < 5; ++i) Register(s, t, "m1", "v" + std::to_string(i));
  Register(s, t, "other", "x");  // not wanted: another model
  // Tried and failed at least once while down, nothing lost.
  for (int tries = 0;; ++tries) {
    auto d = admin.Get("/api/v1/webhooks/ci/deliveries");
    REQUIRE(d);
    json rows = json::parse(d->body)["deliveries"];
    REQUIRE(rows.size() == 5);
    bool tried = false;
    for (const auto& r : rows) tried = tried || r["attempts"].get<int>() > 0;
    if (tried) {
      for (const auto& r : rows) CHECK(r["state"] == "pending");
      break;
    }
    REQUIRE(tries < 600);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // The receiver answers 503 for a while: still pending, retried.
  rx.Start();
  rx.AnswerWith(503);
  rx.WaitArrived(1);
  rx.AnswerWith(200);
  auto bodies = WaitForDistinct(rx, 5);
  std::vector<int64_t> versions;
  for (const auto& b : bodies)
    if (versions.empty() || versions.back() != b["version"].get<int64_t>()) versions.push_back(b["version"]);
  // At least once: the 503'd one came again, then the rest in order.
  std::vector<int64_t> distinct;
  for (auto v : versions)
    if (std::find(distinct.begin(), distinct.end(), v) == distinct.end()) distinct.push_back(v);
  CHECK(distinct == std::vector<int64_t>{1, 2, 3, 4, 5});
  for (const auto& b : bodies) CHECK(b["model"] == "m1");
}

TEST_CASE("events: kill -9 and restarts of the server lose no event and invent none", "[sqlite]") {
  Receiver rx;
  rx.Down();
  TempDir t;
  const std::string data = t / "data";
  int64_t events_before_kill = 0;
  {
    ServerProcess s(data, {"--webhooks-allow-private"});
    Http admin(s.url(), s.admin_token());
    CreateWebhook(admin, "ci", rx.url(), "*");
    for (int i = 0; i < 3; ++i) Register(s, t, "m", "k" + std::to_string(i));
    events_before_kill = Events(admin, "?limit=1000")["events"].size();
    s.Kill();
  }
  {
    // A clean stop while deliveries are pending loses nothing either.
    ServerProcess s(data, {"--webhooks-allow-private"});
    Register(s, t, "m", "k3");
    REQUIRE(s.Stop() == 0);
  }
  ServerProcess s(data, {"--webhooks-allow-private"});
  Http admin(s.url(), s.admin_token());
  json page = Events(admin, "?limit=1000");
  CHECK(page["events"].size() == static_cast<size_t>(events_before_kill + 1));
  rx.Start();
  // registered_model.created + 4 model_version.created, each exactly once
  // in order (none was sent before: the receiver was down).
  auto bodies = WaitForDistinct(rx, 5);
  auto ids = Ids(bodies);
  CHECK(ids.size() == 5);
  CHECK(std::is_sorted(ids.begin(), ids.end()));
  CHECK(bodies[0]["type"] == "registered_model.created");
  for (size_t i = 1; i < bodies.size(); ++i) CHECK(bodies[i]["data"]["version"] == std::to_string(i));
}

TEST_CASE("events: a slow receiver is cut after the timeout and never holds up the change that caused it") {
  Receiver rx;
  rx.Hold(true);
  ServerProcess s("", {"--webhooks-allow-private", "--webhook-timeout", "1"});
  TempDir t;
  Http admin(s.url(), s.admin_token());
  CreateWebhook(admin, "slow", rx.url(), "*");
  Register(s, t, "m", "s1");
  rx.WaitArrived(1);  // the first delivery is being held by the receiver
  // While it hangs, changes go on.
  Register(s, t, "m", "s2");
  REQUIRE(Modelreg({"policy", "set", "m", "--approvals", "0"}, s.Env(s.admin_token())).exit_code == 0);
  // The attempt was cut: recorded as a failure naming the timeout.
  for (int tries = 0;; ++tries) {
    auto d = admin.Get("/api/v1/webhooks/slow/deliveries");
    REQUIRE(d);
    bool cut = false;
    const json rows = json::parse(d->body)["deliveries"];
    for (const auto& r : rows)
      cut = cut || (r["attempts"].get<int>() > 0 && r["state"] == "pending" &&
                    r["last_error"].get<std::string>().find("timeout") != std::string::npos);
    if (cut) break;
    INFO(d->body);
    REQUIRE(tries < 600);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  rx.Hold(false);
  auto ids = Ids(WaitForDistinct(rx, 4));
  CHECK(ids.size() >= 4);
  CHECK(std::is_sorted(ids.begin(), ids.end()));
}

TEST_CASE("webhooks: admin only, URLs checked, private addresses refused unless allowed, test and delete") {
  Receiver rx;
  ServerProcess s;  // without --webhooks-allow-private
  Http admin(s.url(), s.admin_token());
  auto post = [&](const json& body) {
    auto r = admin.Post("/api/v1/webhooks", body.dump());
    REQUIRE(r);
    return r;
  };
  auto r = post({{"name", "loop"}, {"url", rx.url()}, {"events", "*"}});
  CHECK(r->status == 403);
  CHECK(ErrorMessage(r).find("--webhooks-allow-private") != std::string::npos);
  for (const char* url : {"ftp://example.com/x", "http://user:pw@example.com/", "http://169.254.169.254/latest/",
                          "http://[::1]:80/", "http://10.0.0.1/", "http://exa mple.com/"}) {
    INFO(url);
    r = post({{"name", "bad"}, {"url", url}, {"events", "*"}});
    CHECK((r->status == 400 || r->status == 403));
  }
  r = post({{"name", "x"}, {"url", "http://8.8.8.8/"}, {"events", "model_version.made"}});
  CHECK(r->status == 400);
  CHECK(ErrorMessage(r).find("unknown event type 'model_version.made'") != std::string::npos);
  // A name that is not UTF-8 (raw bytes: the JSON library would not write it).
  r = admin.Post("/api/v1/webhooks", "{\"name\": \"bad\xff\", \"url\": \"http://8.8.8.8/\", \"events\": \"*\"}");
  REQUIRE(r);
  CHECK(r->status == 400);

  Http trainer(s.url(), s.CreateToken("t", "trainer"));
  r = trainer.Post("/api/v1/webhooks", json{{"name", "x"}, {"url", "http://8.8.8.8/"}, {"events", "*"}}.dump());
  REQUIRE(r);
  CHECK(r->status == 403);
  CHECK(trainer.Get("/api/v1/webhooks")->status == 403);

  ServerProcess p("", {"--webhooks-allow-private"});
  Http padmin(p.url(), p.admin_token());
  CreateWebhook(padmin, "rx", rx.url(), "stage.changed");
  auto dup = padmin.Post("/api/v1/webhooks", json{{"name", "rx"}, {"url", rx.url()}, {"events", "*"}}.dump());
  CHECK(dup->status == 409);
  auto env = p.Env(p.admin_token());
  auto test = Modelreg({"webhook", "test", "rx"}, env);
  INFO(test.err);
  CHECK(test.exit_code == 0);
  CHECK(test.out.find("delivered: HTTP 200") != std::string::npos);
  auto got = rx.WaitFor(1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].event_type == "webhook.test");
  auto list = Modelreg({"webhook", "list", "--json"}, env);
  CHECK(list.out.find("\"rx\"") != std::string::npos);
  CHECK(list.out.find(kSecret) == std::string::npos);  // the secret is never listed
  CHECK(Modelreg({"webhook", "delete", "rx"}, env).exit_code == 0);
  CHECK(Modelreg({"webhook", "test", "rx"}, env).exit_code != 0);
}

TEST_CASE("events: agent failures and recoveries, and a failed audit verification", "[sqlite]") {
  Receiver rx;
  ServerProcess s("", {"--webhooks-allow-private"});
  TempDir t;
  Http admin(s.url(), s.admin_token());
  CreateWebhook(admin, "ops", rx.url(), "agent.failed,agent.recovered,audit.verify_failed");
  Register(s, t, "m", "a");
  Http agent(s.url(), s.CreateToken("agent-1", "agent"));
  auto report = [&](const std::string& state) {
    auto r = agent.Post("/api/v1/agents/a1/status",
                        json{{"model", "m"}, {"state", state}, {"version", 1}, {"last_error", "boom"}}.dump());
    REQUIRE(r);
    REQUIRE(r->status == 204);
  };
  report("serving");
  report("failed");
  report("failed");  // the same state again is no new event
  report("serving");
  auto got = Verified(rx.WaitFor(2));
  REQUIRE(got.size() == 2);
  CHECK(got[0]["type"] == "agent.failed");
  CHECK(got[0]["data"]["error"] == "boom");
  CHECK(got[0]["data"]["agent"] == "a1");
  CHECK(got[1]["type"] == "agent.recovered");

  {
    SQLite::Database db(s.data_dir() + "/registry.db", SQLite::OPEN_READWRITE);
    db.setBusyTimeout(30000);
    // The signing secret is stored sealed, never as given (the deliveries
    // above verified with it: it opens).
    const std::string stored = db.execAndGet("SELECT secret FROM webhooks WHERE name = 'ops'").getString();
    CHECK(stored.rfind("mrs1:", 0) == 0);
    CHECK(stored.find(kSecret) == std::string::npos);
    db.exec("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2");
  }
  auto v = admin.Get("/api/v1/audit/verify");
  REQUIRE(v);
  got = Verified(rx.WaitFor(3));
  REQUIRE(got.size() == 3);
  CHECK(got[2]["type"] == "audit.verify_failed");
  CHECK(got[2]["data"]["first_bad_seq"] == 2);
}

TEST_CASE("events: after an hour of failed attempts a delivery still arrives, after a day it is marked failed",
          "[sqlite]") {
  Receiver rx;
  rx.Down();
  TempDir t;
  const std::string data = t / "data";
  auto deliveries = [](Http& h) {
    auto d = h.Get("/api/v1/webhooks/ci/deliveries");
    REQUIRE(d);
    REQUIRE(d->status == 200);
    return json::parse(d->body)["deliveries"];
  };
  {
    ServerProcess s(data, {"--webhooks-allow-private"});
    Http admin(s.url(), s.admin_token());
    CreateWebhook(admin, "ci", rx.url(), "*");
    Register(s, t, "m", "h1");  // registered_model.created (old), model_version.created
    REQUIRE(s.Stop() == 0);
  }
  {
    // As if the receiver had been down since: the first event a day and
    // a minute ago, the second an hour ago, both tried many times.
    SQLite::Database db(data + "/registry.db", SQLite::OPEN_READWRITE);
    db.setBusyTimeout(30000);
    const int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    SQLite::Statement q(
        db,
        "UPDATE webhook_deliveries SET created_at_ms = ?, attempts = ?, next_at_ms = ? WHERE event_id = "
        "(SELECT id FROM events WHERE type = ?)");
    q.bind(1, static_cast<int64_t>(now - 24 * 3600 * 1000ll - 60000));
    q.bind(2, 2800);
    q.bind(3, now);
    q.bind(4, "registered_model.created");
    REQUIRE(q.exec() == 1);
    q.reset();
    q.bind(1, static_cast<int64_t>(now - 3600 * 1000ll));
    q.bind(2, 120);
    q.bind(3, now);
    q.bind(4, "model_version.created");
    REQUIRE(q.exec() == 1);
  }
  ServerProcess s(data, {"--webhooks-allow-private"});
  Http admin(s.url(), s.admin_token());
  // The day-old one fails at its next attempt; the other is still pending.
  for (int tries = 0;; ++tries) {
    json rows = deliveries(admin);
    REQUIRE(rows.size() == 2);
    if (rows[1]["state"] == "failed") {
      CHECK(rows[0]["state"] == "pending");
      break;
    }
    REQUIRE(tries < 600);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  rx.Start();
  auto got = Verified(rx.WaitFor(1));
  REQUIRE(got.size() >= 1);
  CHECK(got[0]["type"] == "model_version.created");
  for (int tries = 0; deliveries(admin)[0]["state"] != "delivered"; ++tries) {
    REQUIRE(tries < 600);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (const auto& d : rx.Got()) CHECK(d.event_type == "model_version.created");
}
