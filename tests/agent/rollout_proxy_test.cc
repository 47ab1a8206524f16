// The agent's proxy serving a rollout (issue #26 items 3 and 5;
// docs/agent.md "Rollouts"): the Proxy class driven directly with real
// model servers (tests/e2e/fixtures/tag_server.py, with knobs.json) on
// version directories made here. Waits are for conditions, never fixed
// sleeps.
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "core/traffic_split.h"
#include "proxy.h"
#include "rollout.h"
#include "spool.h"
#include "support/ports.h"
#include "support/process.h"
#include "support/temp_dir.h"
#include "support/wait.h"

namespace modelreg::agent {
namespace {

using nlohmann::json;
using testing::TempDir;
using testing::WaitFor;
using testing::WriteFile;

const std::string kTagServer = std::string(MODELREG_SOURCE_DIR) + "/tests/e2e/fixtures/tag_server.py";
const std::string kDigestA = "sha256:" + std::string(64, 'a');
const std::string kDigestB = "sha256:" + std::string(64, 'b');
const std::string kDigestC = "sha256:" + std::string(64, 'c');

// Version directories as the agent materializes them: DIR/d/f0 holds the
// tag the model server answers; knobs.json its misbehaviour.
struct Versions {
  TempDir t;
  CurrentVersion Make(const std::string& tag, int64_t version, const std::string& digest, const json& knobs = {}) {
    const std::string dir = t / ("v-" + tag);
    WriteFile(dir + "/d/f0", tag + " model");
    if (!knobs.is_null()) WriteFile(dir + "/knobs.json", knobs.dump());
    return CurrentVersion{digest, version, dir};
  }
};

Options ProxyOptions(const std::string& root, int port) {
  std::filesystem::create_directories(root);
  Options o;
  o.model = "churn";
  o.id = "test-agent";
  o.root = root;
  o.exec = "/usr/bin/python3 " + kTagServer + " {dir} {port}";
  o.listen = "127.0.0.1:" + std::to_string(port);
  o.health_timeout_s = 20;
  return o;
}

RolloutSpec Spec(RolloutMode mode, int weight_bp, const CurrentVersion& base, const CurrentVersion& cand, int step = 0,
                 int64_t id = 7) {
  RolloutSpec s;
  s.id = id;
  s.mode = mode;
  s.step = step;
  s.weight_bp = weight_bp;
  s.salt = "9f2c01";
  s.key_header = "X-User-Id";
  s.baseline_version = base.version;
  s.baseline_digest = base.digest;
  s.candidate_version = cand.version;
  s.candidate_digest = cand.digest;
  return s;
}

struct Answer {
  int status = 0;
  std::string body, version, arm, fallback, digest;
};

Answer Ask(int port, const std::string& user = "") {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(30, 0);
  httplib::Headers h;
  if (!user.empty()) h.emplace("X-User-Id", user);
  auto r = c.Post("/predict", h, "{\"x\":1}", "application/json");
  if (!r) return {};
  return {r->status,
          r->body,
          r->get_header_value("X-Model-Version"),
          r->get_header_value("X-Model-Arm"),
          r->get_header_value("X-Model-Fallback"),
          r->get_header_value("X-Model-Digest")};
}

json Report(Proxy& p) {
  const std::string j = p.RolloutReportJson();
  return j.empty() ? json() : json::parse(j);
}

int64_t Sum(const json& buckets) {
  int64_t n = 0;
  for (const auto& b : buckets) n += b.get<int64_t>();
  return n;
}

// A spool whose shipped decisions are kept here.
struct Decisions {
  std::mutex mu;
  std::vector<json> got;
  std::unique_ptr<DecisionSpool> spool;
  explicit Decisions(const std::string& dir) {
    spool = std::make_unique<DecisionSpool>(dir, 1 << 20, [this](const std::string& arr) {
      std::lock_guard<std::mutex> l(mu);
      for (const auto& d : json::parse(arr)) got.push_back(d);
      return Status::OK();
    });
    REQUIRE(spool->Open().ok());
  }
  std::vector<json> Snapshot() {
    std::lock_guard<std::mutex> l(mu);
    return got;
  }
};

// A proxy on a port of its own, serving `base` (started, healthy). The
// kernel picks the port (no test here restarts a proxy on its address): a
// port found free and closed again could be taken by a test process
// beside this one before the proxy binds it (two copies of this test whose
// pids differ by one did just that).
struct Running {
  int port = 0;
  std::unique_ptr<Proxy> p;
  Running(const std::string& root, const CurrentVersion* base, const std::function<void(Options&)>& adjust = {}) {
    Options o = ProxyOptions(root, 0);
    if (adjust) adjust(o);
    p = std::make_unique<Proxy>(o);
    REQUIRE(p->Start().ok());
    port = p->port();
    if (base) REQUIRE(p->SwapTo(*base).ok());
  }
  Proxy* operator->() { return p.get(); }
};

}  // namespace

TEST_CASE("rollout spec: the signed rollout is checked, an inconsistent one is refused") {
  json r = {{"id", 7},
            {"mode", "canary"},
            {"step", 1},
            {"weight_bp", 500},
            {"salt", "9f2c"},
            {"key_header", "X-User-Id"},
            {"baseline", {{"version", 3}, {"digest", kDigestA}}},
            {"candidate", {{"version", 4}, {"digest", kDigestB}}}};
  auto s = ParseRolloutSpec(r.dump(), kDigestA);
  REQUIRE(s.ok());
  CHECK(s->id == 7);
  CHECK(s->mode == RolloutMode::kCanary);
  CHECK(s->step == 1);
  CHECK(s->weight_bp == 500);
  CHECK(s->key_header == "X-User-Id");
  CHECK(s->candidate_version == 4);
  CHECK(s->candidate_digest == kDigestB);
  auto refused = [&](json bad, const std::string& digest, const std::string& says) {
    auto st = ParseRolloutSpec(bad.dump(), digest);
    INFO(bad.dump());
    REQUIRE_FALSE(st.ok());
    CHECK(st.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(st.status().message(), Catch::Contains(says));
  };
  refused(r, kDigestC, "baseline is not the release's version");
  json bad = r;
  bad["mode"] = "blue-green";
  refused(bad, kDigestA, "unknown mode");
  bad = r;
  bad["weight_bp"] = 10001;
  refused(bad, kDigestA, "weight_bp");
  bad["weight_bp"] = -1;
  refused(bad, kDigestA, "weight_bp");
  bad = r;
  bad["candidate"]["digest"] = "sha256:nothex";
  refused(bad, kDigestA, "candidate.digest");
  bad = r;
  bad.erase("salt");
  refused(bad, kDigestA, "salt");
  bad = r;
  bad["candidate"]["digest"] = kDigestA;
  refused(bad, kDigestA, "candidate is its baseline");
  bad = r;
  bad["key_header"] = "X-User: Id";
  refused(bad, kDigestA, "key_header");
  // Shadow: the weight is not used.
  bad = r;
  bad["mode"] = "shadow";
  CHECK(ParseRolloutSpec(bad.dump(), kDigestA)->weight_bp == 0);
}

TEST_CASE("rollout shadow comparison: equal bytes, numeric differences, other differences") {
  double d = -1;
  CHECK(CompareOutputs(200, "a", 200, "a", &d) == ShadowOutcome::kEqual);
  CHECK(CompareOutputs(200, "a", 500, "a", &d) == ShadowOutcome::kDiffer);
  CHECK(CompareOutputs(200, "{\"p\":[0.5,1]}", 200, "{\"p\": [0.75, 1]}", &d) == ShadowOutcome::kNumeric);
  CHECK(d == Approx(0.25));
  CHECK(CompareOutputs(200, "{\"p\":1.0}", 200, "{\"p\": 1}", &d) == ShadowOutcome::kEqual);
  CHECK(CompareOutputs(200, "{\"p\":[0.5,1]}", 200, "{\"p\":[0.5]}", &d) == ShadowOutcome::kDiffer);
  CHECK(CompareOutputs(200, "{\"p\":1,\"l\":\"x\"}", 200, "{\"p\":2,\"l\":\"y\"}", &d) == ShadowOutcome::kDiffer);
  CHECK(CompareOutputs(200, "a", 200, "b", &d) == ShadowOutcome::kDiffer);
}

TEST_CASE("rollout canary: sticky arms by key on two proxies, raising the weight only moves keys to the candidate") {
  Versions v;
  auto a = v.Make("a", 1, kDigestA), b = v.Make("b", 2, kDigestB);
  Running p1(v.t / "root1", &a);
  REQUIRE(p1->SetRollout(b, Spec(RolloutMode::kCanary, 3000, a, b)).ok());
  Running p2(v.t / "root2", &a);  // another agent (or this one restarted)
  REQUIRE(p2->SetRollout(b, Spec(RolloutMode::kCanary, 3000, a, b)).ok());
  std::map<std::string, std::string> arm_of;
  int candidates = 0;
  for (int i = 0; i < 120; ++i) {
    const std::string user = "user-" + std::to_string(i);
    Answer x = Ask(p1.port, user), y = Ask(p2.port, user);
    REQUIRE(x.status == 200);
    REQUIRE(y.status == 200);
    // The arm the shared hash says; the same on both proxies; tags consistent.
    const std::string want = ArmName(ArmFor("9f2c01", user, 3000));
    CHECK(x.arm == want);
    CHECK(y.arm == want);
    CHECK(x.body == (want == "candidate" ? "b" : "a"));
    CHECK(x.version == (want == "candidate" ? "2" : "1"));
    CHECK(x.digest == (want == "candidate" ? kDigestB : kDigestA));
    CHECK(x.fallback.empty());
    arm_of[user] = x.arm;
    candidates += x.arm == "candidate";
  }
  CHECK(candidates > 15);  // ~36 of 120
  CHECK(candidates < 60);
  // Per-arm counts of this (rollout, step) match what was answered.
  json r = Report(*p1.p);
  CHECK(r["id"] == 7);
  CHECK(r["step"] == 0);
  CHECK(r["run"].get<std::string>().size() == 16);
  CHECK(r["arms"]["candidate"]["requests"] == candidates);
  CHECK(r["arms"]["baseline"]["requests"] == 120 - candidates);
  CHECK(r["arms"]["baseline"]["errors"] == 0);
  CHECK(Sum(r["arms"]["baseline"]["latency_buckets"]) == 120 - candidates);
  CHECK(r["arms"]["candidate"]["latency_buckets"].size() == kLatencyBucketCount);
  CHECK_FALSE(r.contains("shadow"));
  // A new step at 60 %: the split changes at once, no key goes back, the counts restart.
  REQUIRE(p1->SetRollout(b, Spec(RolloutMode::kCanary, 6000, a, b, 1)).ok());
  CHECK(Report(*p1.p)["arms"]["candidate"]["requests"] == 0);
  int moved = 0;
  for (const auto& [user, arm] : arm_of) {
    Answer x = Ask(p1.port, user);
    REQUIRE(x.status == 200);
    if (arm == "candidate") CHECK(x.arm == "candidate");
    moved += arm == "baseline" && x.arm == "candidate";
  }
  CHECK(moved > 10);
  CHECK(Report(*p1.p)["step"] == 1);
  // Without the key header the request id routes.
  Answer anon = Ask(p1.port);
  CHECK(anon.status == 200);
  CHECK((anon.arm == "baseline" || anon.arm == "candidate"));
}

TEST_CASE("rollout canary: slower candidate shows in its latency histogram, 5xx counted as errors") {
  Versions v;
  auto a = v.Make("a", 1, kDigestA), b = v.Make("b", 2, kDigestB, {{"delay_ms", 40}});
  Running p(v.t / "root", &a, [](Options& o) { o.fallback = "none"; });
  REQUIRE(p->SetRollout(b, Spec(RolloutMode::kCanary, 5000, a, b)).ok());
  for (int i = 0; i < 40; ++i) REQUIRE(Ask(p.port, "u" + std::to_string(i)).status == 200);
  json r = Report(*p.p);
  const int64_t nb = r["arms"]["baseline"]["requests"], nc = r["arms"]["candidate"]["requests"];
  CHECK(nb + nc == 40);
  REQUIRE(nc > 0);
  std::vector<int64_t> cb = r["arms"]["candidate"]["latency_buckets"].get<std::vector<int64_t>>();
  std::vector<int64_t> bb = r["arms"]["baseline"]["latency_buckets"].get<std::vector<int64_t>>();
  CHECK(Sum(r["arms"]["candidate"]["latency_buckets"]) == nc);
  CHECK(LatencyQuantileMs(cb, 0.0) >= 40 / 1.4);  // every sample in a bucket at or above 40 ms
  CHECK(LatencyQuantileMs(bb, 0.5) < 40);
  // A candidate answering 500 (fallback none): the client gets the 500, it is an error of that arm.
  auto c = v.Make("c", 3, kDigestC, {{"error_rate", 1.0}});
  REQUIRE(p->SetRollout(c, Spec(RolloutMode::kCanary, 10000, a, c, 0, 8)).ok());
  Answer x = Ask(p.port, "someone");
  CHECK(x.status == 500);
  CHECK(x.arm == "candidate");
  CHECK(x.version == "3");
  CHECK(x.fallback.empty());
  r = Report(*p.p);
  CHECK(r["id"] == 8);
  CHECK(r["arms"]["candidate"]["requests"] == 1);
  CHECK(r["arms"]["candidate"]["errors"] == 1);
}

TEST_CASE("rollout shadow: clients always get the baseline's answer, copies compared and counted off the path") {
  Versions v;
  auto a = v.Make("a", 1, kDigestA, {{"body", "{\"score\": 0.5}"}});
  auto b = v.Make("b", 2, kDigestB, {{"body", "{\"score\": 0.75}"}});
  auto c = v.Make("c", 3, kDigestC, {{"error_rate", 1.0}});
  Running p(v.t / "root", &a);
  REQUIRE(p->SetRollout(b, Spec(RolloutMode::kShadow, 0, a, b)).ok());
  for (int i = 0; i < 30; ++i) {
    Answer x = Ask(p.port, "u" + std::to_string(i));
    REQUIRE(x.status == 200);
    CHECK(x.body == "{\"score\": 0.5}");
    CHECK(x.arm == "baseline");
    CHECK(x.version == "1");
  }
  REQUIRE(WaitFor([&] { return Report(*p.p)["shadow"]["compared"] == 30; }));
  json r = Report(*p.p);
  CHECK(r["arms"]["baseline"]["requests"] == 30);
  CHECK(r["arms"]["candidate"]["requests"] == 30);
  CHECK(r["shadow"]["differ"] == 30);
  CHECK(r["shadow"]["numeric"] == 30);
  CHECK(r["shadow"]["equal"] == 0);
  CHECK(r["shadow"]["dropped"] == 0);
  CHECK(r["shadow"]["max_abs_diff"].get<double>() == Approx(0.25));
  // A candidate answering 500 changes nothing for clients either.
  REQUIRE(p->SetRollout(c, Spec(RolloutMode::kShadow, 0, a, c, 0, 9)).ok());
  for (int i = 0; i < 20; ++i) {
    Answer x = Ask(p.port, "u" + std::to_string(i));
    REQUIRE(x.status == 200);
    CHECK(x.body == "{\"score\": 0.5}");
    CHECK(x.fallback.empty());
  }
  REQUIRE(WaitFor([&] { return Report(*p.p)["shadow"]["candidate_errors"] == 20; }));
  r = Report(*p.p);
  CHECK(r["arms"]["candidate"]["errors"] == 20);
  CHECK(r["shadow"]["differ"] == 20);
  CHECK(r["shadow"]["equal"] == 0);
  // An identical candidate: equal.
  auto a2 = v.Make("a2", 4, "sha256:" + std::string(64, 'd'), {{"body", "{\"score\": 0.5}"}});
  REQUIRE(p->SetRollout(a2, Spec(RolloutMode::kShadow, 0, a, a2, 0, 10)).ok());
  for (int i = 0; i < 10; ++i) REQUIRE(Ask(p.port).status == 200);
  REQUIRE(WaitFor([&] { return Report(*p.p)["shadow"]["equal"] == 10; }));
}

TEST_CASE("rollout: no client request fails while weights change, on abort and on finish") {
  Versions v;
  auto a = v.Make("a", 1, kDigestA), b = v.Make("b", 2, kDigestB);
  Running p(v.t / "root", &a);
  std::atomic<bool> stop{false};
  std::atomic<long> ok{0}, failed{0}, mislabelled{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i)
    clients.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", p.port);
      c.set_keep_alive(true);
      c.set_read_timeout(30, 0);
      for (long n = 0; !stop; ++n) {
        auto r = c.Post("/predict", {{"X-User-Id", std::to_string(i) + "-" + std::to_string(n % 50)}}, "{}",
                        "application/json");
        if (!r || r->status != 200) {
          ++failed;
          continue;
        }
        const std::string want = r->body == "a" ? "1" : r->body == "b" ? "2" : "?";
        if (r->get_header_value("X-Model-Version") != want) ++mislabelled;
        ++ok;
      }
    });
  auto served = [&](long more) {
    const long target = ok + more;
    REQUIRE(WaitFor([&] { return ok >= target; }, 60));
  };
  served(20);
  for (int round = 0; round < 2; ++round) {
    int step = 0;
    for (int w : {500, 2500, 5000, 10000}) {
      REQUIRE(p->SetRollout(b, Spec(RolloutMode::kCanary, w, a, b, step++, 20 + round)).ok());
      served(20);
    }
    if (round == 0) {
      p->EndRollout();  // abort: the baseline alone
      served(20);
      CHECK(Ask(p.port).body == "a");
      CHECK(Ask(p.port).arm.empty());
    }
  }
  REQUIRE(p->SwapTo(b).ok());  // finish: the candidate, as it runs, is the only arm
  served(20);
  stop = true;
  for (auto& t : clients) t.join();
  Answer x = Ask(p.port);
  CHECK(x.body == "b");
  CHECK(x.arm.empty());
  CHECK_FALSE(p->rollout_active());
  CHECK(p->RolloutReportJson().empty());
  INFO("ok " << ok << " failed " << failed);
  CHECK(failed == 0);
  CHECK(mislabelled == 0);
  // The baseline's model server was stopped after the finish: one server of this test left.
  CHECK(WaitFor([&] { return testing::Run({"pgrep", "-fc", kTagServer + " " + v.t.path()}).out == "1\n"; }));
}

TEST_CASE("rollout fallback: a killed or failing candidate is answered by the baseline, marked and recorded") {
  Versions v;
  auto a = v.Make("a", 1, kDigestA), b = v.Make("b", 2, kDigestB), c = v.Make("c", 3, kDigestC, {{"error_rate", 1.0}});
  Decisions d(v.t / "spool");
  Running p(v.t / "root", nullptr);
  p->set_spool(d.spool.get());
  REQUIRE(p->SwapTo(a).ok());
  REQUIRE(p->SetRollout(b, Spec(RolloutMode::kCanary, 10000, a, b)).ok());
  REQUIRE(Ask(p.port, "k").body == "b");
  // Kill the candidate's model server: the next request is answered by the baseline.
  const std::string pattern = kTagServer + " " + b.dir + " ";
  const std::string pid = testing::Run({"pgrep", "-f", pattern}).out;
  REQUIRE_FALSE(pid.empty());
  REQUIRE(kill(std::stoi(pid), SIGKILL) == 0);
  REQUIRE(WaitFor([&] { return testing::Run({"pgrep", "-f", pattern}).out.empty(); }));
  Answer x = Ask(p.port, "k");
  CHECK(x.status == 200);
  CHECK(x.body == "a");
  CHECK(x.fallback == "previous");
  CHECK(x.arm == "baseline");
  CHECK(x.version == "1");
  CHECK(Report(*p.p)["arms"]["candidate"]["errors"].get<int64_t>() >= 1);
  // The monitor restarts it; then it answers again.
  REQUIRE(WaitFor([&] { return Ask(p.port, "k").body == "b"; }, 60));
  // A candidate answering 500 to everything: the baseline answers.
  REQUIRE(p->SetRollout(c, Spec(RolloutMode::kCanary, 10000, a, c, 0, 11)).ok());
  x = Ask(p.port, "k2");
  CHECK(x.status == 200);
  CHECK(x.body == "a");
  CHECK(x.fallback == "previous");
  json r = Report(*p.p);
  CHECK(r["arms"]["candidate"]["errors"] == 1);
  CHECK(r["arms"]["candidate"]["requests"] == 1);
  CHECK(r["arms"]["baseline"]["requests"] == 0);  // a fallback is not a request of the other arm
  // Decisions say which arm of which rollout answered, and that a fallback did.
  std::vector<json> got;
  REQUIRE(WaitFor([&] {
    got = d.Snapshot();
    return !got.empty() && got.back()["rollout_id"] == 11;
  }));
  const json& last = got.back();
  CHECK(last["arm"] == "baseline");
  CHECK(last["fallback"] == "previous");
  CHECK(last["version"] == 1);
  CHECK(last["digest"] == kDigestA);
  int fallbacks = 0;
  for (const auto& one : got) fallbacks += one.value("fallback", "") == "previous";
  CHECK(fallbacks >= 2);  // and every one while the killed server restarted
  CHECK(got.front()["arm"] == "candidate");
  CHECK(got.front()["rollout_id"] == 7);
  CHECK_FALSE(got.front().contains("fallback"));
  p->Stop();
  d.spool->Stop();
}

TEST_CASE("rollout fallback: the static response when no version can answer, --fallback none passes the 5xx") {
  Versions v;
  auto bad = v.Make("bad", 1, kDigestA, {{"error_rate", 1.0}});
  const std::string fixed = "{\"probabilities\": [0.5], \"fallback\": true}";
  {
    // Nothing running at all.
    Running p(v.t / "root0", nullptr, [&](Options& o) { o.fallback_response = fixed; });
    httplib::Client cl("127.0.0.1", p.port);
    auto r = cl.Post("/predict", "{}", "application/json");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == fixed);
    CHECK(r->get_header_value("Content-Type") == "application/json");
    CHECK(r->get_header_value("X-Model-Fallback") == "static");
    CHECK_FALSE(r->has_header("X-Model-Version"));  // none was ever up
    CHECK_FALSE(r->has_header("X-Model-Digest"));
  }
  {
    // One version that answers 500: the static response, tagged with the version that failed.
    Running p(v.t / "root1", &bad, [&](Options& o) { o.fallback_response = fixed; });
    Answer x = Ask(p.port);
    CHECK(x.status == 200);
    CHECK(x.body == fixed);
    CHECK(x.fallback == "static");
    CHECK(x.version == "1");
    CHECK(x.arm.empty());
  }
  {
    // No static response: the model server's 500 as it came.
    Running p(v.t / "root2", &bad, [&](Options& o) { o.fallback = "none"; });
    Answer x = Ask(p.port);
    CHECK(x.status == 500);
    CHECK(x.fallback.empty());
  }
}

TEST_CASE("rollout fallback: a candidate slower than --timeout is answered by the baseline") {
  Versions v;
  auto a = v.Make("a", 1, kDigestA), slow = v.Make("slow", 2, kDigestB, {{"delay_ms", 5000}});
  Running p(v.t / "root", &a, [](Options& o) { o.timeout_s = 0.3; });
  REQUIRE(p->SetRollout(slow, Spec(RolloutMode::kCanary, 10000, a, slow)).ok());
  const auto t0 = std::chrono::steady_clock::now();
  Answer x = Ask(p.port, "k");
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(x.status == 200);
  CHECK(x.body == "a");
  CHECK(x.fallback == "previous");
  CHECK(took < 4);  // not the candidate's 5 s
  json r = Report(*p.p);
  CHECK(r["arms"]["candidate"]["requests"] == 1);
  CHECK(r["arms"]["candidate"]["errors"] == 1);
}

TEST_CASE("proxy: at most --model-connections requests reach a model server at once, the rest wait their turn") {
  Versions v;
  const std::string peak = v.t / "peak";
  auto a = v.Make("a", 1, kDigestA, {{"delay_ms", 100}, {"active", peak}});
  Running p(v.t / "root", &a, [](Options& o) { o.model_connections = 2; });
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 6; ++i)
    clients.emplace_back([&] {
      for (int n = 0; n < 3; ++n)
        if (Ask(p.port).status == 200) ++ok;
    });
  for (auto& t : clients) t.join();
  CHECK(ok == 18);  // every request answered, none refused
  // Before: a connection per client thread, up to 6 at once.
  CHECK(testing::ReadFile(peak) == "2");
}

TEST_CASE("rollout: a candidate that fails its health check leaves the baseline serving alone") {
  Versions v;
  auto a = v.Make("a", 1, kDigestA), broken = v.Make("broken", 2, kDigestB);
  Running p(v.t / "root", &a, [](Options& o) { o.health_timeout_s = 2; });
  Status st = p->SetRollout(broken, Spec(RolloutMode::kCanary, 10000, a, broken));
  CHECK_FALSE(st.ok());
  CHECK_THAT(st.message(), Catch::Contains("candidate version 2"));
  CHECK_FALSE(p->rollout_active());
  Answer x = Ask(p.port, "k");
  CHECK(x.status == 200);
  CHECK(x.body == "a");
  CHECK(x.arm.empty());
  // The baseline that is not served is refused.
  auto b = v.Make("b", 3, kDigestC);
  CHECK(p->SetRollout(b, Spec(RolloutMode::kCanary, 100, b, a)).code() == StatusCode::kFailedPrecondition);
}

}  // namespace modelreg::agent
