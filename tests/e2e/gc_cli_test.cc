// `modelreg delete`, `retention` and `gc` / `admin gc` as an operator runs
// them (docs/cli.md; docs/operations.md "Retention and garbage collection").
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "support/server_process.h"

using namespace modelreg::testing;
namespace fs = std::filesystem;

namespace {

struct Registry {
  TempDir t;
  ServerProcess server{t / "data"};
  std::map<std::string, std::string> env = server.Env(server.admin_token());

  RunResult Mr(const std::vector<std::string>& a) { return Modelreg(a, env); }
  void Ok(const std::vector<std::string>& a) {
    auto r = Mr(a);
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
  }
  void Register(int k) {
    const std::string dir = t / ("src" + std::to_string(k));
    WriteFile(dir + "/weights.bin", "weights " + std::to_string(k) + std::string(5000, 'w'));
    WriteFile(dir + "/shared.json", "{\"shared\": true}");
    Ok({"register", "churn", dir});
  }
};

}  // namespace

TEST_CASE("delete refuses production and wants a reason, show says who deleted it and why, pull fails") {
  Registry r;
  for (int k = 1; k <= 3; ++k) r.Register(k);
  r.Ok({"policy", "set", "churn", "--approvals", "0"});
  r.Ok({"promote", "churn", "1", "--to", "staging"});
  r.Ok({"promote", "churn", "1", "--to", "production"});

  auto prod = r.Mr({"delete", "churn", "1", "--reason", "space"});
  CHECK(prod.exit_code == 1);
  CHECK_THAT(prod.err, Catch::Contains("is the production version"));
  auto usage = r.Mr({"delete", "churn", "2"});
  CHECK(usage.exit_code == 2);
  CHECK_THAT(usage.err, Catch::Contains("--reason"));

  r.Ok({"delete", "churn", "2", "--reason", "superseded by 3"});
  auto show = r.Mr({"show", "churn", "2"});
  INFO(show.err);
  REQUIRE(show.exit_code == 0);
  CHECK_THAT(show.out,
             Catch::Matches("(.|\n)*deleted:  at 20[0-9-]+T[0-9:.]+Z by admin because superseded by 3(.|\n)*"));
  auto json = r.Mr({"show", "churn", "2", "--json"});
  CHECK_THAT(json.out, Catch::Contains("\"reason\": \"superseded by 3\""));
  auto pull = r.Mr({"pull", "churn", "2", r.t / "pulled"});
  CHECK(pull.exit_code == 3);
  CHECK_THAT(pull.err, Catch::Contains("was deleted at"));
  CHECK_THAT(pull.err, Catch::Contains("because superseded by 3"));
  auto versions = r.Mr({"versions", "churn"});
  CHECK_THAT(versions.out, Catch::Contains("deleted"));
}

TEST_CASE("retention set and show, gc --dry-run lists what would go, gc and admin gc remove it") {
  Registry r;
  for (int k = 1; k <= 4; ++k) r.Register(k);
  for (int v : {1, 2, 3}) r.Ok({"archive", "churn", std::to_string(v)});
  auto bad = r.Mr({"retention", "set", "churn", "--keep-archived", "many"});
  CHECK(bad.exit_code == 2);
  r.Ok({"retention", "set", "churn", "--keep-archived", "1"});
  auto show = r.Mr({"retention", "show", "churn"});
  CHECK_THAT(show.out, Catch::Contains("archived versions:  1 newest kept"));
  CHECK_THAT(show.out, Catch::Contains("rejected versions:  keep all"));

  auto dry = r.Mr({"gc", "--dry-run", "--grace", "0"});
  INFO(dry.out << dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK_THAT(dry.out, Catch::Contains("would delete churn version 1 (retention: archived"));
  CHECK_THAT(dry.out, Catch::Contains("would delete churn version 2"));
  CHECK_THAT(dry.out, Catch::Contains("would remove sha256:"));
  CHECK_THAT(dry.out, Catch::Contains("dry run: would remove 2 blobs"));
  auto v1 = r.Mr({"show", "churn", "1"});
  CHECK_THAT(v1.out, !Catch::Contains("deleted:"));

  auto gc = r.Mr({"gc", "--grace", "0"});
  INFO(gc.out << gc.err);
  REQUIRE(gc.exit_code == 0);
  CHECK_THAT(gc.out, Catch::Contains("deleted churn version 1"));
  CHECK_THAT(gc.out, Catch::Contains("removed 2 blobs"));
  auto fsck = Modelreg({"admin", "fsck", "--data", r.server.data_dir()});
  INFO(fsck.out << fsck.err);
  CHECK(fsck.exit_code == 0);
  for (int v : {3, 4}) r.Ok({"pull", "churn", std::to_string(v), r.t / ("p" + std::to_string(v))});

  // admin gc on the directory: nothing left, then version 3 deleted by hand goes.
  r.Ok({"delete", "churn", "3", "--reason", "done"});
  auto local = Modelreg({"admin", "gc", "--data", r.server.data_dir(), "--grace", "0", "--json"});
  INFO(local.out << local.err);
  REQUIRE(local.exit_code == 0);
  CHECK_THAT(local.out, Catch::Contains("\"blobs_removed\": 1"));
  auto usage = Modelreg({"admin", "gc", "--data", r.server.data_dir(), "--repair"});
  CHECK(usage.exit_code == 2);
}
