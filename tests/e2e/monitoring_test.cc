// Model monitoring end to end (docs/monitoring.md): the demo's real sklearn
// model (examples/train/train.py) registered with a reference profile of its
// training data, served by a real agent in proxy mode
// (examples/serving/server.py), fed its own test split: no drift alarm. The
// same rows with one feature scaled by 1.5: an alarm on that feature and on
// no other, an audit event and a webhook-able event with the numbers, and the
// version's lineage pointing at the data to retrain from.
//
// Each batch of rows goes in ONE request, so it lands in one agent window:
// the data are deterministic (train.py's seed), hence so is every statistic.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "support/ports.h"
#include "support/server_process.h"
#include "support/wait.h"

using namespace modelreg::testing;
using nlohmann::json;

namespace {

const std::string kSrc = MODELREG_SOURCE_DIR;

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<double>> rows;
};

Csv ReadCsv(const std::string& path) {
  std::ifstream in(path);
  Csv c;
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    std::vector<std::string> cells;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    if (first) c.header = cells;
    else {
      std::vector<double> row;
      for (const auto& x : cells) row.push_back(std::stod(x));
      c.rows.push_back(row);
    }
    first = false;
  }
  return c;
}

// The rows' features (the last column, "target", left out); column `scaled`
// multiplied by `factor`.
json FeaturesRequest(const Csv& c, int scaled = -1, double factor = 1.0) {
  json rows = json::array();
  for (const auto& r : c.rows) {
    json row = json::array();
    for (size_t i = 0; i + 1 < r.size(); ++i) row.push_back(static_cast<int>(i) == scaled ? r[i] * factor : r[i]);
    rows.push_back(row);
  }
  return {{"features", rows}};
}

struct Monitored {
  TempDir t;
  ServerProcess server{t / "data"};
  std::map<std::string, std::string> env = server.Env(server.admin_token());
  std::unique_ptr<Process> agent;
  int port = FixedLoopbackPort(PortBand::kProxyListen);

  void Mr(const std::vector<std::string>& a) {
    auto r = Modelreg(a, env);
    INFO(r.out + r.err);
    REQUIRE(r.exit_code == 0);
  }
  void Train() {
    auto r = Run({"/usr/bin/python3", kSrc + "/examples/train/train.py", "--out", t / "out", "--data-out",
                  t / "data-out", "--meta-out", t / "meta", "--n-estimators", "20"});
    INFO(r.out + r.err);
    REQUIRE(r.exit_code == 0);
  }
  void StartAgent() {
    WriteFile(t / "key.pem", Modelreg({"key", "export"}, env).out);
    auto argv = AgentCommand(server.url(), server.CreateToken("monitor-agent", "agent"), t / "root", t / "key.pem",
                             "monitor-0");
    argv.insert(argv.end(),
                {"--exec", "/usr/bin/python3 " + kSrc + "/examples/serving/server.py {dir} {port}", "--listen",
                 "127.0.0.1:" + std::to_string(port), "--health-timeout", "60", "--drift-window", "2s"});
    agent = std::make_unique<Process>(argv, t / "agent.log");
  }
  int Post(const json& body) {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    auto r = c.Post("/predict", body.dump(), "application/json");
    return r ? r->status : 0;
  }
  // `modelreg drift churn --json`: one object per feature and window.
  json Drift(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> a = {"drift", "churn", "--json"};
    a.insert(a.end(), extra.begin(), extra.end());
    auto r = Modelreg(a, env);
    INFO(r.out + r.err);
    REQUIRE(r.exit_code == 0);
    json j = json::parse(r.out);
    return j.is_object() && j.contains("windows") ? j["windows"] : j;
  }
  // The feature-windows of windows that began at or after `since_ms`
  // and saw rows (not the empty windows around the requests).
  std::vector<json> WindowsSince(int64_t since_ms) {
    std::vector<json> out;
    for (const auto& w : Drift())
      if (w.value("start_ms", int64_t{0}) + 2000 > since_ms && w.value("n", int64_t{0}) > 0) out.push_back(w);
    return out;
  }
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TEST_CASE(
    "monitoring e2e: the sklearn model fed its test split raises no alarm, one feature scaled by 1.5 raises one") {
  Monitored f;
  f.Train();
  const Csv train = ReadCsv(f.t / "data-out/train.csv");
  const Csv test = ReadCsv(f.t / "data-out/test.csv");
  REQUIRE(train.header.size() == 31);
  REQUIRE(test.rows.size() >= 100);
  f.Mr({"register", "churn", f.t / "out", "--data-path", "train=" + f.t / "data-out/train.csv", "--profile-data",
        "train=" + f.t / "data-out/train.csv", "--target", "target"});
  f.Mr({"policy", "set", "churn", "--approvals", "0"});
  f.Mr({"promote", "churn", "1", "--to", "staging"});
  f.Mr({"promote", "churn", "1", "--to", "production"});
  f.StartAgent();
  REQUIRE(WaitFor([&] { return f.Post(FeaturesRequest(test)) == 200; }, 120));

  // The test split: every feature reported, none in alarm.
  int64_t since = NowMs();
  REQUIRE(f.Post(FeaturesRequest(test)) == 200);
  REQUIRE(WaitFor([&] { return f.WindowsSince(since).size() >= 30; }, 60));
  for (const auto& w : f.WindowsSince(since)) {
    INFO(w.dump());
    CHECK(w["alarm"] == false);
    CHECK(w["threshold"].get<double>() > 0);
  }

  // The same rows, feature 0 ("mean radius") scaled by 1.5: it alone alarms.
  const std::string scaled = train.header[0];
  since = NowMs();
  REQUIRE(f.Post(FeaturesRequest(test, 0, 1.5)) == 200);
  REQUIRE(WaitFor([&] { return f.WindowsSince(since).size() >= 30; }, 60));
  std::set<std::string> alarmed;
  for (const auto& w : f.WindowsSince(since))
    if (w["alarm"] == true) alarmed.insert(w["feature"].get<std::string>());
  CHECK(alarmed == std::set<std::string>{scaled});

  // The alarm is in the audit log (hence an event for webhooks) with its
  // numbers, and the version's lineage names the data it was trained on.
  auto log = Modelreg({"audit", "log", "--model", "churn", "--json"}, f.env);
  REQUIRE(log.exit_code == 0);
  CHECK(log.out.find("drift.alarm") != std::string::npos);
  CHECK(log.out.find(scaled) != std::string::npos);
  auto events = Modelreg({"events", "--json"}, f.env);
  CHECK(events.out.find("drift.alarm") != std::string::npos);
  auto lineage = Modelreg({"lineage", "churn", "1"}, f.env);
  CHECK(lineage.out.find("train.csv") != std::string::npos);
}
