// The agent's monitoring in proxy mode (issue #27 items 2 and 3;
// docs/agent.md "Monitoring"): the Proxy class with its Monitoring, real
// model servers (tests/e2e/fixtures/tag_server.py, whose "seen" knob logs
// every body it receives) on version directories made here, some with a
// reference profile (.modelreg/profile.json). What is forwarded never
// changes; --validate reject answers 400 and the model server never sees
// the request; completed windows ride on the status report until the
// registry (an in-process stand-in) takes them. Waits are for conditions.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/monitor_window.h"
#include "core/profile.h"
#include "monitoring.h"
#include "proxy.h"
#include "registry_link.h"
#include "support/ports.h"
#include "support/process.h"
#include "support/profiles.h"
#include "support/temp_dir.h"
#include "support/wait.h"

namespace modelreg::agent {
namespace {

using nlohmann::json;
using testing::CategoricalColumn;
using testing::NumericColumn;
using testing::TempDir;
using testing::WaitFor;
using testing::WriteFile;

const std::string kTagServer = std::string(MODELREG_SOURCE_DIR) + "/tests/e2e/fixtures/tag_server.py";
const std::string kDigestA = "sha256:" + std::string(64, 'a');
const std::string kDigestB = "sha256:" + std::string(64, 'b');

Profile MakeProfile() {
  Profile p;
  p.dataset = "train";
  p.rows = 100;
  p.columns = {NumericColumn("age", 100, 18, 90, {30, 50, 70}, {0.25, 0.25, 0.25, 0.25}),
               CategoricalColumn("city", 100, {"paris", "rome"}, {0.5, 0.5, 0})};
  p.output = NumericColumn("score", 100, 0, 1, {0.5}, {0.5, 0.5});
  p.schema = SchemaFromProfile(p.columns);
  p.schema.columns[1].categories = {"paris", "rome"};
  return p;
}

// A version directory: the tag server's files, a log of the bodies it
// receives, and the profile file as given ("" none).
struct Version {
  CurrentVersion v;
  std::string seen;
  std::vector<std::string> Seen() const {
    std::vector<std::string> out;
    std::ifstream in(seen);
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line).get<std::string>());
    return out;
  }
};

Version Make(TempDir& t, const std::string& tag, int64_t version, const std::string& digest,
             const std::string& profile_bytes) {
  const std::string dir = t / ("v-" + tag);
  WriteFile(dir + "/d/f0", tag + " model");
  const std::string seen = t / ("seen-" + tag);
  WriteFile(dir + "/knobs.json", json{{"body", "{\"predictions\": [[0.3, 0.7]]}"}, {"seen", seen}}.dump());
  if (!profile_bytes.empty()) WriteFile(dir + "/" + kProfilePath, profile_bytes);
  return Version{CurrentVersion{digest, version, dir}, seen};
}

// A proxy with monitoring (windows of 1 s), serving `v`.
struct Monitored {
  std::mutex mu;
  std::vector<std::string> logged;
  int port = 0;  // the kernel's pick (see rollout_proxy_test.cc, Running)
  std::unique_ptr<Monitoring> m;
  std::unique_ptr<Proxy> p;
  Monitored(TempDir& t, const Version& v, const std::string& validate, uint64_t max_body = 1 << 20) {
    std::filesystem::create_directories(t / "root");
    Options o;
    o.model = "churn";
    o.id = "test-agent";
    o.root = t / "root";
    o.exec = "/usr/bin/python3 " + kTagServer + " {dir} {port}";
    o.listen = "127.0.0.1:0";
    o.health_timeout_s = 20;
    o.validate = validate;
    o.max_monitor_body = max_body;
    m = std::make_unique<Monitoring>(1000, "0123456789abcdef", [this](const std::string&, const std::string& msg) {
      std::lock_guard<std::mutex> l(mu);
      logged.push_back(msg);
    });
    p = std::make_unique<Proxy>(o);
    p->set_monitoring(m.get());
    REQUIRE(p->Start().ok());
    port = p->port();
    REQUIRE(p->SwapTo(v.v).ok());
  }
  ~Monitored() { p->Stop(); }
  httplib::Result Post(const std::string& body) {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30, 0);
    return c.Post("/predict", body, "application/json");
  }
  // The windows ended so far, summed over time: waits until `requests`
  // requests have come out in ended windows (the current one never does),
  // and takes them (as a registry would).
  MonitorWindow Totals(int64_t requests) {
    MonitorWindow sum;
    std::vector<MonitorWindow> all;
    REQUIRE(WaitFor(
        [&] {
          auto b = m->Pending(NowMs());
          if (!b) return false;
          auto r = ParseMonitorReport(b->json);
          REQUIRE(r.ok());
          int64_t n = 0;
          for (const auto& w : r->windows) n += w.requests;
          if (n < requests) return false;
          all = r->windows;
          m->Ack(b->upto);
          return true;
        },
        30, std::chrono::milliseconds(50)));
    sum = all[0];
    for (size_t i = 1; i < all.size(); ++i) {
      const MonitorWindow& w = all[i];
      sum.requests += w.requests;
      sum.rows += w.rows;
      sum.unreadable += w.unreadable;
      sum.violations += w.violations;
      sum.rejected += w.rejected;
      for (size_t f = 0; f < w.features.size(); ++f) {
        sum.features[f].n += w.features[f].n;
        sum.features[f].out_of_range += w.features[f].out_of_range;
        sum.features[f].unknown_category += w.features[f].unknown_category;
        for (size_t k = 0; k < w.features[f].counts.size(); ++k) sum.features[f].counts[k] += w.features[f].counts[k];
      }
      if (w.output && sum.output) {
        sum.output->n += w.output->n;
        for (size_t k = 0; k < w.output->counts.size(); ++k) sum.output->counts[k] += w.output->counts[k];
      }
      if (w.output && !sum.output) sum.output = w.output;
    }
    return sum;
  }
};

const std::string kGood = R"({"features": [[25, "paris"]]})";
const std::string kTooOld = R"({"instances": [{"age": 250, "city": "rome"}]})";

TEST_CASE("monitoring flag: every request is forwarded as sent and counted, unreadable bodies too") {
  TempDir t;
  Version a = Make(t, "a", 4, kDigestA, SerializeProfile(MakeProfile()));
  Monitored p(t, a, "flag", 1024);
  const std::vector<std::string> bodies = {kGood, kTooOld, "{\"features\": [[1, 2", R"({"rows": [[1, 2]]})",
                                           R"({"features": [[)" + std::string(2000, ' ') + "40, \"rome\"]]}"};
  for (const auto& b : bodies) {
    auto r = p.Post(b);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == "{\"predictions\": [[0.3, 0.7]]}");
    CHECK(r->get_header_value("X-Model-Version") == "4");
  }
  CHECK(a.Seen() == bodies);  // byte for byte, the bad ones included
  // GET (no body) is not monitored.
  httplib::Client c("127.0.0.1", p.port);
  REQUIRE(c.Get("/predict"));
  const MonitorWindow w = p.Totals(5);
  CHECK(w.version == 4);
  CHECK(w.digest == kDigestA);
  CHECK(w.arm == "");
  CHECK(w.reference);
  CHECK(w.requests == 5);
  CHECK(w.unreadable == 3);  // cut, unknown format, over --max-monitor-body
  CHECK(w.rows == 2);
  CHECK(w.violations == 1);
  CHECK(w.rejected == 0);
  REQUIRE(w.features.size() == 2);
  CHECK(w.features[0].name == "age");
  CHECK(w.features[0].n == 2);
  CHECK(w.features[0].out_of_range == 1);
  CHECK(w.features[0].counts == std::vector<int64_t>{1, 0, 0, 1});
  CHECK(w.features[1].counts == std::vector<int64_t>{1, 1, 0});
  REQUIRE(w.output);
  CHECK(w.output->name == "score");
  CHECK(w.output->n == 5);  // every answer (0.7: the positive class), whatever the request
  CHECK(w.output->counts == std::vector<int64_t>{0, 5});
}

TEST_CASE("monitoring reject: a request breaking the schema gets 400 naming feature and rule, never the model") {
  TempDir t;
  Version a = Make(t, "a", 4, kDigestA, SerializeProfile(MakeProfile()));
  Monitored p(t, a, "reject");
  auto r = p.Post(kTooOld);
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK(r->get_header_value("X-Model-Version") == "4");
  CHECK_FALSE(r->get_header_value("X-Request-Id").empty());
  const json e = json::parse(r->body)["error"];
  CHECK(e["code"] == "schema_violation");
  CHECK(e["feature"] == "age");
  CHECK(e["rule"] == "range");
  CHECK(e["row"] == 0);
  CHECK(e["message"] ==
        "feature \"age\" (row 0): 250 is above the reference range [18, 90] by more than the 10% margin");
  r = p.Post(R"({"dataframe_records": [{"age": 20, "city": "oslo"}]})");
  REQUIRE(r);
  CHECK(r->status == 400);
  CHECK(json::parse(r->body)["error"]["rule"] == "category");
  // Good and unreadable requests go through.
  r = p.Post(kGood);
  REQUIRE(r);
  CHECK(r->status == 200);
  r = p.Post("not json");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(a.Seen() == std::vector<std::string>{kGood, "not json"});
  const MonitorWindow w = p.Totals(4);
  CHECK(w.requests == 4);
  CHECK(w.rejected == 2);
  CHECK(w.violations == 2);
  CHECK(w.unreadable == 1);
}

TEST_CASE("monitoring: a version without a profile, or with a bad one, serves as before, without a reference") {
  TempDir t;
  Version a = Make(t, "a", 3, kDigestA, "");
  Monitored p(t, a, "reject");
  auto r = p.Post(kTooOld);  // nothing to check against: forwarded
  REQUIRE(r);
  CHECK(r->status == 200);
  MonitorWindow w = p.Totals(1);
  CHECK_FALSE(w.reference);
  CHECK(w.rows == 1);
  CHECK(w.features.empty());
  CHECK_FALSE(w.output);
  {
    std::lock_guard<std::mutex> l(p.mu);
    CHECK(p.logged.empty());  // absent is not an error
  }
  // A profile file that does not parse: said once, served anyway.
  Version b = Make(t, "b", 5, kDigestB, "{\"format\": \"nonsense\"}");
  REQUIRE(p.p->SwapTo(b.v).ok());
  for (int i = 0; i < 3; ++i) {
    r = p.Post(kTooOld);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->get_header_value("X-Model-Version") == "5");
  }
  w = p.Totals(3);
  CHECK(w.version == 5);
  CHECK_FALSE(w.reference);
  std::lock_guard<std::mutex> l(p.mu);
  REQUIRE(p.logged.size() == 1);
  CHECK_THAT(p.logged[0], Catch::Contains("version 5: .modelreg/profile.json is not a usable profile"));
}

// A registry stand-in that answers status reports with `answer`.
struct StandIn {
  httplib::Server svr;
  std::thread th;
  int port = 0;
  std::mutex mu;
  int answer = 500;
  bool refuse_monitoring = false;  // 400 to a report with windows, as to a bad one
  std::vector<json> reports;
  StandIn() {
    svr.Post("/api/v1/agents/a1/status", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> l(mu);
      reports.push_back(json::parse(req.body));
      res.status = refuse_monitoring && reports.back().contains("monitoring") ? 400 : answer;
    });
    port = svr.bind_to_any_port("127.0.0.1");
    th = std::thread([this] { svr.listen_after_bind(); });
  }
  ~StandIn() {
    svr.stop();
    th.join();
  }
};

TEST_CASE("monitoring: completed windows ride on status reports until one is taken, at most 64 wait") {
  TempDir t;
  StandIn reg;
  Options o;
  o.registry = "http://127.0.0.1:" + std::to_string(reg.port);
  o.token = "mr_test";
  o.model = "churn";
  o.id = "a1";
  RegistryLink link(o, nullptr);
  Monitoring m(1000, "0123456789abcdef", {});
  link.set_monitoring(&m);
  Version a = Make(t, "a", 4, kDigestA, SerializeProfile(MakeProfile()));
  auto acc = m.For(a.v);
  CHECK(m.For(a.v) == acc);  // one per version
  RequestTally tally;
  acc->Evaluate(ParseRequestRows(kGood, acc->columns()), true, &tally);
  const int64_t now = NowMs();
  acc->Add("", tally, false, now - 5000);    // a window that has ended
  acc->Add("", tally, false, now + 60'000);  // one that has not: never sent
  Report r;
  r.state = "serving";
  CHECK_FALSE(link.SendReport(r).ok());  // the registry failed: kept
  CHECK(m.waiting() == 1);
  {
    std::lock_guard<std::mutex> l(reg.mu);
    reg.answer = 204;
  }
  REQUIRE(link.SendReport(r).ok());
  CHECK(m.waiting() == 0);
  REQUIRE(link.SendReport(r).ok());  // nothing waits: no member
  {
    std::lock_guard<std::mutex> l(reg.mu);
    REQUIRE(reg.reports.size() == 3);
    for (int i = 0; i < 2; ++i) {
      REQUIRE(reg.reports[i].contains("monitoring"));
      auto parsed = ParseMonitorReport(reg.reports[i]["monitoring"].dump());
      REQUIRE(parsed.ok());
      REQUIRE(parsed->windows.size() == 1);
      CHECK(parsed->run == "0123456789abcdef");
      CHECK(parsed->windows[0].requests == 1);
      CHECK(parsed->windows[0].end_ms <= now);
    }
    CHECK_FALSE(reg.reports[2].contains("monitoring"));
    CHECK(reg.reports[2]["state"] == "serving");
  }
  // A registry away for long: the oldest windows go, counted.
  Version b = Make(t, "b", 5, kDigestB, SerializeProfile(MakeProfile()));
  auto acc_b = m.For(b.v);
  for (int i = 0; i < 70; ++i) acc_b->Add("", tally, false, now - 1'000'000 + i * 1000);
  auto batch = m.Pending(now);
  REQUIRE(batch);
  auto parsed = ParseMonitorReport(batch->json);
  REQUIRE(parsed.ok());
  CHECK(parsed->windows.size() == kMaxWindowsPerReport);
  CHECK(parsed->dropped == 6);
  CHECK(m.dropped() == 6);
  // Windows the registry refuses (400) never hold up the agent's state:
  // dropped, counted, and the report sent again without them.
  {
    std::lock_guard<std::mutex> l(reg.mu);
    reg.refuse_monitoring = true;
    reg.reports.clear();
  }
  CHECK(link.SendReport(r).ok());
  CHECK(m.waiting() == 0);
  CHECK(m.dropped() == 6 + 64);
  std::lock_guard<std::mutex> l(reg.mu);
  REQUIRE(reg.reports.size() == 2);
  CHECK(reg.reports[0].contains("monitoring"));
  CHECK_FALSE(reg.reports[1].contains("monitoring"));
  CHECK(reg.reports[1]["state"] == "serving");
}

TEST_CASE("monitoring: a report carries the oldest windows that fit in 4 MiB, the rest the next one") {
  TempDir t;
  Profile wide;
  for (int i = 0; i < 4000; ++i) {
    ColumnProfile c = MakeProfile().columns[0];
    c.name = "feature_" + std::to_string(i);
    c.edges.clear();
    for (int k = 1; k < 20; ++k) c.edges.push_back(k);
    c.min = 0;
    c.max = 20;
    c.fractions.assign(20, 0.05);
    wide.columns.push_back(c);
  }
  wide.dataset = "train";
  wide.rows = 100;
  wide.schema = SchemaFromProfile(wide.columns);
  const auto check = ParseProfile(SerializeProfile(wide));
  INFO(check.status().message());
  REQUIRE(check.ok());
  Version a = Make(t, "a", 4, kDigestA, SerializeProfile(wide));
  Monitoring m(1000, "0123456789abcdef", {});
  auto acc = m.For(a.v);
  REQUIRE(acc->reference());
  RequestTally unread;
  WindowAccumulator::Unreadable(&unread);
  for (int i = 0; i < 10; ++i) acc->Add("", unread, false, 1'000'000 + i * 1000);
  auto first = m.Pending(2'000'000);
  REQUIRE(first);
  CHECK(first->json.size() <= Monitoring::kMaxBatchBytes);
  auto r1 = ParseMonitorReport(first->json);
  REQUIRE(r1.ok());
  CHECK(r1->windows.size() == 5);
  CHECK(r1->windows[0].start_ms == 1'000'000);
  m.Ack(first->upto);
  auto second = m.Pending(2'000'000);
  REQUIRE(second);
  auto r2 = ParseMonitorReport(second->json);
  REQUIRE(r2.ok());
  REQUIRE(r2->windows.size() == 5);
  CHECK(r2->windows[0].start_ms == 1'005'000);
  m.Ack(second->upto);
  CHECK(m.waiting() == 0);
  CHECK(m.dropped() == 0);
}

TEST_CASE("monitoring flags: checked by modelreg-agent, proxy mode only, listed in --help") {
  TempDir t;
  WriteFile(t / "key.pem", "not a key");
  const std::vector<std::string> base = {MODELREG_AGENT_BIN, "--model",     "m",       "--root", t / "root",
                                         "--trust-key",      t / "key.pem", "--token", "mr_x"};
  const std::vector<std::string> proxy = {"--exec", "true {dir} {port}", "--listen", "127.0.0.1:1"};
  auto run = [&](std::vector<std::string> extra, bool proxy_mode) {
    std::vector<std::string> argv = base;
    if (proxy_mode) argv.insert(argv.end(), proxy.begin(), proxy.end());
    argv.insert(argv.end(), extra.begin(), extra.end());
    return testing::Run(argv);
  };
  auto r = run({"--validate", "strict"}, true);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--validate is reject, flag or off, not 'strict'"));
  r = run({"--drift-window", "0.5"}, true);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--drift-window is at least 1s"));
  r = run({"--max-monitor-body", "lots"}, true);
  CHECK(r.exit_code == 2);
  r = run({"--validate", "reject"}, false);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--validate needs proxy mode"));
  // Good flags get past the command line (to the bad key).
  r = run({"--validate", "reject", "--drift-window", "2s", "--max-monitor-body", "64K"}, true);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("--trust-key"));
  r = testing::Run({MODELREG_AGENT_BIN, "--help"});
  CHECK(r.exit_code == 0);
  for (const char* f : {"--validate reject|flag|off", "--drift-window", "--max-monitor-body", "--no-monitoring"})
    CHECK_THAT(r.out, Catch::Contains(f));
}

}  // namespace
}  // namespace modelreg::agent
