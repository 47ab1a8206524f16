// RegistryService::Rollback against the real service on real SQLite: the
// production history is replayed as a stack (core/stage.h), rejected
// versions are skipped, and each rollback archives what it replaces.
#include <catch2/catch.hpp>

#include "support/service_registry.h"

namespace modelreg {
namespace {

struct Registry : testing::ServiceRegistry {
  std::string StageOf(int n) {
    auto d = svc->GetVersion(alice, "churn", std::to_string(n));
    REQUIRE(d.ok());
    return d->version.stage;
  }

  // Rolls back and returns (restored, demoted) version numbers.
  std::pair<int64_t, int64_t> Rollback() {
    auto r = svc->Rollback(alice, "churn", "bad canary");
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return {r->restored.number, r->demoted.number};
  }
};

TEST_CASE("rollback: walks back down the production stack, then refuses") {
  Registry reg;
  for (int n = 1; n <= 3; ++n) reg.Register(n);
  for (int n = 1; n <= 3; ++n) reg.Promote(n);
  CHECK(reg.Rollback() == std::make_pair(int64_t{2}, int64_t{3}));
  CHECK(reg.StageOf(2) == "production");
  CHECK(reg.StageOf(3) == "archived");
  CHECK(reg.Rollback() == std::make_pair(int64_t{1}, int64_t{2}));
  auto none = reg.svc->Rollback(reg.alice, "churn", "again");
  CHECK(none.status().code() == StatusCode::kFailedPrecondition);
  CHECK(none.status().message() == "model 'churn' has no earlier production version to roll back to");
  CHECK(reg.StageOf(1) == "production");
}

TEST_CASE("rollback: a promotion after a rollback stacks on the restored version") {
  Registry reg;
  for (int n = 1; n <= 3; ++n) reg.Register(n);
  reg.Promote(1);
  reg.Promote(2);
  CHECK(reg.Rollback() == std::make_pair(int64_t{1}, int64_t{2}));
  reg.Promote(3);
  // 2 was rolled away from: the stack is 1, 3.
  CHECK(reg.Rollback() == std::make_pair(int64_t{1}, int64_t{3}));
}

TEST_CASE("rollback: skips a version rejected since it left production") {
  Registry reg;
  for (int n = 1; n <= 3; ++n) reg.Register(n);
  for (int n = 1; n <= 3; ++n) reg.Promote(n);
  REQUIRE(reg.svc->ChangeStage(reg.alice, "churn", "2", {"rejected", "leaks PII", ""}).ok());
  CHECK(reg.Rollback() == std::make_pair(int64_t{1}, int64_t{3}));
  CHECK(reg.StageOf(2) == "rejected");
}

TEST_CASE("rollback: refused without a reason or a production version") {
  Registry reg;
  reg.Register(1);
  CHECK(reg.svc->Rollback(reg.alice, "churn", "").status().code() == StatusCode::kInvalidArgument);
  CHECK(reg.svc->Rollback(reg.alice, "churn", "why").status().message() ==
        "model 'churn' has no production version to roll back");
}

}  // namespace
}  // namespace modelreg
