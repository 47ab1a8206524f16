// End to end: the CLI's output conventions (docs/cli.md): exit codes and JSON
// errors, pull into a DEST that holds files, tables within 100 columns and
// -o forms, `show`'s params, environment and approvals.
#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "support/server_process.h"

using namespace modelreg;
using namespace modelreg::testing;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The error object of a --json failure: all of stderr is one JSON document.
json ErrorOf(const RunResult& r) {
  INFO(r.err);
  auto j = json::parse(r.err, nullptr, false);
  REQUIRE(!j.is_discarded());
  REQUIRE(j.contains("error"));
  const json& e = j["error"];
  CHECK(e["code"].is_string());
  CHECK(e["message"].is_string());
  CHECK(e["details"].is_array());
  return e;
}

size_t WidestLine(const std::string& text) {
  std::istringstream in(text);
  size_t widest = 0;
  for (std::string line; std::getline(in, line);) {
    size_t w = 0;
    for (unsigned char c : line) w += (c & 0xC0) != 0x80;
    widest = std::max(widest, w);
  }
  return widest;
}

RunResult Ok(RunResult r) {
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r;
}

}  // namespace

TEST_CASE("exit codes tell failures apart, and --json errors are JSON on stderr") {
  ServerProcess server;
  TempDir t;
  auto admin = server.Env(server.admin_token());
  auto trainer = server.Env(server.CreateToken("trainer-1", "trainer"));
  auto approver = server.Env(server.CreateToken("alice", "approver"));
  WriteFile(t / "b/w.bin", "weights");
  Ok(Modelreg({"register", "churn", t / "b", "--metric", "auc=0.8"}, trainer));
  Ok(Modelreg({"policy", "set", "churn", "--gate", "auc >= 0.9"}, admin));
  Ok(Modelreg({"promote", "churn", "1", "--to", "staging"}, approver));
  Ok(Modelreg({"approve", "churn", "1"}, approver));

  // 0 ok.
  CHECK(Modelreg({"models"}, trainer).exit_code == 0);
  // 1 failure (here: a bad value, refused before anything is sent).
  auto bad = Modelreg({"register", "churn", t / "b", "--metric", "auc=high", "--json"}, trainer);
  CHECK(bad.exit_code == 1);
  CHECK(ErrorOf(bad)["code"] == "INVALID_ARGUMENT");
  // 2 usage, also as JSON.
  auto usage = Modelreg({"versions", "--json"}, trainer);
  CHECK(usage.exit_code == 2);
  CHECK(ErrorOf(usage)["code"] == "USAGE");
  // 3 not found.
  auto nf = Modelreg({"show", "churn", "7", "--json"}, trainer);
  CHECK(nf.exit_code == 3);
  CHECK(ErrorOf(nf)["code"] == "NOT_FOUND");
  CHECK(nf.out.empty());
  CHECK(Modelreg({"versions", "nope"}, trainer).exit_code == 3);
  // 4 refused by policy: the failing gate is in the details.
  auto refused = Modelreg({"promote", "churn", "1", "--to", "production", "--json"}, approver);
  CHECK(refused.exit_code == 4);
  json e = ErrorOf(refused);
  CHECK(e["code"] == "FAILED_PRECONDITION");
  REQUIRE(e["details"].size() >= 1);
  CHECK(e["details"].dump().find("auc") != std::string::npos);
  auto refused_text = Modelreg({"promote", "churn", "1", "--to", "production"}, approver);
  CHECK(refused_text.exit_code == 4);
  CHECK(refused_text.err.find("  - ") != std::string::npos);
  // 5 unauthorized (an unknown or missing token) or forbidden (the role).
  auto unknown = Modelreg({"models", "--json"}, server.Env("mr_" + std::string(43, 'x')));
  CHECK(unknown.exit_code == 5);
  CHECK(ErrorOf(unknown)["code"] == "UNAUTHENTICATED");
  CHECK(Modelreg({"models"}, {{"MODELREG_URL", server.url()}, {"MODELREG_TOKEN", ""}}).exit_code == 5);
  auto forbidden = Modelreg({"policy", "set", "churn", "--approvals", "0", "--json"}, trainer);
  CHECK(forbidden.exit_code == 5);
  CHECK(ErrorOf(forbidden)["code"] == "PERMISSION_DENIED");
  // 6 unreachable.
  auto down = Modelreg({"models", "--json"},
                       {{"MODELREG_URL", "http://127.0.0.1:1"}, {"MODELREG_TOKEN", server.admin_token()}});
  CHECK(down.exit_code == 6);
  CHECK(ErrorOf(down)["code"] == "UNAVAILABLE");
  CHECK(ErrorOf(down)["message"].get<std::string>().find("cannot reach registry") != std::string::npos);
  // Without --json the error stays one human line.
  auto human = Modelreg({"show", "churn", "7"}, trainer);
  CHECK(human.exit_code == 3);
  CHECK(human.err.rfind("modelreg: ", 0) == 0);

  // Documented in --help.
  auto help = Modelreg({"--help"});
  CHECK(help.out.find("3 not found; 4 refused by policy") != std::string::npos);
  CHECK(help.out.find("6 registry unreachable") != std::string::npos);
}

TEST_CASE("pull into a DEST holding the same files is a no-op, something else needs --force and is replaced whole") {
  ServerProcess server;
  TempDir t;
  auto env = server.Env(server.admin_token());
  WriteFile(t / "v1/w.bin", std::string(100000, '1'));
  WriteFile(t / "v1/sub/c.json", "{}");
  WriteFile(t / "v2/w.bin", std::string(200000, '2'));
  Ok(Modelreg({"register", "m", t / "v1"}, env));
  Ok(Modelreg({"register", "m", t / "v2"}, env));
  const std::string dest = t / "dest";
  Ok(Modelreg({"pull", "m", "1", dest}, env));
  const auto mtime = fs::last_write_time(dest + "/w.bin");

  // The same bundle again: nothing written, says so.
  auto again = Ok(Modelreg({"pull", "m", "1", dest}, env));
  CHECK(again.out.find("already holds the files of m version 1") != std::string::npos);
  CHECK(again.out.find("nothing to pull") != std::string::npos);
  CHECK(fs::last_write_time(dest + "/w.bin") == mtime);
  auto again_json = Ok(Modelreg({"pull", "m", "1", dest, "--json"}, env));
  CHECK(json::parse(again_json.out)["unchanged"] == true);

  // Another version: refused without --force, DEST untouched.
  auto refused = Modelreg({"pull", "m", "2", dest}, env);
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("--force") != std::string::npos);
  CHECK(ReadFile(dest + "/w.bin") == std::string(100000, '1'));

  // A changed file is "something else" too, even of the same size.
  WriteFile(dest + "/w.bin", std::string(100000, 'x'));
  CHECK(Modelreg({"pull", "m", "1", dest}, env).exit_code == 1);

  // --force: replaced by the new version whole, nothing of the old left.
  auto forced = Ok(Modelreg({"pull", "m", "2", dest, "--force"}, env));
  CHECK(forced.out.find("replaced") != std::string::npos);
  CHECK(ReadFile(dest + "/w.bin") == std::string(200000, '2'));
  CHECK_FALSE(fs::exists(dest + "/sub"));
  std::vector<std::string> beside;
  for (const auto& e : fs::directory_iterator(t.path())) beside.push_back(e.path().filename().string());
  std::sort(beside.begin(), beside.end());
  CHECK(beside == std::vector<std::string>{"dest", "v1", "v2"});  // no temporary left
  // An extra file in DEST also counts as something else.
  WriteFile(dest + "/extra.txt", "x");
  CHECK(Modelreg({"pull", "m", "2", dest}, env).exit_code == 1);
  Ok(Modelreg({"pull", "m", "2", dest, "--force"}, env));
  CHECK_FALSE(fs::exists(dest + "/extra.txt"));
}

TEST_CASE("tables fit 100 columns with short digests, and -o wide, json, yaml and name") {
  ServerProcess server;
  TempDir t;
  auto env = server.Env(server.admin_token());
  const std::string model = "a-model-with-quite-a-long-name-for-a-table-column-" + std::string(20, 'z');
  WriteFile(t / "b/w.bin", "w");
  std::vector<std::string> reg = {"register", model, t / "b"};
  for (int i = 0; i < 8; ++i) {
    reg.push_back("--metric");
    reg.push_back("metric_with_a_long_name_" + std::to_string(i) + "=0.123456789");
  }
  auto r = Ok(Modelreg(reg, env));
  std::smatch m;
  REQUIRE(std::regex_search(r.out, m, std::regex("sha256:([0-9a-f]{64})")));
  const std::string hex = m[1];
  Ok(Modelreg({"promote", model, "1", "--to", "staging", "--reason", std::string(150, 'r')}, env));

  for (const std::vector<std::string>& cmd :
       std::vector<std::vector<std::string>>{{"versions", model}, {"models"}, {"history", model}, {"agents"}}) {
    auto out = Ok(Modelreg(cmd, env));
    INFO(cmd[0] << ":\n" << out.out);
    CHECK(WidestLine(out.out) <= 100);
  }
  auto versions = Ok(Modelreg({"versions", model}, env));
  CHECK(versions.out.find(hex.substr(0, 12)) != std::string::npos);
  CHECK(versions.out.find(hex.substr(0, 13)) == std::string::npos);
  CHECK(versions.out.find("…") != std::string::npos);  // the long metrics column, cut

  auto wide = Ok(Modelreg({"versions", model, "-o", "wide"}, env));
  CHECK(wide.out.find("sha256:" + hex) != std::string::npos);
  CHECK(wide.out.find("metric_with_a_long_name_7=0.123456789") != std::string::npos);
  CHECK(WidestLine(wide.out) > 100);
  auto history_wide = Ok(Modelreg({"history", model, "-o", "wide"}, env));
  CHECK(history_wide.out.find(std::string(150, 'r')) != std::string::npos);

  auto as_json = Ok(Modelreg({"versions", model, "-o", "json"}, env));
  CHECK(json::parse(as_json.out)["versions"][0]["digest"] == "sha256:" + hex);
  auto yaml = Ok(Modelreg({"versions", model, "-o", "yaml"}, env));
  CHECK(yaml.out.find("versions:\n  - ") != std::string::npos);
  CHECK(yaml.out.find("    digest: \"sha256:" + hex + "\"\n") != std::string::npos);
  CHECK(yaml.out.find("      metric_with_a_long_name_0: 0.123456789\n") != std::string::npos);
  CHECK(Ok(Modelreg({"models", "-o", "name"}, env)).out == model + "\n");
  CHECK(Ok(Modelreg({"versions", model, "-o", "name"}, env)).out == "1\n");
  CHECK(Ok(Modelreg({"agents", "-o", "name"}, env)).out.empty());
  CHECK(json::parse(Ok(Modelreg({"history", model, "-o", "json"}, env)).out)["history"][0]["to"] == "staging");
  CHECK(Ok(Modelreg({"models", "-o", "yaml"}, env)).out.find("  - created_at: ") != std::string::npos);

  auto bad = Modelreg({"versions", model, "-o", "xml"}, env);
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("want table, wide, json, yaml or name") != std::string::npos);
  CHECK(Modelreg({"history", model, "-o", "name"}, env).exit_code == 2);
}

TEST_CASE("show prints params, environment and approvals, also with --json") {
  ServerProcess server;
  TempDir t;
  auto trainer = server.Env(server.CreateToken("trainer-1", "trainer"));
  auto approver = server.Env(server.CreateToken("alice", "approver"));
  WriteFile(t / "b/w.bin", "w");
  Ok(Modelreg({"register", "churn", t / "b", "--param", "seed=42", "--param", "algo=gbm", "--env", "python=3.11",
               "--metric", "auc=0.9"},
              trainer));
  auto before = Ok(Modelreg({"show", "churn", "1"}, trainer));
  CHECK(before.out.find("param:    algo = \"gbm\"\n") != std::string::npos);
  CHECK(before.out.find("param:    seed = 42\n") != std::string::npos);
  CHECK(before.out.find("env:      python = 3.11\n") != std::string::npos);
  CHECK(before.out.find("approvals: none\n") != std::string::npos);
  Ok(Modelreg({"approve", "churn", "1", "--comment", "looks good"}, approver));
  auto after = Ok(Modelreg({"show", "churn", "1"}, trainer));
  CHECK(std::regex_search(after.out, std::regex("approved: by alice at 20[0-9-]+T[0-9:.]+Z: looks good\n")));
  auto j = json::parse(Ok(Modelreg({"show", "churn", "1", "--json"}, trainer)).out);
  CHECK(j["params"]["seed"] == 42);
  CHECK(j["params"]["algo"] == "gbm");
  CHECK(j["environment"]["python"] == "3.11");
  REQUIRE(j["approvals"].size() == 1);
  CHECK(j["approvals"][0]["approver"] == "alice");
  CHECK(j["approvals"][0]["comment"] == "looks good");
}
