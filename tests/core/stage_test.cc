// Unit tests for registry/core/stage.h: names on the wire, the transition
// table (every pair of stages), and rollback's replay of production history.
#include "core/stage.h"

#include <catch2/catch.hpp>
#include <map>

namespace modelreg {
namespace {

constexpr Stage kAll[] = {Stage::kNone, Stage::kStaging, Stage::kProduction, Stage::kArchived, Stage::kRejected};

TEST_CASE("stage: wire names read back, anything else is refused") {
  for (Stage s : kAll) {
    auto back = ParseStage(StageName(s));
    REQUIRE(back.ok());
    CHECK(*back == s);
  }
  CHECK(std::string(StageName(Stage::kProduction)) == "production");
  CHECK(std::string(StageName(Stage::kNone)) == "none");
  CHECK(ParseStage("Production").status().message() == "unknown stage 'Production'");
  CHECK_FALSE(IsStage("prod"));
  CHECK_FALSE(IsStage(""));
  CHECK(IsReleaseStage(Stage::kStaging));
  CHECK(IsReleaseStage(Stage::kProduction));
  CHECK_FALSE(IsReleaseStage(Stage::kArchived));
}

TEST_CASE("stage: the transition table, pair by pair") {
  // from -> the stages a direct request may move it to.
  const std::map<Stage, std::vector<Stage>> allowed = {
      {Stage::kNone, {Stage::kStaging, Stage::kArchived, Stage::kRejected}},
      {Stage::kStaging, {Stage::kProduction, Stage::kArchived, Stage::kRejected}},
      {Stage::kProduction, {Stage::kArchived}},
      {Stage::kArchived, {Stage::kStaging, Stage::kRejected}},
      {Stage::kRejected, {}},
  };
  for (Stage from : kAll)
    for (Stage to : kAll) {
      const auto& ok = allowed.at(from);
      const bool want = std::find(ok.begin(), ok.end(), to) != ok.end();
      Status st = CheckStageTransition(from, to);
      INFO(StageName(from) << " -> " << StageName(to) << ": " << st.message());
      CHECK(st.ok() == want);
      if (!want) CHECK(st.code() == StatusCode::kFailedPrecondition);
    }
}

TEST_CASE("stage: refusals say why and what to do") {
  CHECK(CheckStageTransition(Stage::kStaging, Stage::kStaging).message() == "the version is already in staging");
  CHECK(CheckStageTransition(Stage::kArchived, Stage::kArchived).message() == "the version is already archived");
  CHECK(CheckStageTransition(Stage::kRejected, Stage::kStaging).message() ==
        "the version was rejected; rejection is final");
  CHECK(CheckStageTransition(Stage::kNone, Stage::kProduction).message() ==
        "cannot move a version from none to production (promote it to staging first)");
  CHECK(CheckStageTransition(Stage::kProduction, Stage::kRejected).message() ==
        "cannot move a version from production to rejected (archive it or promote another version first)");
  // The wire-name form: an unknown target is InvalidArgument.
  CHECK(CheckStageTransition("staging", "prod").code() == StatusCode::kInvalidArgument);
  CHECK(CheckStageTransition("staging", "production").ok());
}

TEST_CASE("stage: rollback replays production history as a stack") {
  using E = std::vector<std::pair<int64_t, std::string>>;
  CHECK(ReplayProductionStack({}).empty());
  // Promotions push.
  CHECK(ReplayProductionStack(E{{1, "stage"}, {2, "stage"}, {3, "stage"}}) == std::vector<int64_t>{1, 2, 3});
  // A rollback to 2 pops 3; a second one to 1 pops 2.
  CHECK(ReplayProductionStack(E{{1, "stage"}, {2, "stage"}, {3, "stage"}, {2, "rollback"}}) ==
        std::vector<int64_t>{1, 2});
  CHECK(ReplayProductionStack(E{{1, "stage"}, {2, "stage"}, {3, "stage"}, {2, "rollback"}, {1, "rollback"}}) ==
        std::vector<int64_t>{1});
  // A promotion after a rollback goes on top of what was restored.
  CHECK(ReplayProductionStack(E{{1, "stage"}, {2, "stage"}, {1, "rollback"}, {4, "stage"}}) ==
        std::vector<int64_t>{1, 4});
  // A version promoted twice appears twice; a rollback stops at its latest.
  CHECK(ReplayProductionStack(E{{1, "stage"}, {2, "stage"}, {1, "stage"}, {3, "stage"}, {1, "rollback"}}) ==
        std::vector<int64_t>{1, 2, 1});
  // A rollback to a version not on the stack (older history gone) starts it.
  CHECK(ReplayProductionStack(E{{5, "stage"}, {7, "rollback"}}) == std::vector<int64_t>{7});
}

}  // namespace
}  // namespace modelreg
